"""Issue 8, render side: inputs are never written, A/V sync on offset streams, runaway work refused or
bounded, a damaged render cache heals itself, smaller CLI promises. The process test (children die
with their parent) is in test_processes.py."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

from conftest import flash_and_beep_times, run_ffmpeg
from kbvideo.cli import main
from kbvideo.errors import KbError, UsageError
from kbvideo.render import render_timeline
from kbvideo.rules.profile import load_profile
from kbvideo.timeline.model import AudioItem, SceneSpan, Shot, Timeline

REPO = Path(__file__).resolve().parent.parent
PROFILE = dataclasses.replace(load_profile(), master_fade_in=0.0, master_fade_out=0.0)  # programme fades: tests/test_look.py


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


# ------------------------------------------------------------------ 4. a damaged render cache heals itself
def two_scenes(media) -> Timeline:
    red = str(media.clip("red.mp4", color="red", seconds=1.2))
    blue = str(media.clip("blue.mp4", color="blue", seconds=1.2, tone=660))
    spans = (SceneSpan("a", "other", (), 0, 20), SceneSpan("b", "other", (), 20, 20))
    shots = (Shot("clip", "a", 0, 20, red), Shot("clip", "b", 20, 20, blue))
    audio = (AudioItem("clip", red, 0, 20, scene="a"), AudioItem("clip", blue, 20, 20, scene="b"))
    return Timeline(Fraction(30), 160, 90, 40, spans, shots, (), audio, ())


def decoded(path: Path) -> tuple[list, int]:
    """(mean RGB of every frame, number of audio samples)."""
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24").reshape(-1, 3).mean(axis=0) for f in container.decode(video=0)]
    with av.open(str(path)) as container:
        samples = sum(f.samples for f in container.decode(audio=0))
    return frames, samples


@pytest.mark.media
@pytest.mark.parametrize("damage", ["truncate-segment", "flip-bytes-in-segment", "damage-audio", "unsealed-segment"])
def test_damaged_cache_entry_is_rebuilt_with_a_notice(media, tmp_path, damage):
    timeline = two_scenes(media)
    cache = tmp_path / "cache"
    first = render_timeline(timeline, tmp_path / "first.mp4", profile=PROFILE, cache_dir=cache, check=False)
    assert first.segments_encoded == 2 and not first.notices
    segments = sorted((cache / "segments").glob("*.mp4"))
    audio = next((cache / "audio").glob("*.m4a"))
    target = audio if damage == "damage-audio" else segments[0]
    data = bytearray(target.read_bytes())
    if damage == "truncate-segment":
        target.write_bytes(data[: len(data) // 3])
    elif damage == "flip-bytes-in-segment":
        middle = len(data) // 2
        data[middle: middle + 64] = bytes(b ^ 0xFF for b in data[middle: middle + 64])
        target.write_bytes(data)  # same size: only the checksum can tell
    elif damage == "damage-audio":
        target.write_bytes(data[:200] + b"\0" * (len(data) - 200))
    else:
        target.with_name(target.name + ".sha256").unlink()  # e.g. left by a crash between file and seal
    heard = []
    again = render_timeline(timeline, tmp_path / "again.mp4", profile=PROFILE, cache_dir=cache, check=False,
                            notice=heard.append)
    assert heard == again.notices and len(heard) == 1 and target.name in heard[0] and "rebuilding" in heard[0]
    assert again.segments_encoded == (0 if damage == "damage-audio" else 1)
    frames, samples = decoded(again.path)
    assert len(frames) == 40 and samples >= 40 * 1600
    assert all(f[0] > 150 and f[2] < 90 for f in frames[:20]) and all(f[2] > 150 and f[0] < 90 for f in frames[20:])
    assert np.allclose(frames, decoded(first.path)[0], atol=2)  # the picture the undamaged cache gave
    third = render_timeline(timeline, tmp_path / "third.mp4", profile=PROFILE, cache_dir=cache, check=False)
    assert third.segments_encoded == 0 and not third.notices  # healed for good


def test_ffmpeg_hint_blames_the_cache_not_the_footage():
    from kbvideo.render.ffmpeg import _hint

    stderr = ("[in#0 @ 0x1] Error opening input: Invalid data found when processing input\n"
              "Error opening input file /p/.kbvideo-cache/render/segments/ab.mp4.")
    assert "cache" in _hint(stderr, 1, "/p/.kbvideo-cache/render") and "phone" not in _hint(stderr, 1, "/p/.kbvideo-cache/render")
    assert "re-export" in _hint(stderr.replace("/p/.kbvideo-cache/render", "/p/assets"), 1, "/p/.kbvideo-cache/render")
    assert "size limit" in _hint("", -25) and "size limit" in _hint("av_interleaved_write_frame(): File too large")


# ------------------------------------------------------------------ 3. runaway work
def test_timeline_far_past_the_profile_maximum_is_refused_unless_allowed(media, tmp_path):
    from kbvideo.render.engine import max_render_seconds

    red = str(media.clip("red.mp4", color="red", seconds=1.2))
    frames = 30 * 3600 * 27_777  # what validate measured for the hostile storyboard: 27,777 hours
    timeline = Timeline(Fraction(30), 160, 90, frames, (SceneSpan("a", "other", (), 0, frames),),
                        (Shot("clip", "a", 0, frames, red),), (), (), ())
    with pytest.raises(UsageError, match="may last 3:00, and render refuses anything over 8:00") as caught:
        render_timeline(timeline, tmp_path / "out" / "long.mp4", profile=PROFILE, cache_dir=tmp_path / "cache")
    assert "27777.0 hours" in caught.value.message and "--allow-long" in caught.value.hint
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()
    assert max_render_seconds(PROFILE) == 480.0  # 3:00 allowed → refused past 8:00
    nine = dataclasses.replace(timeline, duration=30 * 540, scenes=(SceneSpan("a", "other", (), 0, 30 * 540),),
                               shots=(Shot("clip", "a", 0, 30 * 540, red),))
    with pytest.raises(UsageError, match="lasts 9:00.0"):
        render_timeline(nine, tmp_path / "out" / "nine.mp4", profile=PROFILE, cache_dir=tmp_path / "cache")
    assert max_render_seconds(None) == 3 * 3600.0


def test_not_enough_free_space_is_said_before_any_work(media, tmp_path, monkeypatch):
    import collections

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr("kbvideo.render.engine.shutil.disk_usage", lambda path: usage(10**9, 10**9 - 50_000, 50_000))
    timeline = two_scenes(media)
    with pytest.raises(KbError, match="not enough free space") as caught:
        render_timeline(timeline, tmp_path / "out" / "v.mp4", profile=PROFILE, cache_dir=tmp_path / "cache")
    assert "0 MB are free" in caught.value.message and caught.value.hint
    assert list((tmp_path / "out").iterdir()) == []
    assert not list((tmp_path / "cache").rglob("*.mp4"))


def test_a_60000x2_picture_is_fitted_in_bounded_memory(tmp_path):
    """The blurred fill once scaled this strip to 14,400,000×480 (9.4 GB); now the crop comes first."""
    import subprocess
    import sys

    from PIL import Image

    strip = tmp_path / "strip.png"
    Image.new("RGB", (60000, 2), (220, 20, 20)).save(strip)
    assert strip.stat().st_size < 2000
    # VmHWM is the peak of this process's own address space; ru_maxrss would also carry the peak of the
    # (large, late in a test run) pytest process it was forked from, since Linux keeps it across execve.
    script = ("import sys\nfrom kbvideo.render.stills import fit_picture\n"
              "for fit in ('contain', 'cover'):\n"
              "    fit_picture(sys.argv[1], 1920, 1080, fit, 'blur', sys.argv[2] + fit + '.png')\n"
              "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')))\n")
    proc = subprocess.run([sys.executable, "-c", script, str(strip), str(tmp_path / "fit-")], capture_output=True,
                          text=True, check=True)
    assert int(proc.stdout.strip()) < 400 * 1024, proc.stdout  # kB: the process stays under 400 MB
    for fit in ("contain", "cover"):
        picture = np.asarray(Image.open(tmp_path / f"fit-{fit}.png"))
        assert picture.shape == (1080, 1920, 3)
        assert picture[540, 960, 0] > 150 and picture[540, 960, 1] < 80  # the strip's red, in the middle


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_mid_render_leave_nothing(media, tmp_path, signame):
    import signal

    from kbvideo.proc import Terminated

    sig = getattr(signal, signame)
    before = signal.getsignal(sig)  # SIG_DFL, or SIG_IGN under nohup
    out_dir = tmp_path / "out"

    def progress(done, total, stage):
        os.kill(os.getpid(), sig)

    with pytest.raises(Terminated) as caught:
        render_timeline(two_scenes(media), out_dir / "v.mp4", profile=PROFILE, cache_dir=tmp_path / "c",
                        progress=progress, jobs=1)
    assert caught.value.signum == sig
    assert sorted(p.name for p in out_dir.iterdir()) == []
    assert signal.getsignal(sig) is before  # the render puts back the handler it found


# ------------------------------------------------------------------ 6. smaller promises
@pytest.mark.media
def test_a_file_size_limit_gets_a_clear_message(media, project):
    """Under `ulimit -f` ffmpeg dies of SIGXFSZ: the message says so, never "this may be a kbvideo bug"."""
    import resource
    import subprocess
    import sys

    from conftest import copy_into

    copy_into(media.clip("red.mp4", color="red", seconds=1.2), project / "assets", "a.mp4")
    board = project / "storyboards" / "desa.yaml"
    board.write_text("kampung:\n  name: Kampung KB Contoh\n  kelurahan: Jenggot\n  kota: Kota Pekalongan\n"
                     "output:\n  size: 160x90\n  fps: 30\n"
                     "scenes:\n  - id: a\n    topic: dashat\n    shots:\n      - clip: ../assets/a.mp4\n"
                     "        duration: 1\n", encoding="utf-8")
    limit = 200_000  # bytes: the probe cache and the segments fit; the 1 s float mix (384 kB) does not

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run([sys.executable, "-m", "kbvideo", "render", str(board), "--quiet"], capture_output=True,
                          text=True, preexec_fn=small_files, cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert "size limit" in proc.stderr and "kbvideo bug" not in proc.stderr and "Traceback" not in proc.stderr
    assert not (project / "out" / "desa.mp4").exists() and not list((project / "out").glob(".kbvideo-render-*"))


def test_render_allow_outside_and_text_problems_exit_like_validate(media, project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere")
    copy = outside / "a.mp4"
    copy.write_bytes(media.clip("red.mp4", color="red", seconds=1.2).read_bytes())
    board = project / "storyboards" / "desa.yaml"
    board.write_text("kampung:\n  name: Kampung KB Contoh\n  kelurahan: Jenggot\n  kota: Kota Pekalongan\n"
                     "output:\n  size: 160x90\n  fps: 30\n"
                     f"scenes:\n  - id: a\n    topic: dashat\n    shots:\n      - clip: {copy}\n        duration: 1\n"
                     "    captions:\n      - {text: \"Kampung \u6f22\", at: 0.1, duration: 0.8}\n", encoding="utf-8")
    refused = CliRunner().invoke(main, ["render", str(board), "--quiet"])
    assert refused.exit_code == 2 and "--allow-outside" in refused.output, refused.output
    validate = CliRunner().invoke(main, ["validate", str(board), "--allow-outside"])
    render = CliRunner().invoke(main, ["render", str(board), "--quiet", "--allow-outside"])
    assert validate.exit_code == render.exit_code == 1, (validate.output, render.output)
    assert "U+6F22" in render.output and "Traceback" not in render.output
    assert not (project / "out" / "desa.mp4").exists()


def test_render_allow_long_reaches_the_renderer(media, project, monkeypatch):
    """The CLI refuses a 10-minute storyboard (exit 2, hint names --allow-long); with it, the render starts."""
    from conftest import copy_into

    copy_into(media.clip("red.mp4", color="red", seconds=1.2), project / "assets", "a.mp4")
    board = project / "storyboards" / "desa.yaml"
    board.write_text("kampung:\n  name: Kampung KB Contoh\n  kelurahan: Jenggot\n  kota: Kota Pekalongan\n"
                     "output:\n  size: 160x90\n  fps: 30\n"
                     "scenes:\n  - id: a\n    topic: dashat\n    shots:\n      - still: ../assets/a.png\n"
                     "        duration: 600\n", encoding="utf-8")
    from PIL import Image

    Image.new("RGB", (32, 18), (200, 0, 0)).save(project / "assets" / "a.png")
    refused = CliRunner().invoke(main, ["render", str(board), "--quiet"])
    assert refused.exit_code == 2 and "--allow-long" in refused.output, refused.output
    seen = {}

    def fake_render(timeline, out, **kw):
        seen.update(kw)
        raise KbError("stop here")

    monkeypatch.setattr("kbvideo.render.render_timeline", fake_render)
    allowed = CliRunner().invoke(main, ["render", str(board), "--quiet", "--allow-long"])
    assert seen["allow_long"] is True and str(board.resolve()) in map(str, seen["protect"]), allowed.output
