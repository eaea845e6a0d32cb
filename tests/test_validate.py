"""Storyboard validation: every problem at once, each at its exact line and column, with a hint."""

from __future__ import annotations

import os
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest

from kbvideo.errors import SpecError
from kbvideo.storyboard.load import load_yaml
from kbvideo.storyboard.validate import parse_storyboard
from kbvideo.timecode import Time, format_seconds, parse_time

HEAD = """\
kampung:
  name: Kampung KB Contoh
  kelurahan: Jenggot
  kota: Kota Pekalongan
scenes:
"""


def write_project(project: Path, body: str, files=("assets/a.mp4", "assets/b.jpg", "assets/n.m4a")) -> Path:
    for name in files:
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"placeholder")
    path = project / "storyboards" / "sb.yaml"
    path.write_text(HEAD + textwrap.dedent(body), encoding="utf-8")
    return path


def parse(path: Path, **kwargs):
    return parse_storyboard(load_yaml(path), path, path.parent.parent, **kwargs)


def problems(path: Path, **kwargs):
    with pytest.raises(SpecError) as info:
        parse(path, **kwargs)
    return info.value.problems


def test_minimal_storyboard_parses(project):
    path = write_project(project, """\
      - id: a
        topic: dashat
        shots:
          - clip: ../assets/a.mp4
            in: "0:01"
            out: 00:00:03.500
    """)
    board = parse(path)
    shot = board.scenes[0].shots[0]
    assert shot.source == (project / "assets/a.mp4").resolve()
    assert shot.in_point == Time(seconds=Fraction(1)) and shot.out_point == Time(seconds=Fraction(7, 2))
    assert board.output.fps == 30 and (board.output.width, board.output.height) == (1920, 1080)


def test_unknown_key_did_you_mean_exact_position(project):
    path = write_project(project, """\
      - id: intro
        topic: opening
        shots:
          - still: ../assets/b.jpg
            duraton: 6
    """)
    (problem,) = problems(path)
    assert (problem.line, problem.col) == (10, 7)
    assert problem.message == "scene 'intro': still shot: unknown key 'duraton'"
    assert problem.hint == "did you mean: duration"
    assert problem.format().splitlines()[1:3] == ["          duraton: 6", "          ^"]


def test_all_problems_reported_at_once(project):
    path = write_project(project, """\
      - id: a
        topic: dashatt
        shots:
          - clip: ../assets/missing.mp4
          - still: ../assets/b.jpg
      - id: a
        topic: closing
        captions:
          - no
          - 1:30
        shots:
          - card: Terima kasih
            duration: 1.5x
    """)
    found = problems(path)
    summary = [(p.line, p.message) for p in found]
    assert summary == [
        (7, "scene 'a': topic: 'dashatt' is not one of opening, dashat, kebun_pikatu, pemberdayaan, closing, other"),
        (9, "scene 'a': clip: file not found: ../assets/missing.mp4"),
        (10, "scene 'a': a still shot needs a duration"),
        (11, "scene id 'a' is used twice (first at line 6)"),
        (14, "scene 'a': caption: unquoted 'no' is read by YAML as the boolean false, not as text"),
        (15, "scene 'a': caption: unquoted '1:30' is read by YAML as a number, not as text"),
        (18, "scene 'a': card.duration: '1.5x' is not a time"),
    ]
    assert len(found) == 7
    hints = {p.line: p.hint for p in found}
    assert hints[7] == "did you mean: dashat"
    assert hints[14] == 'put the text in quotes: "no"'
    assert hints[15] == 'put the text in quotes: "1:30"'


@pytest.mark.parametrize("value", ["yes", "on", "off", "null", "12", "3.5", "2025-05-27"])
def test_unquoted_non_text_in_title_is_caught(project, value):
    path = write_project(project, f"""\
      - id: a
        topic: other
        title: {value}
        shots:
          - card: ok
            duration: 2
    """)
    (problem,) = problems(path)
    assert problem.line == 8 and "not as text" in problem.message and value in problem.hint


def test_quoted_text_is_exact(project):
    path = write_project(project, """\
      - id: a
        topic: other
        title: "no"
        captions: ["1:30", "50% \\\\ 'kutip' : {{braces}}"]
        shots:
          - card: "{kampung.name} — {kampung.kelurahan}"
            duration: 2
    """)
    scene = parse(path).scenes[0]
    assert scene.title.text == "no"
    assert [c.text for c in scene.captions] == ["1:30", "50% \\ 'kutip' : {braces}"]
    assert scene.shots[0].title == "Kampung KB Contoh — Jenggot"


def test_unknown_placeholder(project):
    path = write_project(project, """\
      - id: a
        topic: other
        shots:
          - card: "{kampung.kelurhan}"
            duration: 2
    """)
    (problem,) = problems(path)
    assert "unknown placeholder '{kampung.kelurhan}'" in problem.message
    assert problem.hint.startswith("did you mean: kampung.kelurahan")


