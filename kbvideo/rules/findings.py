"""A Finding is one verdict of one rule on a timeline or a file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from kbvideo.errors import MESSAGE_CHARS, Loc, printable

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str  # stable short id scripts can rely on, e.g. "duration.max"
    severity: str  # "error" | "warning" | "info"
    message: str
    values: dict[str, Any] = field(default_factory=dict)  # measured value, limit, ...
    where: Loc | str | None = None  # a place in the storyboard, scene id, time code...
    # The storyboard place when `where` was given as a Loc (its source line shows the caret when printed);
    # `where` then holds str(loc), "path:line:col", the form JSON and printed messages use.
    loc: Loc | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.where, Loc):
            object.__setattr__(self, "loc", self.where)
            object.__setattr__(self, "where", str(self.where))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "severity": self.severity,
                               "message": printable(self.message, MESSAGE_CHARS)}
        if self.where:
            out["where"] = printable(self.where, MESSAGE_CHARS)
        out.update(self.values)
        return out


def verdict(findings: Iterable[Finding]) -> str:
    """'fail' if any error, 'warn' if any warning, else 'pass'."""
    severities = {f.severity for f in findings}
    if "error" in severities:
        return "fail"
    if "warning" in severities:
        return "warn"
    return "pass"
