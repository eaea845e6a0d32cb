"""The render report's per-stage figures (`.render.json` "stages", segment rows with wall and CPU):
from a tiny real render, and the child-usage plumbing under it (kbvideo.proc.wait_usage, ffmpeg.run's
`stats`). No wall-clock limits: only that figures are there, positive where work was done and
consistent with each other."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from fractions import Fraction

import pytest

from kbvideo import proc as processes
from kbvideo.errors import RenderError
from kbvideo.render import ffmpeg, render_timeline
from kbvideo.render.segments import plan_segments
from kbvideo.rules.profile import load_profile
from kbvideo.timeline.model import AudioItem, SceneSpan, Shot, TextItem, Timeline, Transition

PROFILE = dataclasses.replace(load_profile(), master_fade_in=0.0, master_fade_out=0.0)
OLD_TIMINGS = {"prepare", "proxies", "segments", "join", "finish", "check", "total"}


def tiny_timeline(media) -> Timeline:
    """160x90 at 30 fps, 1.5 s: a clip, a crossfade into a still with a caption, a cut to a title card;
    the clip's sound and a music bed."""
    red = str(media.clip("red.mp4", color="red", seconds=1.2))
    still = str(media.image("still.png", size=(64, 48)))
    music = str(media.tone("bed.m4a", seconds=2.0, freq=330))
    shots = (Shot("clip", "a", 0, 20, source=red), Shot("still", "b", 15, 20, source=still),
             Shot("card", "c", 35, 10, title="Jenggot"))
    scenes = (SceneSpan("a", "other", (), 0, 20), SceneSpan("b", "other", (), 15, 20), SceneSpan("c", "other", (), 35, 10))
    transitions = (Transition("crossfade", "a", "b", 15, 5), Transition("cut", "b", "c", 35, 0))
    texts = (TextItem("caption", "b", 20, 12, "Dashat"),)
    audio = (AudioItem("clip", red, 0, 20, 0, scene="a"), AudioItem("music", music, 0, 45, 0))
    return Timeline(Fraction(30), 160, 90, 45, scenes, shots, texts, audio, transitions)


def render(timeline, tmp_path, name, **kw):
    return render_timeline(timeline, tmp_path / name, profile=PROFILE, cache_dir=tmp_path / "cache", check=False, **kw)


@pytest.mark.media
def test_report_has_per_stage_and_per_segment_figures(media, tmp_path):
    timeline = tiny_timeline(media)
    planned = [s.name for s in plan_segments(timeline)]
    first = render(timeline, tmp_path, "one.mp4")
    report = json.loads(first.report_path.read_text(encoding="utf-8"))
    assert OLD_TIMINGS <= set(report["timings"])  # the coarse timings stay as they were
    stages, rows = report["stages"], report["segments"]
    assert stages == first.stages and rows == first.segments

    assert [r["name"] for r in rows] == planned  # every planned segment, in programme order
    for row in rows:
        assert row["cached"] is False
        assert row["wall"] > 0 and row["encode_wall"] > 0 and row["cpu"] > 0 and row["fps"] > 0
        assert row["maxrss_kib"] > 0
        assert row["wall"] >= row["encode_wall"]  # the whole job holds its ffmpeg run
        assert 0 <= row["began"] and row["began"] + row["wall"] <= report["timings"]["segments"] + 0.01
    for i, row in enumerate(rows):  # a transition starts once the bodies that hand it frames are done
        for side in row.get("handoff", {}).get("took", []):
            body = rows[i - 1 if side == 0 else i + 1]
            assert body["began"] + body["wall"] <= row["began"] + 0.01, (body["name"], row["name"])
    segments = stages["segments"]
    assert segments["count"] == len(rows) and segments["frames"] == sum(r["frames"] for r in rows) == 45
    assert segments["cpu"] == pytest.approx(sum(r["cpu"] for r in rows), abs=1e-3 * len(rows))
    assert segments["wall"] == pytest.approx(sum(r["encode_wall"] for r in rows), abs=1e-3 * len(rows))
    assert segments["maxrss_kib"] == max(r["maxrss_kib"] for r in rows)

    for step in ("sound_mix", "sound_encode", "join", "poster"):  # ffmpeg stages: wall, CPU, memory
        assert stages[step]["count"] >= 1 and stages[step]["wall"] > 0, step
        assert stages[step]["cpu"] >= 0 and stages[step]["maxrss_kib"] > 0, step
    assert stages["sound_mix"]["cpu"] > 0 and stages["sound_encode"]["cpu"] > 0
    motion = stages["motion_graphics"]  # the title card: drawn in Python, encoded by MoviePy's ffmpeg
    assert motion["count"] == 1 and motion["cpu"] > 0 and motion["frames"] == 10
    assert [(i["scene"], i["kind"], i["frames"]) for i in motion["items"]] == [("c", "card", 10)]
    assert 1 <= motion["items"][0]["drawn"] <= 10  # the frames that differ: the file holds those
    assert stages["stills"]["count"] == 1 and stages["text_overlays"]["count"] == 1
    for python_stage in ("text_check", "layout", "source_facts", "plan", "sidecars", "check"):
        assert stages[python_stage]["count"] == 1 and stages[python_stage]["wall"] >= 0, python_stage
        assert "cpu" not in stages[python_stage]  # Python-side: wall time only
    # each cached entry is sealed once: segments, the card, the fitted still, the sound and its measurements
    assert stages["seal_store"]["count"] == len(rows) + 4 and stages["seal_store"]["bytes"] > 0
    assert stages["frame_count"]["count"] == len(rows) + 1  # each segment and the joined video
    assert list(stages)[:4] == ["source_facts", "text_check", "layout", "plan"]  # in the order a render meets them

    second = render(timeline, tmp_path, "two.mp4")
    assert [r["name"] for r in second.segments] == planned
    for row in second.segments:
        assert row["cached"] is True
        assert row["cpu"] is None and row["wall"] is None and row["fps"] is None
    assert "segments" not in second.stages and "sound_mix" not in second.stages  # nothing encoded
    assert "motion_graphics" not in second.stages  # the card is only asked for by a segment being encoded
    assert second.stages["seal_check"]["count"] >= len(planned) + 2  # segments, sound and its measurements
    assert second.stages["join"]["cpu"] >= 0
    assert json.loads(second.report_path.read_text(encoding="utf-8"))["stages"] == second.stages


