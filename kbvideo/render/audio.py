"""The whole timeline's sound, mixed once (never per segment), then loudness-normalised.

Each AudioItem is decoded from the start of its source, resampled to 48 kHz stereo (mono is spread
to both channels at full level), cut by sample numbers (`atrim`), restamped (`asetpts=N/SR/TB`),
padded to its exact length, given its volume, fades (10 ms at plain cuts, the transition's length
across a crossfade) and, for a ducking music bed, a volume envelope computed from the narration
items (deterministic, no sidechain), then delayed to its start in samples. `amix` takes its timing
from its first input, so a silent bed of the exact length goes first.

Loudness: pass 1 writes the mix to a float WAV and measures it with `loudnorm`; pass 2 applies the
measured linear gain (loudnorm falls back to its limiter only when the true-peak ceiling demands
it) and encodes AAC-LC 48 kHz stereo of exactly the timeline's length.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

from kbvideo.render import ffmpeg
from kbvideo.timeline.model import AudioItem, Timeline

RATE = 48000
CUT_FADE = 0.010  # seconds, at every plain cut: no clicks
DUCK_GAIN = 0.3  # about -10.5 dB under narration
DUCK_RAMP = 0.35  # seconds
TP_MARGIN = 0.5  # AAC encoding can overshoot the measured true peak a little


@dataclass(frozen=True, slots=True)
class AudioFacts:
    has_audio: bool
    channels: int | None = None


def samples(frames: int, fps: Fraction) -> int:
    return round(Fraction(frames) * RATE / fps)


def _fade_lengths(item: AudioItem, timeline: Timeline) -> tuple[float, float]:
    fin, fout = CUT_FADE, CUT_FADE
    if item.kind == "clip":
        for t in timeline.transitions:
            if t.duration and item.start == t.start:
                fin = timeline.seconds(t.duration)
            if t.duration and item.end == t.start + t.duration:
                fout = timeline.seconds(t.duration)
    elif item.kind == "music" and item.end == timeline.duration:
        fout = 1.0
    length = timeline.seconds(item.duration)
    return min(fin, length / 2), min(fout, length / 2)


def duck_expression(item: AudioItem, timeline: Timeline) -> str | None:
    """volume expression in the item's local time `t`: DUCK_GAIN under each narration, ramped."""
    terms = []
    for other in timeline.audio:
        if other.kind != "narration" or other.end <= item.start or other.start >= item.end:
            continue
        a = timeline.seconds(other.start - item.start)
        b = timeline.seconds(other.end - item.start)
        r = DUCK_RAMP
        w = f"min(max((t-{a - r:.4f})/{r},0),1)*min(max(({b + r:.4f}-t)/{r},0),1)"
        terms.append(f"(1-{1 - DUCK_GAIN:.3f}*{w})")
    return "*".join(terms) if terms else None


def mix_command(timeline: Timeline, facts: Callable[[str], AudioFacts]) -> tuple[list[str], str, int]:
    """(input args, filter_complex ending in [mix], total samples)."""
    total = samples(timeline.duration, timeline.fps)
    args: list[str] = []
    filters = [f"anullsrc=r={RATE}:cl=stereo,atrim=end_sample={total}[bed]"]
    labels = ["[bed]"]
    n = 0
    for item in timeline.audio:
        info = facts(item.source)
        if not info.has_audio or item.duration <= 0 or item.volume <= 0:
            continue
        args += ["-i", item.source]
        first = samples(item.source_in, timeline.fps)
        length = samples(item.start + item.duration, timeline.fps) - samples(item.start, timeline.fps)
        fin, fout = _fade_lengths(item, timeline)
        seconds_long = length / RATE
        chain = f"[{n}:a:0]"
        if info.channels == 1:
            chain += "pan=stereo|c0=c0|c1=c0,"
        chain += (f"aresample={RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
                  f"atrim=start_sample={first}:end_sample={first + length},asetpts=N/SR/TB,"
                  f"apad=whole_len={length},atrim=end_sample={length},volume={item.volume:.4f}")
        duck = duck_expression(item, timeline) if item.duck else None
        if duck:
            chain += f",volume='{duck}':eval=frame"
        chain += (f",afade=t=in:st=0:d={fin:.4f},afade=t=out:st={max(0.0, seconds_long - fout):.6f}:d={fout:.4f}"
                  f",adelay=delays={samples(item.start, timeline.fps)}S:all=1[a{n}]")
        filters.append(chain)
        labels.append(f"[a{n}]")
        n += 1
    filters.append("".join(labels) + f"amix=inputs={len(labels)}:duration=first:normalize=0:dropout_transition=0,"
                   f"atrim=end_sample={total}[mix]")
    return args, ";".join(filters), total


def _loudnorm_json(stderr: str) -> dict:
    found = re.findall(r"\{[^{}]*\"input_i\"[^{}]*\}", stderr, re.S)
    if not found:
        return {}
    try:
        return json.loads(found[-1])
    except json.JSONDecodeError:
        return {}


def render_audio(timeline: Timeline, out_path: Path, work_dir: Path, *, facts: Callable[[str], AudioFacts],
                 target: float | None, true_peak: float, bitrate: str, cancel=None, children=None) -> dict:
    """Write AAC-LC 48 kHz stereo of exactly the timeline's length to `out_path`; returns measurements."""
    args, graph, total = mix_command(timeline, facts)
    wav = work_dir / "mix.wav"
    tp = true_peak - TP_MARGIN
    measure = f"loudnorm=I={target if target is not None else -23}:TP={tp}:LRA=20:print_format=json"
    stderr = ffmpeg.run([*args, "-filter_complex", graph + f";[mix]asplit=2[w][m];[m]{measure}[n]",
                         "-map", "[w]", "-c:a", "pcm_f32le", "-f", "wav", str(wav), "-map", "[n]", "-f", "null", "-"],
                        what="mixing the sound", cancel=cancel, children=children)
    measured = _loudnorm_json(stderr)
    chain = []
    try:
        input_i = float(measured.get("input_i", "-inf"))
    except ValueError:
        input_i = float("-inf")
    if target is not None and input_i > -60:
        lra = min(50.0, max(7.0, float(measured.get("input_lra", 7)) + 1))
        chain.append(f"loudnorm=I={target}:TP={tp}:LRA={lra}:measured_I={measured['input_i']}:"
                     f"measured_TP={measured['input_tp']}:measured_LRA={measured['input_lra']}:"
                     f"measured_thresh={measured['input_thresh']}:offset={measured.get('target_offset', 0)}:"
                     f"linear=true:print_format=json")
    chain.append(f"aresample={RATE},atrim=end_sample={total},apad=whole_len={total}")
    stderr2 = ffmpeg.run(["-i", str(wav), "-af", ",".join(chain), "-c:a", "aac", "-b:a", bitrate, "-ar", str(RATE),
                          "-ac", "2", "-f", "mp4", str(out_path)], what="normalising loudness", cancel=cancel, children=children)
    after = _loudnorm_json(stderr2)
    wav.unlink(missing_ok=True)
    return {"samples": total, "measured": measured, "normalised": after,
            "mode": after.get("normalization_type") if after else "none"}
