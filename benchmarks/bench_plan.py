"""How long `kbvideo validate` / `plan` take on the sample storyboard, cold (no probe cache) and warm.

    python benchmarks/bench_plan.py [STORYBOARD] [--runs 5]

Target (issue 2): well under a second once probes are cached. Reported as medians of whole CLI
runs (process start included), and of the in-process pipeline, with the interpreter's own start-up
(`python -c pass`) measured in the same run as the yardstick.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("storyboard", nargs="?", default=str(REPO / "storyboards" / "jenggot.yaml"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cache = Path(tempfile.mkdtemp(prefix="kbvideo-bench-cache-"))
    env = dict(os.environ, KBVIDEO_CACHE_DIR=str(cache))
    python = [sys.executable]
    results = {}
    try:
        results["python -c pass"] = [timed(python + ["-c", "pass"], env) for _ in range(args.runs)]
        cold = []
        for _ in range(args.runs):
            shutil.rmtree(cache, ignore_errors=True)
            cold.append(timed(python + ["-m", "kbvideo", "validate", args.storyboard], env))
        results["validate, cold cache"] = cold
        results["validate, warm cache"] = [timed(python + ["-m", "kbvideo", "validate", args.storyboard], env)
                                           for _ in range(args.runs)]
        results["plan, warm cache"] = [timed(python + ["-m", "kbvideo", "plan", args.storyboard], env)
                                       for _ in range(args.runs)]
        sys.path.insert(0, str(REPO))
        os.environ["KBVIDEO_CACHE_DIR"] = str(cache)
        from kbvideo.pipeline import plan_storyboard

        plan_storyboard(args.storyboard)
        inproc = []
        for _ in range(args.runs):
            start = time.perf_counter()
            plan_storyboard(args.storyboard)
            inproc.append(time.perf_counter() - start)
        results["pipeline in-process, warm"] = inproc
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    base = statistics.median(results["python -c pass"])
    print(f"{'measurement':32} {'median s':>9} {'× python start':>15}")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:32} {median:9.3f} {median / base:15.1f}")


if __name__ == "__main__":
    main()
