"""The kbvideo command line. Parsing and printing only: the work is done by library stages.

Exit codes: 0 ok; 1 a contest rule is violated (or a render failed); 2 the input or the command is
wrong. `batch` exits 1 when any village failed (STYLE.md's 123 was not taken: scripts
already read 1 as "something failed").
"""

from __future__ import annotations

import importlib
import sys

import click

from kbvideo.errors import KbError

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
    """Turns KbErrors into a clean message and an exit code (tracebacks only with --debug)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KbError as exc:
            if ctx.meta.get("kbvideo.debug"):
                raise
            click.echo(exc.format(), err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=KbGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of short messages.")
@click.version_option(package_name="kbvideo")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Turn YAML storyboards into contest-ready Kampung KB profile videos."""
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
