"""The floor of the job itself: what any renderer of the reference job must spend, whatever its design.

Used by `bench_render.py --only floor,final,pictures` (part `pictures`). Two things no renderer of this
job can skip, each measured on its own:

1. **Encoding the programme's own pictures with the master's argv.** The final is rendered once more
   with the segments' x264 made lossless (`-qp 0`, `ultrafast`, no VBV: `lossless_encoder()`), so the
   file holds exactly the frames the master's encoder is given; it is unpacked once to raw frames
   (`pictures.nut`, about 16 GB for 180 s at 1080p). `floor_pictures` reads those raw frames (and the
   programme's sound) and encodes them with exactly the master's video and AAC argv, as `floor_master`
   encodes testsrc2; `read_pictures` is the same read alone, recorded: it costs almost no CPU (no
   decoding) and overlaps the encode, but from disk, once the page cache has dropped the file, it can
   take 40 s of wall time by itself, so it is not subtracted.
   This is the honest version of `floor_content`: that one re-encodes the *final's decoded* frames, which
   its own CRF-18 pass has already smoothed, and x264 spends less on them than on the rendered ones
   (one 195-frame segment of the noise-like clips: 7.3 CPU-s from the final's frames, 8.9 from the
   rendered frames).
2. **Reading the clips.** `decode_stretches`: each stretch of a clip the programme shows, decoded once
   from the keyframe before it (as any reader must), two at a time, nothing drawn.

`floor_job = floor_pictures + decode_stretches`: the two done one after the other, each using both
cores (x264's frame threads; two stretches at a time). A renderer that overlaps them can beat this sum
by the cores x264 leaves idle, so it is a yardstick of the job's own work rather than a strict bound;
its CPU seconds (results.json `cpu`) are the strict part. Left out, all in the floor's favour: drawing the title card and fitting the
photos, captions and transitions (their frames are in the pictures, their drawing is not), the sound mix
and loudness pass, the join.
"""

from __future__ import annotations

import contextlib
import subprocess
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path


@contextlib.contextmanager
def lossless_encoder(render_ffmpeg):
    """While inside, every Encoder's video argv encodes losslessly (x264 -qp 0, ultrafast, no profile or VBV),
    keeping its GOP, forced keyframes and track timescale, so the segments still join with -c copy."""
    original = render_ffmpeg.Encoder.video_args

    def lossless(self, fps, frames=None):
        args, out = iter(original(self, fps, frames)), []
        for arg in args:
            if arg in ("-crf", "-profile:v", "-maxrate", "-bufsize"):
                next(args)  # the option's value goes with it
            else:
                out.append(arg)
        out[out.index("-preset") + 1] = "ultrafast"
        return out + ["-qp", "0"]

    render_ffmpeg.Encoder.video_args = lossless
    try:
        yield
    finally:
        render_ffmpeg.Encoder.video_args = original


def used_stretches(timeline) -> list[tuple[str, float, float]]:
    """(clip, first second, seconds) of every stretch of a clip the programme shows, overlapping shots of
    the same clip merged (transition frames included: a crossfade shows both clips)."""
    fps = Fraction(timeline.fps)
    spans: dict[str, list[list[int]]] = {}
    for shot in sorted((s for s in timeline.shots if s.kind == "clip"), key=lambda s: (s.source, s.source_in)):
        a, b = shot.source_in, shot.source_in + shot.duration
        runs = spans.setdefault(shot.source, [])
        if runs and a <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], b)
        else:
            runs.append([a, b])
    return [(src, float(a / fps), float((b - a) / fps)) for src, runs in spans.items() for a, b in runs]


def decode_stretches(ff: str, stretches, jobs: int = 2) -> None:
    """Each stretch decoded to nothing from the keyframe before it, `jobs` at a time."""
    def one(item):
        src, start, length = item
        subprocess.run([ff, "-hide_banner", "-nostats", "-loglevel", "error", "-ss", f"{start:.6f}", "-t", f"{length:.6f}",
                        "-i", src, "-map", "0:v:0", "-f", "null", "-"], check=True)

    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, stretches))


def unpack(ff: str, lossless: Path, raw: Path) -> None:
    """The lossless render's frames as raw yuv420p in NUT (read back at almost no CPU)."""
    subprocess.run([ff, "-hide_banner", "-nostats", "-loglevel", "error", "-y", "-i", str(lossless), "-map", "0:v:0",
                    "-c:v", "rawvideo", "-f", "nut", str(raw)], check=True)


def read_command(ff: str, raw: Path, lossless: Path | None = None) -> list[str]:
    """The raw pictures and, with `lossless`, the programme's sound from it, read and decoded:
    floor_pictures' input side."""
    sound = ["-i", str(lossless)] if lossless else []
    return [ff, "-hide_banner", "-nostats", "-loglevel", "error", "-f", "nut", "-i", str(raw), *sound,
            "-map", "0:v:0", *(["-map", "1:a:0"] if lossless else [])]


def floor_command(ff: str, raw: Path, lossless: Path, master, fps, frames: int, target: Path) -> list[str]:
    """The raw pictures and the sound encoded with exactly the master's video and AAC argv."""
    return read_command(ff, raw, lossless) + master.video_args(fps, frames) + [
        "-frames:v", str(frames), "-c:a", "aac", "-aac_coder", master.aac_coder, "-b:a", master.audio_bitrate,
        "-ar", "48000", "-y", str(target)]
