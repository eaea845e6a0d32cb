"""Transitions with and without frames handed over from their scene bodies (kbvideo.render.segments.Handoff).

    python benchmarks/bench_handoff.py [--gop 240] [--rounds 2]

Four 5-s scenes of 1080p clips joined by 0.5-s crossfades, a caption on each, rendered as a final from
an empty cache, alternately with handoffs (the default) and without (`encode.handoffs` returning
nothing: every transition seeks in its two clips and decodes their preroll). The clips are the first
12 s of the reference job's c01-c04 (`bench-work/render/src`, made by the anchor's gen_sources.sh)
re-encoded with a keyframe every `--gop` frames: x264's default is 250, which is what footage that
went through WhatsApp, a screen recorder or a YouTube download tends to have; the reference job's own
clips have 2-s GOPs (`--gop 60`). Prints wall and CPU seconds (the ffmpeg children) per render.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kbvideo.media.ffmpeg_bin import ffmpeg_exe  # noqa: E402
from kbvideo.render import encode, render_timeline  # noqa: E402
from kbvideo.rules.profile import load_profile  # noqa: E402
from kbvideo.timeline.model import AudioItem, SceneSpan, Shot, TextItem, Timeline, Transition  # noqa: E402


def timeline(clips: list[str]) -> Timeline:
    fps, overlap, length = Fraction(30), 15, 150
    shots, start = [], 0
    for i, clip in enumerate(clips):  # in-points 3 s and 6 s: inside a long GOP, as a shot usually is
        shots.append(Shot("clip", f"s{i}", start, length, clip, source_in=180 if i % 2 else 90))
        start += length - overlap
    scenes = tuple(SceneSpan(s.scene, "other", (), s.start, s.duration) for s in shots)
    texts = tuple(TextItem("caption", s.scene, s.start, s.duration, f"adegan {s.scene}") for s in shots)
    joins = tuple(Transition("crossfade", a.scene, b.scene, b.start, overlap) for a, b in zip(shots, shots[1:]))
    audio = tuple(AudioItem("clip", s.source, s.start, s.duration, s.source_in, scene=s.scene) for s in shots)
    return Timeline(fps, 1920, 1080, shots[-1].end, scenes, tuple(shots), texts, audio, joins)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gop", type=int, default=240)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work", type=Path, default=REPO / "bench-work" / "handoff")
    args = parser.parse_args()
    src = REPO / "bench-work" / "render" / "src"
    args.work.mkdir(parents=True, exist_ok=True)
    clips = []
    for name in ("c01", "c02", "c03", "c04"):
        out = args.work / f"{name}-g{args.gop}.mp4"
        if not out.exists():
            subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-t", "12", "-i", str(src / f"{name}.mp4"),
                            "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-g", str(args.gop),
                            "-keyint_min", str(args.gop), "-sc_threshold", "0", "-c:a", "copy", str(out)], check=True)
        clips.append(str(out))
    job, profile = timeline(clips), load_profile()
    real = encode.handoffs
    figures: dict[str, list[tuple[float, float]]] = {"handoff": [], "none": []}
    for _round in range(args.rounds):
        for mode in figures:
            encode.handoffs = real if mode == "handoff" else (lambda segments, is_clip: [])
            cache = args.work / f"cache-{mode}"
            shutil.rmtree(cache, ignore_errors=True)
            t0, c0 = time.perf_counter(), children_cpu()
            render_timeline(job, args.work / f"{mode}.mp4", profile=profile, cache_dir=cache, check=False)
            figures[mode].append((time.perf_counter() - t0, children_cpu() - c0))
            print(f"{mode:8s} wall {figures[mode][-1][0]:6.1f} s  cpu {figures[mode][-1][1]:6.1f} s", flush=True)
    encode.handoffs = real
    med = {m: (statistics.median(w for w, _c in v), statistics.median(c for _w, c in v)) for m, v in figures.items()}
    print(f"GOP {args.gop} frames, {job.duration} frames: handoff / none = wall {med['handoff'][0] / med['none'][0]:.3f}, "
          f"cpu {med['handoff'][1] / med['none'][1]:.3f}")


if __name__ == "__main__":
    main()
