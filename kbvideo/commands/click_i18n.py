"""Click's own words (Usage:, Options, Error: Missing argument ...) in the chosen language.

Click translates its texts with the standard `gettext` module, which only follows the environment's
locale and knows nothing of `--lang`. `install()` points click's modules at kbvideo's catalog
instead, so `kbvideo --lang id` also shows "Cara pakai:" and "Kesalahan: ...". The texts below are
click's (8.1+), marked here so that the catalog carries them; a text click changes simply stays
English.
"""

from __future__ import annotations

import importlib

from kbvideo import i18n
from kbvideo.i18n import N_, ngettext

CLICK_MODULES = ("click.core", "click.decorators", "click.exceptions", "click.formatting", "click.parser",
                 "click.types", "click.termui")


def install() -> None:
    """Make click's messages go through kbvideo's catalog (idempotent)."""
    for name in CLICK_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # pragma: no cover - a click without that module
            continue
        if hasattr(module, "_"):
            module._ = i18n._
        if hasattr(module, "ngettext"):
            module.ngettext = i18n.ngettext


def _marks() -> None:  # pragma: no cover - never called: it only shows click's texts to the extractor
    N_("Usage:")
    N_("Options")
    N_("Commands")
    N_("Positional arguments")
    N_("Aborted!")
    N_("Missing command.")
    N_("Error: {message}")
    N_("Try '{command} {option}' for help.")
    N_("Invalid value: {message}")
    N_("Invalid value for {param_hint}: {message}")
    N_("Missing argument")
    N_("Missing option")
    N_("Missing parameter")
    N_("Missing {param_type}")
    N_("Missing parameter: {param_name}")
    N_("No such option {name!r}.")
    N_("No such command {name!r}.")
    N_("Show the version and exit.")
    N_("Show this message and exit.")
    N_("%(prog)s, version %(version)s")
    N_("Choose from:\n\t{choices}")
    N_("{value!r} is not a valid {number_type}.")
    N_("{value} is not in the range {range}.")
    N_("file")
    N_("directory")
    N_("path")
    N_("{name} {filename!r} does not exist.")
    N_("{name} {filename!r} is a file.")
    N_("{name} {filename!r} is a directory.")
    N_("{name} {filename!r} is not readable.")
    N_("{name} {filename!r} is not writable.")
    N_("Option {name!r} does not take a value.")
    N_("default: {default}")
    N_("env var: {var}")
    ngettext("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})", 1)
    ngettext("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", 1)
    ngettext("{value!r} is not {choice}.", "{value!r} is not one of {choices}.", 1)
    ngettext("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments.", 1)
