"""Probing real tiny files made in the test: sizes, rotation, rates, VFR, audio, stills, HDR, errors, cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from fractions import Fraction
from pathlib import Path

import pytest

from kbvideo.errors import MediaError
from kbvideo.media import probe as probe_module
from kbvideo.media.cache import ProbeCache
from kbvideo.media.probe import MediaInfo, probe, probe_all

from conftest import run_ffmpeg

pytestmark = pytest.mark.media

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"


def cut_in_half(src: Path, dest: Path) -> Path:
    data = src.read_bytes()
    dest.write_bytes(data[: len(data) // 2])
    return dest


def expect_error(path, *words: str) -> MediaError:
    with pytest.raises(MediaError) as caught:
        probe(path)
    error = caught.value
    assert error.path == str(path)
    assert str(path) in error.message
    for word in words:
        assert word in error.message
    assert error.reason == ("truncated" if "truncated" in words else "unreadable")
    return error


# --- video ------------------------------------------------------------------------------------

def test_plain_clip(media):
    info = probe(media.clip(seconds=1.0))
    assert info.kind == "video"
    assert info.format_name.startswith("mov,mp4")
    assert os.path.isabs(info.path)
    video = info.main_video
    assert (video.codec, video.profile) == ("h264", "High")
    assert (video.width, video.height, video.rotation) == (160, 90, 0)
    assert info.display_size == (160, 90)
    assert video.fps == 30 and not video.vfr
    assert (video.pix_fmt, video.bit_depth) == ("yuv420p", 8)
    assert video.frames == 30 and video.duration == pytest.approx(1.0)
    assert video.field_order == "progressive" and not video.hdr and not video.is_cover_art
    (audio,) = info.audio
    assert (audio.codec, audio.profile, audio.sample_rate, audio.channels, audio.layout) == ("aac", "LC", 48000, 2, "stereo")
    assert audio.duration == pytest.approx(1.0, abs=0.05)
    assert info.duration == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("stored, clockwise", [(90, 270), (-90, 90), (180, 180)])
def test_rotation_from_display_matrix(media, stored, clockwise):
    """ffmpeg's -display_rotation is counter-clockwise; `rotation` is what turns the picture upright."""
    info = probe(media.clip(f"rot{stored}.mp4", rotate=stored))
    video = info.main_video
    assert (video.width, video.height) == (160, 90)
    assert video.rotation == clockwise
    assert info.display_size == ((90, 160) if clockwise in (90, 270) else (160, 90))


def test_rotation_outside_mp4_comes_from_a_decoded_frame(media, tmp_path):
    mkv = tmp_path / "portrait.mkv"
    run_ffmpeg("-i", str(media.clip("rot-mkv.mp4", rotate=-90)), "-c", "copy", str(mkv))
    info = probe(mkv)
    assert info.main_video.rotation == 90
    assert info.display_size == (90, 160)


def test_rotation_agrees_with_ffmpeg_autorotate(media, tmp_path):
    """The size we report is the size ffmpeg's own filters produce."""
    clip = media.clip("rot-auto.mp4", rotate=-90)
    out = tmp_path / "frame.png"
    run_ffmpeg("-i", str(clip), "-frames:v", "1", str(out))
    from PIL import Image

    with Image.open(out) as img:
        assert img.size == probe(clip).display_size


@pytest.mark.parametrize("rate, expected", [("25", Fraction(25)), ("30000/1001", Fraction(30000, 1001))])
def test_frame_rates(media, rate, expected):
    video = probe(media.clip(f"rate-{rate.replace('/', '_')}.mp4", fps=rate, seconds=1.0, audio=False)).main_video
    assert video.fps == expected
    assert not video.vfr


def test_variable_frame_rate_detected(media):
    vfr = media.clip("vfr.mp4", seconds=2.0, audio=False,
                     extra=("-vf", "setpts='(N+0.4*sin(N))/30/TB'", "-fps_mode", "vfr", "-enc_time_base", "1/1000"))
    assert probe(vfr).main_video.vfr
    assert not probe(media.clip("cfr.mp4", seconds=2.0, audio=False)).main_video.vfr


