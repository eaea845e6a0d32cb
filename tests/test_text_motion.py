"""Issue 10: titles, lower thirds and captions come in and go out as each says — `motion: fade | slide | none`
or `{type, frames}` on the element, `defaults: {text_motion: {kind: ...}}` for a kind, else the built-in default."""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from fakes import fake_media_for
from kbvideo.cli import main
from kbvideo.errors import Loc, SpecError
from kbvideo.storyboard.load import load_yaml
from kbvideo.storyboard.schema import storyboard_schema
from kbvideo.storyboard.validate import parse_storyboard
from kbvideo.timeline.io import from_dict, to_dict
from kbvideo.timeline.model import TextItem
from kbvideo.timeline.resolve import resolve_timeline

SCENE = """\
scenes:
  - id: a
    topic: dashat
    shots: [{card: Halo, duration: 10}]
    title: {text: Dashat, motion: none}
    lower_thirds:
      - {name: Bu Sri, role: Kader, at: 4, motion: {type: fade, frames: 8}}
    captions:
      - {text: Satu, at: 1, duration: 2, motion: slide}
      - {text: Dua, at: 6, duration: 2}
"""


def board_from(project, body, fps="30"):
    path = project / "storyboards" / "sb.yaml"
    path.write_text(f"kampung: {{name: Contoh}}\noutput: {{fps: \"{fps}\"}}\n" + textwrap.dedent(body), encoding="utf-8")
    return parse_storyboard(load_yaml(path), path, project)


def motions(board):
    timeline = resolve_timeline(board, fake_media_for(board, {}))
    return [(t.kind, t.text, t.motion) for t in timeline.texts]


def test_each_element_chooses_its_motion_and_the_rest_keep_the_defaults(project):
    assert motions(board_from(project, SCENE)) == [
        ("title", "Dashat", ("none", 0)),
        ("caption", "Satu", ("slide", 6)),
        ("lower_third", "Bu Sri", ("fade", 8)),
        ("caption", "Dua", ("fade", 6)),  # default: captions fade over 6 frames at 30 fps
    ]


def test_defaults_per_kind_and_frames_scaled_to_the_output_rate(project):
    board = board_from(project, SCENE.replace("title: {text: Dashat, motion: none}", "title: Dashat")
                       + "defaults:\n  text_motion: {caption: none, title: slide}\n", fps="25")
    assert motions(board) == [
        ("title", "Dashat", ("slide", 8)),  # 10 frames at 30 fps → 8 at 25
        ("caption", "Satu", ("slide", 5)),  # its own motion wins; the kind's frames (6 at 30 → 5)
        ("lower_third", "Bu Sri", ("fade", 8)),  # frames given: at the output rate
        ("caption", "Dua", ("none", 0)),
    ]


def test_motion_survives_the_timeline_json_and_old_timelines_read_without_it():
    item = TextItem("caption", "a", 0, 30, "x", motion=("none", 0), where=Loc("sb.yaml", 1, 1))
    data = {"schema": "kbvideo.timeline", "version": 1, "fps": "30", "width": 160, "height": 90, "frames": 30,
            "scenes": [], "shots": [], "audio": [], "transitions": []}
    texts = to_dict(from_dict(data | {"texts": []}))["texts"]
    assert texts == []
    again = from_dict(data | {"texts": [{k: v for k, v in zip(item.__slots__, (getattr(item, s) for s in item.__slots__))
                                         if k != "where"} | {"motion": ["none", 0]}]})
    assert again.texts[0].motion == ("none", 0)
    old = from_dict(data | {"texts": [{"kind": "caption", "scene": "a", "start": 0, "duration": 30, "text": "x"}]})
    assert old.texts[0].motion is None  # the renderer falls back to TEXT_MOTION


def test_bad_values_are_located_with_did_you_mean(project):
    body = SCENE.replace("motion: slide}", "motion: slid}").replace("frames: 8}", "frames: 45}")
    with pytest.raises(SpecError) as info:
        board_from(project, body + "defaults:\n  text_motion: {captoin: fade}\n")
    found = sorted((p.line, p.col, p.message, p.hint) for p in info.value.problems)
    assert found == [
        (9, 73, "scene 'a': lower third motion.frames is 45; it must be between 0 and 30",
         "6 to 12 frames reads as a quick, calm move"),
        (11, 50, "scene 'a': caption motion: 'slid' is not one of fade, slide, none", "did you mean: slide"),
        (14, 17, "defaults.text_motion: unknown key 'captoin'", "did you mean: caption"),
    ]


def test_the_schema_knows_the_key():
    schema = storyboard_schema()
    assert "text_motion" in schema["properties"]["defaults"]["properties"]
    scene = schema["properties"]["scenes"]["items"]["properties"]
    assert "motion" in scene["lower_thirds"]["items"]["properties"]


@pytest.mark.parametrize("lang, message", [
    ("en", "error: storyboards/uji.yaml:7:50: scene 'a': caption motion: 'zoom' is not one of fade, slide, none"),
    ("id", "kesalahan: storyboards/uji.yaml:7:50: adegan 'a': keterangan, motion: 'zoom' bukan salah satu dari "
           "fade, slide, none"),
])
def test_a_bad_motion_in_both_languages(project, monkeypatch, lang, message):
    monkeypatch.chdir(project)
    (project / "storyboards" / "uji.yaml").write_text(textwrap.dedent("""\
        kampung: {name: Kampung KB Uji, desa: Uji, kabupaten: Kabupaten Uji}
        scenes:
          - id: a
            topic: opening
            shots: [{card: Halo, duration: 9}]
            captions:
              - {text: Satu, at: 1, duration: 2, motion: zoom}
        """), encoding="utf-8")
    result = CliRunner().invoke(main, ["--lang", lang, "validate", "storyboards/uji.yaml"])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith(("error:", "kesalahan:"))]
    assert errors == [message]
