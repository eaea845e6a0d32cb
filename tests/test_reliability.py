"""Issue 8, render side: inputs are never written, A/V sync on offset streams, runaway work refused or
bounded, a damaged render cache heals itself, smaller CLI promises. The process test (children die
with their parent) is in test_processes.py."""

from __future__ import annotations

import hashlib
import os
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

from conftest import run_ffmpeg
from kbvideo.cli import main
from kbvideo.errors import KbError, UsageError
from kbvideo.render import render_timeline
from kbvideo.rules.profile import load_profile
from kbvideo.timeline.model import AudioItem, SceneSpan, Shot, Timeline

REPO = Path(__file__).resolve().parent.parent
PROFILE = load_profile()


def md5_tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and ".kbvideo-cache" not in p.parts}


@pytest.fixture
def sample(tmp_path) -> Path:
    """A copy of the sample project (storyboards/ + assets/)."""
    for name in ("storyboards", "assets"):
        shutil.copytree(REPO / name, tmp_path / name)
    return tmp_path


# ------------------------------------------------------------------ 1. data loss
def test_no_output_or_sidecar_may_replace_an_input(sample, monkeypatch):
    """`-o assets/stills/kader.mp4` would put the poster on the input photo kader.jpg: refused, any spelling."""
    monkeypatch.chdir(sample)
    (sample / "stills-link").symlink_to(sample / "assets" / "stills")
    before = md5_tree(sample)
    for out in ("assets/stills/kader.mp4", "./assets/clips/../stills/kader.mp4", "stills-link/kader.mp4",
                str(sample / "assets" / "stills" / "kader.mp4")):
        result = CliRunner().invoke(main, ["render", "--draft", "--quiet", "storyboards/jenggot.yaml", "-o", out])
        assert result.exit_code == 2, (out, result.output)
        assert "refusing to write" in result.output and "kader.jpg" in result.output, result.output
        assert "Traceback" not in result.output
    assert md5_tree(sample) == before
    assert not list(sample.rglob(".kbvideo-render-*"))


def test_guard_also_protects_the_storyboard_and_other_given_files(tmp_path):
    from kbvideo.fsutil import InputGuard

    board = tmp_path / "desa.render.json"
    board.write_text("{}")
    guard = InputGuard([tmp_path / "a.mp4", board])
    guard.check(tmp_path / "other.jpg")
    for clash in (tmp_path / "a.mp4", tmp_path / "x" / ".." / "desa.render.json"):
        with pytest.raises(UsageError, match="same file as the input"):
            guard.check(clash)
    hard = tmp_path / "hard.json"
    os.link(board, hard)  # same inode, another name
    with pytest.raises(UsageError):
        guard.check(hard)


# ------------------------------------------------------------------ 2. A/V sync on streams that start apart
def flash_and_beep(tmp_path: Path, late: str) -> Path:
    """4 s at 30 fps: a white flash and a 1 kHz beep at the same moment, 2.0 s into the file; the
    `late` stream ("audio" or "video") starts 0.5 s after the other (an MP4 edit list, as phones write)."""
    def video(path, at, seconds):
        run_ffmpeg("-f", "lavfi", "-i", f"color=c=black:s=64x36:r=30:d={seconds},"
                   f"geq=lum='if(between(T,{at - 0.001},{at + 0.09}),235,16)':cb=128:cr=128",
                   "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "30", str(path))

    def audio(path, at, seconds):
        run_ffmpeg("-f", "lavfi", "-i", f"aevalsrc='if(between(t,{at},{at + 0.1}),0.5*sin(2*PI*1000*t),0)':s=48000:"
                   f"d={seconds}", "-c:a", "aac", str(path))

    v, a, out = tmp_path / f"v-{late}.mp4", tmp_path / f"a-{late}.m4a", tmp_path / f"{late}-late.mp4"
    if late == "audio":
        video(v, 2.0, 4)
        audio(a, 1.5, 3.5)
        run_ffmpeg("-i", str(v), "-itsoffset", "0.5", "-i", str(a), "-map", "0:v", "-map", "1:a", "-c", "copy", str(out))
    else:
        video(v, 1.5, 3.5)
        audio(a, 2.0, 4)
        run_ffmpeg("-itsoffset", "0.5", "-i", str(v), "-i", str(a), "-map", "0:v", "-map", "1:a", "-c", "copy", str(out))
    return out


def flash_and_beep_times(path: Path) -> tuple[float, float]:
    """(first frame brighter than mid-grey, first sample louder than 0.05) in seconds of the output."""
    with av.open(str(path)) as container:
        flash = next(float(f.pts * f.time_base) for f in container.decode(video=0)
                     if f.to_ndarray(format="gray").mean() > 100)
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            loud = np.nonzero(np.abs(frame.to_ndarray()[0]) > 0.05)[0]
            if len(loud):
                return flash, float(frame.pts * frame.time_base) + loud[0] / frame.sample_rate
    raise AssertionError("no beep in the output")


@pytest.mark.media
@pytest.mark.parametrize("late", ["audio", "video"])
def test_trim_keeps_sync_when_streams_start_apart(tmp_path, late):
    src = flash_and_beep(tmp_path, late)
    with av.open(str(src)) as container:  # the fixture really has the offset
        starts = {s.type: float(s.start_time * s.time_base) for s in container.streams}
    assert abs(starts[late] - starts["video" if late == "audio" else "audio"]) > 0.45
    path = str(src)
    timeline = Timeline(Fraction(30), 64, 36, 60, (SceneSpan("a", "other", (), 0, 60),),
                        (Shot("clip", "a", 0, 60, path, source_in=30),), (),  # in: 1 (30 frames)
                        (AudioItem("clip", path, 0, 60, 30, scene="a"),), ())
    for draft in (False, True):  # the draft reads a proxy of the video: same timing
        out = render_timeline(timeline, tmp_path / f"out-{draft}.mp4", profile=PROFILE, draft=draft,
                              cache_dir=tmp_path / "cache", check=False).path
        flash, beep = flash_and_beep_times(out)
        assert flash == pytest.approx(1.0, abs=1 / 30 + 1e-6), (late, draft, flash)  # 2.0 s in the source, in: 1
        assert beep == pytest.approx(flash, abs=1 / 30), (late, draft, flash, beep)
