"""The tree a storyboard is read into: YNodes that remember their line, column and raw text.

kbvideo.storyboard.load builds it from YAML; the validator (and rules, templates, rosters) read it.
`to_python` turns a tree into plain values the way YAML 1.1 would, for loose data such as rules
files. Nothing here reads files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kbvideo.errors import Problem


@dataclass(slots=True)
class Source:
    """The text a tree came from, for carets under the offending line."""

    label: str
    lines: list[str]
    quote: bool = True  # False for files outside the project: their lines are never echoed in messages

    def line(self, number: int) -> str | None:
        if not self.quote:
            return None
        return self.lines[number - 1] if 0 < number <= len(self.lines) else None


@dataclass(slots=True)
class YNode:
    kind: str  # "map" | "seq" | "scalar"
    value: Any  # dict[str, (YNode key, YNode value)] | list[YNode] | str
    line: int  # 1-based
    col: int  # 1-based
    tag: str = "str"  # for scalars: str, int, float, bool, null, timestamp (as YAML 1.1 would read it)
    quoted: bool = False  # scalar written with quotes or as a block
    source: Source | None = None

    def problem(self, label: str | None, message: str, hint: str | None = None, severity: str = "error") -> Problem:
        src = self.source
        return Problem(
            path=label or (src.label if src else "<input>"),
            line=self.line,
            col=self.col,
            message=message,
            hint=hint,
            source_line=src.line(self.line) if src else None,
            severity=severity,
        )

    def get(self, key: str) -> "YNode | None":
        if self.kind != "map":
            return None
        pair = self.value.get(key)
        return pair[1] if pair else None

    def key_node(self, key: str) -> "YNode | None":
        pair = self.value.get(key) if self.kind == "map" else None
        return pair[0] if pair else None

    @property
    def where(self) -> str:
        label = self.source.label if self.source else "<input>"
        return f"{label}:{self.line}:{self.col}"


def scalar_to_python(node: YNode) -> Any:
    """A scalar the way YAML 1.1 would read it (for rules files and other loose data)."""
    raw = node.value
    if node.tag == "null":
        return None
    if node.tag == "bool":
        return raw.lower() in ("yes", "true", "on", "y")
    if node.tag == "int":
        try:
            return int(raw.replace("_", ""), 10)
        except ValueError:
            return raw  # 1:30 (sexagesimal), 0x1f...: the raw text, never a silent reinterpretation
    if node.tag == "float":
        try:
            return float(raw.replace("_", ""))
        except ValueError:
            return raw
    return raw


def to_python(node: YNode) -> Any:
    if node.kind == "map":
        return {k: to_python(v) for k, (_, v) in node.value.items()}
    if node.kind == "seq":
        return [to_python(v) for v in node.value]
    return scalar_to_python(node)
