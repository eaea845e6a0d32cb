"""Long scene bodies split into chunks of whole GOPs (kbvideo.render.segments): the plan, and renders
whose frames, timing, keyframes and pixels match the unsplit body's."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from kbvideo.render import partial, render_timeline, segments
from kbvideo.render.ffmpeg import draft_encoder, final_encoder
from kbvideo.render.segments import chunk_bounds, plan_segments
from kbvideo.rules.profile import load_profile
from kbvideo.timeline.model import AudioItem, SceneSpan, Shot, TextItem, Timeline, Transition

PROFILE = load_profile()  # programme fades on: chunk edges must stay out of them


def timeline_of(a_frames: int, b_frames: int, xf: int, *, source_a: str = "a.mp4", source_b: str = "b.png",
                texts=(), fps=Fraction(30), size=(160, 90)) -> Timeline:
    """Scene a: one clip; a crossfade of `xf` frames; scene b: one Ken Burns still."""
    shots = (Shot("clip", "a", 0, a_frames, source_a),
             Shot("still", "b", a_frames - xf, b_frames, source_b, motion="zoom_in", fit="cover"))
    total = a_frames + b_frames - xf
    scenes = (SceneSpan("a", "other", (), 0, a_frames), SceneSpan("b", "other", (), a_frames - xf, b_frames))
    audio = (AudioItem("clip", source_a, 0, a_frames, 0, scene="a"),)
    return Timeline(fps, size[0], size[1], total, scenes, shots, tuple(texts), audio,
                    (Transition("crossfade", "a", "b", a_frames - xf, xf),))


# ---------------------------------------------------------------- the plan (pure)
def test_long_bodies_split_on_whole_gops_and_tile_the_programme():
    t = timeline_of(270, 240, 15)
    plain = plan_segments(t)
    assert [s.name for s in plain] == ["01-a", "01-crossfade", "02-b"]
    chunked = plan_segments(t, 15, fades=(15, 30))
    assert [(s.name, s.start, s.end) for s in chunked] == [
        ("01-a.1", 0, 120), ("01-a.2", 120, 255), ("01-crossfade", 255, 270), ("02-b.1", 270, 375), ("02-b.2", 375, 495)]
    cursor = 0
    for segment in chunked:
        assert segment.start == cursor
        cursor = segment.end
    assert cursor == t.duration
    bodies = {s.name: s for s in plain}
    for chunk in chunked:
        if chunk.transition is not None:
            assert chunk == bodies[chunk.name]  # transitions stay whole, as they were
            continue
        body = bodies[chunk.name.split(".")[0]]
        assert (chunk.start - body.start) % 15 == 0  # every edge on a whole GOP from the body's start
        assert chunk.frames >= round(segments.CHUNK_MIN_SECONDS * 30)
        (layer,) = chunk.layers
        assert sum(p.count for p in layer.pieces) == chunk.frames
        assert layer.pieces[0].offset == chunk.start - layer.pieces[0].shot.start  # the same shot, further on
    # the draft's GOP is 30: its own cuts, still on whole GOPs
    draft = plan_segments(t, draft_encoder(Fraction(30)).gop)
    assert [(s.start, s.end) for s in draft if s.transition is None] == [(0, 120), (120, 255), (270, 360), (360, 495)]
    assert final_encoder(Fraction(30)).gop == 15


def test_short_bodies_stay_whole_and_no_cut_falls_in_a_fade():
    assert chunk_bounds(0, 179, 15, 150, 90) == [0, 179]  # under two minimum chunks
    assert chunk_bounds(0, 180, 15, 150, 90) == [0, 90, 180]
    assert chunk_bounds(0, 405, 15, 150, 90) == [0, 135, 270, 405]  # the reference job's 13.5-s body
    assert chunk_bounds(10, 910, 15, 150, 90) == [10, 160, 310, 460, 610, 760, 910]
    assert chunk_bounds(0, 300, 15, 150, 90, keep_out=((0, 15), (200, 300))) == [0, 150, 300]
    assert chunk_bounds(0, 300, 15, 150, 90, keep_out=((0, 15), (140, 300))) == [0, 300]


def test_a_part_is_the_same_with_or_without_chunks():
    t = timeline_of(270, 240, 15)
    whole, chunked = plan_segments(t), plan_segments(t, 15)
    for scenes in (["a"], ["b"]):
        assert partial.part_for_scenes(t, whole, scenes) == partial.part_for_scenes(t, chunked, scenes)
    cut = partial.part_for_times(t, whole, Fraction(2), Fraction(12))
    assert cut == partial.part_for_times(t, chunked, Fraction(2), Fraction(12))
    names = [s.name for s in partial.select_segments(chunked, cut)]
    assert names == ["01-a.1-60-120", "01-a.2", "01-crossfade", "02-b.1-270-360"]


# ---------------------------------------------------------------- renders
def keyframes(path) -> list[int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = sorted((p for p in container.demux(stream) if p.pts is not None and p.size), key=lambda p: p.pts)
    return [i for i, p in enumerate(packets) if p.is_keyframe]


def decoded(path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24").astype(np.float64) for f in container.decode(video=0)]


def lengths(path) -> tuple[float, float]:
    with av.open(str(path)) as container:
        v, a = container.streams.video[0], container.streams.audio[0]
        return float(v.duration * v.time_base), float(a.duration * a.time_base)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a - b) ** 2).mean())
    return 99.0 if mse == 0 else 10 * np.log10(255 ** 2 / mse)


@pytest.fixture(scope="module")
def renders(media, tmp_path_factory):
    """The same 16.5-s programme rendered with its bodies in chunks and, for comparison, whole."""
    tmp = tmp_path_factory.mktemp("chunks")
    clip = media.clip("chunk-clip.mp4", size="320x180", seconds=9.2)
    grid_path = tmp / "grid.png"
    pic = Image.new("RGB", (320, 180), (30, 30, 30))
    for x in range(0, 320, 40):
        pic.paste((250, 250, 250), (x, 0, x + 20, 180))
    pic.save(grid_path)
    texts = (TextItem("title", "a", 10, 80, "Judul"),  # in the first chunk only
             # fades in over frames 80–140, across the cut at 120
             TextItem("caption", "a", 80, 170, "Kader memasak bersama", motion=("fade", 60)),
             # slides in over frames 330–380, across the cut at 375
             TextItem("lower_third", "b", 330, 150, "Ibu Sari", subtext="Kader", motion=("slide", 50)))
    t = timeline_of(270, 240, 15, source_a=str(clip), source_b=str(grid_path), texts=texts, size=(320, 180))
    chunked = render_timeline(t, tmp / "chunked.mp4", profile=PROFILE, cache_dir=tmp / "cache", check=False)
    mp = pytest.MonkeyPatch()
    mp.setattr(segments, "CHUNK_MIN_SECONDS", 1000.0)  # no body long enough to split
    try:
        whole = render_timeline(t, tmp / "whole.mp4", profile=PROFILE, cache_dir=tmp / "cache-whole", check=False)
    finally:
        mp.undo()
    return t, chunked, whole, tmp


@pytest.mark.media
def test_chunked_render_has_the_planned_frames_sound_and_keyframes(renders):
    t, chunked, whole, _tmp = renders
    assert [s["name"] for s in chunked.segments] == ["01-a.1", "01-a.2", "01-crossfade", "02-b.1", "02-b.2"]
    assert [s["name"] for s in whole.segments] == ["01-a", "01-crossfade", "02-b"]
    assert chunked.frames == whole.frames == t.duration == 495
    video, audio = lengths(chunked.path)
    assert video == pytest.approx(16.5, abs=1e-6) and audio == pytest.approx(video, abs=0.03)
    keys = keyframes(chunked.path)
    assert keys == keyframes(whole.path)
    assert set(np.diff(keys)) == {15} and keys[0] == 0  # every segment here is whole GOPs long


@pytest.mark.media
def test_chunk_edges_show_the_same_pictures_as_the_whole_body(renders):
    _t, chunked, whole, _tmp = renders
    a, b = decoded(chunked.path), decoded(whole.path)
    assert len(a) == len(b) == 495
    # x264 restarts its rate control at each chunk, so the bits differ, the pictures hardly
    quality = [psnr(x, y) for x, y in zip(a, b)]
    assert min(quality) > 30 and np.mean(quality) > 40, (int(np.argmin(quality)), min(quality))
    # the caption fades in across the cut and the lower third slides in across it: no jump at the edge
    for cut in (120, 375):
        step_chunked = np.abs(a[cut] - a[cut - 1]).mean()
        step_whole = np.abs(b[cut] - b[cut - 1]).mean()
        assert abs(step_chunked - step_whole) < 1.0, cut


@pytest.mark.media
def test_one_scene_comes_from_the_chunks_in_the_cache(renders):
    t, chunked, _whole, tmp = renders
    segs = plan_segments(t)
    part = partial.part_for_scenes(t, segs, ["b"])
    one = render_timeline(t, tmp / "one.mp4", profile=PROFILE, cache_dir=tmp / "cache", check=False, part=part)
    assert one.segments_encoded == 0
    assert [s["name"] for s in one.segments] == ["01-crossfade", "02-b.1", "02-b.2"]
    full = decoded(chunked.path)
    frames = decoded(one.path)
    assert len(frames) == 240
    for index, frame in enumerate(frames):
        assert np.array_equal(frame, full[255 + index]), index


@pytest.mark.media
def test_a_caption_edit_encodes_only_the_chunks_it_touches(renders):
    t, _chunked, _whole, tmp = renders
    texts = list(t.texts)
    texts[0] = dataclasses.replace(texts[0], text="Judul baru")
    edited = render_timeline(dataclasses.replace(t, texts=tuple(texts)), tmp / "edited.mp4", profile=PROFILE,
                             cache_dir=tmp / "cache", check=False)
    assert [s["name"] for s in edited.segments if not s["cached"]] == ["01-a.1"]
    texts[2] = dataclasses.replace(texts[2], text="Ibu Sri")
    edited = render_timeline(dataclasses.replace(t, texts=tuple(texts)), tmp / "edited2.mp4", profile=PROFILE,
                             cache_dir=tmp / "cache", check=False)
    assert [s["name"] for s in edited.segments if not s["cached"]] == ["02-b.1", "02-b.2"]
    assert edited.frames == 495
