"""`render --scene` / `--from --to`: a part of the programme, the very frames of the full render."""

from __future__ import annotations

import json
from fractions import Fraction

import av
import numpy as np
import pytest
from click.testing import CliRunner

from conftest import copy_into
from kbvideo.cli import main
from kbvideo.render import partial
from kbvideo.render.segments import Piece, plan_segments
from kbvideo.timeline.model import SceneSpan, Timeline, Transition


def write_board(project, media, captions=True):
    copy_into(media.clip("p-a.mp4", seconds=1.2, tone=300), project / "assets", "a.mp4")
    copy_into(media.clip("p-b.mp4", seconds=1.2, source="smptebars", tone=500), project / "assets", "b.mp4")
    copy_into(media.clip("p-c.mp4", seconds=1.2, source="rgbtestsrc", tone=700), project / "assets", "c.mp4")
    board = project / "storyboards" / "desa.yaml"
    caption = "    captions:\n      - {text: \"Kader Dashat memasak\", at: 0.2, duration: 0.6}\n" if captions else ""
    board.write_text(
        "kampung: {name: Kampung KB Contoh, kelurahan: Jenggot, kota: Kota Pekalongan}\n"
        "output: {size: 160x90, fps: 30}\n"
        "defaults: {transition: {type: crossfade, duration: 0.2}}\n"
        "scenes:\n"
        "  - id: a\n    topic: opening\n    shots:\n      - clip: ../assets/a.mp4\n        duration: 1\n"
        "  - id: b\n    topic: dashat\n    shots:\n      - clip: ../assets/b.mp4\n        duration: 1\n" + caption +
        "  - id: c\n    topic: pemberdayaan\n    shots:\n      - clip: ../assets/c.mp4\n        duration: 1\n"
        "    transition: cut\n",
        encoding="utf-8")
    return board


