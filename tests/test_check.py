"""`kbvideo check` on real tiny files: one file per finding, verdict + rule id + exit code; broken files;
a mixed folder; --json / --csv / --quick; check_file() as a library call; one real subprocess run.

Files are 160x90 (or smaller) and short, made once per session, except the real 180.000 s / 180.040 s
pair at 30 fps (32x18, ultrafast) that the duration rule needs.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import run_ffmpeg
from kbvideo.check import FileReport, check_file, find_videos
from kbvideo.cli import main
from kbvideo.media.probe import probe
from kbvideo.rules.profile import load_profile

pytestmark = pytest.mark.media

TINY_RULES = {
    "name": "tiny-test",
    "title": "tiny files for tests",
    "duration": {"max": 3.0, "min": 0.5, "min_severity": "warning"},
    "video": {"width": 160, "height": 90, "fps": ["30"], "codec": "h264",
              "profiles": ["High", "Main", "Constrained Baseline"], "pix_fmt": "yuv420p",
              "interlaced": False, "sdr_only": True},
    "audio": {"required": True, "codec": "aac", "sample_rate": 48000, "channels": 2,
              "loudness": {"target": -22.0, "tolerance": 2.0, "true_peak_max": -1.0}},
    "content": {"max_black_start": 0.5, "max_black_end": 0.5, "max_silence_start": 0.5,
                "max_silence_end": 0.5, "max_freeze": 1.0},
    "delivery": {"container": "mp4", "faststart": False, "max_file_size_mb": None},
}


def write_rules(folder: Path, **sections) -> Path:
    """TINY_RULES with some keys of some sections replaced, written as YAML; returns its path."""
    data = json.loads(json.dumps(TINY_RULES))
    for section, values in sections.items():
        data[section].update(values)
    path = folder / "rules.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def rules(tmp_path) -> Path:
    return write_rules(tmp_path)


class Builder:
    """Session cache of odd files made with explicit ffmpeg arguments."""

    def __init__(self, root: Path):
        self.root = root

    def __call__(self, name: str, *args: str) -> Path:
        out = self.root / name
        if not out.exists():
            tmp = out.with_name("tmp-" + name)
            run_ffmpeg(*args, str(tmp))
            tmp.rename(out)
        return out


@pytest.fixture(scope="session")
def build(tmp_path_factory) -> Builder:
    return Builder(tmp_path_factory.mktemp("check-media"))


TESTSRC = "testsrc2=s=160x90:r=30"
SINE = "sine=frequency=440:sample_rate=48000"
AAC = ("-c:a", "aac", "-ac", "2")
H264 = ("-c:v", "libx264", "-pix_fmt", "yuv420p")


def run_check(*args: str):
    result = CliRunner().invoke(main, ["check", *map(str, args)])
    assert "Traceback" not in result.output + result.stderr, result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def check_json(*args) -> tuple[int, dict]:
    result = run_check("--json", *args)
    return result.exit_code, json.loads(result.stdout)


def only_file(data: dict) -> dict:
    assert len(data["files"]) == 1
    return data["files"][0]


def rule_ids(file_entry: dict) -> dict[str, dict]:
    return {f["rule"]: f for f in file_entry["findings"]}


# ---------------------------------------------------------------------------------------------- good file


def test_good_file_passes(media, rules):
    code, data = check_json("--rules", rules, media.clip(seconds=1.0))
    entry = only_file(data)
    assert code == 0
    assert data["rules"] == "tiny-test"
    assert entry["verdict"] == "pass", entry["findings"]
    assert entry["findings"] == []
    assert entry["duration"] == 1.0
    assert entry["size_bytes"] > 0


def test_table_output_and_summary(media, rules):
    result = run_check("--rules", rules, media.clip(seconds=1.0))
    assert result.exit_code == 0
    header, row = result.stdout.splitlines()[:2]
    assert header.split() == ["FILE", "VERDICT", "DURATION", "SIZE"]
    assert row.split()[1:3] == ["PASS", "0:01.000"]
    assert "1 file checked against tiny-test: 1 pass, 0 warn, 0 fail" in result.stderr


# ---------------------------------------------------------------------------------------------- duration


@pytest.fixture(scope="session")
def three_minutes(build) -> tuple[Path, Path]:
    """The real pair: 180.000 s and 180.040 s at 30 fps (32x18 ultrafast: cheap)."""
    def make(name, seconds):
        return build(name, "-f", "lavfi", "-i", "testsrc2=s=32x18:r=30", "-f", "lavfi", "-i", SINE,
                     "-t", seconds, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *AAC,
                     "-movflags", "+faststart")
    return make("exact-180.000.mp4", "180"), make("over-180.040.mp4", "180.04")


def test_duration_180_000_passes_and_180_040_fails_by_one_frame(three_minutes, tmp_path):
    exact, over = three_minutes
    rules = write_rules(tmp_path, duration={"max": 180.0, "min": 150.0},
                        video={"width": 32, "height": 18}, content={"max_freeze": None})
    code, data = check_json("--rules", rules, exact, over)
    assert code == 1
    first, second = data["files"]
    assert first["verdict"] == "pass", first["findings"]
    assert first["duration"] == 180.0
    assert second["verdict"] == "fail"
    finding = rule_ids(second)["duration.max"]
    assert finding["severity"] == "error"
    assert finding["message"] == "3:00.040 is 0.040 s (1 frame) over the 3:00.000 limit"
    assert (finding["measured"], finding["limit"], finding["frames_over"]) == (180.04, 180.0, 1)
    # the header alone (--quick) says the same
    code, data = check_json("--quick", "--rules", rules, over)
    assert code == 1
    assert rule_ids(only_file(data))["duration.max"]["message"] == "3:00.040 is 0.040 s (1 frame) over the 3:00.000 limit"


def test_duration_max_with_a_short_limit(media, tmp_path):
    rules = write_rules(tmp_path, duration={"max": 1.0})
    code, data = check_json("--rules", rules, media.clip(seconds=1.2))
    finding = rule_ids(only_file(data))["duration.max"]
    assert code == 1
    assert finding["message"] == "0:01.200 is 0.200 s (6 frames) over the 0:01.000 limit"


def test_duration_min_warns_by_default_and_fails_when_the_profile_says_so(media, tmp_path):
    clip = media.clip(seconds=1.0)
    code, data = check_json("--rules", write_rules(tmp_path, duration={"min": 2.0}), clip)
    assert (code, only_file(data)["verdict"]) == (0, "warn")
    assert rule_ids(only_file(data))["duration.min"]["severity"] == "warning"
    code, data = check_json("--rules", write_rules(tmp_path, duration={"min": 2.0, "min_severity": "error"}), clip)
    assert (code, only_file(data)["verdict"]) == (1, "fail")


def test_duration_streams_audio_much_longer_than_video(build, rules):
    path = build("long-audio.mp4", "-f", "lavfi", "-i", f"{TESTSRC}:d=0.5", "-f", "lavfi", "-i", f"{SINE}:d=2",
                 *H264, *AAC)
    code, data = check_json("--rules", rules, path)
    finding = rule_ids(only_file(data))["duration.streams"]
    assert code == 1
    assert finding["severity"] == "error"
    assert "audio runs 0:02.000 but video only 0:00.500" in finding["message"]


# ---------------------------------------------------------------------------------------------- video


@pytest.mark.parametrize("kwargs, rule", [
    (dict(vcodec="mpeg4"), "video.codec"),
    (dict(pix_fmt="yuv444p"), "video.pix_fmt"),
    (dict(fps="25"), "video.fps"),
    (dict(size="128x72"), "video.resolution"),
])
def test_video_errors(media, rules, kwargs, rule):
    code, data = check_json("--rules", rules, media.clip(seconds=1.0, **kwargs))
    entry = only_file(data)
    assert code == 1
    assert entry["verdict"] == "fail"
    assert rule_ids(entry)[rule]["severity"] == "error"


def test_video_profile_not_allowed_is_a_warning(media, tmp_path):
    rules = write_rules(tmp_path, video={"profiles": ["Main"]})
    code, data = check_json("--rules", rules, media.clip(seconds=1.0))
    finding = rule_ids(only_file(data))["video.profile"]
    assert (code, only_file(data)["verdict"], finding["measured"]) == (0, "warn", "High")


def test_portrait_phone_file_is_90x160_as_displayed(media, rules):
    path = media.clip(seconds=1.0, rotate=90)
    code, data = check_json("--rules", rules, path)
    finding = rule_ids(only_file(data))["video.resolution"]
    assert code == 1
    assert finding["measured"] == "90x160"
    assert finding["rotation"] in (90, 270)  # ffmpeg's -display_rotation 90 is counter-clockwise
    assert "90x160 as displayed (stored 160x90, rotated" in finding["message"]


def test_variable_frame_rate(build, rules):
    path = build("vfr.mp4", "-f", "lavfi", "-i", f"{TESTSRC}:d=2", "-f", "lavfi", "-i", f"{SINE}:d=1.5",
                 "-vf", "setpts='if(lt(N,30),N/30,1+(N-30)/15)/TB'", "-fps_mode", "vfr", *H264, *AAC, "-t", "1.5")
    code, data = check_json("--rules", write_rules(Path(rules).parent, video={"fps": []}), path)
    finding = rule_ids(only_file(data))["video.vfr"]
    assert finding["severity"] == "warning"
    assert (finding["interval_min"], finding["interval_max"]) == (pytest.approx(1 / 30, abs=1e-4), pytest.approx(1 / 15, abs=1e-4))
    assert code == 0


def test_interlaced(build, tmp_path):
    path = build("interlaced.mp4", "-f", "lavfi", "-i", "testsrc2=s=160x96:r=30:d=1", "-f", "lavfi", "-i", f"{SINE}:d=1",
                 "-c:v", "libx264", "-flags", "+ilme+ildct", "-field_order", "tt", "-pix_fmt", "yuv420p", *AAC)
    rules = write_rules(tmp_path, video={"height": 96})
    code, data = check_json("--rules", rules, path)
    assert code == 1
    assert rule_ids(only_file(data))["video.interlaced"]["measured"] == "tt"


def test_hdr_tags_on_8bit_video(build, rules):
    path = build("hlg-tags.mp4", "-f", "lavfi", "-i", f"{TESTSRC}:d=1", "-f", "lavfi", "-i", f"{SINE}:d=1",
                 "-vf", "setparams=color_trc=arib-std-b67:color_primaries=bt2020:colorspace=bt2020nc", *H264, *AAC)
    code, data = check_json("--rules", rules, path)
    finding = rule_ids(only_file(data))["video.hdr_tags"]
    assert code == 1
    assert "'arib-std-b67' on 8-bit video" in finding["message"]


def test_cover_art_is_info_and_not_the_video(media, build, rules):
    cover = media.image("cover.png", size=(64, 48))
    path = build("with-cover.mp4", "-i", str(media.clip(seconds=1.0)), "-i", str(cover), "-map", "0", "-map", "1",
                 "-c", "copy", "-disposition:v:1", "attached_pic")
    assert [v.is_cover_art for v in probe(path).video] == [False, True]
    code, data = check_json("--rules", rules, path)
    entry = only_file(data)
    assert (code, entry["verdict"]) == (0, "pass")
    assert rule_ids(entry)["video.cover_art"]["severity"] == "info"
    assert entry["duration"] == 1.0  # the cover picture did not become the video


# ---------------------------------------------------------------------------------------------- audio


def test_no_audio(media, rules):
    code, data = check_json("--rules", rules, media.clip(seconds=1.0, audio=False))
    assert code == 1
    assert rule_ids(only_file(data))["audio.present"]["severity"] == "error"


def test_audio_codec(build, rules):
    path = build("mp3-audio.mp4", "-f", "lavfi", "-i", f"{TESTSRC}:d=1", "-f", "lavfi", "-i", f"{SINE}:d=1",
                 *H264, "-c:a", "libmp3lame", "-ac", "2")
    code, data = check_json("--rules", rules, path)
    assert code == 1
    assert rule_ids(only_file(data))["audio.codec"]["measured"] == "mp3"


@pytest.mark.parametrize("kwargs, rule, measured", [
    (dict(sample_rate=44100), "audio.sample_rate", 44100),
    (dict(channels=1), "audio.channels", 1),
])
def test_audio_warnings(media, rules, kwargs, rule, measured):
    code, data = check_json("--rules", rules, media.clip(seconds=1.0, **kwargs))
    entry = only_file(data)
    assert (code, entry["verdict"]) == (0, "warn")
    assert rule_ids(entry)[rule]["measured"] == measured


def test_several_audio_streams(build, rules):
    path = build("two-audio.mp4", "-f", "lavfi", "-i", f"{TESTSRC}:d=1", "-f", "lavfi", "-i", f"{SINE}:d=1",
                 "-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000:d=1", "-map", "0", "-map", "1", "-map", "2",
                 *H264, *AAC)
    code, data = check_json("--rules", rules, path)
    assert code == 0
    assert rule_ids(only_file(data))["audio.streams"]["measured"] == 2


def test_loudness_off_target(media, tmp_path):
    rules = write_rules(tmp_path, audio={"loudness": {"target": -14.0, "tolerance": 1.0, "true_peak_max": -1.0}})
    code, data = check_json("--rules", rules, media.clip(seconds=1.0))
    finding = rule_ids(only_file(data))["audio.loudness"]
    assert code == 0
    assert finding["severity"] == "warning"
    assert -23.0 < finding["measured"] < -20.0  # a sine at 1/8 full scale
    assert "below the -14.0 LUFS target (±1.0 LU)" in finding["message"]


def test_true_peak_over(build, tmp_path):
    path = build("clipping.mp4", "-f", "lavfi", "-i", f"{TESTSRC}:d=1", "-f", "lavfi", "-i", f"{SINE}:d=1",
                 "-af", "volume=24dB", *H264, *AAC)
    rules = write_rules(tmp_path, audio={"loudness": None})
    code, data = check_json("--rules", rules, path)
    assert "audio.true_peak" not in rule_ids(only_file(data))  # no loudness section: neither rule runs
    rules = write_rules(tmp_path, audio={"loudness": {"target": -1.0, "tolerance": 5.0, "true_peak_max": -1.0}})
    code, data = check_json("--rules", rules, path)
    finding = rule_ids(only_file(data))["audio.true_peak"]
    assert finding["measured"] > -1.0
    assert (code, finding["severity"]) == (0, "warning")


# ---------------------------------------------------------------------------------------------- content


@pytest.fixture(scope="session")
def content_files(build) -> dict[str, Path]:
    """0.8 s of black / silence at the start or the end of a 2 s clip; a 2 s frozen (grey) picture."""
    black = "color=c=black:s=160x90:r=30:d=0.8"
    moving = f"{TESTSRC}:d=1.2"
    def picture(name, first, second, audio_filter):
        return build(name, "-f", "lavfi", "-i", first, "-f", "lavfi", "-i", second, "-f", "lavfi", "-i", f"{SINE}:d=2",
                     "-filter_complex", f"[0:v][1:v]concat=n=2:v=1[v];[2:a]{audio_filter}[a]", "-map", "[v]", "-map", "[a]",
                     *H264, *AAC)
    return {
        "black_start": picture("black-start.mp4", black, moving, "anull"),
        "black_end": picture("black-end.mp4", moving, black, "anull"),
        "silence_start": picture("silence-start.mp4", f"{TESTSRC}:d=1", f"{TESTSRC}:d=1",
                                 "volume=enable='lt(t,0.8)':volume=0"),
        "silence_end": picture("silence-end.mp4", f"{TESTSRC}:d=1", f"{TESTSRC}:d=1",
                               "volume=enable='gte(t,1.2)':volume=0"),
        "freeze": build("frozen.mp4", "-f", "lavfi", "-i", "color=c=gray:s=160x90:r=30:d=2", "-f", "lavfi",
                        "-i", f"{SINE}:d=2", *H264, *AAC),
    }


@pytest.mark.parametrize("kind", ["black_start", "black_end", "silence_start", "silence_end", "freeze"])
def test_content_stretches(content_files, rules, kind):
    code, data = check_json("--rules", rules, content_files[kind])
    entry = only_file(data)
    found = rule_ids(entry)
    assert f"content.{kind}" in found, entry["findings"]
    assert {f"content.{k}" for k in ("black_start", "black_end", "silence_start", "silence_end", "freeze")} & set(found) \
        == {f"content.{kind}"}
    finding = found[f"content.{kind}"]
    expected = 2.0 if kind == "freeze" else 0.8
    assert finding["measured"] == pytest.approx(expected, abs=0.05)
    assert finding["limit"] == (1.0 if kind == "freeze" else 0.5)
    assert (code, entry["verdict"], finding["severity"]) == (0, "warn", "warning")


def test_content_limits_come_from_the_profile(content_files, tmp_path):
    rules = write_rules(tmp_path, content={"max_black_start": 1.0})
    code, data = check_json("--rules", rules, content_files["black_start"])
    assert "content.black_start" not in rule_ids(only_file(data))


# ---------------------------------------------------------------------------------------------- delivery


def test_faststart(media, tmp_path):
    rules = write_rules(tmp_path, delivery={"faststart": True})
    code, data = check_json("--rules", rules, media.clip(seconds=1.0))
    assert (code, rule_ids(only_file(data))["delivery.faststart"]["severity"]) == (0, "warning")
    code, data = check_json("--rules", rules, media.clip(seconds=1.0, extra=("-movflags", "+faststart")))
    assert "delivery.faststart" not in rule_ids(only_file(data))


def test_file_size_limit(media, tmp_path):
    rules = write_rules(tmp_path, delivery={"max_file_size_mb": 0.01})
    code, data = check_json("--rules", rules, media.clip(seconds=1.0))
    finding = rule_ids(only_file(data))["delivery.file_size"]
    assert (code, finding["severity"], finding["limit"]) == (1, "error", 0.01)


def test_container_not_mp4(media, rules):
    code, data = check_json("--rules", rules, media.clip("clip.mkv", seconds=1.0))
    assert code == 1
    assert rule_ids(only_file(data))["delivery.container"]["severity"] == "error"


# ---------------------------------------------------------------------------------------------- broken files


@pytest.fixture
def broken(media, build, tmp_path) -> dict[str, Path]:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("this is not a video\n")
    full = build("faststart.mp4", "-f", "lavfi", "-i", f"{TESTSRC}:d=2", "-f", "lavfi", "-i", f"{SINE}:d=2",
                 *H264, *AAC, "-movflags", "+faststart")
    data = full.read_bytes()
    (folder / "cut.mp4").write_bytes(data[: len(data) // 2])  # a copy that stopped half way
    no_index = media.clip(seconds=1.0).read_bytes()  # moov at the end: cutting loses the index
    (folder / "no-index.mp4").write_bytes(no_index[: len(no_index) * 9 // 10])
    # the header is whole and claims 2 s, but the second half of the media data is zeros: decodes short
    zeroed = bytearray(data)
    mdat = zeroed.find(b"mdat") - 4
    size = int.from_bytes(zeroed[mdat:mdat + 4], "big")
    zeroed[mdat + 8 + size // 2: mdat + size] = bytes(size - 8 - size // 2)
    (folder / "zeroed.mp4").write_bytes(bytes(zeroed))
    return {p.stem: p for p in folder.iterdir()}


@pytest.mark.parametrize("name, rule, text", [
    ("empty", "file.readable", "empty file (0 bytes)"),
    ("notes", "file.readable", "not a media file"),
    ("no-index", "file.readable", "moov"),
    ("cut", "file.truncated", "truncated"),
    ("zeroed", "file.truncated", "its header claims"),
])
def test_broken_files_fail_with_a_reason(broken, rules, name, rule, text):
    code, data = check_json("--rules", rules, broken[name])
    entry = only_file(data)
    assert code == 1
    assert entry["verdict"] == "fail"
    finding = rule_ids(entry)[rule]
    assert finding["severity"] == "error"
    assert text in finding["message"]


def test_truncated_decode_is_caught_although_ffmpeg_exits_cleanly(broken):
    report = check_file(broken["zeroed"], load_profile(str(write_rules(broken["zeroed"].parent))))
    assert report.analysis is not None and report.analysis.exit_code == 0  # ffmpeg says all is well...
    assert report.analysis.video_end < 1.9  # ...but the picture stops early
    assert "file.truncated" in report.rules


def test_check_file_never_raises(tmp_path):
    profile = load_profile()
    missing = check_file(tmp_path / "nope.mp4", profile)
    assert (missing.verdict, missing.rules) == ("fail", ["file.readable"])
    folder = check_file(tmp_path, profile)
    assert folder.verdict == "fail"
    garbage = tmp_path / "garbage.mov"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 8)
    report = check_file(garbage, profile)
    assert isinstance(report, FileReport) and report.verdict == "fail"
    assert report.to_dict()["findings"][0]["rule"] in ("file.readable", "file.truncated")


# ---------------------------------------------------------------------------------------------- folders, formats


@pytest.fixture
def mixed_folder(media, broken, content_files, tmp_path) -> Path:
    folder = tmp_path / "entries"
    (folder / "kota" / "nested").mkdir(parents=True)
    shutil.copy(media.clip(seconds=1.0), folder / "kota" / "good.mp4")
    shutil.copy(content_files["black_start"], folder / "kota" / "nested" / "warned.mp4")
    shutil.copy(media.clip(seconds=1.0, fps="25"), folder / "bad-fps.mp4")
    for name in ("empty", "notes", "cut"):
        shutil.copy(broken[name], folder / f"{name}.mp4")
    (folder / "readme.txt").write_text("not scanned")
    (folder / ".hidden").mkdir()
    shutil.copy(broken["empty"], folder / ".hidden" / "skipped.mp4")
    return folder


def test_mixed_folder_complete_report_and_exit_1(mixed_folder, rules, tmp_path):
    report_csv = tmp_path / "report.csv"
    result = run_check("--rules", rules, "--csv", report_csv, mixed_folder)
    assert result.exit_code == 1
    out = result.stdout
    for name in ("good.mp4", "warned.mp4", "bad-fps.mp4", "empty.mp4", "notes.mp4", "cut.mp4"):
        assert name in out
    assert "skipped.mp4" not in out and "readme.txt" not in out
    assert "6 files checked against tiny-test: 1 pass, 1 warn, 4 fail" in result.stderr
    rows = list(csv.DictReader(report_csv.open(encoding="utf-8")))
    by_name = {Path(r["path"]).name: r for r in rows}
    assert len(rows) == 6
    assert by_name["good.mp4"]["verdict"] == "pass" and by_name["good.mp4"]["rules"] == ""
    assert by_name["warned.mp4"]["verdict"] == "warn"
    assert by_name["warned.mp4"]["rules"] == "content.black_start"
    assert by_name["bad-fps.mp4"]["rules"] == "video.fps"
    assert by_name["empty.mp4"]["errors"] == "1" and by_name["empty.mp4"]["duration"] == ""
    assert "file.truncated" in by_name["cut.mp4"]["reasons"]
    assert float(by_name["good.mp4"]["duration"]) == 1.0


def test_json_shape(mixed_folder, rules):
    code, data = check_json("--rules", rules, mixed_folder)
    assert code == 1
    assert set(data) >= {"rules", "files"}
    assert len(data["files"]) == 6
    for entry in data["files"]:
        assert {"path", "verdict", "duration", "findings"} <= set(entry)
        assert entry["verdict"] in ("pass", "warn", "fail")
        for finding in entry["findings"]:
            assert {"rule", "severity", "message"} <= set(finding)
            assert finding["severity"] in ("error", "warning", "info")
    json.dumps(data, allow_nan=False)  # no NaN/Infinity anywhere


def test_quick_reads_header_and_audio_only(content_files, media, rules):
    code, data = check_json("--quick", "--rules", rules, content_files["black_start"], content_files["silence_end"])
    black, silence = data["files"]
    assert "content.black_start" not in rule_ids(black)  # no video decode
    assert black["verdict"] == "pass" and black["quick"] is True
    assert rule_ids(silence)["content.silence_end"]["severity"] == "warning"  # audio is still decoded
    assert code == 0
    report = check_file(media.clip(seconds=1.0), load_profile(str(rules)), quick=True)
    assert report.analysis.video_decoded is False and report.analysis.audio_decoded is True
    assert report.analysis.loudness_lufs is not None


def test_progress_callback_reports_decoded_time(media, rules):
    seen = []
    check_file(media.clip(seconds=1.0), load_profile(str(rules)), progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == pytest.approx(1.0, abs=0.1) and seen[-1][1] == pytest.approx(1.0, abs=0.05)


def test_find_videos_walks_folders_once(mixed_folder):
    found = list(find_videos([mixed_folder, mixed_folder / "bad-fps.mp4"]))
    assert [p.name for p in found].count("bad-fps.mp4") == 1
    assert len(found) == 6


# ---------------------------------------------------------------------------------------------- misuse


def test_unknown_rules_profile_exits_2(media):
    result = CliRunner().invoke(main, ["check", "--rules", "no-such-profile", str(media.clip(seconds=1.0))])
    assert result.exit_code == 2
    assert "unknown rules profile 'no-such-profile'" in result.stderr


def test_unreadable_rules_file_exits_2(media, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("duration: {maximum: 3}\n")
    result = CliRunner().invoke(main, ["check", "--rules", str(bad), str(media.clip(seconds=1.0))])
    assert result.exit_code == 2
    assert "unknown key 'duration.maximum'" in result.stderr


def test_folder_without_videos_and_missing_path_exit_2(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert "no video files found" in result.stderr
    assert CliRunner().invoke(main, ["check", str(tmp_path / "missing.mp4")]).exit_code == 2


# ---------------------------------------------------------------------------------------------- real process


def test_python_m_kbvideo_check_subprocess(media, broken, rules):
    proc = subprocess.run([sys.executable, "-m", "kbvideo", "check", "--json", "--rules", str(rules),
                           str(media.clip(seconds=1.0)), str(broken["notes"])],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    assert [f["verdict"] for f in data["files"]] == ["pass", "fail"]
    assert "2 files checked" in proc.stderr


def test_interrupt_kills_the_ffmpeg_child(media, monkeypatch):
    """Ctrl-C during the decode (here: the progress callback raising) leaves no ffmpeg running."""
    import kbvideo.check.analyze as analyze_module

    path = media.clip(seconds=2.0)
    info = probe(path)
    started = []
    real_popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        started.append(proc)
        return proc

    monkeypatch.setattr(analyze_module.subprocess, "Popen", recording_popen)

    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        analyze_module.analyze_file(path, info, progress=interrupt)
    decoders = [proc for proc in started if proc.args[0] != "/bin/sh"]  # not the temp folder's lifeline helper
    assert len(decoders) == 1
    assert all(proc.poll() is not None for proc in started)  # reaped, not left running
