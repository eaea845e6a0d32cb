"""YAML text → a tree of YNodes that remember their line and column.

Safe YAML only, composed (not constructed) so that every value keeps its position and its raw
text: the validator decides what `no`, `1:30` or `012` mean, not YAML 1.1. Refused with a located
problem: non-UTF-8 bytes, tabs in indentation, several documents, duplicate keys, and aliases that
expand past a node budget (alias bombs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kbvideo.errors import Problem, SpecError

MAX_NODES = 200_000  # after alias expansion; a real storyboard has a few thousand
MAX_BYTES = 5 * 1024 * 1024

_SHORT_TAGS = {
    "tag:yaml.org,2002:str": "str",
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "timestamp",
    "tag:yaml.org,2002:merge": "merge",
    "tag:yaml.org,2002:binary": "binary",
    "tag:yaml.org,2002:value": "str",
}


@dataclass(slots=True)
class Source:
    """The text a tree came from, for carets under the offending line."""

    label: str
    lines: list[str]

    def line(self, number: int) -> str | None:
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


def _problem_at(source: Source, line: int, col: int, message: str, hint: str | None = None) -> Problem:
    return Problem(source.label, line, col, message, hint, source.line(line))


def decode(data: bytes, label: str) -> str:
    if len(data) > MAX_BYTES:
        raise SpecError(Problem(label, 1, 1, f"file is {len(data)} bytes; a storyboard should be far smaller",
                                "is this the right file?"))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        text_line = data.splitlines()[line - 1].decode("utf-8", "replace") if data.splitlines() else ""
        raise SpecError(Problem(label, line, col, f"file is not UTF-8 (byte 0x{data[exc.start]:02x})",
                                "save the file as UTF-8 (in most editors: Save with encoding → UTF-8)",
                                text_line)) from None


def _tab_problems(source: Source) -> list[Problem]:
    problems = []
    for number, text in enumerate(source.lines, 1):
        stripped = text.lstrip(" ")
        if stripped.startswith("\t"):
            col = len(text) - len(stripped) + 1
            problems.append(_problem_at(source, number, col, "tab character in indentation",
                                        "YAML indents with spaces only; replace the tab with spaces"))
    return problems


class _Converter:
    """Composed yaml.Node graph → YNode tree, counting nodes so alias bombs stop early."""

    def __init__(self, source: Source):
        self.source = source
        self.count = 0
        self.problems: list[Problem] = []

    def convert(self, node: yaml.Node) -> YNode:
        self.count += 1
        if self.count > MAX_NODES:
            raise SpecError(_problem_at(self.source, node.start_mark.line + 1, node.start_mark.column + 1,
                                        f"document expands to more than {MAX_NODES} values (aliases nested too deep?)",
                                        "remove the nested &anchor/*alias references"))
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        if isinstance(node, yaml.ScalarNode):
            return YNode("scalar", node.value, line, col, _SHORT_TAGS.get(node.tag, node.tag),
                         quoted=node.style is not None and node.style != "", source=self.source)
        if isinstance(node, yaml.SequenceNode):
            return YNode("seq", [self.convert(child) for child in node.value], line, col, "seq", source=self.source)
        mapping: dict[str, tuple[YNode, YNode]] = {}
        merged: dict[str, tuple[YNode, YNode]] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for src in sources:
                    converted = self.convert(src)
                    if converted.kind == "map":
                        for k, pair in converted.value.items():
                            merged.setdefault(k, pair)
                continue
            key = self.convert(key_node)
            if key.kind != "scalar":
                self.problems.append(key.problem(None, "a key must be a plain word"))
                continue
            if key.value in mapping:
                first = mapping[key.value][0]
                self.problems.append(key.problem(None, f"duplicate key '{key.value}' (first at line {first.line})",
                                                 "a key may appear once per mapping; remove or merge the two"))
                continue
            mapping[key.value] = (key, self.convert(value_node))
        for k, pair in merged.items():
            mapping.setdefault(k, pair)
        return YNode("map", mapping, line, col, "map", source=self.source)


_YAML_HINTS = {
    "found character '\\t'": "YAML indents with spaces only; replace the tab with spaces",
    "mapping values are not allowed here": "a ':' inside text needs the whole text in quotes",
    "found undefined alias": "define the &anchor before using *alias",
    "could not find expected ':'": "check the indentation and that each key ends with ':'",
    "found unexpected end of stream": "a quote or bracket is not closed",
}


def load_yaml_text(text: str, label: str) -> YNode:
    """Parse one YAML document into a YNode tree; raises SpecError listing every problem found."""
    source = Source(label, text.splitlines())
    problems = _tab_problems(source)
    if problems:
        raise SpecError(problems)
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"YAML syntax: {exc.problem or exc.context}"
        hint = next((h for k, h in _YAML_HINTS.items() if k in str(exc)), None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SpecError(_problem_at(source, line, col, message, hint)) from None
    except yaml.YAMLError as exc:
        raise SpecError(_problem_at(source, 1, 1, f"YAML error: {exc}")) from None
    documents = [d for d in documents if d is not None]
    if not documents:
        raise SpecError(_problem_at(source, 1, 1, "file is empty", "start from storyboards/jenggot.yaml"))
    if len(documents) > 1:
        mark = documents[1].start_mark
        raise SpecError(_problem_at(source, mark.line + 1, mark.column + 1,
                                    "more than one YAML document ('---') in one file",
                                    "keep one storyboard per file; remove the extra '---'"))
    converter = _Converter(source)
    root = converter.convert(documents[0])
    if converter.problems:
        raise SpecError(converter.problems)
    return root


def read_text(path: str | Path, label: str | None = None, what: str = "file") -> str:
    """A hand-written input file as text: missing, unreadable or non-UTF-8 files are located SpecErrors."""
    label = label or str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise SpecError(Problem(label, 1, 1, f"{what} not found")) from None
    except OSError as exc:
        raise SpecError(Problem(label, 1, 1, f"cannot read {what}: {exc.strerror}")) from None
    return decode(data, label)


def load_yaml(path: str | Path, label: str | None = None) -> YNode:
    label = label or str(path)
    return load_yaml_text(read_text(path, label), label)


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
