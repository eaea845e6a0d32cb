"""The CLI's last resort: no traceback reaches the user without --debug, whatever goes wrong."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from kbvideo import cli


@pytest.fixture
def broken_command():
    failures = {}

    @click.command("broken-for-test")
    @click.argument("kind")
    def broken(kind):
        raise failures[kind]

    failures.update(os=NotADirectoryError(20, "Not a directory", "/tmp/x\x1b[2J/cache"), bug=RuntimeError("boom"))
    cli.main.add_command(broken)
    yield
    cli.main.commands.pop("broken-for-test")


@pytest.mark.parametrize("kind,code,words", [
    ("os", 2, "Not a directory (/tmp/x\\x1b[2J/cache)"),
    ("bug", cli.INTERNAL_ERROR, "unexpected problem (RuntimeError: boom)"),
])
def test_unexpected_errors_are_one_clean_message(broken_command, kind, code, words):
    result = CliRunner().invoke(cli.main, ["broken-for-test", kind])
    assert result.exit_code == code
    assert words in result.output
    assert "Traceback" not in result.output and "\x1b" not in result.output
    assert "--debug" in result.output


def test_debug_shows_the_real_exception(broken_command):
    result = CliRunner().invoke(cli.main, ["--debug", "broken-for-test", "bug"])
    assert isinstance(result.exception, RuntimeError)
