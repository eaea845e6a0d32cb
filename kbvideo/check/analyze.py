"""One decoding pass per file: every content measurement `kbvideo check` needs, from one ffmpeg process.

The graph (video branch only without --quick):

    [0:<video>] scale=320:-2:flags=fast_bilinear, format=gray, blackdetect, freezedetect  -> null
    [0:<audio>] ebur128=peak=true, silencedetect                                           -> null

Filters log their intervals on stderr (parsed by `parse_log`, tested on pasted output); the exact
timestamp of every decoded frame is written by `-stats_enc_pre` to a small file per stream (parsed
by `parse_stats`), so truncation is judged on what was decoded, never on ffmpeg's exit code.
Measured on this machine: the filters cost nothing next to the H.264 decode (a 20 s 1080p30 file:
decode alone 2.00 s, the whole graph 2.03 s; -skip_loop_filter saves ~15 % CPU).
"""

from __future__ import annotations

import math
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

from kbvideo import proc as processes
from kbvideo.errors import MediaError
from kbvideo.media.ffmpeg_bin import ffmpeg_exe
from kbvideo.media.probe import MediaInfo
from kbvideo.i18n import _

Progress = Callable[[float, float | None], None]  # (seconds decoded, total seconds or None)

SCALE_WIDTH = 320  # analysis copy: detection needs no more, and scaling early keeps the filters cheap
MAX_ERROR_LINES = 8


@dataclass(frozen=True, slots=True)
class Interval:
    start: float
    end: float | None  # None: still running when the stream ended

    @property
    def duration(self) -> float | None:
        return None if self.end is None else self.end - self.start

    def closed(self, end: float | None) -> "Interval":
        """The same interval, ended at `end` if it was still open."""
        return self if self.end is not None or end is None else Interval(self.start, end)


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """Detection thresholds. Minimum durations come from the profile (see `settings_for`)."""

    black_min: float = 0.5
    black_pixel_threshold: float = 0.10
    freeze_min: float = 2.0
    freeze_noise: float = 0.001  # -60 dB
    silence_min: float = 0.5
    silence_db: float = -50.0
    skip_loop_filter: bool = True


def settings_for(profile) -> AnalysisSettings:
    """Detect stretches at least as short as the smallest limit the profile sets (capped at 0.5 s / 2 s)."""
    black = [v for v in (profile.max_black_start, profile.max_black_end) if v is not None]
    silence = [v for v in (profile.max_silence_start, profile.max_silence_end) if v is not None]
    freeze = [profile.max_freeze] if profile.max_freeze is not None else []
    return AnalysisSettings(
        black_min=max(0.04, min([0.5, *black])),
        silence_min=max(0.04, min([0.5, *silence])),
        freeze_min=max(0.1, min([2.0, *freeze])),
    )


@dataclass(frozen=True, slots=True)
class Analysis:
    """What one decoding pass measured. Times are seconds from the start of the file's timeline."""

    video_decoded: bool  # False with --quick (or when the file has no video)
    audio_decoded: bool
    video_frames: int | None = None
    video_start: float | None = None  # first decoded frame's time
    video_end: float | None = None  # last decoded frame's time + one frame
    frame_interval_min: float | None = None
    frame_interval_max: float | None = None
    frame_interval_strays: int | None = None  # intervals more than 10 % off the usual one
    audio_end: float | None = None  # last decoded sample's end
    black: tuple[Interval, ...] = ()
    freeze: tuple[Interval, ...] = ()
    silence: tuple[Interval, ...] = ()
    loudness_lufs: float | None = None  # integrated (EBU R128)
    loudness_range_lu: float | None = None
    true_peak_dbtp: float | None = None
    errors: tuple[str, ...] = ()  # decoder / demuxer complaints, first few
    exit_code: int = 0
    seconds: float = 0.0  # wall time of the pass

    @property
    def vfr(self) -> bool | None:
        """Frame intervals vary by more than 10 % (constant-rate files vary by a timebase tick at most).

        One odd interval is not a variable rate: a fragmented MP4 often gives its first frame two frame
        times (189 frames over 190 frame times read as "29.842 fps, VFR"); it takes two, as in the probe."""
        if not self.frame_interval_min or not self.frame_interval_max:
            return None
        if self.frame_interval_strays is not None:
            return self.frame_interval_strays >= 2
        return self.frame_interval_max / self.frame_interval_min > 1.1

    def to_dict(self) -> dict:
        out = asdict(self)
        for key in ("black", "freeze", "silence"):
            out[key] = [{"start": i.start, "end": i.end} for i in getattr(self, key)]
        return out


