"""YAML text → a tree of YNodes that remember their line and column.

Safe YAML only, composed (not constructed) so that every value keeps its position and its raw
text: the validator decides what `no`, `1:30` or `012` mean, not YAML 1.1. Refused with a located
problem: non-UTF-8 bytes (UTF-16 files are named as such), tabs in indentation, several documents,
duplicate keys, aliases that expand past a node budget (alias bombs) or refer to themselves, and
collections nested deeper than MAX_DEPTH (which would otherwise exhaust Python's recursion limit).

Size: about 475 lines, over the ~400 a module keeps to, because the composer and the located
message for each way a YAML file can be broken belong together (tests/test_hostile_input.py pins
each message); reading files (decode, read_text) could move out if it grows further.
"""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kbvideo.errors import Problem, SpecError, excerpt
from kbvideo.i18n import N_, _

MAX_NODES = 200_000  # after alias expansion; a real storyboard has a few thousand
MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 40  # nesting of mappings and lists (aliases included); a storyboard needs about 8

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


def _problem_at(source: Source, line: int, col: int, message: str, hint: str | None = None) -> Problem:
    return Problem(source.label, line, col, message, hint, source.line(line))


HINT_UTF8 = N_("save the file as UTF-8 (in most editors: Save with encoding → UTF-8)")


