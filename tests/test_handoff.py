"""Frames handed from a scene body to the transition next to it (kbvideo.render.segments.Handoff): the body
draws its edge clip piece longer and writes the transition's frames as an extra output, so the transition
does not seek in the clip and decode its preroll again. The picture must be exactly what the transition
draws from the clip itself: every frame of the programme is compared with a render that hands nothing."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import av
import numpy as np
import pytest

from conftest import run_ffmpeg
from kbvideo.render import encode, render_timeline
from kbvideo.rules.profile import load_profile
from kbvideo.timeline.model import AudioItem, SceneSpan, Shot, TextItem, Timeline, Transition

PROFILE = dataclasses.replace(load_profile(), master_fade_in=0.0, master_fade_out=0.0)


def moving_clip(tmp_path, name: str, pattern: str) -> str:
    """3 s at 30 fps, keyframes every 2 s (a transition seeks between them)."""
    out = tmp_path / name
    run_ffmpeg("-f", "lavfi", "-i", f"{pattern}=s=160x90:r=30:d=3", "-f", "lavfi", "-i", "sine=f=440:d=3",
               "-c:v", "libx264", "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out))
    return str(out)


def three_scenes(a: str, b: str) -> Timeline:
    """a (clip a from 0.5 s) → crossfade → b (clip b, one body piece: hands frames both ways) → fade through
    black → c (clip a again from 1.5 s); a caption on every scene, running through the transitions."""
    fps, x = Fraction(30), 8
    shots = (Shot("clip", "a", 0, 30, a, source_in=15), Shot("clip", "b", 30 - x, 30, b, source_in=10),
             Shot("clip", "c", 60 - 2 * x, 30, a, source_in=45))
    scenes = tuple(SceneSpan(s.scene, "other", (), s.start, s.duration) for s in shots)
    texts = tuple(TextItem("caption", s.scene, s.start, s.duration, f"adegan {s.scene}") for s in shots)
    transitions = (Transition("crossfade", "a", "b", 30 - x, x), Transition("fade_black", "b", "c", 60 - 2 * x, x))
    audio = tuple(AudioItem("clip", s.source, s.start, s.duration, s.source_in, scene=s.scene) for s in shots)
    return Timeline(fps, 160, 90, 90 - 2 * x, scenes, shots, texts, audio, transitions)


def frames(path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="yuv420p") for f in container.decode(video=0)]


def assert_same_without_handoffs(t: Timeline, handed, tmp_path, monkeypatch, **kw) -> None:
    """Render `t` again with nothing handed over; every frame must equal the `handed` render's."""
    monkeypatch.setattr(encode, "handoffs", lambda segments, is_clip: [])
    plain = render_timeline(t, tmp_path / "plain.mp4", profile=PROFILE, cache_dir=tmp_path / "c2", check=False, **kw)
    assert all("handoff" not in r for r in plain.segments)
    ours, theirs = frames(handed.path), frames(plain.path)
    assert len(ours) == len(theirs) == t.duration
    for n, (x, y) in enumerate(zip(ours, theirs)):
        assert np.array_equal(x, y), f"frame {n} differs"


@pytest.mark.media
@pytest.mark.parametrize("draft", [False, True])
def test_handed_frames_are_the_frames_the_transition_draws(tmp_path, monkeypatch, draft):
    a, b = moving_clip(tmp_path, "a.mp4", "testsrc2"), moving_clip(tmp_path, "b.mp4", "smptehdbars")
    t = three_scenes(a, b)
    handed = render_timeline(t, tmp_path / "handed.mp4", profile=PROFILE, cache_dir=tmp_path / "c1", check=False,
                             draft=draft)
    rows = {r["name"]: r for r in handed.segments}
    assert rows["01-crossfade"]["handoff"] == {"gave": [], "took": [0, 1]}
    assert rows["02-fade_black"]["handoff"] == {"gave": [], "took": [0, 1]}
    assert rows["02-b"]["handoff"] == {"gave": [0, 1], "took": []}  # head to the crossfade, tail to the fade
    assert not [p for p in tmp_path.rglob("*.nut")]  # read and removed with the temp folder

    assert_same_without_handoffs(t, handed, tmp_path, monkeypatch, draft=draft)


