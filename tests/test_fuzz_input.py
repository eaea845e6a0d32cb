"""Property test: whatever text a storyboard holds, `kbvideo validate` answers with an exit code of 0, 1
or 2, a clean message (no traceback), no raw control character on the terminal and no endless line.

Derandomized hypothesis (same examples every run), bounded so it runs in a few seconds. Three kinds
of input: YAML-ish noise, mutations of a small valid storyboard (hostile scalars dropped into real
fields, spans deleted or duplicated), and raw bytes (encodings, NULs, BOMs).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import copy_into
from kbvideo.cli import main

BASE = """\
kampung:
  name: Kampung KB Uji
  kelurahan: Uji
  kota: Kota Uji
  year: 2025
output:
  size: 160x90
  fps: 30
  rules: ../rules.yaml
defaults:
  clip_volume: 0.5
  fill: blur
  transition:
    type: crossfade
    duration: 0.5
vars:
  angka: "12"
scenes:
  - id: buka
    topic: opening
    functions:
      - sosial_budaya
    title:
      text: "Selamat datang di {kampung.name}"
      at: 0
      duration: 1
    shots:
      - card:
          title: "{kampung.name}"
          subtitle: "Kelurahan {kampung.kelurahan}"
        duration: 1
        color: "#0b5d3b"
      - still: ../assets/b.png
        duration: 1
        motion: zoom_in
        fit: contain
        fill: "#000000"
    captions:
      - text: "Kader memasak bersama"
        at: 0
        duration: 1
  - id: data
    topic: dashat
    shots:
      - chart:
          title: Angka
          unit: anak
          data:
            "2023": 4
            "2024": "{vars.angka}"
        duration: 2
    lower_thirds:
      - name: Ibu Sari
        role: Kader
        at: 0.5
        duration: 1
"""
RULES = "name: kecil\nduration: {max: 10, min: 1}\nvideo: {width: 160, height: 90}\n"

HOSTILE_SCALARS = [
    "nan", ".nan", "-.inf", "+.Inf", "1e999", "-1", "0", "99999999999999999999999999999", "1" * 5000, "0x1f", "1:30",
    "012", "no", "on", "~", "null", "2025-01-01", "!!binary AAAA", "!!python/object/apply:os.system [ls]",
    "!!float nan", "!custom x", '"\\e[2J\\e]0;x\\a"', '"\\x00\\x01"', '"\\udc80"', '"\\ud83d"', '"\\u202e kanan"',
    '"\\x9b31m"', '"\\t"', '"' + "x" * 3000 + '"', "'" + "y" * 600 + "'", "*missing", "&a [*a]", "&b {k: *b}",
    "[" * 300, "{" * 300, "[" * 60 + "]" * 60, "? x", "|\n  teks\n  baris", ">-\n  lipat", '"{vars.tidak_ada}"',
    '"{{literal}}"', '"{kampung.name"', '"}"', "../../../etc/passwd", "/etc/passwd", "../assets/" + "n" * 300,
    "../assets/b.png/..", "../assets", '""', "''", "é", "😀", "\ufeff", "\u0301", "ا", "\U0010ffff", "\ufffe",
]
SNIPPETS = ["\n", ": ", "- ", "[", "]", "{", "}", ",", "'", '"', "&a ", "*a", "!!", "? ", "|", ">", "#", "---\n",
            "...\n", "%YAML 1.2\n", "  ", "\t", "\r\n", "\\", "\x85", "\u2028", "\x1b", "\x00", "\x07", "\x7f"]

YAMLISH = st.text(alphabet=st.sampled_from(list("abc019:-[]{},'\"&*!?|>#% \n.\\") + ["\t", "é", "\x1b", "\u202e", "😀"]),
                  max_size=200)
UNICODE = st.text(st.characters(codec=None, exclude_categories=()), max_size=80)


def _scalar_spots(text: str) -> list[int]:
    """Where a scalar value starts ('key: value' or '- value' lines), interleaved from the end so that
    hypothesis' preference for small indices does not always pick the first lines."""
    spots = [m.start(1) for m in re.finditer(r"(?:: |- )([^\n]+)$", text, re.M)]
    return spots[::-1][1::2] + spots[::-1][::2]


