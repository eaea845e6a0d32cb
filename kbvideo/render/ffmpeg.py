"""Running ffmpeg: argv lists, progress, drained stderr, children that die with the render.

Graphs are built as argv lists + `-filter_complex` strings by the modules of this package, not with
ffmpeg-python: we need per-input options (`-ss`, `-t`, `-loop`), `-progress pipe:1`, our own process
groups and stderr handling, which ffmpeg-python's `run()` hides. Text never enters a graph (it is
drawn to PNGs), so the strings hold only numbers, colours and filter names; paths go as argv items.
"""

from __future__ import annotations

import collections
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterable

from kbvideo import proc as processes
from kbvideo.errors import RenderError
from kbvideo.i18n import _
from kbvideo.media import ffmpeg_bin

_LIVE_LOCK = threading.Lock()


class Children:
    """The ffmpeg processes of one render, so a failing render kills its own and nobody else's."""

    def __init__(self) -> None:
        self.procs: set[subprocess.Popen] = set()

    def kill(self) -> None:
        with _LIVE_LOCK:
            procs = list(self.procs)
        for proc in procs:
            processes.kill_group(proc)


_ALL = Children()


def ffmpeg_exe() -> str:
    return ffmpeg_bin.ffmpeg_exe()


# BT.709 limited range, the colours of every picture kbvideo writes: the scale options that convert to
# it, the setparams that tag frames with it, and the encoder options that tag the stream
TO_709 = "out_color_matrix=bt709:out_range=tv"
TAG_709 = "setparams=range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709"
STREAM_709 = ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv"]


