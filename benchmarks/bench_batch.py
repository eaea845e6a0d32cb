"""Throughput of `kbvideo batch`: local workers (`--jobs`) and a Dask `LocalCluster` (`--scheduler`).

    python benchmarks/bench_batch.py                      # 6 villages × 6 s drafts, local jobs 1 and 2
    python benchmarks/bench_batch.py --villages 12 --seconds 20 --jobs 1 2 3 --size 1920x1080
    python benchmarks/bench_batch.py --dask               # the same batch on a Dask LocalCluster, 1 and 2 workers
    python benchmarks/bench_batch.py --mode both --villages 6 --seconds 20 --rounds 2   # both, interleaved

Builds a throw-away project in a temp folder (generated media, a template and a roster), then
renders the whole batch once per configuration with --force and a cold render cache, and prints
villages per minute and the speed-up over the first configuration of the same mode. Each
configuration uses the same inputs; the project's `.kbvideo-cache/` (proxies, segments, probes,
hashes) and OUTDIR are wiped before every run so every run encodes everything.

Local mode runs `run_batch(..., BatchOptions(jobs=N))`, as `kbvideo batch --jobs N` does. Dask mode
starts `distributed.LocalCluster(n_workers=N, threads_per_worker=1, processes=True)` for each N in
--workers and runs `run_batch(..., BatchOptions(scheduler=cluster.scheduler_address))`: the code
path of `kbvideo batch --scheduler ADDRESS` (kbvideo.batch.distributed.DaskExecutor, one task per
village, each rendering in a child process of its Dask worker). Cluster start-up and shutdown are
not timed; the client's connection to the scheduler is (a user pays it too). A task stream
records which worker rendered which village and when.

With --rounds R every configuration runs R times, the configurations interleaved within a round
(the machine is shared: interleaving spreads other people's load over all of them); the table
shows the median. The 1-minute load average is recorded before each run. Results (every run, per
village) go to --json (default bench-work/batch/results.json).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kbvideo.batch.runner import BatchOptions, run_batch, villages_from_roster
from kbvideo.media.ffmpeg_bin import ffmpeg_exe

TEMPLATE = """\
schema_version: 1
kampung: {{name: "Kampung KB Bench", kota: Kota Bench, category: kota}}
output: {{size: {size}, fps: 30}}
scenes:
  - id: pembuka
    topic: opening
    shots:
      - card: {{title: "{{kampung.name}}", subtitle: "Kelurahan {{kampung.kelurahan}}"}}
        duration: {card}
      - clip: "../../assets/{{vars.asset_dir}}/klip.mp4"
        duration: {clip}
    narration: "../../assets/{{vars.asset_dir}}/narasi.m4a"
    captions: ["{{kampung.name}}"]
    transition: {{type: crossfade, duration: 0.5}}
  - id: dashat
    topic: dashat
    shots:
      - chart: {{title: Stunting, data: {{"2023": "{{vars.a}}", "2024": "{{vars.b}}"}}}}
        duration: {chart}
