"""Timeline resolution, a pure function tested with fake probe results (no media files opened)."""

from __future__ import annotations

import textwrap
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes import fake_media_for, image_info, video_info
from kbvideo.errors import Loc, SpecError
from kbvideo.storyboard.model import Kampung, Output, Scene, ShotSpec, Storyboard, TimedText, TransitionSpec
from kbvideo.storyboard.load import load_yaml
from kbvideo.storyboard.validate import parse_storyboard
from kbvideo.timecode import Time
from kbvideo.timeline.io import dumps, from_dict, loads, to_dict
from kbvideo.timeline.resolve import CAPTION_GAP_FRAMES, resolve_timeline

LOC = Loc("sb.yaml", 1, 1)


def board_from(project: Path, body: str, fps: str = "30") -> Storyboard:
    for name in ("a.mp4", "b.jpg", "n.m4a", "m.mp3"):
        (project / "assets" / name).write_bytes(b"x")
    path = project / "storyboards" / "sb.yaml"
    path.write_text(f"kampung: {{name: Contoh}}\noutput: {{fps: \"{fps}\"}}\n" + textwrap.dedent(body), encoding="utf-8")
    return parse_storyboard(load_yaml(path), path, project)


def resolve_problems(board, media):
    with pytest.raises(SpecError) as info:
        resolve_timeline(board, media)
    return info.value.problems


def test_lengths_and_overlaps(project):
    board = board_from(project, """\
    scenes:
      - id: a
        topic: opening
        shots:
          - clip: ../assets/a.mp4
            in: 1
            out: 5
          - still: ../assets/b.jpg
            duration: 2
        transition: {type: crossfade, duration: 0.5}
      - id: b
        topic: dashat
        shots: [{card: Halo, duration: 3}]
        transition: {type: fade_black, duration: "10f"}
      - id: c
        topic: closing
        shots: [{clip: ../assets/a.mp4, in: 2, duration: 1}]
    """)
    timeline = resolve_timeline(board, fake_media_for(board, {"a.mp4": 10}))
    assert [(s.id, s.start, s.duration) for s in timeline.scenes] == [("a", 0, 180), ("b", 165, 90), ("c", 245, 30)]
    assert timeline.duration == 180 + 90 + 30 - 15 - 10 == 275
    assert [(t.kind, t.start, t.duration) for t in timeline.transitions] == [("crossfade", 165, 15), ("fade_black", 245, 10)]
    assert [(s.kind, s.start, s.duration, s.source_in) for s in timeline.shots] == [
        ("clip", 0, 120, 30), ("still", 120, 60, 0), ("card", 165, 90, 0), ("clip", 245, 30, 60)]
    assert [a.kind for a in timeline.audio] == ["clip", "clip"]


def test_clip_to_its_end_and_at_2997(project):
    board = board_from(project, """\
    scenes:
      - id: a
        topic: other
        shots: [{clip: ../assets/a.mp4, in: 1.5}]
    """, fps="30000/1001")
    timeline = resolve_timeline(board, fake_media_for(board, {"a.mp4": 10}))
    # 10 s at 29.97 = 299.7 → 299 whole frames; in 1.5 s = 44.955 → 45
    assert (timeline.shots[0].source_in, timeline.duration) == (45, 299 - 45)


def test_out_point_past_end_points_at_out_line(project):
    board = board_from(project, """\
    scenes:
      - id: a
        topic: other
        shots:
          - clip: ../assets/a.mp4
            in: 2
            out: 12.5
    """)
    (problem,) = resolve_problems(board, fake_media_for(board, {"a.mp4": 10}))
    assert (problem.line, problem.col) == (9, 14)
    assert problem.message == "scene 'a': out point 0:12.5 is past the end of a.mp4 (0:10.0)"


