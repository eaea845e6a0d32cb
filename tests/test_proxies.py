"""Draft proxies made on the way (kbvideo.render.assets.clip_source, graph.ProxyOut): the first draft reads
the original and its segments' ffmpeg also writes a proxy of exactly the stretch each piece reads; the
proxy's frames keep their times in the original (picture and sound stay in sync, also when the video
starts after the sound); a later draft whose reads a proxy holds reads the proxy and makes none, and a
read outside every proxy goes back to the original and makes a proxy of the new stretch."""

from __future__ import annotations

import dataclasses
import shutil
from fractions import Fraction

import av
import pytest

from conftest import flash_and_beep_times as flash_and_beep, run_ffmpeg
from kbvideo.render import render_timeline
from kbvideo.rules.profile import load_profile
from kbvideo.timeline.model import AudioItem, SceneSpan, Shot, Timeline

PROFILE = dataclasses.replace(load_profile(), master_fade_in=0.0, master_fade_out=0.0)


def long_clip(tmp_path, late: bool):
    """12 s: a white flash at 8.0 s in the video, a beep at 8.0 s in the sound; with `late` the video
    starts 0.5 s after the sound (the flash then sits at 8.5 s of the file, the beep too)."""
    v, a, out = tmp_path / "v.mp4", tmp_path / "a.m4a", tmp_path / ("late.mp4" if late else "clip.mp4")
    run_ffmpeg("-f", "lavfi", "-i", "color=c=black:s=64x36:r=30:d=12,"
               "geq=lum='if(between(T,7.999,8.09),235,16)':cb=128:cr=128",
               "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "30", str(v))
    beep_at = 8.5 if late else 8.0
    run_ffmpeg("-f", "lavfi", "-i", f"aevalsrc='if(between(t,{beep_at},{beep_at + 0.1}),0.5*sin(2*PI*1000*t),0)':"
               "s=48000:d=12.5", "-c:a", "aac", str(a))
    offset = ["-itsoffset", "0.5"] if late else []
    run_ffmpeg(*offset, "-i", str(v), "-i", str(a), "-map", "0:v", "-map", "1:a", "-c", "copy", str(out))
    return str(out), (8.5 if late else 8.0)


def timeline(path: str, source_in: int, frames: int = 60) -> Timeline:
    return Timeline(Fraction(30), 64, 36, frames, (SceneSpan("a", "other", (), 0, frames),),
                    (Shot("clip", "a", 0, frames, path, source_in=source_in),), (),
                    (AudioItem("clip", path, 0, frames, source_in, scene="a"),), ())


def proxies(cache) -> list:
    return sorted(p for p in (cache / "proxies").glob("*.mp4"))


def draft(tmp_path, t: Timeline, name: str, cache):
    return render_timeline(t, tmp_path / name, profile=PROFILE, draft=True, cache_dir=cache, check=False)


@pytest.mark.media
@pytest.mark.parametrize("late", [False, True])
def test_the_first_draft_makes_a_proxy_of_what_it_reads(tmp_path, late):
    path, flash_at = long_clip(tmp_path, late)
    cache = tmp_path / "cache"
    # in-point 7 s of the file: the flash shows 1.0 s into the programme (1.5 s with the late video)
    first = draft(tmp_path, timeline(path, 210), "one.draft.mp4", cache)
    (proxy,) = proxies(cache)
    (item,) = first.stages["proxies"]["items"]
    # 7 s − 2 preroll frames … 9 s + 2 preroll frames + 1: exactly what the piece reads
    assert item["stretch"] == [pytest.approx(208 / 30, abs=1e-4), pytest.approx(273 / 30, abs=1e-4)]
    assert item["segment"] and item["source"] == path
    with av.open(str(proxy)) as container:
        stream = container.streams.video[0]
        start = float(stream.start_time * stream.time_base)
        frames = sum(1 for _ in container.decode(video=0))
    assert start == pytest.approx(208 / 30, abs=0.02)  # the original's times
    assert 63 <= frames <= 66  # 2.2 s, not 12
    flash, beep = flash_and_beep(first.path)
    assert flash == pytest.approx(flash_at - 7.0, abs=1 / 30 + 1e-6)
    assert beep == pytest.approx(flash, abs=1 / 30)

    # the segment gone (as after an edit): the next draft reads the proxy, makes none, same timing
    shutil.rmtree(cache / "segments")
    again = draft(tmp_path, timeline(path, 210), "two.draft.mp4", cache)
    assert again.stages["proxies"] == {"wall": 0.0, "count": 0, "cached": 1} and proxies(cache) == [proxy]
    flash, beep = flash_and_beep(again.path)
    assert flash == pytest.approx(flash_at - 7.0, abs=1 / 30 + 1e-6) and beep == pytest.approx(flash, abs=1 / 30)

    # a shorter shot inside the stretch reads the same proxy
    inside = draft(tmp_path, timeline(path, 215, 50), "three.draft.mp4", cache)
    assert inside.stages["proxies"]["cached"] == 1 and "items" not in inside.stages["proxies"]
    flash, _beep = flash_and_beep(inside.path)
    assert flash == pytest.approx(flash_at - 215 / 30, abs=1 / 30 + 1e-6)

    # the in-point moved far outside it: the original again, and a proxy of the new stretch
    far = draft(tmp_path, timeline(path, 30), "four.draft.mp4", cache)
    assert far.stages["proxies"]["count"] == 1 and len(proxies(cache)) == 2
    with av.open(str(far.path)) as container:
        assert max(f.to_ndarray(format="gray").mean() for f in container.decode(video=0)) < 100  # no flash at 1–3 s


@pytest.mark.media
def test_a_draft_from_proxies_shows_what_the_first_draft_showed(tmp_path):
    path, _flash_at = long_clip(tmp_path, False)
    cache = tmp_path / "cache"
    first = draft(tmp_path, timeline(path, 210), "one.draft.mp4", cache)
    shutil.rmtree(cache / "segments")
    again = draft(tmp_path, timeline(path, 210), "two.draft.mp4", cache)
    with av.open(str(first.path)) as a, av.open(str(again.path)) as b:
        pairs = list(zip((f.to_ndarray(format="gray").astype(int) for f in a.decode(video=0)),
                         (f.to_ndarray(format="gray").astype(int) for f in b.decode(video=0))))
    assert len(pairs) == 60
    assert max(abs(x - y).mean() for x, y in pairs) < 3  # the proxy's own compression only
