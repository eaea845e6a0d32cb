"""`kbvideo render --draft --watch`: a change to the storyboard renders again; Ctrl-C leaves nothing half-written."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import copy_into

HANG_GUARD = 180  # seconds: only so that a broken watcher fails instead of hanging the suite


def reader(stream, lines: queue.Queue) -> None:
    for line in iter(stream.readline, ""):
        lines.put(line)
    lines.put(None)


def wait_for(lines: queue.Queue, text: str, seen: list[str]) -> None:
    deadline = time.monotonic() + HANG_GUARD
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line is None:
            raise AssertionError(f"the watcher ended before printing {text!r}:\n{''.join(seen)}")
        seen.append(line)
        if text in line:
            return
    raise AssertionError(f"no {text!r} in:\n{''.join(seen)}")


@pytest.mark.media
def test_watch_renders_again_after_a_change_and_stops_cleanly(media, project):
    copy_into(media.clip("red.mp4", color="red", seconds=1.2), project / "assets", "a.mp4")
    board = project / "storyboards" / "desa.yaml"
    text = ("kampung: {name: Kampung KB Contoh, kota: Kota Pekalongan}\n"
            "output: {size: 160x90, fps: 30}\n"
            "scenes:\n"
            "  - id: a\n    topic: dashat\n    shots:\n      - clip: ../assets/a.mp4\n        duration: 1\n"
            "    captions: [\"Kader memasak\"]\n")
    board.write_text(text, encoding="utf-8")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "kbvideo", "render", str(board), "--draft", "--quiet", "--watch"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=project,
                            # a shell's background job (`cmd &`) starts with Ctrl-C ignored, and a child keeps
                            # that; the test presses Ctrl-C, so the watcher must start with it at its default
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=reader, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        wait_for(lines, "rules lomba-kampung-kb-2025:", seen)
        wait_for(lines, "watching", seen)
        out = project / "out" / "desa.draft.mp4"
        first = out.stat().st_mtime_ns
        srt = project / "out" / "desa.draft.srt"
        assert "Kader memasak\n" in srt.read_text(encoding="utf-8")
        # an editor saving by writing a new file and renaming it over the storyboard
        tmp = board.with_name(".desa.yaml.swp")
        tmp.write_text(text.replace("Kader memasak", "Kader memasak bersama"), encoding="utf-8")
        os.replace(tmp, board)
        wait_for(lines, "changed: desa.yaml", seen)
        wait_for(lines, "rules lomba-kampung-kb-2025:", seen)
        wait_for(lines, "watching", seen)
        assert out.stat().st_mtime_ns != first
        assert "Kader memasak bersama" in srt.read_text(encoding="utf-8")
        assert sum("wrote " in line for line in seen) == 2
        # a half-edited storyboard is reported, and the watch goes on
        board.write_text(text.replace("duration: 1", "duraton: 1"), encoding="utf-8")
        wait_for(lines, "unknown key 'duraton'", seen)
        wait_for(lines, "watching", seen)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=HANG_GUARD) == 0, "".join(seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    wait_for(lines, "stopped watching", seen)
    leftovers = [p.name for p in (project / "out").iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers
    assert "Traceback" not in "".join(seen)
