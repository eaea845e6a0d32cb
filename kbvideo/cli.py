"""The kbvideo command line. Parsing and printing only: the work is done by library stages.

Exit codes: 0 ok; 1 a contest rule is violated (or a render failed); 2 the input or the command is
wrong. `batch` exits 1 when any village failed (STYLE.md's 123 was not taken: scripts
already read 1 as "something failed").
"""

from __future__ import annotations

import importlib
import sys

import click

from kbvideo.commands.click_i18n import install as _install_click_messages
from kbvideo.errors import KbError, excerpt, printable
from kbvideo.i18n import LANGUAGES, _, choose_language, set_language, translate_cli

INTERNAL_ERROR = 3  # a kbvideo bug (not a rule violation, not bad input)

# Each command lives in its own module (kbvideo/commands/<name>.py) exposing `command`.
COMMAND_MODULES = (
    "kbvideo.commands.storyboard",  # validate, plan, schema, rules
    "kbvideo.commands.render",
    "kbvideo.commands.check",
    "kbvideo.commands.batch",
    "kbvideo.commands.preview",  # review page, contact sheet
    "kbvideo.commands.sources",  # source contact sheets
    "kbvideo.commands.export",  # OpenTimelineIO, FCP 7 XML, Kdenlive
)


class KbGroup(click.Group):
    """Turns KbErrors into a clean message and an exit code (tracebacks only with --debug).

    Chooses the language of every message (KBVIDEO_LANG or the locale; `--lang` overrides it) before
    anything is parsed, and restores the previous one when done (tests run many commands in one process)."""

    def main(self, *args, **kwargs):
        _install_click_messages()
        previous = set_language(choose_language())
        translate_cli(self)
        try:
            return super().main(*args, **kwargs)
        finally:
            set_language(previous)
            translate_cli(self)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KbError as exc:
            if ctx.meta.get("kbvideo.debug"):
                raise
            click.echo(exc.format(), err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise  # click's own ways out (ctx.exit, usage errors, Ctrl-C) keep their meaning
        except OSError as exc:  # the system refused something (a folder, a permission, the disk): not our bug
            if ctx.meta.get("kbvideo.debug"):
                raise
            where = f" ({printable(excerpt(exc.filename, 200))})" if exc.filename else ""
            click.echo(_("error: {reason}{where}").format(reason=exc.strerror or exc, where=where), err=True)
            click.echo(_("  hint: check that the file or folder exists and can be written; "
                         "run with --debug to see where it happened"), err=True)
            ctx.exit(2)
        except Exception as exc:  # noqa: BLE001 - last resort: a bug, said plainly, no traceback
            if ctx.meta.get("kbvideo.debug"):
                raise
            click.echo(_("error: kbvideo stopped on an unexpected problem ({kind}: {detail})").format(
                kind=type(exc).__name__, detail=printable(excerpt(str(exc), 200))), err=True)
            click.echo(_("  hint: this is a kbvideo bug; please report it with the output of the same "
                         "command run with --debug"), err=True)
            ctx.exit(INTERNAL_ERROR)


def _use_language(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        set_language(value)
        translate_cli(ctx.find_root().command)


@click.group(cls=KbGroup, context_settings={"help_option_names": ["-h", "--help"]},
             help=_("Turn YAML storyboards into contest-ready Kampung KB profile videos."))
@click.option("--lang", type=click.Choice(LANGUAGES), callback=_use_language, is_eager=True, expose_value=False,
              help=_("Language of messages: id (Bahasa Indonesia) or en (English). Default: KBVIDEO_LANG, "
                     "else the system locale (LANG=id_ID... gives Indonesian)."))
@click.option("--debug", is_flag=True, help=_("Show full tracebacks instead of short messages."))
@click.version_option(package_name="kbvideo", help=_("Show the version and exit."))
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    ctx.meta["kbvideo.debug"] = debug


def _register() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that command is not written yet
                continue
            raise
        for command in getattr(module, "COMMANDS", ()):
            main.add_command(command)


_register()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