# ---------------------------------------------------------------------------------------------- parsing

_NUM = r"(-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?|-?inf|nan)"
_BLACK = re.compile(rf"black_start:\s*{_NUM}\s+black_end:\s*{_NUM}")
_FREEZE = re.compile(rf"lavfi\.freezedetect\.freeze_(start|end):\s*{_NUM}")
_SILENCE_START = re.compile(rf"silence_start:\s*{_NUM}")
_SILENCE_END = re.compile(rf"silence_end:\s*{_NUM}")
_SUMMARY_I = re.compile(rf"^\s*I:\s*{_NUM}\s*LUFS")
_SUMMARY_LRA = re.compile(rf"^\s*LRA:\s*{_NUM}\s*LU\b")
_SUMMARY_PEAK = re.compile(rf"^\s*Peak:\s*{_NUM}\s*dBFS")
_ERROR_HINTS = re.compile(r"error|corrupt|partial file|invalid|missing|truncat|non-existing|concealing", re.I)
_FILTER_LINE = re.compile(r"^\[Parsed_(blackdetect|freezedetect|silencedetect|ebur128)")


def _num(text: str) -> float:
    return float(text)  # float() reads "inf", "-inf" and "nan" too


@dataclass(slots=True)
class ParsedLog:
    black: list[Interval] = field(default_factory=list)
    freeze: list[Interval] = field(default_factory=list)
    silence: list[Interval] = field(default_factory=list)
    loudness_lufs: float | None = None
    loudness_range_lu: float | None = None
    true_peak_dbtp: float | None = None
    errors: list[str] = field(default_factory=list)


def parse_log(text: str) -> ParsedLog:
    """Parse ffmpeg's stderr of an analysis pass. Tolerates interleaved lines from other threads."""
    log = ParsedLog()
    freeze_start: float | None = None
    silence_start: float | None = None
    in_summary = in_true_peak = False
    for line in text.splitlines():
        if line.startswith("["):
            in_summary = in_true_peak = False  # a summary's lines are indented; any tagged line ends it
        if match := _BLACK.search(line):
            log.black.append(Interval(_num(match.group(1)), _num(match.group(2))))
            continue
        if match := _FREEZE.search(line):
            value = _num(match.group(2))
            if match.group(1) == "start":
                freeze_start = value
            elif freeze_start is not None:
                log.freeze.append(Interval(freeze_start, value))
                freeze_start = None
            continue
        if "freeze_duration" in line:
            continue
        if match := _SILENCE_END.search(line):
            # silencedetect computes the start itself, so an end without a start means "from 0"
            log.silence.append(Interval(silence_start if silence_start is not None else 0.0, _num(match.group(1))))
            silence_start = None
            continue
        if match := _SILENCE_START.search(line):
            silence_start = _num(match.group(1))
            continue
        if "Parsed_ebur128" in line and "Summary:" in line:
            in_summary, in_true_peak = True, False
            continue
        if in_summary:
            if match := _SUMMARY_I.match(line):
                log.loudness_lufs = _num(match.group(1))
            elif match := _SUMMARY_LRA.match(line):
                log.loudness_range_lu = _num(match.group(1))
            elif line.strip().startswith("True peak:"):
                in_true_peak = True
            elif in_true_peak and (match := _SUMMARY_PEAK.match(line)):
                log.true_peak_dbtp = _num(match.group(1))
            continue
        if _FILTER_LINE.match(line) or not line.strip():
            continue
        if _ERROR_HINTS.search(line) and len(log.errors) < MAX_ERROR_LINES:
            log.errors.append(line.strip())
    if freeze_start is not None:
        log.freeze.append(Interval(freeze_start, None))
    if silence_start is not None:
        log.silence.append(Interval(silence_start, None))
    return log


