"""Fitted stills are kept in the cache folder between renders (kbvideo.render.assets.still_png):
a caption edit on a still scene does not decode and resize the photo again, the pixels are the
same, and a changed photo (new size or mtime) is fitted anew."""

from __future__ import annotations

import dataclasses
import os
import shutil
from fractions import Fraction

import pytest

from kbvideo.render import render_timeline
from kbvideo.rules.profile import load_profile
from kbvideo.timeline.model import SceneSpan, Shot, TextItem, Timeline

PROFILE = dataclasses.replace(load_profile(), master_fade_in=0.0, master_fade_out=0.0)


def still_timeline(photo: str, caption: str) -> Timeline:
    """160x90, 1 s: a small photo contained on a blurred fill with Ken Burns (two cached layers), then
    the same photo covering the frame (one cached PNG); a caption over both."""
    shots = (Shot("still", "a", 0, 15, source=photo, fit="contain", fill="blur", motion="zoom_in"),
             Shot("still", "b", 15, 15, source=photo, fit="cover", motion="none"))
    scenes = (SceneSpan("a", "other", (), 0, 15), SceneSpan("b", "other", (), 15, 15))
    texts = (TextItem("caption", "a", 0, 15, caption), TextItem("caption", "b", 15, 15, caption))
    return Timeline(Fraction(30), 160, 90, 30, scenes, shots, texts, (), ())


def middle_pixel(path, frame: int) -> tuple[int, int, int]:
    import av

    with av.open(str(path)) as container:
        for n, picture in enumerate(container.decode(video=0)):
            if n == frame:
                rgb = picture.to_ndarray(format="rgb24")
                return tuple(int(v) for v in rgb[10, 80])  # above the caption
    raise AssertionError(f"{path} has no frame {frame}")


@pytest.mark.media
def test_fitted_stills_are_cached_and_refitted_when_the_photo_changes(media, tmp_path):
    photo = tmp_path / "foto.png"
    shutil.copy(media.image("foto.png", size=(64, 48), color=(200, 30, 30, 255)), photo)
    cache = tmp_path / "cache"

    first = render_timeline(still_timeline(str(photo), "Dashat"), tmp_path / "one.mp4", profile=PROFILE,
                            cache_dir=cache, check=False)
    assert first.stages["stills"]["count"] == 2  # the layered Ken Burns still and the cover still
    entries = sorted(p.name for p in (cache / "stills").iterdir() if not p.name.endswith(".sha256"))
    kinds = sorted(name.split(".", 1)[1] if "-" not in name else name.split("-", 1)[1] for name in entries)
    assert kinds == ["fill.png", "json", "picture.png", "png"], entries
    assert all((cache / "stills" / (name + ".sha256")).exists() for name in entries)  # each sealed

    # A caption edit: both segments are drawn again, the photo is not fitted again, same picture.
    second = render_timeline(still_timeline(str(photo), "Dashat Jenggot"), tmp_path / "two.mp4", profile=PROFILE,
                             cache_dir=cache, check=False)
    assert second.segments_encoded == len(second.segments) == 2
    assert "stills" not in second.stages
    for frame in (7, 22):
        assert middle_pixel(tmp_path / "two.mp4", frame) == middle_pixel(tmp_path / "one.mp4", frame)

    # The photo is replaced by a green one of another size: fitted again, and the picture follows.
    shutil.copy(media.image("hijau.png", size=(80, 40), color=(20, 200, 40, 255)), photo)
    os.utime(photo, ns=(os.stat(photo).st_atime_ns, os.stat(photo).st_mtime_ns + 10**9))
    third = render_timeline(still_timeline(str(photo), "Dashat Jenggot"), tmp_path / "three.mp4", profile=PROFILE,
                            cache_dir=cache, check=False)
    assert third.stages["stills"]["count"] == 2
    r, g, b = middle_pixel(tmp_path / "three.mp4", 22)
    assert g > 120 and r < 100, (r, g, b)
    r, g, b = middle_pixel(tmp_path / "one.mp4", 22)
    assert r > 120 and g < 100, (r, g, b)


@pytest.mark.media
def test_a_damaged_cached_still_is_rebuilt_with_a_notice(media, tmp_path):
    photo = str(media.image("foto2.png", size=(64, 48), color=(30, 30, 200, 255)))
    cache = tmp_path / "cache"
    timeline = still_timeline(photo, "Kebun Pikatu")
    render_timeline(timeline, tmp_path / "one.mp4", profile=PROFILE, cache_dir=cache, check=False)
    cover = next(p for p in (cache / "stills").glob("*.png") if "-" not in p.name)
    cover.write_bytes(b"not a png")
    again = render_timeline(dataclasses.replace(timeline, texts=timeline.texts[:1]), tmp_path / "two.mp4",
                            profile=PROFILE, cache_dir=cache, check=False)
    assert any("still" in notice for notice in again.notices), again.notices
    r, g, b = middle_pixel(tmp_path / "two.mp4", 22)
    assert b > 120 and r < 100, (r, g, b)