def test_duration_past_end_and_in_past_end(project):
    board = board_from(project, """\
    scenes:
      - id: a
        topic: other
        shots:
          - clip: ../assets/a.mp4
            in: 8
            duration: 3
          - clip: ../assets/a.mp4
            in: 11
    """)
    found = resolve_problems(board, fake_media_for(board, {"a.mp4": 10}))
    assert [p.line for p in found] == [7, 10]
    assert "runs past the end" in found[0].message and "at most 0:02.0" in found[0].hint
    assert "at or past the end" in found[1].message


def test_transition_that_does_not_fit_is_an_error(project):
    board = board_from(project, """\
    scenes:
      - id: a
        topic: other
        shots: [{card: x, duration: 2}]
        transition: {type: crossfade, duration: 1.5}
      - id: b
        topic: other
        shots: [{card: y, duration: 1}]
    """)
    (problem,) = resolve_problems(board, {})
    assert problem.line == 7 and "does not fit" in problem.message and "scene 'b'" in problem.message


def test_picture_given_as_clip(project):
    board = board_from(project, """\
    scenes:
      - id: a
        topic: other
        shots: [{clip: ../assets/b.jpg}]
    """)
    (problem,) = resolve_problems(board, {str((project / "assets/b.jpg").resolve()): image_info("x")})
    assert "is a picture, not a video clip" in problem.message and "still:" in problem.hint


def test_narration_too_long(project):
    board = board_from(project, """\
    scenes:
      - id: a
        topic: other
        shots: [{card: x, duration: 5}]
        narration: {file: ../assets/n.m4a, at: 1}
    """)
    (problem,) = resolve_problems(board, fake_media_for(board, {"n.m4a": 4.5}))
    assert "runs 0:00.5 past the end of the scene (0:05.0)" in problem.message


def test_captions_spread_evenly_with_gaps(project):
    board = board_from(project, """\
    scenes:
      - id: a
        topic: other
        shots: [{card: x, duration: 10}]
        transition: {type: crossfade, duration: 1}
        captions: ["satu", "dua", "tiga"]
      - id: b
        topic: other
        shots: [{card: y, duration: 4}]
        captions: ["empat"]
    """)
    timeline = resolve_timeline(board, {})
    caps = [(t.text, t.start, t.duration) for t in timeline.texts if t.kind == "caption"]
    # scene a: 300 frames minus the 30-frame outgoing overlap, split in 3, each 2 frames short
    assert caps == [("satu", 0, 88), ("dua", 90, 88), ("tiga", 180, 88), ("empat", 300, 90 - CAPTION_GAP_FRAMES)]


def test_music_loops_to_cover_the_video(project):
    board = board_from(project, """\
    music: {file: ../assets/m.mp3, volume: 0.3}
    scenes:
      - id: a
        topic: other
        shots: [{card: x, duration: 25}]
    """)
    timeline = resolve_timeline(board, fake_media_for(board, {"m.mp3": 10}))
    assert [(a.start, a.duration, a.volume, a.duck) for a in timeline.audio] == [
        (0, 300, 0.3, True), (300, 300, 0.3, True), (600, 150, 0.3, True)]


def test_clip_without_audio_has_no_audio_item(project):
    board = board_from(project, """\
    scenes:
      - id: a
        topic: other
        shots: [{clip: ../assets/a.mp4}]
    """)
    media = {str((project / "assets/a.mp4").resolve()): video_info("x", 3, audio=False)}
    assert resolve_timeline(board, media).audio == ()


