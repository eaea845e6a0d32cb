"""Exceptions raised by kbvideo's library code. Only the CLI prints them.

KbError
 ├─ SpecError      a storyboard, roster or rules file is wrong (one or more Problems); exit 2
 ├─ MediaError     a media file cannot be used (missing, empty, truncated, not media)
 ├─ RenderError    ffmpeg or a render stage failed; keeps ffmpeg's own words + a hint
 └─ UsageError     the command was misused (e.g. output would overwrite an input); exit 2
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import click
from kbvideo.i18n import _

EXCERPT_CHARS = 60  # a value or key quoted inside a message: at most this many characters, then "…"
MESSAGE_CHARS = 400  # any one message or hint, as printed
SOURCE_LINE_CHARS = 100  # the echoed source line: a window of this many characters around the caret

# Characters never printed raw: C0 controls (but tab/newline are handled by the caller), DEL, C1 controls
# (U+009B is a one-byte CSI on some terminals), lone surrogates (cannot be encoded), and the bidirectional
# overrides/isolates that make a line read differently from what it holds.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def _escape_char(match: re.Match) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, limit: int | None = None, *, newlines: bool = False) -> str:
    """`text` safe for a terminal: control characters, lone surrogates and bidi overrides shown as
    visible escapes (ESC → \\x1b), newlines as \\n unless `newlines`; cut to `limit` characters + "…"."""
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    if not newlines:
        text = text.replace("\n", "\\n").replace("\r", "\\r")
    text = text.replace("\t", " ") if not newlines else text
    return _UNPRINTABLE.sub(_escape_char, text)


def excerpt(value, limit: int = EXCERPT_CHARS) -> str:
    """A value or key as quoted inside a message: escaped, and at most `limit` characters + "…"."""
    return printable(str(value), limit)


def _window(line: str, col: int) -> tuple[str, int]:
    """The part of a (possibly very long) source line around column `col`, and the caret's new column."""
    line = line.rstrip("\n").expandtabs(1)
    if len(line) <= SOURCE_LINE_CHARS:
        return printable(line), len(printable(line[: max(0, col - 1)])) + 1
    start = max(0, min(col - 1 - SOURCE_LINE_CHARS // 2, len(line) - SOURCE_LINE_CHARS))
    piece = line[start:start + SOURCE_LINE_CHARS]
    head = "…" if start > 0 else ""
    tail = "…" if start + SOURCE_LINE_CHARS < len(line) else ""
    caret = len(head) + len(printable(piece[: max(0, col - 1 - start)])) + 1
    return head + printable(piece) + tail, caret


def source_excerpt(source_line: str, col: int, indent: str) -> list[str]:
    """The source line (a window around `col`) and a caret under column `col`, as printed."""
    shown, caret = _window(source_line, col)
    return [indent + shown, indent + " " * max(0, caret - 1) + "^"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a text file, located to line and column (both 1-based)."""

    path: str
    line: int
    col: int
    message: str
    hint: str | None = None
    source_line: str | None = None
    severity: str = "error"  # "error" | "warning"
    code: str | None = None  # a stable rule id when the problem is one (e.g. "text.glyphs")

    def format(self) -> str:
        """As printed: control characters escaped, long messages and source lines cut (see printable)."""
        word = {"error": _("error"), "warning": _("warning")}.get(self.severity, self.severity)
        head = (f"{word}: {printable(self.path, MESSAGE_CHARS)}:{self.line}:{self.col}: "
                f"{printable(self.message, MESSAGE_CHARS)}")
        parts = [head]
        if self.source_line is not None:
            parts += source_excerpt(self.source_line, self.col, "    ")
        if self.hint:
            parts.append("  " + _("hint: {hint}").format(hint=printable(self.hint, MESSAGE_CHARS)))
        return "\n".join(parts)

    def to_dict(self) -> dict:
        return {
            "path": printable(self.path, MESSAGE_CHARS),
            "line": self.line,
            "col": self.col,
            "severity": self.severity,
            "message": printable(self.message, MESSAGE_CHARS),
            "hint": None if self.hint is None else printable(self.hint, MESSAGE_CHARS),
            "code": self.code,
            "source_line": None if self.source_line is None else printable(self.source_line, 300),
        }


@dataclass(frozen=True, slots=True)
class Loc:
    """Where something was written (1-based line and column, and the line itself for the caret), to
    point at it later: kept by the parsed storyboard and carried on every timeline item.

    `str(loc)` is "path:line:col", the form written to JSON (timelines, reports, exports); `Loc.parse`
    reads it back (without the source line, which JSON does not keep). Two Locs at the same place are
    equal whether or not they know the line's text."""

    path: str
    line: int
    col: int
    source_line: str | None = field(default=None, compare=False)

    def problem(self, message: str, hint: str | None = None, severity: str = "error", *,
                code: str | None = None) -> Problem:
        return Problem(self.path, self.line, self.col, message, hint, self.source_line, severity, code)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"

    @classmethod
    def parse(cls, text: str) -> "Loc":
        """The Loc `str(loc)` wrote; a text without ":line:col" is a path at line 0."""
        match = _LOC_TEXT.fullmatch(text)
        return cls(match[1], int(match[2]), int(match[3])) if match else cls(text, 0, 0)


_LOC_TEXT = re.compile(r"(.*):(\d+):(\d+)", re.DOTALL)


class KbError(Exception):
    """Base of every error kbvideo raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def format(self) -> str:
        text = _("error: {message}").format(message=printable(self.message, MESSAGE_CHARS, newlines=True))
        if self.hint:
            text += "\n  " + _("hint: {hint}").format(hint=printable(self.hint, MESSAGE_CHARS, newlines=True))
        return text


class SpecError(KbError, click.UsageError):
    """A storyboard (or roster, or rules file) is wrong. Holds every problem found, not just the first."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        first = self.problems[0] if self.problems else None
        message = first.format() if first else _("invalid input")
        KbError.__init__(self, message)
        click.UsageError.__init__(self, message)

    def format(self) -> str:
        return "\n".join(p.format() for p in self.problems)

    def __str__(self) -> str:  # pragma: no cover - used by tracebacks in --debug
        return self.format()


class MediaError(KbError):
    """A media file is missing, empty, truncated, not media, or of a kind we refuse."""

    exit_code = 2

    def __init__(self, path: str | Path, message: str, hint: str | None = None, *, reason: str = "unreadable"):
        super().__init__(f"{path}: {message}", hint)
        self.path = str(path)
        self.reason = reason  # "unreadable" | "truncated": scripts and `check` branch on this, not on the text


class RenderError(KbError):
    """A render stage failed. `stderr` keeps ffmpeg's own words (the tail of them)."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None, stderr: str = ""):
        super().__init__(message, hint)
        self.stderr = stderr

    def format(self) -> str:
        text = _("error: {message}").format(message=printable(self.message, MESSAGE_CHARS, newlines=True))
        if self.stderr:
            tail = "\n".join(self.stderr.strip().splitlines()[-15:])
            text += "\n  " + _("ffmpeg said:") + "\n" + "\n".join("    " + line for line in tail.splitlines())
        if self.hint:
            text += "\n  " + _("hint: {hint}").format(hint=printable(self.hint, MESSAGE_CHARS, newlines=True))
        return text


class UsageError(KbError, click.UsageError):
    """The command was used in a way that cannot work (exit 2)."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None):
        KbError.__init__(self, message, hint)
        click.UsageError.__init__(self, message)


@dataclass(slots=True)
class ProblemList:
    """Collects problems during a pass; raise_if_errors() raises one SpecError holding all."""

    items: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.items.append(problem)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise SpecError(self.errors)