@dataclass(frozen=True, slots=True)
class Encoder:
    """Video encoder settings shared by every segment of one render (so they join with -c copy).

    Keyframes are forced every `gop` frames counted from the segment's start, and a last GOP shorter
    than half a GOP is merged into the one before it: joined segments keep a regular GOP (no 1-frame
    GOPs, no two keyframes in a row at a join). x264's own scene-cut keyframes are off for the same reason.
    """

    preset: str = "veryfast"
    crf: int = 23
    gop: int = 15  # closed GOP of half the frame rate (YouTube delivery recommendation)
    bframes: int = 2
    audio_bitrate: str = "160k"
    maxrate: str | None = None
    bufsize: str | None = None
    aac_coder: str = "twoloop"  # ffmpeg's AAC coder; drafts use "fast" (a third less CPU at 96k)

    def video_args(self, fps: Fraction, frames: int | None = None) -> list[str]:
        x264 = "open-gop=0:scenecut=0:aq-mode=3"  # aq-mode 3 spends bits on dark flat areas (no banding)
        args = ["-c:v", "libx264", "-preset", self.preset, "-crf", str(self.crf), "-pix_fmt", "yuv420p",
                "-profile:v", "high", "-g", str(2 * self.gop), "-keyint_min", str(max(1, self.gop // 2)),
                "-bf", str(self.bframes), "-x264-params", x264, *STREAM_709]
        if self.maxrate:
            args += ["-maxrate", self.maxrate, "-bufsize", self.bufsize or self.maxrate]
        args += ["-force_key_frames", f"expr:{keyframe_expr(self.gop, frames)}"]
        scale = track_timescale(fps)
        if scale:
            args += ["-video_track_timescale", str(scale)]
        return args

    def key(self) -> dict:
        return {"preset": self.preset, "crf": self.crf, "gop": self.gop, "bf": self.bframes,
                "maxrate": self.maxrate, "bufsize": self.bufsize, "kf": 2}


def keyframe_expr(gop: int, frames: int | None) -> str:
    """ffmpeg -force_key_frames expression: every `gop` frames from 0, the last short GOP merged."""
    last = None
    if frames:
        last = (frames - 1) // gop * gop
        if last and frames - last >= max(2, gop // 2):
            last = None  # the last GOP is long enough to keep its own keyframe
    if last:
        return f"not(mod(n,{gop}))*lt(n,{last})"
    return f"not(mod(n,{gop}))"


def final_encoder(fps: Fraction, profile=None) -> Encoder:
    """The master's settings: from the rules profile's `master` section (data), else its defaults."""
    gop = max(1, round(fps / 2))
    if profile is None:
        return Encoder(gop=gop, crf=18, maxrate="16M", bufsize="32M", audio_bitrate="320k")
    return Encoder(preset=profile.master_preset, crf=profile.master_crf, gop=gop, audio_bitrate=profile.master_audio_bitrate,
                   maxrate=profile.master_maxrate, bufsize=profile.master_bufsize)


def draft_encoder(fps: Fraction) -> Encoder:
    # ultrafast turns B-frames off; crf 30 keeps drafts small enough to share over chat apps
    return Encoder(preset="ultrafast", crf=30, gop=max(1, round(fps)), bframes=0, audio_bitrate="96k", aac_coder="fast")


def track_timescale(fps: Fraction) -> int | None:
    """A timescale in which one frame is a whole number of ticks (so joined segments do not drift)."""
    for scale in (90000, 60000, 30000):
        if (Fraction(scale) / fps).denominator == 1:
            return scale
    return None


def seconds(value: Fraction | float) -> str:
    """A time for ffmpeg's argv, exact to the microsecond."""
    return f"{float(value):.6f}"


SIZE_LIMIT_HINT = ("a file size limit was reached (a 'ulimit -f' limit, or a FAT32 USB disk's 4 GB per file): "
                   "raise the limit or write to another disk")


def _hint(stderr: str, code: int = 1, cache_dir: str | None = None) -> str:
    low = stderr.lower()
    if code == -getattr(signal, "SIGXFSZ", 25) or "file too large" in low:
        return _(SIZE_LIMIT_HINT)
    if "no space left" in low:
        return _("the disk is full: free some space or choose another output folder")
    if "permission denied" in low:
        return _("check that the output folder is writable")
    if "invalid data found" in low or "moov atom not found" in low:
        damaged = [line for line in stderr.splitlines() if "invalid data" in line.lower() or "moov atom" in line.lower()
                   or "error opening input" in line.lower()]
        if cache_dir and any(cache_dir in line for line in damaged):
            return _("a file in kbvideo's render cache ({folder}) is damaged, not your footage: run the render again "
                     "(damaged cache files are rebuilt) or delete that folder").format(folder=cache_dir)
        return _("a source file is damaged or not media: re-export it from the phone or camera")
    if "no such file" in low:
        return _("a file was moved or deleted while rendering")
    return _("run with --debug to see the full command; this may be a kbvideo bug, please report it")


def kill_all() -> None:
    """Kill every ffmpeg this process started that is still running (each runs in its own group)."""
    _ALL.kill()


def run(args: Iterable[str], *, what: str, on_frame: Callable[[int], None] | None = None,
        cancel: threading.Event | None = None, children: Children | None = None, cache_dir: str | None = None,
        stats: Callable[[processes.Usage], None] | None = None) -> str:
    """Run ffmpeg with `args` (after the global options); returns its stderr.

    `stats(usage)`: called once the child has ended (also when it failed), with its wall time, CPU
    time (user + system) and peak memory (`kbvideo.proc.Usage`; the render report's per-stage figures).

    stderr is drained by a thread (last lines kept for errors); with `on_frame`, `-progress pipe:1`
    is read from stdout and each `frame=` count is reported. Raises RenderError with ffmpeg's own
    last lines and a hint on failure (one that blames the render cache, not the footage, when a file
    under `cache_dir` is the damaged one). The child dies with this process (kbvideo.proc).
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-y", "-loglevel", "info"]
    if on_frame is not None:
        cmd += ["-progress", "pipe:1"]
    cmd += list(args)
    if cancel is not None and cancel.is_set():
        raise RenderError(_("{what}: cancelled").format(what=what))
    started = time.perf_counter()
    proc = processes.popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    groups = [_ALL] + ([children] if children is not None else [])
    with _LIVE_LOCK:
        for group in groups:
            group.procs.add(proc)
    tail: collections.deque[str] = collections.deque(maxlen=400)

    def drain() -> None:
        for raw in proc.stderr:
            tail.append(raw.decode("utf-8", "replace").rstrip("\n"))

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        for raw in proc.stdout:
            if on_frame is not None and raw.startswith(b"frame="):
                try:
                    on_frame(int(raw[6:].strip() or 0))
                except ValueError:
                    pass
        usage = processes.wait_usage(proc, started)  # proc.wait() that also returns the child's rusage
        code = proc.returncode
        reader.join()
    except BaseException:
        processes.kill_group(proc)
        proc.wait()
        raise
    finally:
        with _LIVE_LOCK:
            for group in groups:
                group.procs.discard(proc)
        proc.stdout.close()
        proc.stderr.close()
    stderr = "\n".join(tail)
    if stats is not None:
        stats(usage or processes.Usage(time.perf_counter() - started))
    if code != 0:
        if cancel is not None and cancel.is_set():
            raise RenderError(_("{what}: cancelled").format(what=what))
        how = (_("killed by signal {number}").format(number=-code) if code < 0
               else _("exit code {code}").format(code=code))
        raise RenderError(_("ffmpeg failed while {what} ({how})").format(what=what, how=how),
                          _hint(stderr, code, cache_dir), stderr)
    return stderr
