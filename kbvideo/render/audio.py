"""The whole timeline's sound, mixed once (never per segment), then loudness-normalised.

Each AudioItem is decoded from the start of its source, resampled to 48 kHz stereo (mono is spread
to both channels at full level) and placed on the source's clock (`first_pts=0`: an audio stream that
starts 0.5 s after the video, as phone and edited files do, gets 0.5 s of silence before it, so a
trim cuts sound and picture at the same moment), cut by sample numbers (`atrim`), restamped (`asetpts=N/SR/TB`),
padded to its exact length, given its volume, fades (10 ms at plain cuts, the transition's length
across a crossfade) and, for a ducking music bed, a volume envelope computed from the narration
items (deterministic, no sidechain), then delayed to its start in samples. `amix` takes its timing
from its first input, so a silent bed of the exact length goes first.

Loudness: pass 1 writes the mix to a float WAV and measures it with `ebur128` (integrated loudness
and true peak; far cheaper than `loudnorm`, whose 192 kHz resampling made the two passes the
slowest part of a draft). Pass 2 applies one linear gain to reach the target, and a look-ahead
limiter only when the gained true peak would pass the ceiling; it encodes AAC-LC 48 kHz stereo of
exactly the timeline's length.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

from kbvideo.check.analyze import parse_log  # the same ebur128 reading `kbvideo check` uses
from kbvideo.proc import Usage
from kbvideo.render import ffmpeg
from kbvideo.timeline.model import AudioItem, Timeline
from kbvideo.i18n import _

RATE = 48000
CUT_FADE = 0.010  # seconds, at every plain cut: no clicks

@dataclass(frozen=True, slots=True)
class Ducking:
    """How sound under narration is lowered: depth in dB for the music bed and for clip sound, and the
    ramps (seconds) down before each narration starts (attack) and back up after it ends (release)."""

    music_db: float = -12.0
    clip_db: float = -6.0
    attack: float = 0.3
    release: float = 0.8

    @classmethod
    def from_profile(cls, profile) -> "Ducking":
        if profile is None:
            return cls()
        return cls(profile.mix_duck_db, profile.mix_clip_duck_db, profile.mix_duck_attack, profile.mix_duck_release)

TP_MARGIN = 0.5  # AAC encoding can overshoot the measured true peak a little
LIMIT_ROUNDS = 3  # gain corrections after limiting; each is one cheap pass over the mix
LIMIT_MARGIN = 1.0  # the limiter sees sample peaks; true (inter-sample) peaks can sit up to ~1 dB higher


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


def duck_expression(item: AudioItem, timeline: Timeline, ducking: Ducking = Ducking()) -> str | None:
    """volume expression in the item's local time `t`: the music bed (or clip sound) lowered by its
    depth under each narration, ramped down over `attack` before and back up over `release` after."""
    depth = ducking.music_db if item.kind == "music" else ducking.clip_db
    if depth >= 0:
        return None
    floor = 10 ** (depth / 20)
    terms = []
    for other in timeline.audio:
        if other.kind != "narration" or other.end <= item.start or other.start >= item.end:
            continue
        a = timeline.seconds(other.start - item.start)
        b = timeline.seconds(other.end - item.start)
        up, down = max(ducking.attack, 0.001), max(ducking.release, 0.001)
        w = f"min(max((t-{a - up:.4f})/{up:.4f},0),1)*min(max(({b + down:.4f}-t)/{down:.4f},0),1)"
        terms.append(f"(1-{1 - floor:.5f}*{w})")
    return "*".join(terms) if terms else None


def mix_command(timeline: Timeline, facts: Callable[[str], AudioFacts],
                fades: tuple[float, float] = (0.0, 0.0), ducking: Ducking = Ducking()) -> tuple[list[str], str, int]:
    """(input args, filter_complex ending in [mix], total samples). `fades`: the programme's fade up
    from and down to silence in seconds, with the picture's (measured into the loudness)."""
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
        chain += (f"aresample={RATE}:async=1:first_pts=0,aformat=sample_fmts=fltp:channel_layouts=stereo,"
                  f"atrim=start_sample={first}:end_sample={first + length},asetpts=N/SR/TB,"
                  f"apad=whole_len={length},atrim=end_sample={length},volume={item.volume:.4f}")
        duck = duck_expression(item, timeline, ducking) if item.duck or item.kind == "clip" else None
        if duck:
            chain += f",volume='{duck}':eval=frame"
        chain += (f",afade=t=in:st=0:d={fin:.4f},afade=t=out:st={max(0.0, seconds_long - fout):.6f}:d={fout:.4f}"
                  f",adelay=delays={samples(item.start, timeline.fps)}S:all=1[a{n}]")
        filters.append(chain)
        labels.append(f"[a{n}]")
        n += 1
    ends = ""
    if fades[0] > 0:
        ends += f",afade=t=in:st=0:d={fades[0]:.4f}"
    if fades[1] > 0:
        ends += f",afade=t=out:st={max(0.0, total / RATE - fades[1]):.6f}:d={fades[1]:.4f}"
    filters.append("".join(labels) + f"amix=inputs={len(labels)}:duration=first:normalize=0:dropout_transition=0,"
                   f"atrim=end_sample={total}{ends}[mix]")
    return args, ";".join(filters), total