@dataclass(frozen=True, slots=True)
class StreamStats:
    frames: int
    first: Fraction | None  # first frame's time
    last: Fraction | None  # last frame's time
    last_samples: int | None  # audio: samples in the last frame
    interval_min: Fraction | None
    interval_max: Fraction | None
    interval_last: Fraction | None  # between the last two frames: the best guess of the last frame's length
    interval_strays: int | None = None  # intervals more than 10 % off the median one


def parse_stats(text: str) -> StreamStats:
    """Parse a `-stats_enc_pre` file written with the format '{n} {pts} {tb} {samp}'.

    One line per frame handed to the (null) encoder: the decoded frames, in order.
    """
    frames = 0
    first = last = None
    last_samples = None
    interval_min = interval_max = interval_last = None
    steps: list[Fraction] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[1] in ("N/A", "NOPTS"):
            continue
        try:
            num, den = parts[2].split("/")
            t = Fraction(int(parts[1])) * Fraction(int(num), int(den))
        except (ValueError, ZeroDivisionError):
            continue
        frames += 1
        if last is not None and t > last:
            step = t - last
            interval_min = step if interval_min is None else min(interval_min, step)
            interval_max = step if interval_max is None else max(interval_max, step)
            interval_last = step
            steps.append(step)
        if first is None:
            first = t
        last = t
        if len(parts) >= 4 and parts[3].isdigit():
            last_samples = int(parts[3])
    strays = None
    if steps:
        usual = sorted(steps)[len(steps) // 2]
        strays = sum(1 for step in steps if abs(step - usual) > usual / 10)
    return StreamStats(frames, first, last, last_samples, interval_min, interval_max, interval_last, strays)


# ---------------------------------------------------------------------------------------------- running


def build_command(path: str, info: MediaInfo, settings: AnalysisSettings, *, quick: bool,
                  video_stats: Path | None, audio_stats: Path | None) -> list[str]:
    """The ffmpeg argv of one analysis pass (video branch unless quick, audio branch if any audio)."""
    video = None if quick else info.main_video
    audio = info.audio[0] if info.audio else None
    graphs, maps = [], []
    if video is not None:
        s = settings
        graphs.append(
            f"[0:{video.index}]scale={SCALE_WIDTH}:-2:flags=fast_bilinear,format=gray,"
            f"blackdetect=d={s.black_min:g}:pix_th={s.black_pixel_threshold:g},"
            f"freezedetect=n={s.freeze_noise:g}:d={s.freeze_min:g}[v]"
        )
        maps += ["-map", "[v]", "-fps_mode:v", "passthrough", "-enc_time_base:v", "filter",
                 "-stats_enc_pre:v", str(video_stats), "-stats_enc_pre_fmt:v", "{n} {pts} {tb}"]
    if audio is not None:
        graphs.append(
            f"[0:{audio.index}]ebur128=peak=true:framelog=verbose,"
            f"silencedetect=n={settings.silence_db:g}dB:d={settings.silence_min:g}[a]"
        )
        maps += ["-map", "[a]", "-enc_time_base:a", "filter",
                 "-stats_enc_pre:a", str(audio_stats), "-stats_enc_pre_fmt:a", "{n} {pts} {tb} {samp}"]
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
            "-progress", "pipe:1", "-stats_period", "0.5"]
    if video is not None and settings.skip_loop_filter:
        argv += ["-skip_loop_filter", "all"]  # deblocking changes nothing black/freeze detection sees
    argv += ["-i", path, "-filter_complex", ";".join(graphs), *maps, "-f", "null", "-"]
    return argv