@pytest.mark.media
def test_a_transition_whose_bodies_are_cached_reads_its_clips(tmp_path):
    a, b = moving_clip(tmp_path, "a.mp4", "testsrc2"), moving_clip(tmp_path, "b.mp4", "smptehdbars")
    t = three_scenes(a, b)
    cache = tmp_path / "cache"
    first = render_timeline(t, tmp_path / "one.mp4", profile=PROFILE, cache_dir=cache, check=False)
    crossfade = next(p for p in (cache / "segments").glob("*.mp4") if any(
        r["name"] == "01-crossfade" and r["key"] in p.name for r in first.segments))
    crossfade.unlink()  # only the transition is rendered again: its bodies are cached, nothing is handed over
    again = render_timeline(t, tmp_path / "two.mp4", profile=PROFILE, cache_dir=cache, check=False)
    (row,) = [r for r in again.segments if not r["cached"]]
    assert row["name"] == "01-crossfade" and "handoff" not in row
    assert all(np.array_equal(x, y) for x, y in zip(frames(first.path), frames(again.path)))


@pytest.mark.media
def test_a_title_card_hands_its_tail_to_the_crossfade(tmp_path, monkeypatch):
    """A drawn card is read from its cached file like a clip: the card's body draws the crossfade's
    frames of it too (no seek into the card file from the crossfade), with the same pixels."""
    b = moving_clip(tmp_path, "b.mp4", "smptehdbars")
    fps, x = Fraction(30), 8
    shots = (Shot("card", "a", 0, 30, title="Kampung KB Jenggot", subtitle="Profil"),
             Shot("clip", "b", 30 - x, 30, b, source_in=10))
    scenes = tuple(SceneSpan(s.scene, "other", (), s.start, s.duration) for s in shots)
    texts = (TextItem("caption", "b", 30 - x, 30, "adegan b"),)
    t = Timeline(fps, 160, 90, 60 - x, scenes, shots, texts, (), (Transition("crossfade", "a", "b", 30 - x, x),))
    handed = render_timeline(t, tmp_path / "handed.mp4", profile=PROFILE, cache_dir=tmp_path / "c1", check=False)
    rows = {r["name"]: r for r in handed.segments}
    assert rows["01-crossfade"]["handoff"] == {"gave": [], "took": [0, 1]}
    assert rows["01-a"]["handoff"] == {"gave": [0], "took": []}
    assert_same_without_handoffs(t, handed, tmp_path, monkeypatch)


@pytest.mark.media
def test_a_settled_card_is_held_by_the_segments_not_stored(tmp_path, monkeypatch):
    """A card's cached file holds only the frames that differ (kbvideo.render.motion.drawn_frames); the
    segments repeat its last one: the held GOP (kbvideo.render.segments) and the frames after it start past
    it, and so does the crossfade when it reads the file itself. Every frame is the painter's frame of that index (or the
    settled one), with the handoff and without it, and both renders are the same."""
    from kbvideo.render.motion import drawn_frames
    from kbvideo.render.painters import make_painter

    b = moving_clip(tmp_path, "b.mp4", "smptehdbars")
    fps, x, n = Fraction(30), 8, 240
    card = Shot("card", "a", 0, n, title="Kampung KB Jenggot", subtitle="Profil")
    shots = (card, Shot("clip", "b", n - x, 30, b, source_in=10))
    scenes = tuple(SceneSpan(s.scene, "other", (), s.start, s.duration) for s in shots)
    t = Timeline(fps, 160, 90, n + 30 - x, scenes, shots, (), (), (Transition("crossfade", "a", "b", n - x, x),))
    drawn = drawn_frames(card, 160, 90, fps)
    assert 1 < drawn < 100
    handed = render_timeline(t, tmp_path / "handed.mp4", profile=PROFILE, cache_dir=tmp_path / "c1", check=False)
    rows = {r["name"]: r for r in handed.segments}
    assert list(rows)[:3] == ["01-a.1", "01-a.2", "01-a.3"]
    assert rows["01-a.2"]["start"] >= drawn - 1 and rows["01-a.2"]["repeat"] > 1  # held: one GOP read past the stored frames
    assert rows["01-a.3"]["start"] > drawn and rows["01-a.3"]["handoff"] == {"gave": [0], "took": []}
    (motion_file,) = (tmp_path / "c1" / "motion").glob("*.mp4")
    with av.open(str(motion_file)) as container:
        assert container.streams.video[0].frames == drawn
    assert_same_without_handoffs(t, handed, tmp_path, monkeypatch)
    painter = make_painter(card, 160, 90, fps)
    with av.open(str(handed.path)) as container:
        rgb = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]
    for k in range(n - x):  # the card alone (the crossfade blends it with b)
        error = np.abs(rgb[k] - painter.frame(min(k, drawn - 1)).astype(int)).mean()
        assert error < 4, (k, error)
        if k + 1 < drawn and not np.array_equal(painter.frame(k), painter.frame(k + 1)):
            # a moving frame: closer to its own index than to the next one (nothing shifted or held early)
            assert error < np.abs(rgb[k] - painter.frame(k + 1).astype(int)).mean(), k