def test_ntsc_rate_in_millisecond_timebase_is_not_vfr(media, tmp_path):
    """29.97 fps in Matroska's 1 ms timebase gives 33/34 ms steps: rounding, not VFR."""
    mkv = tmp_path / "ntsc.mkv"
    run_ffmpeg("-i", str(media.clip("ntsc.mp4", fps="30000/1001", seconds=2.0, audio=False)), "-c", "copy", str(mkv))
    video = probe(mkv).main_video
    assert video.fps == Fraction(30000, 1001)
    assert not video.vfr


def test_no_audio_stream(media):
    info = probe(media.clip("silent.mp4", audio=False))
    assert info.kind == "video" and not info.has_audio and info.audio == ()


def test_mono_44100(media):
    (audio,) = probe(media.clip("mono.mp4", sample_rate=44100, channels=1)).audio
    assert (audio.sample_rate, audio.channels, audio.layout) == (44100, 1, "mono")


def test_hlg_10_bit(media):
    # ffmpeg 9 takes colour tags from the frames, so -color_trc/-color_primaries as output options are
    # silently dropped (only -colorspace survives); setparams tags the frames themselves.
    clip = media.clip("hlg.mp4", seconds=0.5, audio=False, pix_fmt="yuv420p10le",
                      extra=("-vf", "setparams=color_trc=arib-std-b67:color_primaries=bt2020:colorspace=bt2020nc"))
    video = probe(clip).main_video
    assert video.bit_depth == 10 and video.pix_fmt == "yuv420p10le" and video.profile == "High 10"
    assert (video.color_transfer, video.color_primaries) == ("arib-std-b67", "bt2020")
    assert video.hdr


def test_faststart(media):
    assert probe(media.clip("moov-front.mp4", extra=("-movflags", "+faststart"))).faststart is True
    assert probe(media.clip("moov-back.mp4")).faststart is False
    assert probe(media.tone("tone.mp3")).faststart is None


def test_audio_file_with_cover_art(media, tmp_path):
    cover = media.image("cover.jpg", size=(32, 32))
    song = tmp_path / "song.mp3"
    run_ffmpeg("-i", str(media.tone("plain.mp3")), "-i", str(cover), "-map", "0", "-map", "1", "-c", "copy",
               "-disposition:v", "attached_pic", str(song))
    info = probe(song)
    assert info.kind == "audio"
    assert info.main_video is None and info.display_size is None
    assert [v.is_cover_art for v in info.video] == [True]
    assert info.audio[0].codec == "mp3"


def test_audio_only_m4a(media):
    info = probe(media.tone("narration.m4a", seconds=1.5, channels=1))
    assert info.kind == "audio" and info.video == ()
    assert info.audio[0].channels == 1
    assert info.duration == pytest.approx(1.5, abs=0.05)


# --- stills -----------------------------------------------------------------------------------

def test_exif_orientation_6_swaps_size(media):
    info = probe(media.image("sideways.jpg", size=(64, 48), exif_orientation=6))
    assert info.kind == "image"
    assert info.exif_orientation == 6
    assert (info.image_width, info.image_height) == (48, 64)
    assert info.display_size == (48, 64)


def test_plain_jpeg(media):
    info = probe(media.image("plain.jpg", size=(64, 48)))
    assert (info.display_size, info.exif_orientation, info.has_alpha, info.format_name) == ((64, 48), None, False, "jpeg")


def test_alpha_in_stills(media, tmp_path):
    assert probe(media.image("rgba.png", mode="RGBA", color=(255, 0, 255, 0))).has_alpha
    assert not probe(media.image("rgb.png")).has_alpha
    from PIL import Image

    palette = Image.new("P", (20, 10), 0)
    palette.putpalette([255, 0, 255, 0, 128, 0] + [0] * 762)
    palette.paste(1, (5, 0, 15, 10))
    path = tmp_path / "logo.png"
    palette.save(path, transparency=0)
    info = probe(path)
    assert info.has_alpha and info.extra["mode"] == "P"


