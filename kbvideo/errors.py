"""Exceptions raised by kbvideo's library code. Only the CLI prints them.

KbError
 ├─ SpecError      a storyboard, roster or rules file is wrong (one or more Problems); exit 2
 ├─ MediaError     a media file cannot be used (missing, empty, truncated, not media)
 ├─ RenderError    ffmpeg or a render stage failed; keeps ffmpeg's own words + a hint
 └─ UsageError     the command was misused (e.g. output would overwrite an input); exit 2
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click


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
        head = f"{self.severity}: {self.path}:{self.line}:{self.col}: {self.message}"
        parts = [head]
        if self.source_line is not None:
            parts.append("    " + self.source_line.rstrip("\n").expandtabs(1))
            parts.append("    " + " " * max(0, self.col - 1) + "^")
        if self.hint:
            parts.append(f"  hint: {self.hint}")
        return "\n".join(parts)

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
            "code": self.code,
            "source_line": self.source_line,
        }


class KbError(Exception):
    """Base of every error kbvideo raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def format(self) -> str:
        text = f"error: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class SpecError(KbError, click.UsageError):
    """A storyboard (or roster, or rules file) is wrong. Holds every problem found, not just the first."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        first = self.problems[0] if self.problems else None
        message = first.format() if first else "invalid input"
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
        text = f"error: {self.message}"
        if self.stderr:
            tail = "\n".join(self.stderr.strip().splitlines()[-15:])
            text += "\n  ffmpeg said:\n" + "\n".join("    " + line for line in tail.splitlines())
        if self.hint:
            text += f"\n  hint: {self.hint}"
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
