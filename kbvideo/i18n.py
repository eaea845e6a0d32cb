"""Messages in the user's language (Bahasa Indonesia or English).

Every sentence a person reads goes through ``_()`` (or ``ngettext()``), written with named
placeholders and formatted *after* translation, so a translator sees the whole sentence::

    from kbvideo.i18n import _
    raise MediaError(_("cannot read {path}: {reason}").format(path=path, reason=reason),
                     hint=_("re-export the clip from the phone's gallery"))

Never put an f-string inside ``_()``: the catalog could not find it. Module-level constants are
marked with ``N_()`` and translated where they are shown (``_(CONSTANT)``).

The language is chosen once per command by the CLI (``set_language(choose_language(option))``):
``--lang id|en``, else ``KBVIDEO_LANG``, else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``:
``id…`` → Indonesian), else English. Until then ``_()`` returns the English text, so texts
evaluated at import time (click ``help=``) stay English and ``translate_cli()`` translates them
when the command runs. Catalogs: ``kbvideo/locale/<lang>/LC_MESSAGES/kbvideo.po`` compiled to
``.mo`` (shipped as package data; ``pybabel compile -d kbvideo/locale -D kbvideo``).

This module is the lowest layer of the package (it imports nothing from kbvideo), so every
stage may use it.
"""

from __future__ import annotations

import gettext as _gettext
import inspect
import os
from importlib import resources
from typing import Mapping

DOMAIN = "kbvideo"
LANGUAGES = ("id", "en")
DEFAULT = "en"

_translations: _gettext.NullTranslations = _gettext.NullTranslations()
_language = DEFAULT


def _(message: str) -> str:
    """The message in the chosen language (English when there is no translation)."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Singular or plural form of a message, in the chosen language."""
    return _translations.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a message for extraction without translating it yet (module-level constants)."""
    return message


def normalise(value: str | None) -> str | None:
    """'id', 'id_ID.UTF-8', 'in', 'ind' → 'id'; 'en', 'en_US', 'C', 'POSIX' → 'en'; '' → None."""
    if not value or not value.strip():
        return None
    code = value.strip().lower().replace("-", "_").split(".")[0].split("_")[0].split("@")[0]
    return "id" if code in ("id", "in", "ind") else "en"


def choose_language(option: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """--lang, else KBVIDEO_LANG, else the first of LC_ALL / LC_MESSAGES / LANG that is set."""
    environ = os.environ if environ is None else environ
    for value in (option, environ.get("KBVIDEO_LANG")):
        chosen = normalise(value)
        if chosen:
            return chosen
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        chosen = normalise(environ.get(name))
        if chosen:
            return chosen
    return DEFAULT


def catalog_path(language: str):
    return resources.files("kbvideo").joinpath("locale", language, "LC_MESSAGES", f"{DOMAIN}.mo")


def set_language(language: str) -> str:
    """Use `language` ('id' or 'en') for every message from now on. Returns the previous one."""
    global _translations, _language
    previous = _language
    language = normalise(language) or DEFAULT
    translations: _gettext.NullTranslations = _gettext.NullTranslations()
    if language != DEFAULT:
        try:
            with catalog_path(language).open("rb") as handle:
                translations = _gettext.GNUTranslations(handle)
        except OSError:  # no compiled catalog (a broken install): English rather than a crash
            translations = _gettext.NullTranslations()
    _translations, _language = translations, language
    return previous


def language() -> str:
    """The language messages are given in now: 'id' or 'en'."""
    return _language


def translate_cli(command) -> None:
    """Translate the help texts of a click command tree (written in English at import time)."""
    seen = getattr(command, "_kb_english", None)
    if seen is None:
        seen = {"help": command.help, "short_help": command.short_help, "epilog": command.epilog}
        command._kb_english = seen
    for attribute, english in seen.items():
        if english:
            translated = _(inspect.cleandoc(english))
            setattr(command, attribute, english if translated == inspect.cleandoc(english) else translated)
    cached_help = getattr(command, "_help_option", None)  # click creates --help once, lazily, and keeps it
    if cached_help is not None:
        cached_help.help = _("Show this message and exit.")
    for param in getattr(command, "params", ()):
        english = getattr(param, "_kb_english", None)
        if english is None and getattr(param, "help", None):
            english = param.help
            param._kb_english = english
        if english:
            param.help = _(english)
    for sub in getattr(command, "commands", {}).values():
        translate_cli(sub)
