"""Issue 8, input side, media half: damaged probe-cache entries heal, a cache folder that cannot be used
never stops validate, 16-bit greyscale stills keep their tones, a fragmented constant-rate MP4 is 30 fps CFR."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from conftest import copy_into, run_ffmpeg
from kbvideo.check import check_file
from kbvideo.check.analyze import Analysis, parse_stats
from kbvideo.cli import main
from kbvideo.errors import UsageError
from kbvideo.fsutil import prepare_cache_dir
from kbvideo.media.cache import ProbeCache
from kbvideo.media.probe import probe, probe_all
from kbvideo.rules.profile import load_profile
from test_render import build, frames_rgb, render, still


# ------------------------------------------------------------------------------ probe cache
def _damage(entry: Path, how: str) -> None:
    text = entry.read_text(encoding="utf-8")
    data = json.loads(text)
    if how == "truncated":
        entry.write_text(text[: len(text) // 2], encoding="utf-8")
    elif how == "flipped byte":  # valid JSON still, a number changed: only the checksum notices
        entry.write_text(text.replace('"image_width": 32', '"image_width": 33'), encoding="utf-8")
    elif how == "not an object":
        entry.write_text("[1, 2, 3]", encoding="utf-8")
    elif how == "null":
        entry.write_text("null", encoding="utf-8")
    elif how == "wrong types":  # consistent checksum, but a string where a number belongs
        data["info"]["duration"] = "long"
        from kbvideo.media.cache import _digest
        data["sha256"] = _digest(data["info"])
        entry.write_text(json.dumps(data), encoding="utf-8")
    elif how == "nan":
        entry.write_text(text.replace('"image_width": 32', '"image_width": NaN'), encoding="utf-8")
    elif how == "deeply nested":
        entry.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    elif how == "binary":
        entry.write_bytes(os.urandom(300) + b"\xff\xfe")
    elif how == "huge":
        entry.write_text('{"pad": "' + "x" * 2_000_000 + '"}', encoding="utf-8")
    elif how == "folder":
        entry.unlink()
        entry.mkdir()
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["truncated", "flipped byte", "not an object", "null", "wrong types", "nan",
                                 "deeply nested", "binary", "huge", "folder"])
def test_damaged_probe_cache_entry_is_discarded_and_reprobed(tmp_path, media, how):
    picture = copy_into(media.image("p.png", size=(32, 18)), tmp_path / "assets", "p.png")
    cache = ProbeCache(tmp_path / "cache")
    truth = probe(picture)
    cache.put(truth)
    (entry,) = list((tmp_path / "cache").glob("*.json"))
    assert ProbeCache(tmp_path / "cache").get(picture) == truth
    _damage(entry, how)

    again = ProbeCache(tmp_path / "cache")
    if how == "folder":
        assert again.get(picture) is None  # cannot be read: a miss; the next put cannot replace a folder either
        return
    assert again.get(picture) is None
    assert again.discarded == 1 and not entry.exists()  # deleted, so it is rebuilt
    result = probe_all([str(picture)], cache=again)
    assert result[str(picture)] == truth and entry.exists()
    healed = ProbeCache(tmp_path / "cache")
    assert healed.get(picture) == truth and healed.hits == 1


def test_stale_entry_is_a_miss_not_a_discard(tmp_path, media):
    picture = copy_into(media.image("p.png", size=(32, 18)), tmp_path / "assets", "p.png")
    cache = ProbeCache(tmp_path / "cache")
    cache.put(probe(picture))
    os.utime(picture, ns=(1, 1))
    assert cache.get(picture) is None and cache.discarded == 0


def test_unusable_cache_folder_never_stops_validate(project, media, monkeypatch):
    copy_into(media.image("b.png", size=(32, 18)), project / "assets", "b.png")
    board = project / "storyboards" / "sb.yaml"
    board.write_text("kampung: {name: Kampung KB Uji, kota: Kota Uji}\noutput: {size: 160x90}\nscenes:\n"
                     "  - id: a\n    topic: dashat\n    shots:\n      - still: ../assets/b.png\n        duration: 1\n",
                     encoding="utf-8")
    blocker = project / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    for folder in (blocker, blocker / "inside"):
        monkeypatch.setenv("KBVIDEO_CACHE_DIR", str(folder))
        for command in ("validate", "plan"):
            result = CliRunner().invoke(main, [command, str(board)])
            assert "Traceback" not in result.output and result.exit_code in (0, 1), result.output
            assert "Kampung KB Uji" in result.output or "sb.yaml" in result.output
        with pytest.raises(UsageError) as info:
            prepare_cache_dir(folder)
        assert "not-a-folder" in info.value.format()
    assert blocker.read_text(encoding="utf-8") == "x"
    assert prepare_cache_dir(project / "fresh" / "cache").is_dir()


# ------------------------------------------------------------------------------ 16-bit greyscale PNG
@pytest.mark.media
def test_16_bit_greyscale_png_keeps_its_tones(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 160).astype(np.uint16), (90, 1))  # black left → white right
    ramp[:, 70:90] = 32768  # a mid-grey band
    path = tmp_path / "grey16.png"
    Image.fromarray(ramp).save(path)
    assert Image.open(path).mode == "I;16"
    timeline = build([("a", [still(path, 6, fill="#000000", fit="contain")])])
    frame = frames_rgb(render(timeline, tmp_path).path)[3].astype(int)
    assert frame[45, 5].max() < 40  # dark on the left (was white before)
    assert frame[45, 155].min() > 215  # white on the right
    assert 110 < frame[45, 80].mean() < 145  # 32768 is mid grey, not clipped to 255
    assert frame[45, 40].mean() < frame[45, 120].mean()


# ------------------------------------------------------------------------------ fragmented MP4
@pytest.mark.media
def test_fragmented_constant_30fps_mp4_is_30fps_cfr(tmp_path):
    """ffmpeg writes this file's first frame with two frame times: 60 frames over 61 frame times. The
    container's average says 29.5 fps; the stream's time base and frame durations say 30, constant."""
    path = tmp_path / "frag.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:r=30:d=2", "-f", "lavfi", "-i", "sine=d=2:sample_rate=48000",
               "-c:v", "libx264", "-bf", "0", "-g", "15", "-video_track_timescale", "30", "-c:a", "aac",
               "-movflags", "frag_keyframe+empty_moov+default_base_moof", str(path))
    import av

    with av.open(str(path)) as container:
        assert container.streams.video[0].average_rate != 30  # the trap is real
    video = probe(path).main_video
    assert video.fps == 30 and video.vfr is False
    report = check_file(path, load_profile())
    rules = {f.rule for f in report.findings}
    assert "video.fps" not in rules and "video.vfr" not in rules
    assert report.analysis.frame_interval_max == pytest.approx(2 / 30)  # the long first frame was measured


def test_one_long_frame_is_not_a_variable_rate():
    steady = "\n".join(f"{n} {pts} 1/30" for n, pts in enumerate([0, *range(2, 60)]))
    stats = parse_stats(steady)
    assert stats.interval_strays == 1
    analysis = Analysis(True, False, frame_interval_min=1 / 30, frame_interval_max=2 / 30,
                        frame_interval_strays=stats.interval_strays)
    assert analysis.vfr is False
    varying = "\n".join(f"{n} {pts} 1/30" for n, pts in enumerate([0, 2, 3, 5, 6, 8, 9, 10]))
    assert parse_stats(varying).interval_strays == 3
    assert Analysis(True, False, frame_interval_min=1 / 30, frame_interval_max=2 / 30, frame_interval_strays=3).vfr


@pytest.mark.media
def test_stream_without_a_decoder_is_a_media_error_not_a_traceback(tmp_path, media):
    """An M4A whose sample entry and decoder config name no known codec: PyAV gives no codec context."""
    data = bytearray(media.tone("t.m4a", seconds=1).read_bytes())
    esds = data.find(b"esds")
    config = data.find(bytes.fromhex("0480808017"), esds) + 5  # DecoderConfigDescriptor: object type 0x40 (AAC)
    assert data[config] == 0x40
    data[config] = 0xFE
    entry = data.find(b"mp4a")
    data[entry:entry + 4] = b"zzzz"
    path = tmp_path / "odd.m4a"
    path.write_bytes(bytes(data))
    errors: dict = {}
    assert probe_all([str(path)], errors=errors) == {}
    assert "stream #0 cannot be decoded" in errors[str(path)].message
    assert check_file(path, load_profile()).verdict == "fail"