def _wide_encoding(data: bytes) -> str | None:
    """'UTF-16 (…)' / 'UTF-32 (…)' when the bytes look like one (by BOM, else by where the zero bytes are)."""
    for bom, name in ((b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"), (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
                      (b"\xff\xfe", "UTF-16 (little-endian)"), (b"\xfe\xff", "UTF-16 (big-endian)")):
        if data.startswith(bom):
            return name
    sample = data[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even = sample[0::2].count(0) / max(1, len(sample[0::2]))
    odd = sample[1::2].count(0) / max(1, len(sample[1::2]))
    if sample[0::4].count(0) == sample[1::4].count(0) == sample[2::4].count(0) == len(sample) // 4 and even > 0.9:
        return "UTF-32 (big-endian)"
    if odd > 0.9 and sample[1::4].count(0) == sample[2::4].count(0) == sample[3::4].count(0) == len(sample) // 4:
        return "UTF-32 (little-endian)"
    if even > 0.3 and odd < 0.05:
        return "UTF-16 (big-endian)"
    if odd > 0.3 and even < 0.05:
        return "UTF-16 (little-endian)"
    return None


def decode(data: bytes, label: str) -> str:
    if len(data) > MAX_BYTES:
        raise SpecError(Problem(label, 1, 1, _("file is {size} bytes; a storyboard should be far smaller").format(
            size=len(data)), _("is this the right file?")))
    wide = _wide_encoding(data)
    if wide:
        raise SpecError(Problem(label, 1, 1, _("file is saved as {encoding}, not UTF-8").format(encoding=wide),
                                _(HINT_UTF8)))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        start = before.rfind(b"\n") + 1
        col = len(data[start:exc.start].decode("utf-8", "replace")) + 1
        end = data.find(b"\n", exc.start)
        text_line = data[start:end if end >= 0 else len(data)].decode("utf-8", "replace")
        raise SpecError(Problem(label, line, col, _("file is not UTF-8 (byte 0x{byte:02x})").format(
            byte=data[exc.start]), _(HINT_UTF8), text_line)) from None
    if "\x00" in text:
        index = text.index("\x00")
        line = text.count("\n", 0, index) + 1
        col = index - (text.rfind("\n", 0, index) + 1) + 1
        raise SpecError(Problem(label, line, col, _("file holds a NUL (zero) byte: it is not a text file"),
                                _("is this the right file? A storyboard is plain text saved as UTF-8")))
    return text


def _tab_problems(source: Source) -> list[Problem]:
    problems = []
    for number, text in enumerate(source.lines, 1):
        stripped = text.lstrip(" ")
        if stripped.startswith("\t"):
            col = len(text) - len(stripped) + 1
            problems.append(_problem_at(source, number, col, _("tab character in indentation"),
                                        _("YAML indents with spaces only; replace the tab with spaces")))
    return problems


class _TooDeep(Exception):
    def __init__(self, mark):
        self.mark = mark


class _Loader(yaml.SafeLoader):
    """PyYAML's composer recurses once per level of nesting: stop at MAX_DEPTH, before Python's own limit."""

    def __init__(self, stream):
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent, index):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _too_deep(source: Source, line: int, col: int) -> SpecError:
    return SpecError(_problem_at(source, line, col,
                                 _("lists and mappings are nested more than {depth} levels deep").format(depth=MAX_DEPTH),
                                 _("a storyboard needs about 8 levels; check the brackets and indentation, "
                                   "and &anchor/*alias references")))


class _Converter:
    """Composed yaml.Node graph → YNode tree, counting nodes so alias bombs stop early.

    Depth is bounded (aliases can nest a tree inside itself or stack many shallow trees), and a node
    that contains itself (`a: &a [*a]`) is refused."""

    def __init__(self, source: Source):
        self.source = source
        self.count = 0
        self.problems: list[Problem] = []
        self.path: list[yaml.Node] = []  # the nodes being converted, root first

    def convert(self, node: yaml.Node) -> YNode:
        self.count += 1
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        if self.count > MAX_NODES:
            raise SpecError(_problem_at(self.source, line, col,
                                        _("document expands to more than {count} values (aliases nested too deep?)").format(
                                            count=MAX_NODES),
                                        _("remove the nested &anchor/*alias references")))
        if isinstance(node, yaml.ScalarNode):
            return YNode("scalar", node.value, line, col, _SHORT_TAGS.get(node.tag, node.tag),
                         quoted=node.style is not None and node.style != "", source=self.source)
        if any(node is ancestor for ancestor in self.path):
            raise SpecError(_problem_at(self.source, line, col, _("an &anchor is used inside itself (*alias)"),
                                        _("an alias may only repeat a value that is complete before it")))
        if len(self.path) >= MAX_DEPTH:
            raise _too_deep(self.source, line, col)
        self.path.append(node)
        try:
            return self._collection(node, line, col)
        finally:
            self.path.pop()

    def _collection(self, node: yaml.Node, line: int, col: int) -> YNode:
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
                self.problems.append(key.problem(None, _("a key must be a plain word")))
                continue
            if key.value in mapping:
                first = mapping[key.value][0]
                self.problems.append(key.problem(None, _("duplicate key '{key}' (first at line {line})").format(
                    key=excerpt(key.value), line=first.line),
                    _("a key may appear once per mapping; remove or merge the two")))
                continue
            mapping[key.value] = (key, self.convert(value_node))
        for k, pair in merged.items():
            mapping.setdefault(k, pair)
        return YNode("map", mapping, line, col, "map", source=self.source)


def _unclosed_quote(source: Source, last_line: int) -> tuple[int, int, str] | None:
    """The first line (up to last_line) where a quote opens a text and the line ends before it closes."""
    for number in range(1, min(last_line, len(source.lines)) + 1):
        text = source.lines[number - 1]
        quote, start, before = None, 0, ""
        i = 0
        while i < len(text):
            char = text[i]
            if quote is None:
                if char == "#" and (i == 0 or text[i - 1] in " \t"):
                    break
                if char in "\"'" and (before.strip() == "" or before.rstrip()[-1:] in (":", "-", ",", "[", "{", "?")):
                    quote, start = char, i
                before += char
            elif quote == '"' and char == "\\":
                i += 1
            elif char == quote:
                if quote == "'" and text[i + 1:i + 2] == "'":
                    i += 1
                else:
                    quote, before = None, before + "x"
            i += 1
        if quote is not None:
            return number, start + 1, quote
    return None


def _yaml_problem(source: Source, exc: yaml.MarkedYAMLError) -> Problem:
    """A YAML syntax error said in plain words, at the line where the mistake started."""
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or exc.context or ""
    unclosed = _unclosed_quote(source, line)
    if unclosed is not None:
        at_line, at_col, quote = unclosed
        return _problem_at(source, at_line, at_col,
                           _("a text opens a quote ({quote}) here that is not closed on this line").format(quote=quote),
                           _("add the closing {quote} at the end of the text").format(quote=quote))
    if "mapping values are not allowed" in problem:
        return _problem_at(source, line, col, _("a ':' followed by a space inside text that is not in quotes"),
                           _("put the whole text in quotes, e.g. title: \"Dashat: Dapur Sehat\""))
    if "cannot start any token" in problem:
        char = source.line(line)[col - 1:col] if source.line(line) else ""
        return _problem_at(source, line, col, _("text cannot start with '{char}' unless it is in quotes").format(char=char),
                           _("put the whole text in quotes"))
    if "expected ',' or ']'" in problem or "expected ',' or '}'" in problem:
        ctx = exc.context_mark
        bracket = "[" if "]" in problem else "{"
        at = (ctx.line + 1, ctx.column + 1) if ctx else (line, col)
        return _problem_at(source, *at, _("the list or mapping opened with '{bracket}' here is not closed (or a comma is "
                                          "missing inside it)").format(bracket=bracket),
                           _("close it with '{closing}' on the same line").format(closing="]" if bracket == "[" else "}"))
    if "expected <block end>" in problem or "did not find expected key" in problem \
            or "did not find expected '-'" in problem:
        return _problem_at(source, line, col, _("this line is not lined up with the lines above it"),
                           _("indent it with spaces exactly as far as the other keys (or list items) of its group"))
    if "could not find expected ':'" in problem:
        return _problem_at(source, line, col, _("a line here is not written as 'key: value'"),
                           _("check that each key ends with ':' and that every quote is closed"))
    if "unexpected end of stream" in problem:
        return _problem_at(source, line, col, _("the file ends inside an unfinished value"),
                           _("a quote or a bracket is not closed"))
    if "undefined alias" in problem:
        return _problem_at(source, line, col, _("*alias used before its &anchor is defined"),
                           _("define the &anchor before using *alias"))
    return _problem_at(source, line, col, _("YAML syntax: {problem}").format(problem=excerpt(problem, 200)),
                       _("check the quotes, colons and indentation of this line and the one above"))


def _compose_all(text: str) -> list[yaml.Node]:
    loader = _Loader(text)
    try:
        documents = []
        while loader.check_node():
            documents.append(loader.get_node())
        return documents
    finally:
        loader.dispose()


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of character `index` (line breaks as str.splitlines sees the usual ones)."""
    index = max(0, min(index, len(text)))
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def load_yaml_text(text: str, label: str, *, quote: bool = True) -> YNode:
    """Parse one YAML document into a YNode tree; raises SpecError listing every problem found.

    quote=False: messages never echo this file's lines (a file outside the project)."""
    source = Source(label, text.splitlines(), quote)
    problems = _tab_problems(source)
    if problems:
        raise SpecError(problems)
    try:
        documents = _compose_all(text)
    except _TooDeep as exc:
        raise _too_deep(source, exc.mark.line + 1, exc.mark.column + 1) from None
    except RecursionError:  # pragma: no cover - MAX_DEPTH keeps far below the limit
        raise _too_deep(source, 1, 1) from None
    except yaml.reader.ReaderError as exc:
        line, col = _position(text, exc.position)
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        raise SpecError(_problem_at(source, line, col,
                                    _("invisible or special character U+{code:04X} is not allowed in a storyboard").format(
                                        code=ord(char[:1] or "\x00")),
                                    _("delete it (it is invisible in most editors; retype the text around it)"))) from None
    except yaml.MarkedYAMLError as exc:
        raise SpecError(_yaml_problem(source, exc)) from None
    except yaml.YAMLError as exc:
        raise SpecError(_problem_at(source, 1, 1, _("YAML error: {error}").format(error=excerpt(exc, 200)))) from None
    documents = [d for d in documents if d is not None]
    if not documents:
        raise SpecError(_problem_at(source, 1, 1, _("file is empty"), _("start from storyboards/jenggot.yaml")))
    if len(documents) > 1:
        mark = documents[1].start_mark
        raise SpecError(_problem_at(source, mark.line + 1, mark.column + 1,
                                    _("more than one YAML document ('---') in one file"),
                                    _("keep one storyboard per file; remove the extra '---'")))
    converter = _Converter(source)
    try:
        root = converter.convert(documents[0])
    except RecursionError:  # pragma: no cover - MAX_DEPTH keeps far below the limit
        raise _too_deep(source, 1, 1) from None
    if converter.problems:
        raise SpecError(converter.problems)
    return root


def os_reason(exc: OSError) -> str:
    """Why a path could not be used, in words a user can act on (never a traceback)."""
    reasons = {
        errno.ENAMETOOLONG: _("the name is too long for this file system"),
        errno.ELOOP: _("too many levels of symbolic links (a link that points to itself?)"),
        errno.EACCES: _("permission denied"),
        errno.EPERM: _("permission denied"),
        errno.EISDIR: _("it is a folder, not a file"),
        errno.ENOTDIR: _("a part of the path is a file, not a folder"),
        errno.ENOENT: _("not found"),
    }
    return reasons.get(exc.errno) or exc.strerror or type(exc).__name__


def normalised_path(path: str | Path) -> Path | None:
    """The existing file that `path` names up to Unicode normalisation (a name copied from a Mac is NFD:
    'e' + U+0301 instead of 'é'), else None. Each missing part is matched against its folder's entries."""
    path = Path(path)
    if not any(ord(c) > 127 for c in str(path)):
        return None
    current = Path(path.anchor) if path.is_absolute() else Path(".")
    for part in path.parts[len(path.parts[:1]) if path.is_absolute() else 0:]:
        candidate = current / part
        try:
            if candidate.exists() or part in (".", ".."):
                current = candidate
                continue
            wanted = unicodedata.normalize("NFC", part)
            match = next((entry for entry in os.listdir(current)
                          if unicodedata.normalize("NFC", entry) == wanted), None)
        except (OSError, ValueError):
            return None
        if match is None:
            return None
        current = current / match
    return current if current != Path(".") else None


def read_text(path: str | Path, label: str | None = None, what: str = "file") -> str:
    """A hand-written input file as text: missing, unreadable or non-UTF-8 files are located SpecErrors."""
    label = label or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # /dev/zero, a FIFO: never read forever
                raise SpecError(Problem(label, 1, 1, _("{what} is not a regular file").format(what=what)))
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        other = normalised_path(path)
        if other is None:
            raise SpecError(Problem(label, 1, 1, _("{what} not found").format(what=what))) from None
        return read_text(other, label, what)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        reason = os_reason(exc) if isinstance(exc, OSError) else _("the name holds a NUL character")
        raise SpecError(Problem(label, 1, 1, _("cannot read {what}: {reason}").format(what=what, reason=reason))) from None
    return decode(data, label)


def load_yaml(path: str | Path, label: str | None = None, *, quote: bool = True) -> YNode:
    label = label or str(path)
    return load_yaml_text(read_text(path, label), label, quote=quote)


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
