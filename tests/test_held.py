"""Held pictures (kbvideo.render.segments, "held stretch"): where every frame of a body is the same picture
(a card or chart once settled, a photo that does not move, no text on it, outside the programme's fades),
one GOP is encoded and the join lists it `repeat` times. The plan keeps the unsplit body's keyframes;
the render has the planned frames, keyframes every GOP, the same picture as a render that encodes
every frame, and identical frames a GOP apart in the held stretch."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from kbvideo.render import engine, partial, render_timeline, segments
from kbvideo.render.ffmpeg import keyframe_expr
from kbvideo.render.segments import handoffs, plan_segments, split_held
from kbvideo.rules.profile import load_profile
from kbvideo.timeline.model import SceneSpan, Shot, TextItem, Timeline, Transition

PROFILE = load_profile()  # programme fades on: a held stretch stays out of them
GOP = 15


def card_and_photo(photo: str = "p.png", *, card_frames: int = 210, photo_frames: int = 180, xf: int = 15,
                   caption: tuple[int, int] | None = (0, 60), size=(160, 90)) -> Timeline:
    """A title card, a crossfade, a photo that does not move with a caption on its first frames."""
    fps = Fraction(30)
    card = Shot("card", "a", 0, card_frames, title="Kampung KB Jenggot", subtitle="Profil")
    photo_shot = Shot("still", "b", card_frames - xf, photo_frames, photo, motion="none", fit="cover")
    scenes = (SceneSpan("a", "other", (), 0, card_frames), SceneSpan("b", "other", (), card_frames - xf, photo_frames))
    texts = ()
    if caption:
        texts = (TextItem("caption", "b", card_frames - xf + caption[0], caption[1] - caption[0], "Dapur Sehat"),)
    return Timeline(fps, size[0], size[1], card_frames + photo_frames - xf, scenes, (card, photo_shot), texts, (),
                    (Transition("crossfade", "a", "b", card_frames - xf, xf),))


def settled(shot) -> int | None:
    return {"card": 30, "still": 0}.get(shot.kind)


def keyframes(plan: list[segments.Segment]) -> list[int]:
    """Programme frames that are keyframes once the planned segments are joined: each encoded file's
    keyframes (kbvideo.render.ffmpeg.keyframe_expr, evaluated), repeated as the join repeats it."""
    out = []
    for segment in plan:
        expr = keyframe_expr(GOP, segment.encoded).removeprefix("expr:")
        env = {"mod": lambda a, b: a % b, "lt": lambda a, b: a < b, "not_": lambda a: not a}
        own = [n for n in range(segment.encoded) if eval(expr.replace("not(", "not_("), env, {"n": n})]  # noqa: S307
        for k in range(segment.repeat):
            out += [segment.start + k * segment.encoded + n for n in own]
    return out


# ---------------------------------------------------------------- the plan (pure)
def test_a_held_stretch_is_one_gop_repeated_and_keeps_the_bodys_keyframes():
    t = card_and_photo()
    fades = (15, 30)
    plain = plan_segments(t, GOP, fades=fades)
    held = plan_segments(t, GOP, fades=fades, settled=settled)
    assert [(s.start, s.end) for s in plain] == [(0, 195), (195, 210), (210, 375)]
    assert [(s.name, s.start, s.end, s.repeat) for s in held] == [
        ("01-a.1", 0, 30, 1),  # fading up and drawing the card
        ("01-a.2", 30, 195, 11),  # settled: one GOP, joined 11 times
        ("01-crossfade", 195, 210, 1),
        ("02-b.1", 210, 255, 1),  # under the caption (it ends 60 frames into the scene) ...
        ("02-b.2", 255, 345, 6),  # ... then held, up to the programme's fade out
        ("02-b.3", 345, 375, 1)]
    assert keyframes(held) == keyframes(plain)
    for segment in held:
        if segment.repeat > 1:
            assert segment.encoded == GOP and (segment.start - held[0].start) % GOP == 0
            assert segment.unit().frames == GOP and not segment.unit().layers[0].texts
    # the held body does not hand frames to the crossfade (its file holds one GOP): the crossfade reads the card
    assert [h.producer for h in handoffs(plain, lambda shot: True)] == ["01-a", "02-b"]
    assert [h.producer for h in handoffs(held, lambda shot: True)] == ["02-b.1"]


@pytest.mark.parametrize("frames", range(40, 140, 7))
@pytest.mark.parametrize("settle", [0, 5, 15, 29])
def test_the_keyframes_stay_those_of_the_unsplit_body(frames, settle):
    t = card_and_photo(card_frames=frames + 15, caption=None)
    plain = plan_segments(t, GOP)
    held = plan_segments(t, GOP, settled=lambda shot: settle if shot.kind == "card" else 0)
    assert keyframes(held) == keyframes(plain)
    assert [s.end for s in held][-1] == t.duration
    for a, b in zip(held, held[1:]):
        assert a.end == b.start
    for segment in held:  # no GOP shorter than half a GOP anywhere
        assert segment.encoded >= max(2, GOP // 2) or segment.transition is not None or segment.frames == t.duration


def test_short_or_covered_stretches_are_encoded_frame_by_frame():
    assert split_held(0, 100, (0, 100), GOP, 60) == (0, 90)
    assert split_held(0, 100, (5, 100), GOP, 60) == (15, 90)
    assert split_held(0, 94, (0, 94), GOP, 60) == (0, 75)  # 4 frames after 90 would be a GOP of their own
    assert split_held(0, 100, (5, 64), GOP, 60) is None  # under HELD_MIN_SECONDS once on whole GOPs
    assert split_held(0, 100, None, GOP, 60) is None
    assert all(s.repeat == 1 for s in plan_segments(card_and_photo(), GOP))  # nothing said settled: as before


def test_a_text_standing_still_is_part_of_the_held_picture_its_comings_and_goings_are_not():
    t = card_and_photo(caption=(0, 165))  # a caption on the whole photo (195-360), fading in and out over 6 frames
    photo = [(s.start, s.end, s.repeat) for s in plan_segments(t, GOP, settled=settled) if s.layers[0].scene == "b"]
    assert photo == [(210, 345, 9), (345, 375, 1)]  # held up to its fade out, on whole GOPs
    (held,) = [s for s in plan_segments(t, GOP, settled=settled) if s.repeat > 1 and s.layers[0].scene == "b"]
    assert [x.text for x in held.unit().layers[0].texts] == ["Dapur Sehat"]  # burned into the one GOP
    # a caption that pops on (no motion) at 255 changes the picture there: no held segment straddles it
    pop = dataclasses.replace(t, texts=(dataclasses.replace(t.texts[0], start=255, duration=105, motion=("none", 0)),))
    for segment in plan_segments(pop, GOP, settled=settled):
        assert not (segment.repeat > 1 and segment.start < 255 < segment.end), segment


def test_a_part_cutting_a_held_segment_draws_its_frames():
    t = card_and_photo()
    held = plan_segments(t, GOP, settled=settled)
    part = partial.part_for_times(t, held, Fraction(2), Fraction(5))
    picked = partial.select_segments(held, part)
    assert [(s.start, s.end, s.repeat) for s in picked] == [(60, 150, 1)]
    assert picked[0].layers[0].pieces[0].offset == 60


# ---------------------------------------------------------------- renders
def frames_of(path) -> tuple[list[np.ndarray], list[int]]:
    with av.open(str(path)) as container:
        decoded = list(container.decode(video=0))
    return [f.to_ndarray(format="rgb24").astype(int) for f in decoded], [n for n, f in enumerate(decoded) if f.key_frame]


@pytest.mark.media
def test_a_held_render_shows_the_same_picture_with_a_gop_encoded_once(tmp_path, monkeypatch):
    photo = tmp_path / "p.png"
    pixels = np.zeros((180, 320, 3), np.uint8)
    pixels[:, :, 0] = np.linspace(0, 255, 320, dtype=np.uint8)
    pixels[60:120, 100:220] = (20, 160, 90)
    Image.fromarray(pixels).save(photo)
    t = card_and_photo(str(photo))
    result = render_timeline(t, tmp_path / "held.mp4", profile=PROFILE, cache_dir=tmp_path / "c1", check=False)
    rows = {r["name"]: r for r in result.segments}
    assert {n: r.get("repeat") for n, r in rows.items() if r.get("repeat")} == {"01-a.2": 11, "02-b.2": 6}
    assert sum(r["frames"] for r in result.segments) == t.duration == result.frames
    for name in ("01-a.2", "02-b.2"):  # the cached file holds one GOP
        (cached,) = (tmp_path / "c1" / "segments").glob(f"{rows[name]['key']}*.mp4")
        with av.open(str(cached)) as container:
            assert sum(1 for _ in container.demux(video=0) if _.size) == GOP
    held, keys = frames_of(result.path)
    assert len(held) == t.duration
    assert keys == list(range(0, t.duration, GOP))  # a keyframe every GOP, as the unsplit bodies have
    for a in range(30, 195 - GOP):  # the held card: the same picture a GOP apart, to the bit
        assert np.array_equal(held[a], held[a + GOP]), a

    monkeypatch.setattr(engine._Render, "settled_from", lambda self, shot: None)
    plain = render_timeline(t, tmp_path / "plain.mp4", profile=PROFILE, cache_dir=tmp_path / "c2", check=False)
    assert not [r for r in plain.segments if r.get("repeat")]
    every, plain_keys = frames_of(plain.path)
    assert plain_keys == keys
    for n, (x, y) in enumerate(zip(held, every)):  # x264's own frames: close, not the same bits
        assert np.abs(x - y).mean() < 2.5, n
    photo_frame = held[300]
    assert abs(photo_frame[45, 80] - (20, 160, 90)).max() < 12  # the photo, not the card
