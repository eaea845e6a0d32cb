"""The effects registry (kbvideo/vocab/effects.py): every shot kind, transition and motion it holds is
accepted by validation, listed by the JSON Schema, resolved, and drawn by the graph builder; nothing
else keeps a list of its own."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fakes import fake_media_for
from kbvideo.render.graph import Assets, ClipSource, SegmentGraph
from kbvideo.render.segments import plan_segments
from kbvideo.storyboard.load import load_yaml
from kbvideo.storyboard.schema import storyboard_schema
from kbvideo.storyboard.validate import SHOT_KEYS, parse_storyboard
from kbvideo.timeline.resolve import resolve_timeline
from kbvideo.vocab import MOTIONS, SHOT_KINDS, TRANSITIONS
from kbvideo.vocab.effects import MOTION, SHOT_KIND, TRANSITION, XFade


class Overlay:
    def __init__(self, path: str):
        self.path, self.x, self.y = Path(path), 0, 0


ASSETS = Assets(clip=lambda path, span: ClipSource(path, (1280, 720)), still=lambda shot: Path("/s.png"),
                motion=lambda shot: ("video", Path("/m.mp4"), shot.duration), text=lambda item: Overlay("/t.png"))


def board_with(project: Path, transition: str, motion: str = "none"):
    for name in ("a.mp4", "b.jpg"):
        (project / "assets" / name).write_bytes(b"x")
    path = project / "storyboards" / "sb.yaml"
    path.write_text("kampung: {name: Contoh}\n" + textwrap.dedent(f"""\
    scenes:
      - id: a
        topic: opening
        shots:
          - clip: ../assets/a.mp4
            duration: 2
          - still: ../assets/b.jpg
            duration: 2
            motion: {motion}
        transition: {{type: {transition}, duration: 0.5}}
      - id: b
        topic: dashat
        shots: [{{card: Halo, duration: 3}}, {{chart: {{title: Data, data: {{"2024": 3}}}}, duration: 2}}]
    """), encoding="utf-8")
    return parse_storyboard(load_yaml(path), path, project)


def argv_of(timeline) -> list[str]:
    return [" ".join(SegmentGraph(timeline.width, timeline.height, timeline.fps).build(segment, ASSETS))
            for segment in plan_segments(timeline)]


def test_the_names_are_the_registry():
    assert (SHOT_KINDS, TRANSITIONS, MOTIONS) == (tuple(SHOT_KIND), tuple(TRANSITION), tuple(MOTION))
    assert SHOT_KEYS == {name: tuple(kind.keys) for name, kind in SHOT_KIND.items()}
    schema = storyboard_schema()
    shots = schema["properties"]["scenes"]["items"]["properties"]["shots"]["items"]["oneOf"]
    assert [next(iter(s["properties"])) for s in shots] == list(SHOT_KINDS)
    transition = schema["properties"]["scenes"]["items"]["properties"]["transition"]["anyOf"][0]
    assert transition["enum"] == list(TRANSITIONS)


@pytest.mark.parametrize("name", [n for n in TRANSITIONS if TRANSITION[n].overlaps])
def test_every_transition_resolves_and_is_drawn(project, name):
    board = board_with(project, name)
    timeline = resolve_timeline(board, fake_media_for(board))
    (transition,) = timeline.transitions
    assert (transition.kind, transition.duration) == (name, 15)
    assert timeline.duration == 60 + 60 + 90 + 60 - 15
    drawn = argv_of(timeline)
    assert len(drawn) == 3  # scene a, the transition, scene b
    if isinstance(TRANSITION[name], XFade):
        assert f"xfade=transition={TRANSITION[name].xfade}:" in drawn[1]


def test_a_cut_takes_no_time(project):
    board = board_with(project, "cut")
    timeline = resolve_timeline(board, fake_media_for(board))
    assert [(t.kind, t.duration) for t in timeline.transitions] == [("cut", 0)]
    assert timeline.duration == 60 + 60 + 90 + 60
    assert len(argv_of(timeline)) == 2  # a cut needs no segment of its own


@pytest.mark.parametrize("name", MOTIONS)
def test_every_motion_is_drawn_and_only_moving_ones_move(project, name):
    board = board_with(project, "cut", motion=name)
    timeline = resolve_timeline(board, fake_media_for(board))
    assert timeline.shots[1].motion == name
    assert ("perspective=" in argv_of(timeline)[0]) == MOTION[name].moves


def test_every_shot_kind_is_drawn(project):
    board = board_with(project, "cut")
    timeline = resolve_timeline(board, fake_media_for(board))
    assert [s.kind for s in timeline.shots] == ["clip", "still", "card", "chart"]
    assert set(s.kind for s in timeline.shots) == set(SHOT_KINDS)
    first, second = argv_of(timeline)
    assert f"-i {timeline.shots[0].source}" in first and "-i /s.png" in first
    assert second.count("-i /m.mp4") == 2  # card and chart: their painters' videos