def decoded(path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.mark.media
def test_one_scene_is_the_same_frames_as_the_full_render(media, project):
    board = write_board(project, media)
    runner = CliRunner()
    full = runner.invoke(main, ["render", str(board), "--draft", "--quiet"], catch_exceptions=False)
    assert full.exit_code in (0, 1), full.output
    one = runner.invoke(main, ["render", str(board), "--draft", "--quiet", "--scene", "b"], catch_exceptions=False)
    assert one.exit_code in (0, 1), one.output
    part_path = project / "out" / "desa.b.draft.mp4"
    assert part_path.exists(), one.output
    # scene b: [24, 54) — its crossfade in from a, its body, its crossfade out to c (a 78-frame programme)
    assert "0/3 segments encoded" in one.output  # every segment came from the full render's cache
    assert "programme 0:00.80–0:01.80 (frames 24–53), timecode 00:00:00:24" in one.output
    whole, part = decoded(project / "out" / "desa.draft.mp4"), decoded(part_path)
    assert len(whole) == 78 and len(part) == 30
    for index, frame in enumerate(part):
        assert np.array_equal(frame, whole[24 + index]), index
    with av.open(str(part_path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert abs(float(video.duration * video.time_base) - 1.0) < 1e-6
        assert abs(float(audio.duration * audio.time_base) - 1.0) < 0.03
        assert video.metadata.get("timecode") == "00:00:00:24"
    report = json.loads((project / "out" / "desa.b.draft.render.json").read_text())
    assert report["part"]["pieces"] == [{"start_frame": 24, "end_frame": 54, "at_frame": 0, "start": 0.8,
                                         "end": 1.8, "at": 0.0}]
    # the caption at 0.2 s into scene b (programme frame 30) is at frame 6 of the part's own file
    assert "00:00:00,200 --> 00:00:00,800" in (project / "out" / "desa.b.draft.srt").read_text()


@pytest.mark.media
def test_from_to_cuts_to_the_frame_and_keeps_transitions_whole(media, project):
    board = write_board(project, media, captions=False)
    runner = CliRunner()
    assert runner.invoke(main, ["render", str(board), "--draft", "--quiet"]).exit_code in (0, 1)
    result = runner.invoke(main, ["render", str(board), "--draft", "--quiet", "--from", "1.2", "--to", "1.7"],
                           catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    # frames 36..50 would end inside the b→c crossfade (48..53): the crossfade is drawn whole, so 36..53
    out = project / "out" / "desa.1.2s-1.8s.draft.mp4"
    assert out.exists(), result.output
    assert "1/2 segments encoded" in result.output  # the cut body of b is new; the crossfade is the cached one
    whole, part = decoded(project / "out" / "desa.draft.mp4"), decoded(out)
    assert len(part) == 18
    for index, frame in enumerate(part):  # re-encoded apart: the same picture, not the same bits
        difference = np.abs(frame.astype(int) - whole[36 + index].astype(int)).mean()
        assert difference < 6, (index, difference)
    assert np.array_equal(part[-1], whole[53])  # from the cached crossfade segment: bit for bit


def _timeline() -> Timeline:
    scenes = (SceneSpan("a", "other", (), 0, 30), SceneSpan("b", "other", (), 24, 30), SceneSpan("c", "other", (), 48, 30),
              SceneSpan("d", "other", (), 78, 30))
    transitions = (Transition("crossfade", "a", "b", 24, 6), Transition("crossfade", "b", "c", 48, 6),
                   Transition("cut", "c", "d", 78, 0))
    return Timeline(Fraction(30), 160, 90, 108, scenes, (), (), (), transitions)


def test_parts_of_a_timeline():
    timeline = _timeline()
    segments = plan_segments(timeline)
    part = partial.part_for_scenes(timeline, segments, ["a", "d"])
    assert [(p.start, p.end, p.at) for p in part.pieces] == [(0, 30, 0), (78, 108, 30)]
    assert [s.name for s in partial.select_segments(segments, part)] == ["01-a", "01-crossfade", "04-d"]
    merged = partial.part_for_scenes(timeline, segments, ["b", "c"])
    assert [(p.start, p.end) for p in merged.pieces] == [(24, 78)]
    assert partial.part_for_times(timeline, segments, Fraction(1), None).pieces[0].start == 30
    cut = partial.part_for_times(timeline, segments, Fraction(11, 10), Fraction(17, 10))  # frames 33..51
    assert [(p.start, p.end) for p in cut.pieces] == [(33, 54)]  # the crossfade 48..54 whole
    chosen = partial.select_segments(segments, cut)
    assert [(s.start, s.end) for s in chosen] == [(33, 48), (48, 54)]
    assert chosen[0].layers[0].pieces == (Piece(None, 3, 15),)  # b's body (30..48, a gap here) from 3 frames in
    with pytest.raises(Exception, match="no scene 'x'"):
        partial.part_for_scenes(timeline, segments, ["x"])


def test_smpte_timecode():
    assert partial.smpte_timecode(0, Fraction(30)) == "00:00:00:00"
    assert partial.smpte_timecode(2025, Fraction(30)) == "00:01:07:15"
    assert partial.smpte_timecode(1800, Fraction(30000, 1001)) == "00:01:00;02"  # frames 0, 1 of minute 1 dropped
    assert partial.smpte_timecode(17982, Fraction(30000, 1001)) == "00:10:00;00"


@pytest.mark.media
def test_a_draft_part_reencodes_its_sound_with_the_drafts_aac_coder(media, project, monkeypatch):
    """The part's stretch of the programme's sound is encoded again at the join: with the render's own
    AAC coder (the draft's `fast` one), not ffmpeg's slower default."""
    from kbvideo.render import ffmpeg as render_ffmpeg

    board = write_board(project, media)
    seen: list[list[str]] = []
    real_run = render_ffmpeg.run

    def spy(args, *a, **kw):
        seen.append(list(args))
        return real_run(args, *a, **kw)

    monkeypatch.setattr(render_ffmpeg, "run", spy)
    result = CliRunner().invoke(main, ["render", str(board), "--draft", "--quiet", "--scene", "b"], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    joins = [args for args in seen if "concat" in args]
    assert len(joins) == 1
    join = joins[0]
    assert join[join.index("-c:a") + 1] == "aac" and join[join.index("-aac_coder") + 1] == "fast"
    with av.open(str(project / "out" / "desa.b.draft.mp4")) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac" and float(audio.duration * audio.time_base) == pytest.approx(1.0, abs=0.03)