def analyze_file(path: str | Path, info: MediaInfo, settings: AnalysisSettings | None = None, *,
            quick: bool = False, progress: Progress | None = None) -> Analysis:
    """Decode the file once and measure everything. Raises MediaError when ffmpeg cannot decode it at all."""
    settings = settings or AnalysisSettings()
    path = str(path)
    want_video = not quick and info.main_video is not None
    want_audio = bool(info.audio)
    if not want_video and not want_audio:
        return Analysis(video_decoded=False, audio_decoded=False)
    started = time.monotonic()
    with processes.on_signals(), tempfile.TemporaryDirectory(prefix="kbvideo-check-") as tmp, \
            processes.Lifeline([tmp]):  # SIGTERM/SIGHUP unwind through here; after a SIGKILL the helper removes tmp
        video_stats, audio_stats = Path(tmp) / "video.txt", Path(tmp) / "audio.txt"
        argv = build_command(path, info, settings, quick=quick, video_stats=video_stats, audio_stats=audio_stats)
        total = info.duration
        code, stderr = _run(argv, total, progress)
        vstats = parse_stats(video_stats.read_text(errors="replace")) if want_video and video_stats.exists() else None
        astats = parse_stats(audio_stats.read_text(errors="replace")) if want_audio and audio_stats.exists() else None
    log = parse_log(stderr)
    decoded_any = (vstats and vstats.frames) or (astats and astats.frames)
    if code != 0 and not decoded_any:
        tail = [line for line in stderr.strip().splitlines() if line.strip()][-3:]
        raise MediaError(path, _("ffmpeg cannot decode it: {reason}").format(
                             reason=" / ".join(tail) or _("exit code {code}").format(code=code)),
                         hint=_("re-export the video, or check that the file was copied completely"))

    video_end = video_start = None
    if vstats and vstats.last is not None:
        fps = info.main_video.fps if info.main_video else None
        # the last frame's own length is not in the stream: take the step before it (or 1/fps)
        step = vstats.interval_last or (1 / Fraction(fps) if fps else 0)
        video_end = float(vstats.last + Fraction(step))
        video_start = float(vstats.first)
    audio_end = None
    if astats and astats.last is not None:
        rate = info.audio[0].sample_rate or 0
        audio_end = float(astats.last + (Fraction(astats.last_samples or 0, rate) if rate else 0))

    return Analysis(
        video_decoded=want_video,
        audio_decoded=want_audio,
        video_frames=vstats.frames if vstats else None,
        video_start=video_start,
        video_end=video_end,
        frame_interval_min=float(vstats.interval_min) if vstats and vstats.interval_min else None,
        frame_interval_max=float(vstats.interval_max) if vstats and vstats.interval_max else None,
        frame_interval_strays=vstats.interval_strays if vstats else None,
        audio_end=audio_end,
        black=tuple(log.black) if want_video else (),
        freeze=tuple(i.closed(video_end) for i in log.freeze) if want_video else (),
        silence=tuple(i.closed(audio_end) for i in log.silence) if want_audio else (),
        loudness_lufs=_finite(log.loudness_lufs) if want_audio else None,
        loudness_range_lu=log.loudness_range_lu if want_audio else None,
        true_peak_dbtp=_finite(log.true_peak_dbtp) if want_audio else None,
        errors=tuple(log.errors),
        exit_code=code,
        seconds=time.monotonic() - started,
    )


def _finite(value: float | None) -> float | None:
    """-inf (digital silence) and nan become None: JSON has no spelling for them."""
    return value if value is not None and math.isfinite(value) else None


def _run(argv: list[str], total: float | None, progress: Progress | None) -> tuple[int, str]:
    """Run ffmpeg, draining stderr on a thread and reading -progress lines from stdout.

    The child is killed if anything (Ctrl-C, SIGTERM, SIGHUP) interrupts the wait, and by the kernel if
    this process dies (kbvideo.proc lifeline).
    """
    proc = processes.popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    chunks: list[bytes] = []
    drain = threading.Thread(target=lambda: chunks.extend(iter(lambda: proc.stderr.read(65536), b"")), daemon=True)
    drain.start()
    try:
        for raw in proc.stdout:
            if progress is None:
                continue
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit():
                progress(max(0.0, int(value) / 1e6), total)
        code = proc.wait()
        drain.join()
    except BaseException:
        processes.kill_group(proc)
        proc.wait()
        drain.join(timeout=5)
        raise
    finally:
        proc.stdout.close()
    proc.stderr.close()
    return code, b"".join(chunks).decode("utf-8", "replace")