"""

RULES = """\
name: bench
title: bench
duration: {{max: 600}}
video: {{width: {w}, height: {h}, fps: ["30"]}}
topics: {{required: [], recommended: []}}
family_functions: {{all_eight: null}}
"""


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def build(root: Path, villages: int, seconds: float, size: str) -> tuple[Path, Path, Path]:
    card, chart = seconds * 0.25, seconds * 0.25
    clip = seconds - card - chart + 0.5
    (root / "storyboards" / "templates").mkdir(parents=True)
    template = root / "storyboards" / "templates" / "bench.yaml"
    template.write_text(TEMPLATE.format(size=size, card=card, clip=clip, chart=chart), encoding="utf-8")
    w, h = size.split("x")
    rules = root / "rules.yaml"
    rules.write_text(RULES.format(w=w, h=h), encoding="utf-8")
    rows = ["name,kelurahan,asset_dir,a,b"]
    for i in range(villages):
        folder = root / "assets" / f"v{i}"
        folder.mkdir(parents=True)
        # each village its own media (different colours/tones): no cross-village cache hits
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=30", "-f", "lavfi", "-i", f"sine=frequency={300 + 20 * i}",
               "-t", f"{clip + 1:.2f}", "-vf", f"hue=h={i * 40}", "-c:v", "libx264", "-preset", "ultrafast",
               "-pix_fmt", "yuv420p", "-c:a", "aac", str(folder / "klip.mp4"))
        ffmpeg("-f", "lavfi", "-i", f"sine=frequency={500 + 10 * i}", "-t", f"{min(3.0, card + clip - 0.5):.2f}",
               "-c:a", "aac", "-f", "ipod", str(folder / "narasi.m4a"))
        rows.append(f"Kampung KB Bench {i},Kel {i},v{i},{10 + i},{5 + i}")
    roster = root / "storyboards" / "roster.csv"
    roster.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return template, roster, rules


def load1() -> float:
    return round(os.getloadavg()[0], 2)


@contextlib.contextmanager
def dask_cluster(workers: int):
    """A LocalCluster of `workers` single-threaded worker processes, and a task stream on it."""
    import distributed  # the optional extra kbvideo[distributed]

    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster, set_as_default=False) as client:
            client.wait_for_workers(workers)
            yield cluster, client


def run_once(root: Path, template: Path, roster: Path, rules: Path, args, mode: str, n: int) -> dict:
    """One cold batch: `mode` 'local' with --jobs n, or 'dask' on a LocalCluster of n workers."""
    shutil.rmtree(root / ".kbvideo-cache", ignore_errors=True)
    shutil.rmtree(root / "out", ignore_errors=True)
    options = BatchOptions(outdir=root / "out", draft=not args.final, force=True, rules=str(rules),
                           render_jobs=args.render_jobs)
    tasks: list[dict] = []
    if mode == "local":
        options.jobs = n
        load = load1()
        started, at = time.perf_counter(), time.time()
        report = run_batch(villages_from_roster(template, roster), options)
        wall = time.perf_counter() - started
    else:
        import distributed

        with dask_cluster(n) as (cluster, client):
            options.scheduler = cluster.scheduler_address
            load = load1()
            with distributed.get_task_stream(client) as stream:
                started, at = time.perf_counter(), time.time()
                report = run_batch(villages_from_roster(template, roster), options)
                wall = time.perf_counter() - started
            names = {address: f"w{i}" for i, address in enumerate(sorted(cluster.scheduler_info["workers"]))}
            for record in stream.data:
                compute = [s for s in record.get("startstops", []) if s.get("action") == "compute"]
                if not compute or not str(record["key"]).startswith("kbvideo-"):
                    continue
                tasks.append({"slug": str(record["key"])[len("kbvideo-"):].rsplit("-", 1)[0], "worker": names.get(record["worker"], record["worker"]),
                              "start": round(compute[0]["start"] - at, 2), "stop": round(compute[-1]["stop"] - at, 2)})
    bad = [(r.slug, r.status, r.error) for r in report.results if r.status != "rendered"]
    if bad:
        raise SystemExit(f"{mode} {n}: not all rendered: {bad}")
    by_slug = {t["slug"]: t for t in tasks}
    villages = [{"slug": r.slug, "seconds": round(r.seconds, 2), "verdict": r.verdict,
                 **({k: by_slug[r.slug][k] for k in ("worker", "start", "stop")} if r.slug in by_slug else {})}
                for r in report.results]
    return {"mode": mode, "n": n, "villages": args.villages, "seconds": round(wall, 2),
            "villages_per_minute": round(args.villages * 60 / wall, 2),
            "video_seconds_per_second": round(args.villages * args.seconds / wall, 3),
            "load_before": load, "load_after": load1(), "started_utc": time.strftime("%H:%M:%S", time.gmtime(at)),
            "per_village": villages}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--villages", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each village's video")
    parser.add_argument("--size", default="1920x1080", help="storyboard output size (drafts render at 480p)")
    parser.add_argument("--mode", choices=("local", "dask", "both"), default="local",
                        help="local workers (--jobs), a Dask LocalCluster (--workers), or both interleaved")
    parser.add_argument("--dask", action="store_const", const="dask", dest="mode", help="the same as --mode dask")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="local workers (kbvideo batch --jobs)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="Dask LocalCluster worker processes (one thread each)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of every configuration (median shown)")
    parser.add_argument("--render-jobs", type=int, default=None,
                        help="segment threads inside a village (default: local cores // jobs, as kbvideo batch "
                             "does; Dask: the renderer's default, 2)")
    parser.add_argument("--final", action="store_true", help="final quality instead of drafts")
    parser.add_argument("--json", type=Path, default=Path("bench-work/batch/results.json"),
                        help="write every run as JSON (default: %(default)s)")
    args = parser.parse_args()

    configs = ([("local", n) for n in args.jobs] if args.mode in ("local", "both") else []) + \
              ([("dask", n) for n in args.workers] if args.mode in ("dask", "both") else [])
    root = Path(tempfile.mkdtemp(prefix="kbvideo-bench-batch-"))
    try:
        template, roster, rules = build(root, args.villages, args.seconds, args.size)
        runs = []
        for round_ in range(args.rounds):
            for mode, n in configs:
                run = run_once(root, template, roster, rules, args, mode, n)
                run["round"] = round_ + 1
                runs.append(run)
                print(f"round {round_ + 1}: {mode} {n}: {run['seconds']:.1f} s, load {run['load_before']:.2f} before",
                      file=sys.stderr, flush=True)
        rows = []
        for mode, n in configs:
            mine = [r for r in runs if (r["mode"], r["n"]) == (mode, n)]
            wall = statistics.median(r["seconds"] for r in mine)
            rows.append({"mode": mode, "n": n, "seconds": round(wall, 2), "runs": [r["seconds"] for r in mine],
                         "villages_per_minute": round(args.villages * 60 / wall, 2),
                         "video_seconds_per_second": round(args.villages * args.seconds / wall, 3),
                         "load_before": [r["load_before"] for r in mine]})
        print(f"{args.villages} villages × {args.seconds:g} s {'final' if args.final else 'draft'} ({args.size}), "
              f"{os.cpu_count()} cores, {args.rounds} round(s), medians")
        print("mode   n  wall (s)  villages/min  video s per s  speed-up  load before")
        for row in rows:
            base = next(r for r in rows if r["mode"] == row["mode"])["seconds"]
            print(f"{row['mode']:<5} {row['n']:>2}  {row['seconds']:>8.1f}  {row['villages_per_minute']:>12.2f}  "
                  f"{row['video_seconds_per_second']:>13.3f}  {base / row['seconds']:>7.2f}x  "
                  f"{', '.join(f'{x:.2f}' for x in row['load_before'])}")
        for run in runs:
            if run["mode"] == "dask":
                placed = ", ".join(f"{v['slug']}@{v.get('worker', '?')} {v.get('start', 0):.0f}–{v.get('stop', 0):.0f}s"
                                   for v in run["per_village"])
                print(f"  dask {run['n']} round {run['round']}: {placed}")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({
                "villages": args.villages, "seconds": args.seconds, "size": args.size, "final": args.final,
                "cpus": os.cpu_count(), "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "summary": rows, "runs": runs}, indent=2) + "\n", encoding="utf-8")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