def test_wrong_types(project):
    path = write_project(project, """\
      - id: a
        topic: other
        shots:
          - clip: ../assets/a.mp4
            volume: loud
            fit: strech
          - still: ../assets/b.jpg
            duration: 2
            motion: zoom-in
            fill: purple
    """)
    found = problems(path)
    assert [(p.line, p.col) for p in found] == [(10, 15), (11, 12), (15, 13)]
    assert found[1].hint == "did you mean: stretch" or found[1].hint.startswith("one of") or "contain" in found[1].hint
    assert "is not a colour" in found[2].message


def test_output_section(project):
    path = write_project(project, """\
      - id: a
        topic: other
        shots: [{card: x, duration: 1}]
    output:
      size: 641x481
      fps: 29
    """)
    found = problems(path)
    assert ["must be even" in found[0].message, "not a delivery frame rate" in found[1].message] == [True, True]


@pytest.mark.parametrize("fps, expected", [("25", Fraction(25)), ("30000/1001", Fraction(30000, 1001)),
                                            ("29.97", Fraction(30000, 1001))])
def test_output_fps(project, fps, expected):
    path = write_project(project, f"""\
      - id: a
        topic: other
        shots: [{{card: x, duration: 1}}]
    output:
      fps: "{fps}"
    """)
    assert parse(path).output.fps == expected


def test_transition_on_last_scene_and_defaults(project):
    path = write_project(project, """\
      - id: a
        topic: other
        shots: [{card: x, duration: 2}]
      - id: b
        topic: other
        shots: [{card: y, duration: 2}]
        transition: crossfade
    defaults:
      transition: {type: fade_black, duration: "15f"}
    """)
    (problem,) = problems(path)
    assert problem.line == 12 and "last scene" in problem.message


def test_defaults_cascade(project):
    path = write_project(project, """\
      - id: a
        topic: other
        shots:
          - clip: ../assets/a.mp4
          - clip: ../assets/a.mp4
            fit: contain
            volume: 1
    defaults:
      fit: cover
      clip_volume: 0.3
      transition: {type: fade_black, duration: "15f"}
    """)
    scene = parse(path).scenes[0]
    assert [(s.fit, s.volume) for s in scene.shots] == [("cover", 0.3), ("contain", 1.0)]
    assert scene.transition.kind == "fade_black" and scene.transition.duration == Time(frames=15)


# ---- asset paths stay inside the project ------------------------------------------------------

def test_absolute_path_refused_unless_allowed(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "x.mp4"
    outside.write_bytes(b"data")
    path = write_project(project, f"""\
      - id: a
        topic: other
        shots: [{{clip: "{outside}"}}]
    """)
    (problem,) = problems(path)
    assert "absolute path" in problem.message and "--allow-outside" in problem.hint
    assert parse(path, allow_outside=True).scenes[0].shots[0].source == outside.resolve()


def test_climbing_out_refused(project):
    (project.parent / "secret.mp4").write_bytes(b"data")
    path = write_project(project, """\
      - id: a
        topic: other
        shots: [{clip: ../../secret.mp4}]
    """)
    (problem,) = problems(path)
    assert "climbs out of the project folder" in problem.message


def test_symlink_leading_outside_refused(project, tmp_path_factory):
    target = tmp_path_factory.mktemp("elsewhere") / "real.mp4"
    target.write_bytes(b"data")
    os.symlink(target, project / "assets" / "link.mp4")
    path = write_project(project, """\
      - id: a
        topic: other
        shots: [{clip: ../assets/link.mp4}]
    """)
    (problem,) = problems(path)
    assert "symlink" in problem.message


def test_empty_asset_and_did_you_mean_file(project):
    path = write_project(project, """\
      - id: a
        topic: other
        shots:
          - clip: ../assets/empty.mp4
          - clip: ../assets/a.mp5
    """)
    (project / "assets" / "empty.mp4").write_bytes(b"")
    found = problems(path)
    assert "empty (0 bytes)" in found[0].message
    assert found[1].hint == "did you mean: a.mp4"


# ---- time spellings ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw, seconds", [
    ("12", 12), ("12.5", 12.5), ("12s", 12), ("1:30", 90), ("1:30.5", 90.5), ("00:01:30.500", 90.5), ("2:00:00", 7200)])
def test_time_spellings(raw, seconds):
    assert parse_time(raw).seconds == Fraction(str(seconds))


def test_time_frames_and_rounding():
    assert parse_time("45f").to_frames(Fraction(30)) == 45
    assert parse_time("0.5").to_frames(Fraction(30000, 1001)) == 15  # 14.985 rounds half up to 15
    assert parse_time("1:00").to_frames(Fraction(25)) == 1500


@pytest.mark.parametrize("raw", ["abc", "1:75", "-3", "1.2.3", ""])
def test_bad_times(raw):
    with pytest.raises(ValueError):
        parse_time(raw)


def test_format_seconds():
    assert format_seconds(174) == "2:54.0"
    assert format_seconds(Fraction(3723, 1) + Fraction(1, 2)) == "1:02:03.5"