@st.composite
def one_field(draw) -> str:
    """One scalar of the valid storyboard replaced by a hostile value: the field readers are what is tested."""
    spots = _scalar_spots(BASE)
    start = spots[draw(st.integers(0, len(spots) - 1))]
    end = BASE.find("\n", start)
    return BASE[:start] + draw(st.sampled_from(HOSTILE_SCALARS) | UNICODE) + BASE[end:]


@st.composite
def mutated(draw) -> str:
    text = BASE
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["value", "value", "value", "value", "insert", "delete", "duplicate"]))
        if op == "value":  # a scalar on its own line: the rest of the file stays valid, the field reader is tested
            spots = _scalar_spots(text)
            if not spots:
                continue
            start = spots[draw(st.integers(0, len(spots) - 1))]
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            replacement = draw(st.sampled_from(HOSTILE_SCALARS) | UNICODE)
            text = text[:start] + replacement + text[end:]
        elif op == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(SNIPPETS) | st.sampled_from(HOSTILE_SCALARS)) + text[at:]
        elif op == "delete":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        else:
            at = draw(st.integers(0, len(text)))
            piece = text[at:at + draw(st.integers(1, 120))]
            text = text[:at] + piece * draw(st.integers(2, 30)) + text[at:]
    return text


def _encode(text: str, how: str) -> bytes:
    if how == "utf-8":
        return text.encode("utf-8", "surrogatepass")
    if how == "utf-16":
        return text.encode("utf-16-le", "surrogatepass")
    return text.encode("utf-8", "surrogatepass").replace(b"i", b"\xff", 1)  # one invalid byte


INPUTS = st.one_of(
    st.tuples(one_field(), st.just("utf-8")),
    st.tuples(one_field(), st.just("utf-8")),
    st.tuples(mutated(), st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8", "utf-16", "bad-byte"])),
    st.tuples(YAMLISH, st.just("utf-8")),
    st.tuples(UNICODE, st.just("utf-8")),
    st.tuples(st.binary(max_size=200).map(lambda b: b.decode("latin-1")), st.just("latin-1")),
)

# Printed to a terminal, these could move the cursor, clear the screen or retitle the window.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MAX_LINE = 600  # "error: path:line:col: " + a message of at most 400 characters + an excerpt


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory, media) -> Path:
    project = tmp_path_factory.mktemp("fuzz")
    (project / "storyboards").mkdir()
    copy_into(media.image("b.png", size=(32, 18)), project / "assets", "b.png")
    (project / "rules.yaml").write_text(RULES, encoding="utf-8")
    return project


def test_base_storyboard_is_valid(fuzz_project, monkeypatch):
    monkeypatch.chdir(fuzz_project)
    (fuzz_project / "storyboards" / "base.yaml").write_text(BASE, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "storyboards/base.yaml"])
    assert result.exit_code in (0, 1) and "INVALID" not in result.output, result.output


@settings(derandomize=True, max_examples=160, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(case=INPUTS, json_output=st.booleans())
def test_validate_never_crashes_and_prints_only_safe_short_lines(fuzz_project, monkeypatch, case, json_output):
    text, encoding = case
    monkeypatch.chdir(fuzz_project)
    path = fuzz_project / "storyboards" / "fz.yaml"
    path.write_bytes(text.encode("latin-1") if encoding == "latin-1" else _encode(text, encoding))
    args = ["validate", *(["--json"] if json_output else []), "storyboards/fz.yaml"]
    result = CliRunner().invoke(main, args)
    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (repr(result.exception), text[:300])
    assert "Traceback" not in output
    assert result.exit_code in (0, 1, 2), output[-500:]
    bad = RAW_CONTROL.search(output)
    assert bad is None, (repr(bad.group(0)), output[max(0, bad.start() - 80):bad.end() + 20])
    longest = max((len(line) for line in output.splitlines()), default=0)
    assert longest <= MAX_LINE, max(output.splitlines(), key=len)[:300]