def loudness_gain(measured_lufs: float | None, measured_tp: float | None, target: float | None,
                  true_peak: float) -> tuple[float, float | None]:
    """(gain in dB, limiter ceiling in dBFS or None) that bring the mix to `target` LUFS under `true_peak`."""
    if target is None or measured_lufs is None or measured_lufs < -70:
        return 0.0, None  # silence, or no target: leave the level alone
    gain = target - measured_lufs
    ceiling = true_peak - TP_MARGIN
    if measured_tp is not None and measured_tp + gain > ceiling:
        return gain, ceiling - LIMIT_MARGIN  # sample-peak limiter, a little under the true-peak ceiling
    return gain, None


def render_audio(timeline: Timeline, out_path: Path, work_dir: Path, *, facts: Callable[[str], AudioFacts],
                 target: float | None, true_peak: float, bitrate: str, aac_coder: str = "twoloop", fades: tuple[float, float] = (0.0, 0.0),
                 ducking: Ducking = Ducking(), cancel=None, children=None,
                 stats: Callable[[str, Usage], None] | None = None) -> dict:
    """Write AAC-LC 48 kHz stereo of exactly the timeline's length to `out_path`; returns measurements.

    `stats(step, usage)`: each ffmpeg run's usage (`kbvideo.proc.Usage`), `step` being "mix" (mix and
    measure), "limit" (one limiter round) or "encode" (gain and AAC)."""
    def step(name: str):
        return None if stats is None else (lambda usage: stats(name, usage))

    args, graph, total = mix_command(timeline, facts, fades, ducking)
    wav = work_dir / "mix.wav"
    stderr = ffmpeg.run([*args, "-filter_complex", graph + ";[mix]asplit=2[w][m];[m]ebur128=peak=true[n]",
                         "-map", "[w]", "-c:a", "pcm_f32le", "-f", "wav", str(wav), "-map", "[n]", "-f", "null", "-"],
                        what=_("mixing the sound"), cancel=cancel, children=children, stats=step("mix"))
    measured = parse_log(stderr)
    gain, limit = loudness_gain(measured.loudness_lufs, measured.true_peak_dbtp, target, true_peak)
    source, chain = wav, ([f"volume={gain:.3f}dB"] if gain else [])
    if limit is not None:
        # A limiter that works hard also lowers the loudness: measure what it gives and correct the gain.
        limited = work_dir / "limited.wav"
        for _round in range(LIMIT_ROUNDS):
            limiter = (f"volume={gain:.3f}dB,alimiter=limit={10 ** (limit / 20):.5f}:attack=2:release=80:"
                       f"level=false:latency=true")
            result = parse_log(ffmpeg.run(
                ["-i", str(wav), "-filter_complex", f"[0:a]{limiter},asplit=2[w][m];[m]ebur128=peak=true[n]",
                 "-map", "[w]", "-c:a", "pcm_f32le", "-f", "wav", str(limited), "-map", "[n]", "-f", "null", "-"],
                what=_("limiting peaks"), cancel=cancel, children=children, stats=step("limit")))
            if result.loudness_lufs is None or abs(target - result.loudness_lufs) <= 0.3:
                break
            gain += target - result.loudness_lufs
        source, chain = limited, []
    chain.append(f"aresample={RATE},atrim=end_sample={total},apad=whole_len={total}")
    ffmpeg.run(["-i", str(source), "-af", ",".join(chain), "-c:a", "aac", "-aac_coder", aac_coder, "-b:a", bitrate, "-ar", str(RATE),
                "-ac", "2", "-f", "mp4", str(out_path)], what=_("normalising loudness"), cancel=cancel, children=children,
               stats=step("encode"))
    wav.unlink(missing_ok=True)
    (work_dir / "limited.wav").unlink(missing_ok=True)
    return {"samples": total, "measured_lufs": measured.loudness_lufs, "measured_true_peak": measured.true_peak_dbtp,
            "loudness_range_lu": measured.loudness_range_lu,  # one gain on the whole mix keeps the range
            "gain_db": round(gain, 3), "limiter_dbfs": limit,
            "ducking": {"music_db": ducking.music_db, "clip_db": ducking.clip_db, "attack": ducking.attack,
                        "release": ducking.release}}
