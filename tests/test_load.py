"""YAML loading: every refusal is a located SpecError, never a traceback or a hang."""

from __future__ import annotations

import pytest

from kbvideo.errors import SpecError
from kbvideo.storyboard.load import MAX_NODES, load_yaml, load_yaml_text
from kbvideo.storyboard.nodes import to_python


def problems_of(text: str, label: str = "sb.yaml"):
    with pytest.raises(SpecError) as info:
        load_yaml_text(text, label)
    return info.value.problems


def test_positions_are_kept():
    root = load_yaml_text("kampung:\n  name: Jenggot\nscenes: []\n", "sb.yaml")
    name = root.get("kampung").get("name")
    assert (name.value, name.line, name.col) == ("Jenggot", 2, 9)


def test_duplicate_key_names_both_lines():
    (problem,) = problems_of("a: 1\nb: 2\na: 3\n")
    assert (problem.line, problem.col) == (3, 1)
    assert "duplicate key 'a' (first at line 1)" in problem.message


def test_every_duplicate_is_reported_at_once():
    problems = problems_of("a: 1\na: 2\nm:\n  x: 1\n  x: 2\n")
    assert [(p.line, p.col) for p in problems] == [(2, 1), (5, 3)]


def test_several_documents_refused():
    (problem,) = problems_of("a: 1\n---\nb: 2\n")
    assert problem.line == 3 and "more than one YAML document" in problem.message


def test_tabs_in_indentation_each_reported():
    problems = problems_of("scenes:\n\t- id: a\n\t- id: b\n")
    assert [(p.line, p.col) for p in problems] == [(2, 1), (3, 1)]
    assert "spaces" in problems[0].hint


def test_non_utf8_is_located(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("kampung:\n  name: Kampung Caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError) as info:
        load_yaml(path)
    (problem,) = info.value.problems
    assert (problem.line, problem.col) == (2, 20)
    assert "not UTF-8" in problem.message and "UTF-8" in problem.hint


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert to_python(load_yaml(path)) == {"a": 1}


def test_alias_bomb_is_refused_quickly():
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 10) + "]")
    (problem,) = problems_of("\n".join(lines) + "\n")
    assert f"more than {MAX_NODES}" in problem.message


def test_small_aliases_are_fine():
    root = load_yaml_text("base: &b {x: 1}\nother: *b\nmerged:\n  <<: *b\n  y: 2\n", "sb.yaml")
    assert to_python(root) == {"base": {"x": 1}, "other": {"x": 1}, "merged": {"x": 1, "y": 2}}


def test_syntax_error_gets_hint():
    (problem,) = problems_of('caption: Dashat: dapur sehat\n')
    assert problem.line == 1 and "quotes" in problem.hint


def test_unclosed_quote():
    (problem,) = problems_of('a: "unclosed\n')
    assert (problem.line, problem.col) == (1, 4) and "not closed" in problem.message


def test_empty_file():
    (problem,) = problems_of("# only a comment\n")
    assert "empty" in problem.message


def test_missing_file(tmp_path):
    with pytest.raises(SpecError) as info:
        load_yaml(tmp_path / "nope.yaml")
    assert "file not found" in info.value.problems[0].message


def test_yaml11_scalars_keep_raw_text():
    root = load_yaml_text("a: no\nb: 1:30\nc: 012\nd: '1:30'\n", "x")
    assert [(root.get(k).tag, root.get(k).value) for k in "abcd"] == [
        ("bool", "no"), ("int", "1:30"), ("int", "012"), ("str", "1:30")]


def test_problem_format_has_caret_and_hint():
    (problem,) = problems_of("a: 1\na: 2\n", "storyboards/x.yaml")
    text = problem.format()
    assert text.splitlines()[0] == "error: storyboards/x.yaml:2:1: duplicate key 'a' (first at line 1)"
    assert text.splitlines()[1:3] == ["    a: 2", "    ^"]