def test_json_round_trip(project):
    board = board_from(project, """\
    scenes:
      - id: a
        topic: dashat
        functions: [ekonomi]
        title: Judul
        shots:
          - clip: ../assets/a.mp4
          - chart: {title: Grafik, unit: kg, data: {Sayur: 12.5, Lele: 8}}
            duration: 3
        transition: fade_black
        lower_thirds: [{name: Nama, role: Peran}]
      - id: b
        topic: closing
        shots: [{still: ../assets/b.jpg, duration: 2, motion: zoom_in}]
    """)
    timeline = resolve_timeline(board, fake_media_for(board, {"a.mp4": 6}))
    assert loads(dumps(timeline)) == timeline
    data = to_dict(timeline)
    assert data["duration"] == pytest.approx((180 + 90 + 60 - 15) / 30)
    assert from_dict(data).shots[1].chart.values == (12.5, 8.0)
    # places travel as Loc objects (with the source line for the caret) and are written as "path:line:col"
    title = next(t for t in timeline.texts if t.kind == "title")
    assert isinstance(title.where, Loc) and title.where.source_line.strip() == "title: Judul"
    written = next(t for t in data["texts"] if t["kind"] == "title")
    assert written["where"] == str(title.where) == f"{title.where.path}:{title.where.line}:{title.where.col}"
    assert next(t for t in from_dict(data).texts if t.kind == "title").where == title.where
    assert Loc.parse("C:/kb/sb.yaml:3:5") == Loc("C:/kb/sb.yaml", 3, 5) and Loc.parse("<timeline>") == Loc("<timeline>", 0, 0)


# ---- properties -------------------------------------------------------------------------------

scene_strategy = st.lists(
    st.tuples(
        st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=4),  # shot lengths in frames
        st.sampled_from(["cut", "crossfade", "fade_black"]),
        st.integers(min_value=1, max_value=60),  # transition frames
    ),
    min_size=1, max_size=8,
)


def synthetic_board(spec, fps) -> Storyboard:
    scenes = []
    for index, (shots, kind, frames) in enumerate(spec):
        shot_specs = tuple(ShotSpec("card", LOC, duration=Time(frames=n), title="x") for n in shots)
        transition = TransitionSpec(kind, Time(frames=frames if kind != "cut" else 0), LOC)
        scenes.append(Scene(f"s{index}", "other", LOC, shots=shot_specs, transition=transition,
                            captions=(TimedText("kata", LOC),)))
    return Storyboard(Path("sb.yaml"), Path("."), Kampung("K"), Output(fps=fps), tuple(scenes))


@settings(derandomize=True, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(scene_strategy, st.sampled_from([Fraction(25), Fraction(30), Fraction(30000, 1001)]))
def test_lengths_add_up_and_resolution_is_deterministic(spec, fps):
    board = synthetic_board(spec, fps)
    try:
        timeline = resolve_timeline(board, {})
    except SpecError as exc:
        # only a transition that does not fit may be refused, and it must say so
        assert all("does not fit" in p.message or "captions do not fit" in p.message for p in exc.problems)
        return
    assert resolve_timeline(board, {}) == timeline
    lengths = [sum(shots) for shots, _, _ in spec]
    overlaps = [t.duration for t in timeline.transitions]
    assert timeline.duration == sum(lengths) - sum(overlaps)
    # every frame is covered by a shot, and shots of one scene are contiguous
    covered = set()
    for shot in timeline.shots:
        covered.update(range(shot.start, shot.end))
    assert covered == set(range(timeline.duration))
    for scene in timeline.scenes:
        shots = timeline.shots_in(scene.id)
        assert shots[0].start == scene.start and shots[-1].end == scene.end
        assert all(a.end == b.start for a, b in zip(shots, shots[1:]))
    # a transition sits exactly where its two scenes overlap
    for transition, before, after in zip(timeline.transitions, timeline.scenes, timeline.scenes[1:]):
        assert transition.start == after.start and transition.start + transition.duration == before.end


def test_poster_time_and_new_transitions_reach_the_timeline(project):
    board = board_from(project, """\
    poster: {at: "0:01.5"}
    scenes:
      - id: a
        topic: opening
        shots: [{card: Halo, duration: 2}]
        transition: {type: circle_open, duration: "9f"}
      - id: b
        topic: closing
        shots: [{card: Selesai, duration: 2}]
    """)
    timeline = resolve_timeline(board, fake_media_for(board, {}))
    assert timeline.meta["poster_at"] == 45
    assert [(t.kind, t.duration) for t in timeline.transitions] == [("circle_open", 9)]
