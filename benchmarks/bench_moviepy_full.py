"""The MoviePy script of ../shared/bench-anchor on the whole 180-s job, once: CPU time and peak memory
of its whole process tree (and wall time).

    python benchmarks/bench_moviepy_full.py [--seconds 180] [--nice 19] [--work bench-work/render]

It takes long (the anchor recorded 1040 s on its machine), so on a shared machine run it with
`--nice 19`: it then gets only the CPU nobody else wants, its wall time means nothing, but its CPU
seconds (user + system of every process it started, from the kernel's accounting) and its peak
memory still do, and they are compared with our final render's CPU seconds from results.json.
Writes --work/moviepy_full.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_render as bench  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--nice", type=int, default=0)
    parser.add_argument("--work", type=Path, default=bench.REPO / "bench-work" / "render")
    parser.add_argument("--anchor", type=Path, default=bench.default_anchor())
    args = parser.parse_args()
    work = args.work.resolve()
    if not (work / "src" / "music.mp3").exists():
        raise SystemExit("sources missing: run bench_render.py once first")
    out = work / "out"
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(args.anchor / "a_moviepy.py"), str(out / "moviepy-full.mp4")]
    if args.seconds < 180:
        cmd += ["--t", str(args.seconds)]
    env = dict(os.environ, BENCH_DIR=str(work), BENCH_FONT=str(bench.REPO / "kbvideo/fonts/DejaVuSans-Bold.ttf"))
    load_before = bench.load_average()
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=out, env=env, preexec_fn=(lambda: os.nice(args.nice)) if args.nice else None)
    with bench.PeakMemory(child.pid, interval=0.5) as peak:
        code = child.wait()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = {"seconds": args.seconds, "nice": args.nice, "exit": code, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
              "peak_rss_mb": round(peak.peak / 2**20, 1), "processes_at_peak": peak.peak_processes,
              "load_before": load_before, "load_after": bench.load_average(),
              "started": started, "ended": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    print(json.dumps(result, indent=2))
    (work / "moviepy_full.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