def test_huge_image_names_the_file(media, monkeypatch):
    from PIL import Image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64x48 = 3072 px > 2 x limit → DecompressionBombError
    expect_error(media.image("bomb.png"), "too large")


def test_truncated_jpeg(media, tmp_path):
    from PIL import Image

    import numpy as np

    noise = np.random.default_rng(1).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    whole = tmp_path / "whole.jpg"
    Image.fromarray(noise).save(whole, quality=90)
    expect_error(cut_in_half(whole, tmp_path / "half.jpg"), "truncated")


# --- errors -----------------------------------------------------------------------------------

def test_missing_file(tmp_path):
    error = expect_error(tmp_path / "nope.mp4", "not found")
    assert error.hint


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    expect_error(empty, "empty")


def test_folder(tmp_path):
    expect_error(tmp_path, "folder")


def test_text_named_mp4(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("ini bukan video\n")
    expect_error(text, "not a media file")


def test_truncated_faststart_mp4(media, tmp_path):
    whole = media.clip("whole.mp4", seconds=2.0, extra=("-movflags", "+faststart"))
    expect_error(cut_in_half(whole, tmp_path / "half.mp4"), "truncated")


def test_truncated_mp4_found_by_its_index(media, tmp_path):
    """mdat with size 0 ("runs to the end of the file") hides the cut from the box sizes; the index still knows."""
    whole = media.clip("whole-fs.mp4", seconds=2.0, extra=("-movflags", "+faststart"))
    data = bytearray(whole.read_bytes())
    at = data.index(b"mdat") - 4
    assert int.from_bytes(data[at:at + 4], "big") > 8
    data[at:at + 4] = (0).to_bytes(4, "big")
    intact = tmp_path / "open-ended.mp4"
    intact.write_bytes(data)
    assert probe(intact).duration == pytest.approx(2.0, abs=0.05)
    half = tmp_path / "open-ended-half.mp4"
    half.write_bytes(data[: len(data) // 2])
    expect_error(half, "truncated", "index")


def test_truncated_mp4_without_index(media, tmp_path):
    whole = media.clip("whole-moov-back.mp4", seconds=2.0)
    expect_error(cut_in_half(whole, tmp_path / "half.mp4"), "index")


def test_truncated_matroska_found_by_demuxing(media, tmp_path):
    """No box sizes to compare here: every packet is read and the last one ends before the header's length."""
    whole = tmp_path / "whole.mkv"
    run_ffmpeg("-i", str(media.clip("for-mkv.mp4", seconds=2.0)), "-c", "copy", str(whole))
    assert probe(whole).duration == pytest.approx(2.0, abs=0.05)
    error = expect_error(cut_in_half(whole, tmp_path / "half.mkv"), "truncated", "2.0 s")
    assert error.hint


def test_unsupported_heic(tmp_path):
    heic = tmp_path / "IMG_0001.HEIC"
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64)
    expect_error(heic, "HEIC")


# --- serialisation and cache ------------------------------------------------------------------

def test_to_dict_round_trip(media):
    for path in (media.clip("rt.mp4", fps="30000/1001", rotate=-90), media.image("rt.jpg", exif_orientation=6),
                 media.tone("rt.m4a")):
        info = probe(path)
        data = json.loads(json.dumps(info.to_dict()))
        assert MediaInfo.from_dict(data) == info
        assert MediaInfo.from_dict(data).extra == info.extra
    data = probe(media.clip("rt.mp4", fps="30000/1001", rotate=-90)).to_dict()
    assert data["video"][0]["fps"] == "30000/1001"


def test_probe_all_probes_each_file_once(media, monkeypatch, tmp_path):
    clip = media.clip()
    calls = []
    real = probe_module.probe
    monkeypatch.setattr(probe_module, "probe", lambda p: calls.append(p) or real(p))
    spellings = [str(clip), str(clip.parent / "." / clip.name), str(clip)]
    found = probe_all(spellings)
    assert len(calls) == 1
    assert set(found) == set(spellings)
    assert len({id(v) for v in found.values()}) == 1


def test_probe_all_collects_errors_when_asked(media, tmp_path):
    errors = {}
    found = probe_all([str(media.clip()), str(tmp_path / "gone.mp4")], errors=errors)
    assert list(found) == [str(media.clip())]
    assert list(errors) == [str(tmp_path / "gone.mp4")]
    with pytest.raises(MediaError, match="gone.mp4"):
        probe_all([str(tmp_path / "gone.mp4")])


def test_cache_hit_opens_no_media_and_touch_reprobes(media, monkeypatch, tmp_path):
    clip = tmp_path / "clip.mp4"
    shutil.copyfile(media.clip(), clip)
    first = probe_all([str(clip)], cache=ProbeCache(tmp_path / "cache"))

    def fail(path):
        raise AssertionError(f"probed {path} although it was cached")

    monkeypatch.setattr(probe_module, "probe", fail)
    cache = ProbeCache(tmp_path / "cache")
    assert probe_all([str(clip)], cache=cache) == first
    assert (cache.hits, cache.misses) == (1, 0)

    stat = clip.stat()
    os.utime(clip, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(AssertionError, match="although it was cached"):
        probe_all([str(clip)], cache=ProbeCache(tmp_path / "cache"))


def test_cached_run_does_not_import_pyav(media, tmp_path):
    clip = media.clip()
    cache_dir = tmp_path / "cache"
    probe_all([str(clip)], cache=ProbeCache(cache_dir))
    script = (
        "import sys\n"
        "from kbvideo.media.cache import ProbeCache\nfrom kbvideo.media.probe import probe_all\n"
        f"info = probe_all([{str(clip)!r}], cache=ProbeCache({str(cache_dir)!r}))\n"
        "assert 'av' not in sys.modules and 'PIL' not in sys.modules, 'media library imported'\n"
        "print(list(info.values())[0].display_size)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "(160, 90)"


def test_cache_ignores_corrupt_or_foreign_entries(media, tmp_path):
    clip = media.clip()
    cache = ProbeCache(tmp_path / "cache")
    info = probe_all([str(clip)], cache=cache)[str(clip)]
    (entry,) = (tmp_path / "cache").glob("*.json")
    entry.write_text("{not json")
    assert cache.get(clip) is None
    data = {"version": -1, "path": info.path, "size": info.size_bytes, "mtime_ns": info.mtime_ns, "info": info.to_dict()}
    entry.write_text(json.dumps(data))
    assert cache.get(clip) is None
    cache.put(info)
    assert cache.get(clip) == info


def test_concurrent_cache_writers_leave_whole_entries(media, tmp_path):
    info = probe(media.clip())
    cache = ProbeCache(tmp_path / "cache")
    misses = []

    def write():
        for _ in range(25):
            cache.put(info)
            if ProbeCache(tmp_path / "cache").get(info.path) != info:
                misses.append(1)

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert misses == []
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.name.startswith(".tmp")] == []
    assert cache.get(info.path) == info


# --- the committed sample assets --------------------------------------------------------------

CLIP_CONTRACT = {
    # name: (display size, fps, seconds, audio (rate, channels) or None, rotation)
    "dashat-masak.mp4": ((1280, 720), Fraction(30), 20, (48000, 2), 0),
    "dashat-bagi.mp4": ((1280, 720), Fraction(25), 15, (44100, 1), 0),
    "kebun-pikatu.mp4": ((1280, 720), Fraction(30), 20, None, 0),
    "kolam-lele.mp4": ((720, 1280), Fraction(30), 12, (48000, 2), 90),
    "uppka.mp4": ((1280, 720), Fraction(30000, 1001), 15, (48000, 2), 0),
    "bkb-posyandu.mp4": ((640, 480), Fraction(30), 12, (48000, 2), 0),
}
NARRATIONS = ["narasi-pembuka", "narasi-dashat", "narasi-kebun", "narasi-pemberdayaan", "narasi-penutup"]
BANNER = (235, 110, 20)


def near(colour, expected, tolerance=40) -> bool:
    return all(abs(int(c) - e) <= tolerance for c, e in zip(colour, expected))


@pytest.mark.parametrize("name", sorted(CLIP_CONTRACT))
def test_sample_clip_matches_contract(name):
    size, fps, seconds, audio, rotation = CLIP_CONTRACT[name]
    info = probe(ASSETS / "clips" / name)
    video = info.main_video
    assert info.kind == "video" and info.faststart
    assert info.display_size == size
    assert video.rotation == rotation
    assert (video.width, video.height) == ((1280, 720) if name == "kolam-lele.mp4" else size)
    assert video.fps == fps and not video.vfr
    assert (video.codec, video.pix_fmt) == ("h264", "yuv420p")
    assert video.duration == pytest.approx(seconds, abs=0.05)
    if audio is None:
        assert not info.has_audio
    else:
        (sound,) = info.audio
        assert (sound.codec, sound.sample_rate, sound.channels) == ("aac", *audio)
        assert sound.duration == pytest.approx(seconds, abs=0.05)


def test_portrait_clip_reads_upright_only_when_rotated(tmp_path):
    """ffmpeg applies the display matrix: the orange title banner is then at the top of a 720x1280 picture."""
    from PIL import Image

    out = tmp_path / "frame.png"
    run_ffmpeg("-i", str(ASSETS / "clips" / "kolam-lele.mp4"), "-frames:v", "1", str(out))
    with Image.open(out) as img:
        assert img.size == (720, 1280)
        assert near(img.convert("RGB").getpixel((20, 10)), BANNER)
        assert not near(img.convert("RGB").getpixel((360, 1270)), BANNER)  # only at the top: not upside down
    raw = tmp_path / "raw.png"
    run_ffmpeg("-noautorotate", "-i", str(ASSETS / "clips" / "kolam-lele.mp4"), "-frames:v", "1", str(raw))
    with Image.open(raw) as img:
        assert img.size == (1280, 720)
        assert near(img.convert("RGB").getpixel((10, 700)), BANNER)  # the banner lies along the left edge
        assert not near(img.convert("RGB").getpixel((640, 10)), BANNER)


def placeholder_text_in_kbvideo_zones(img) -> list[str]:
    """Which of kbvideo's text zones (kbvideo/layout/screen.py, as fractions of the picture) hold
    placeholder text: white pixels (every placeholder's text is white), below the thin orange band."""
    import numpy as np

    rgb = np.asarray(img.convert("RGB"))
    h, w = rgb.shape[:2]
    white = rgb.min(axis=2) > 240
    zones = {"title": white[int(h * 0.035):int(h * 0.16)], "caption": white[int(h * 0.80):],
             "lower third": white[int(h * 0.66):int(h * 0.80), :int(w * 0.62)]}
    return [name for name, zone in zones.items() if zone.any()]


@pytest.mark.parametrize("name", sorted(CLIP_CONTRACT))
def test_sample_clip_text_keeps_clear_of_kbvideos_zones(tmp_path, name):
    """The placeholder's label, timecode and sync flash sit in the middle box: kbvideo's scene title,
    lower third and captions never land on placeholder text. The frame at 0.0 s has the flash on."""
    from PIL import Image

    out = tmp_path / "frame.png"
    run_ffmpeg("-i", str(ASSETS / "clips" / name), "-frames:v", "1", str(out))
    with Image.open(out) as img:
        assert near(img.convert("RGB").getpixel((img.width // 2, 3)), BANNER)  # the thin band, no text
        assert placeholder_text_in_kbvideo_zones(img) == []


def test_sample_still_text_keeps_clear_of_kbvideos_zones():
    from PIL import Image, ImageOps

    for name in ("kebun-panen.jpg", "kader.jpg", "peta-jenggot.png"):
        with Image.open(ASSETS / "stills" / name) as img:
            upright = ImageOps.exif_transpose(img).convert("RGBA")
            flat = Image.alpha_composite(Image.new("RGBA", upright.size, (0, 0, 0, 255)), upright)
            assert placeholder_text_in_kbvideo_zones(flat) == [], name


def test_sample_stills():
    from PIL import Image, ImageOps

    panen = probe(ASSETS / "stills" / "kebun-panen.jpg")
    assert (panen.display_size, panen.exif_orientation) == ((1440, 1080), 6)
    with Image.open(ASSETS / "stills" / "kebun-panen.jpg") as img:
        assert img.size == (1080, 1440)  # stored sideways
        assert not near(img.getpixel((540, 10)), BANNER)
        upright = ImageOps.exif_transpose(img)
        assert upright.size == (1440, 1080) and near(upright.getpixel((720, 10)), BANNER)

    kader = probe(ASSETS / "stills" / "kader.jpg")
    assert (kader.display_size, kader.exif_orientation, kader.has_alpha) == ((1620, 1080), None, False)

    peta = probe(ASSETS / "stills" / "peta-jenggot.png")
    assert peta.has_alpha and peta.extra["mode"] == "RGBA" and peta.display_size == (1920, 1080)
    # kbvideo never enlarges a `contain` still: the photos and the map fill a 1920x1080 frame's height
    assert all(w >= 1920 or h >= 1080 for w, h in (panen.display_size, kader.display_size, peta.display_size))
    with Image.open(ASSETS / "stills" / "peta-jenggot.png") as img:
        import numpy as np

        pixels = np.array(img)
        hidden = pixels[pixels[..., 3] == 0]
        assert len(hidden) > pixels.shape[0] * pixels.shape[1] // 5
        assert (hidden[:, :3] == (255, 0, 255)).all()  # loud magenta under every fully transparent pixel
        assert ((pixels[..., 3] > 0) & (pixels[..., 3] < 255)).any()  # and a soft edge

    logo = probe(ASSETS / "stills" / "logo-kampung-kb.png")
    assert logo.has_alpha and logo.extra["mode"] == "P"
    with Image.open(ASSETS / "stills" / "logo-kampung-kb.png") as img:
        assert img.info["transparency"] == 0 and img.getpixel((0, 0)) == 0


def test_sample_audio():
    music = probe(ASSETS / "audio" / "musik-latar.mp3")
    (sound,) = music.audio
    assert music.kind == "audio"
    assert (sound.codec, sound.sample_rate, sound.channels) == ("mp3", 44100, 2)
    assert 180 <= music.duration <= 200
    for name in NARRATIONS:
        info = probe(ASSETS / "audio" / f"{name}.m4a")
        (sound,) = info.audio
        assert info.kind == "audio" and info.video == ()
        assert (sound.codec, sound.sample_rate, sound.channels) == ("aac", 48000, 1)
        assert 8 <= info.duration <= 14


def test_sample_assets_stay_small():
    total = sum(p.stat().st_size for p in ASSETS.rglob("*") if p.is_file() and not p.is_symlink())
    assert total <= 8_000_000, f"assets/ holds {total / 1e6:.1f} MB"


def test_make_assets_regenerates_the_stills(tmp_path, monkeypatch):
    """The script reproduces the committed stills (pixels, not bytes: encoders may differ across Pillow builds)."""
    import importlib.util

    import numpy as np
    from PIL import Image

    spec = importlib.util.spec_from_file_location("make_assets", ASSETS / "make_assets.py")
    make_assets = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "make_assets", make_assets)
    spec.loader.exec_module(make_assets)
    for make in (make_assets.make_kebun_panen, make_assets.make_kader, make_assets.make_peta, make_assets.make_logo):
        make(tmp_path)
    for fresh in sorted(tmp_path.iterdir()):
        with Image.open(fresh) as new, Image.open(ASSETS / "stills" / fresh.name) as old:
            assert (new.size, new.mode) == (old.size, old.mode)
            difference = np.abs(np.asarray(new.convert("RGBA"), float) - np.asarray(old.convert("RGBA"), float))
            assert difference.mean() < 2.0, fresh.name
