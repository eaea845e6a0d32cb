"""Draft proxies of the stretch a storyboard uses (kbvideo.render.assets.proxy): a long clip used for a
few seconds is proxied for those seconds (plus a margin), its frames keep their times in the original
(picture and sound stay in sync, also when the video starts after the sound), an in-point moved inside
the stretch reuses the proxy, one moved outside makes a new one, and a clip used for most of its
length is proxied whole."""

from __future__ import annotations

import dataclasses
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


def timeline(path: str, source_in: int) -> Timeline:
    return Timeline(Fraction(30), 64, 36, 60, (SceneSpan("a", "other", (), 0, 60),),
                    (Shot("clip", "a", 0, 60, path, source_in=source_in),), (),
                    (AudioItem("clip", path, 0, 60, source_in, scene="a"),), ())


def proxies(cache) -> list:
    return sorted(p for p in (cache / "proxies").glob("*.mp4"))


@pytest.mark.media
@pytest.mark.parametrize("late", [False, True])
def test_a_long_clip_is_proxied_for_the_stretch_it_is_used(tmp_path, late):
    path, flash_at = long_clip(tmp_path, late)
    cache = tmp_path / "cache"
    # in-point 7 s of the file: the flash shows 1.0 s into the programme (1.5 s with the late video)
    first = render_timeline(timeline(path, 210), tmp_path / "one.draft.mp4", profile=PROFILE, draft=True,
                            cache_dir=cache, check=False)
    (proxy,) = proxies(cache)
    (item,) = first.stages["proxies"]["items"]
    assert item["stretch"] == [4.9, 11.1]  # 7 s − 2 preroll frames − 2 s margin … 9 s + 3 frames + 2 s
    with av.open(str(proxy)) as container:
        stream = container.streams.video[0]
        start = float(stream.start_time * stream.time_base)
        frames = sum(1 for _ in container.decode(video=0))
    assert start == pytest.approx(4.9, abs=0.05)  # the original's times
    assert 180 <= frames <= 190  # 6.2 s, not 12
    flash, beep = flash_and_beep(first.path)
    assert flash == pytest.approx(flash_at - 7.0, abs=1 / 30 + 1e-6)
    assert beep == pytest.approx(flash, abs=1 / 30)

    # the in-point moved by half a second, inside the stretch: the same proxy
    moved = render_timeline(timeline(path, 225), tmp_path / "two.draft.mp4", profile=PROFILE, draft=True,
                            cache_dir=cache, check=False)
    assert moved.stages["proxies"] == {"wall": 0.0, "count": 0, "cached": 1} and proxies(cache) == [proxy]
    flash, beep = flash_and_beep(moved.path)
    assert flash == pytest.approx(flash_at - 7.5, abs=1 / 30 + 1e-6) and beep == pytest.approx(flash, abs=1 / 30)

    # moved far outside it: a new proxy of the new stretch; the pictures follow
    far = render_timeline(timeline(path, 30), tmp_path / "three.draft.mp4", profile=PROFILE, draft=True,
                          cache_dir=cache, check=False)
    assert far.stages["proxies"]["count"] == 1 and len(proxies(cache)) == 2
    with av.open(str(far.path)) as container:
        assert max(f.to_ndarray(format="gray").mean() for f in container.decode(video=0)) < 100  # no flash at 1–3 s


@pytest.mark.media
def test_a_clip_used_for_most_of_its_length_is_proxied_whole(tmp_path):
    path, _flash_at = long_clip(tmp_path, False)
    cache = tmp_path / "cache"
    t = Timeline(Fraction(30), 64, 36, 300, (SceneSpan("a", "other", (), 0, 300),),
                 (Shot("clip", "a", 0, 300, path, source_in=0),), (), (), ())
    result = render_timeline(t, tmp_path / "whole.draft.mp4", profile=PROFILE, draft=True, cache_dir=cache, check=False)
    (proxy,) = proxies(cache)
    assert "stretch" not in result.stages["proxies"]["items"][0] and proxy.stem.count("-") == 0
    # a later storyboard using a short stretch of the same clip reads that whole-clip proxy
    again = render_timeline(timeline(path, 210), tmp_path / "short.draft.mp4", profile=PROFILE, draft=True,
                            cache_dir=cache, check=False)
    assert again.stages["proxies"] == {"wall": 0.0, "count": 0, "cached": 1} and proxies(cache) == [proxy]
    flash, beep = flash_and_beep(again.path)
    assert flash == pytest.approx(1.0, abs=1 / 30 + 1e-6) and beep == pytest.approx(flash, abs=1 / 30)