@pytest.mark.media
def test_draft_reports_each_proxy(media, tmp_path):
    big = str(media.clip("big.mp4", size="960x540", seconds=0.8))
    timeline = Timeline(Fraction(30), 960, 540, 12, (SceneSpan("a", "other", (), 0, 12),),
                        (Shot("clip", "a", 0, 12, source=big),), (), (AudioItem("clip", big, 0, 12, 0, scene="a"),), ())
    draft = render(timeline, tmp_path, "d.draft.mp4", draft=True)
    proxies = draft.stages["proxies"]
    assert proxies["count"] == 1 and draft.timings["proxies"] == 0.0  # made inside the segment's own run
    (item,) = proxies["items"]
    (segment,) = draft.segments
    assert item["source"] == big and item["segment"] == segment["name"] and item["stretch"] == [0.0, 0.5]
    again = render(timeline, tmp_path, "e.draft.mp4", draft=True)
    assert "proxies" not in again.stages  # every segment cached: no clip was asked for
    (tmp_path / "cache" / "segments").rename(tmp_path / "old-segments")
    third = render(timeline, tmp_path, "f.draft.mp4", draft=True)
    assert third.stages["proxies"] == {"wall": 0.0, "count": 0, "cached": 1}


# ---------------------------------------------------------------- the plumbing
def python_child(code: str) -> subprocess.Popen:
    return processes.popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)


def test_wait_usage_gives_cpu_and_memory_and_settles_the_returncode():
    proc = python_child("x = bytearray(30 * 2**20); sum(range(3 * 10**6))")
    usage = processes.wait_usage(proc, started=0.0)
    assert proc.returncode == 0 and proc.wait() == 0 and proc.poll() == 0  # not waited twice
    assert usage.cpu == usage.user + usage.system > 0 and usage.wall > 0
    assert usage.maxrss_kib >= 30 * 1024


@pytest.mark.parametrize("code,expected", [("raise SystemExit(3)", 3),
                                           ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", -signal.SIGKILL)])
def test_wait_usage_returncode_is_popens(code, expected):
    proc = python_child(code)
    processes.wait_usage(proc)
    assert proc.returncode == expected and proc.wait() == expected


def test_wait_usage_when_the_child_was_reaped_elsewhere():
    proc = python_child("pass")
    os.waitpid(proc.pid, 0)  # someone else reaped it: no usage, and no error (as Popen.wait())
    assert processes.wait_usage(proc) is None
    assert proc.returncode is not None


@pytest.mark.media
def test_ffmpeg_run_reports_its_child_and_still_returns_stderr(tmp_path):
    seen = []
    stderr = ffmpeg.run(["-f", "lavfi", "-i", "testsrc2=s=160x90:r=30:d=0.5", "-c:v", "libx264", "-f", "mp4",
                         str(tmp_path / "x.mp4")], what="a test", stats=seen.append)
    assert isinstance(stderr, str) and "libx264" in stderr
    (usage,) = seen
    assert usage.cpu > 0 and usage.wall > 0 and usage.maxrss_kib > 0
    failed = []
    with pytest.raises(RenderError):
        ffmpeg.run(["-i", str(tmp_path / "missing.mp4"), "-f", "null", "-"], what="a test", stats=failed.append)
    assert len(failed) == 1  # a failed run is reported too, before the error is raised


def test_cli_time_line_from_the_stages():
    from kbvideo.commands.render import _time_summary

    stages = {"segments": {"wall": 2.0, "count": 2, "frames": 60, "cpu": 3.5},
              "sound_mix": {"wall": 0.4, "count": 1}, "sound_encode": {"wall": 0.1, "count": 1},
              "join": {"wall": 0.3, "count": 1}}
    assert _time_summary(stages) == ("  time: segments 2.0 s of encoding (30 frames/s, 3.5 s CPU), sound 0.5 s, "
                                     "joining 0.3 s")
    assert _time_summary({"join": {"wall": 0.1, "count": 1}}) is None  # everything from the cache: no line
