"""YAML text → a tree of YNodes (kbvideo.storyboard.nodes) that remember their line and column.

Safe YAML only, composed (not constructed) so that every value keeps its position and its raw
text: the validator decides what `no`, `1:30` or `012` mean, not YAML 1.1. Refused with a located
problem: tabs in indentation, several documents, duplicate keys, aliases that expand past a node
budget (alias bombs) or refer to themselves, and collections nested deeper than MAX_DEPTH (which
would otherwise exhaust Python's recursion limit); a YAML syntax error is said in plain words at
the line where the mistake started (tests/test_hostile_input.py pins each message). Reading the
file (size, encoding, UTF-8) is kbvideo.storyboard.read's job.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from kbvideo.errors import Problem, SpecError, excerpt
from kbvideo.i18n import _
from kbvideo.storyboard.nodes import Source, YNode
from kbvideo.storyboard.read import read_text

MAX_NODES = 200_000  # after alias expansion; a real storyboard has a few thousand
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


def _problem_at(source: Source, line: int, col: int, message: str, hint: str | None = None) -> Problem:
    return Problem(source.label, line, col, message, hint, source.line(line))


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


def load_yaml(path: str | Path, label: str | None = None, *, quote: bool = True) -> YNode:
    label = label or str(path)
    return load_yaml_text(read_text(path, label), label, quote=quote)
