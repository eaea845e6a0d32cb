"""A/B experiment: the final render of the reference job with extra ffmpeg output options on every segment.

    python benchmarks/bench_variants.py --seconds 60 --rounds 2 --variant threads1="-threads 1"
                                        [--variant NAME="ARGS" ...] [--variant NAME@SEGMENT="ARGS"]
                                        [--moviepy-settings] [--work bench-work/render]

`NAME@SEGMENT` applies the options to the segments whose name matches the glob SEGMENT only (e.g.
`one@03-s03.2="-threads 1"`). `--moviepy-settings` renders at the MoviePy script's encoder settings, as
bench_render.py's MoviePy comparison does.

Each variant is injected through a KBVIDEO_FFMPEG wrapper (before the segment's `-f mp4 OUT`, wherever it
stands among the outputs), so an
idea can be measured before it is written into kbvideo. The baseline and the variants are rendered
in turn, `--rounds` times, each from an empty cache, in the same run; the outputs are compared by
frame count, video and audio length and a per-frame MD5 of the decoded pictures. Results go to
--work/variants.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_render as bench  # noqa: E402
from kbvideo.media import ffmpeg_bin  # noqa: E402
from kbvideo.render import render_timeline  # noqa: E402
from kbvideo.rules.profile import load_profile  # noqa: E402

WRAPPER = r"""#!/bin/bash
REAL=%(real)s
# the extra options go right before a segment's "-f mp4 .../seg-*.mp4" output (other outputs, such as
# frames handed over to a transition, may follow it)
args=("$@")
out=()
for ((i = 0; i < ${#args[@]}; i++)); do
  if [[ "${args[i]}" == "-f" && "${args[i+1]:-}" == "mp4" && "${args[i+2]:-}" == */seg-%(segment)s.mp4 ]]; then
    out+=(%(extra)s)
  fi
  out+=("${args[i]}")
done
exec "$REAL" "${out[@]}"
"""


def wrapper(folder: Path, name: str, extra: str, real: str, segment: str = "*") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"ffmpeg-{name}"
    path.write_text(WRAPPER % {"real": shlex.quote(real), "extra": " ".join(shlex.quote(a) for a in shlex.split(extra)),
                               "segment": segment})
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def frame_digest(ff: str, path: Path) -> tuple[int, str]:
    """(frames, digest of the per-frame MD5 list) of the decoded video."""
    out = subprocess.run([ff, "-v", "error", "-i", str(path), "-map", "0:v:0", "-f", "framemd5", "-"],
                         check=True, capture_output=True, text=True).stdout
    lines = [line.rsplit(",", 1)[-1].strip() for line in out.splitlines() if line and not line.startswith("#")]
    return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--variant", action="append", default=[], metavar='NAME="ARGS"')
    parser.add_argument("--moviepy-settings", action="store_true",
                        help="the MoviePy script's encoder settings (crf 23, no peak cap, AAC 128k)")
    parser.add_argument("--work", type=Path, default=bench.REPO / "bench-work" / "render")
    parser.add_argument("--anchor", type=Path, default=bench.default_anchor())
    args = parser.parse_args()
    work = args.work.resolve()
    plan = bench.load_plan(args.anchor, work)
    profile = load_profile()
    if args.moviepy_settings:
        profile = bench.moviepy_settings(profile)
    full = bench.reference_timeline(plan, work / "src")
    job = bench.truncate(full, min(full.duration, round(args.seconds * plan.FPS)))
    real = ffmpeg_bin.ffmpeg_exe()
    variants = {"baseline": ""}
    segments = {"baseline": "*"}
    for item in args.variant:
        name, _, extra = item.partition("=")
        name, _, segment = name.partition("@")
        variants[name] = extra
        segments[name] = segment or "*"
    folder = work / "variants"
    out = folder / "out"
    out.mkdir(parents=True, exist_ok=True)
    wrappers = {name: wrapper(folder, name, extra, real, segments[name]) for name, extra in variants.items()}
    times: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}  # CPU seconds, ffmpeg children included
    loads = [bench.load_average()]
    outputs: dict[str, dict] = {}
    for _round in range(args.rounds):
        for name in variants:
            os.environ["KBVIDEO_FFMPEG"] = str(wrappers[name])
            ffmpeg_bin.ffmpeg_exe.cache_clear()
            cache = folder / f"cache-{name}"
            shutil.rmtree(cache, ignore_errors=True)
            c0, t0 = bench.cpu_seconds(), time.perf_counter()
            result = render_timeline(job, out / f"{name}.mp4", profile=profile, jobs=args.jobs, cache_dir=cache,
                                     check=False)
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(bench.cpu_seconds() - c0)
            loads.append(bench.load_average())
            outputs[name] = {"frames": result.frames, "video_s": result.duration,
                             "segments": result.timings.get("segments")}
    os.environ.pop("KBVIDEO_FFMPEG", None)
    ffmpeg_bin.ffmpeg_exe.cache_clear()
    for name in variants:
        path = out / f"{name}.mp4"
        frames, digest = frame_digest(real, path)
        outputs[name].update(decoded_frames=frames, pictures=digest, size=path.stat().st_size,
                             audio_s=bench_audio_seconds(path))
        if name != "baseline":
            outputs[name]["psnr_vs_baseline"] = psnr(real, path, out / "baseline.mp4")
    base = min(times["baseline"])
    print(f"first {job.duration_seconds:g} s of the reference job, {args.rounds} rounds, load {loads}")
    for name, spent in times.items():
        o = outputs[name]
        print(f"  {name:<12} best {min(spent):7.1f} s  all {[round(x, 1) for x in spent]}  "
              f"/ baseline {min(spent) / base:5.3f}  CPU {[round(x, 1) for x in cpu[name]]}  frames {o['decoded_frames']} pictures {o['pictures']} "
              f"size {o['size']}  A/V {o['video_s']:.3f}/{o['audio_s']:.3f}  PSNR {o.get('psnr_vs_baseline', '-')}")
    (work / "variants.json").write_text(json.dumps({"seconds": job.duration_seconds, "variants": variants, "segments": segments,
                                                    "times": times, "cpu": cpu, "outputs": outputs, "load": loads}, indent=2))


def psnr(ff: str, a: Path, b: Path) -> str:
    """ffmpeg's average PSNR of a against b (all planes), e.g. "50.12"; "inf" when identical."""
    err = subprocess.run([ff, "-hide_banner", "-i", str(a), "-i", str(b), "-lavfi", "[0:v][1:v]psnr", "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    found = [line for line in err.splitlines() if "PSNR" in line and "average:" in line]
    return found[-1].split("average:")[1].split()[0] if found else "?"


def bench_audio_seconds(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        end = 0.0
        for packet in container.demux(stream):
            if packet.pts is not None and packet.duration is not None:
                end = max(end, float((packet.pts + packet.duration) * packet.time_base))
    return end


if __name__ == "__main__":
    main()
