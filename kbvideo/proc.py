"""Child processes that die with their parent, and signals that unwind like Ctrl-C.

Every process kbvideo starts (ffmpeg for render and check, the batch's worker processes) goes
through `popen()`:

- On Linux the child gets a *lifeline*: `prctl(PR_SET_PDEATHSIG)` set between fork and exec, so
  the kernel sends it a signal the moment the thread that started it dies, whatever killed the
  parent (SIGKILL, the OOM killer, a crash). ffmpeg gets SIGKILL (nothing of its work is worth
  keeping); a batch worker gets SIGTERM, so it can kill its own ffmpeg and remove its temp folder.
  The setting survives `exec` (a wrapper script that execs ffmpeg keeps it). Note: "parent" is
  the *thread* that forked, so a child must be waited for by the thread that started it (every
  spawn site does: they run the child to its end).
- `new_session=True` (the default) puts the child in its own session and process group: Ctrl-C
  and a closing terminal (SIGHUP) reach kbvideo, which then stops its children itself, instead of
  ffmpeg half-finishing a file; and `kill_group()` kills ffmpeg with anything it started.

`wait_usage()` waits for a child like `Popen.wait()` and also returns what it used (CPU time and
peak memory, from `os.wait4`): the render report's per-stage figures.

`Lifeline` removes folders when this process dies by SIGKILL (a tiny `sh` waits on a pipe whose
other end only this process holds). `on_signals()` turns SIGTERM and SIGHUP into `Terminated`
(a KeyboardInterrupt), so `finally:` blocks run and temp files are removed.

This module is low-level: it imports nothing from kbvideo.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

PR_SET_PDEATHSIG = 1

STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)


def _load_prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):  # pragma: no cover - musl without prctl, odd builds
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


_PRCTL = _load_prctl()  # looked up once in the parent: the child, between fork and exec, only calls it


def has_lifeline() -> bool:
    """True where children are tied to their parent by the kernel (Linux)."""
    return _PRCTL is not None


def _preexec(death_signal: int, parent: int):
    prctl = _PRCTL

    def setup() -> None:  # runs in the child between fork and exec: no imports, no locks, no allocation to speak of
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before the lifeline was tied
                os._exit(1)

    return setup


def usable_cores() -> int:
    """CPUs this process may run on (its affinity where the system says, else every CPU)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl-C, so temp files are removed on the way out."""

    def __init__(self, signum: int):
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum


def popen(argv: Sequence[str], *, death_signal: int = signal.SIGKILL, new_session: bool = True,
          **kwargs) -> subprocess.Popen:
    """subprocess.Popen with a lifeline (see the module docstring). Other arguments as Popen's."""
    return subprocess.Popen(list(argv), preexec_fn=_preexec(int(death_signal), os.getpid()),
                            start_new_session=new_session, **kwargs)


@dataclass(frozen=True, slots=True)
class Usage:
    """What one child process used: wall seconds (start to end, as its caller saw them), CPU seconds in
    user and system mode, and its peak resident memory in KiB (None where unknown)."""

    wall: float
    user: float = 0.0
    system: float = 0.0
    maxrss_kib: int | None = None

    @property
    def cpu(self) -> float:
        return self.user + self.system


def wait_usage(proc: subprocess.Popen, started: float | None = None) -> Usage | None:
    """Wait for `proc` to end, like `proc.wait()`, and return its resource usage (None where the
    system cannot tell). `started`: its `time.perf_counter()` at start, for the wall time.

    The child is reaped with `os.wait4`, which gives its rusage; `proc.returncode` is set from the
    status exactly as `Popen.wait()` would (negative signal number when killed), so a later
    `proc.wait()` or `proc.poll()` returns it without waiting again. When the child cannot be waited
    for here (already reaped, SIGCHLD ignored) or on systems without `wait4`, `proc.wait()` does it
    and None is returned. Only one thread may wait for a given child (as with every spawn site here).
    """
    if proc.returncode is not None or not hasattr(os, "wait4"):
        proc.wait()
        return None
    try:
        _pid, status, usage = os.wait4(proc.pid, 0)
    except ChildProcessError:  # reaped elsewhere or SIGCHLD ignored: Popen knows how to settle that
        proc.wait()
        return None
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started if started is not None else 0.0
    maxrss = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss  # bytes there, KiB on Linux
    return Usage(wall, usage.ru_utime, usage.ru_stime, int(maxrss))


def kill_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal the child's process group (it is its own group leader when started with new_session)."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            proc.send_signal(sig)
        except (ProcessLookupError, OSError):
            pass


@contextlib.contextmanager
def on_signals(signals: Iterable[int] = STOP_SIGNALS) -> Iterator[None]:
    """Within the block, SIGTERM/SIGHUP raise `Terminated` in the main thread (no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated(signum)

    previous = {}
    for sig in signals:
        try:
            previous[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):  # pragma: no cover
            pass
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class Lifeline:
    """Removes `paths` when this process ends, however it ends (also SIGKILL).

    A tiny `sh` child reads a pipe whose write end only this process holds; end of file means this
    process is gone (or `close()` was called), and the child removes the paths that are still there.
    Removing them normally is still the owner's job: this is the net under it.
    """

    def __init__(self, paths: Iterable[str | os.PathLike]):
        self.proc: subprocess.Popen | None = None
        self.write_end: int | None = None
        paths = [os.fspath(Path(p).absolute()) for p in paths]
        if not paths or os.name != "posix":
            return
        read_end, write_end = os.pipe()  # both non-inheritable: no other child keeps the pipe open
        script = 'cat >/dev/null; sleep 0.1; rm -rf -- "$@"'
        try:
            self.proc = subprocess.Popen(["/bin/sh", "-c", script, "kbvideo-cleanup", *paths], stdin=read_end,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         start_new_session=True)
        except OSError:  # pragma: no cover - no /bin/sh: the owner's own cleanup still runs
            os.close(write_end)
            write_end = None
        finally:
            os.close(read_end)
        self.write_end = write_end

    def close(self) -> None:
        """The owner cleaned up itself: stop the helper without it removing anything."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        if self.write_end is not None:
            os.close(self.write_end)
            self.write_end = None

    def __enter__(self) -> "Lifeline":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
