"""Children die with their parent: a render, a batch and a check are killed with SIGKILL, SIGTERM and
SIGHUP while their ffmpeg works; one second later no process they started is alive, and no temp
folder or half-written output is left.

ffmpeg is made slow with a wrapper that `exec`s the real one with `-re` (read the input at its
native rate), so there is always an ffmpeg at work when the signal arrives; `exec` keeps the
process (and its lifeline) the same.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from conftest import copy_into
from kbvideo.media.ffmpeg_bin import ffmpeg_exe

SIGNALS = {"SIGKILL": signal.SIGKILL, "SIGTERM": signal.SIGTERM, "SIGHUP": signal.SIGHUP}
BOARD = ("kampung:\n  name: Kampung KB Contoh\n  kelurahan: Jenggot\n  kota: Kota Pekalongan\n"
         "output:\n  size: 160x90\n  fps: 30\n"
         "scenes:\n  - id: a\n    topic: dashat\n    shots:\n      - clip: ../assets/a.mp4\n        duration: 20\n")


def alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def mentioning(folder: Path) -> list[psutil.Process]:
    """Every live process whose command line names something inside `folder`."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(str(folder) in part for part in proc.info["cmdline"] or ()) and alive(proc):
                found.append(proc)
        except psutil.Error:
            continue
    return found


@pytest.fixture(scope="module")
def slow_ffmpeg(tmp_path_factory) -> Path:
    wrapper = tmp_path_factory.mktemp("bin") / "ffmpeg-slow"
    wrapper.write_text(f'#!/bin/sh\nexec "{ffmpeg_exe()}" -re "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def start(command: str, root: Path, clip: Path, wrapper: Path) -> subprocess.Popen:
    (root / "storyboards").mkdir(parents=True)
    copy_into(clip, root / "assets", "a.mp4")
    (root / "storyboards" / "desa.yaml").write_text(BOARD, encoding="utf-8")
    (root / "tmp").mkdir()
    args = {"render": ["render", "storyboards/desa.yaml", "--quiet"],
            "batch": ["batch", "storyboards/desa.yaml", "-o", "out", "--quiet"],
            "check": ["check", "assets/a.mp4"]}[command]
    env = dict(os.environ, KBVIDEO_FFMPEG=str(wrapper), TMPDIR=str(root / "tmp"))
    with open(root / "log.txt", "w") as log:
        return subprocess.Popen([sys.executable, "-m", "kbvideo", *args], cwd=root, env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def wait_for_ffmpeg(proc: subprocess.Popen, root: Path) -> list[psutil.Process]:
    """The process tree once an ffmpeg is at work in it."""
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 120  # only a safety net against a hang; nothing is timed
    while time.monotonic() < deadline:
        assert proc.poll() is None, (root / "log.txt").read_text()
        tree = parent.children(recursive=True)
        working = [p for p in tree if alive(p) and os.path.basename((p.cmdline() or [""])[0]).startswith("ffmpeg")]
        if working:
            time.sleep(0.3)  # let the other children of this stage start too
            return parent.children(recursive=True)
        time.sleep(0.05)
    raise AssertionError("no ffmpeg started:\n" + (root / "log.txt").read_text())


@pytest.mark.media
@pytest.mark.parametrize("command", ["render", "batch", "check"])
def test_children_die_with_their_parent(media, tmp_path, slow_ffmpeg, command):
    clip = media.clip("long.mp4", size="64x36", seconds=20, extra=("-preset", "ultrafast"))
    runs = {name: start(command, tmp_path / name, clip, slow_ffmpeg) for name in SIGNALS}
    trees = {}
    for name, proc in runs.items():
        trees[name] = wait_for_ffmpeg(proc, tmp_path / name)
        assert any(p.name() != "sh" for p in trees[name])
        os.kill(proc.pid, SIGNALS[name])
    for name, proc in runs.items():
        code = proc.wait(timeout=60)
        if name != "SIGKILL":  # stopped by its own handler: cleaned up, exit 128 + signal (or 1 from check)
            assert code != 0 and code > 0, (name, code, (tmp_path / name / "log.txt").read_text())
    time.sleep(1.0)
    for name in SIGNALS:
        root = tmp_path / name
        survivors = [p for p in trees[name] if alive(p)] + mentioning(root)
        assert not survivors, (command, name, [p.cmdline() for p in survivors])
        leftovers = [p for p in root.rglob("*") if p.name.startswith((".kbvideo-render-", ".kbvideo-batch",
                                                                        "kbvideo-check-"))]
        assert not leftovers, (command, name, [str(p) for p in root.rglob("*")], (root / "log.txt").read_text(),
                               [f.read_text() for f in root.rglob("logs/*.log")])
        assert not list(root.rglob("out/*.mp4")), (command, name)  # no half output under any name
        log = (root / "log.txt").read_text()
        assert "Traceback" not in log, log
