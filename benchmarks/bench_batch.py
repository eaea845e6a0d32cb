"""Throughput of `kbvideo batch` with 1 vs 2 (… N) local workers on a batch of short drafts.

    python benchmarks/bench_batch.py                      # 6 villages × 6 s drafts, jobs 1 and 2
    python benchmarks/bench_batch.py --villages 12 --seconds 20 --jobs 1 2 3 --size 1920x1080

Builds a throw-away project in a temp folder (generated media, a template and a roster), then
renders the whole batch once per --jobs value with --force and a cold render cache, and prints
villages per minute and the speed-up over the first value. Each configuration uses the same
inputs; the segment cache is wiped between runs so every run encodes everything.
"""

from __future__ import annotations

import argparse
import json
import shutil
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--villages", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each village's video")
    parser.add_argument("--size", default="1920x1080", help="storyboard output size (drafts render at 480p)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--render-jobs", type=int, default=None,
                        help="segment threads inside a village (default: cores // jobs, as kbvideo batch does)")
    parser.add_argument("--final", action="store_true", help="final quality instead of drafts")
    parser.add_argument("--json", type=Path, default=None, help="write the results as JSON")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="kbvideo-bench-batch-"))
    try:
        template, roster, rules = build(root, args.villages, args.seconds, args.size)
        rows = []
        for jobs in args.jobs:
            shutil.rmtree(root / ".kbvideo-cache", ignore_errors=True)
            shutil.rmtree(root / "out", ignore_errors=True)
            options = BatchOptions(outdir=root / "out", draft=not args.final, jobs=jobs, force=True, rules=str(rules),
                                   render_jobs=args.render_jobs)
            started = time.perf_counter()
            report = run_batch(villages_from_roster(template, roster), options)
            wall = time.perf_counter() - started
            statuses = {r.status for r in report.results}
            if statuses != {"rendered"}:
                print(f"jobs={jobs}: not all rendered: {[(r.slug, r.status, r.error) for r in report.results]}")
                return 1
            rows.append({"jobs": jobs, "villages": args.villages, "seconds": round(wall, 2),
                         "villages_per_minute": round(args.villages * 60 / wall, 2),
                         "video_seconds_per_second": round(args.villages * args.seconds / wall, 3)})
        base = rows[0]["seconds"]
        print(f"{args.villages} villages × {args.seconds:g} s {'final' if args.final else 'draft'} ({args.size})")
        print("jobs  wall (s)  villages/min  video s per s  speed-up")
        for row in rows:
            print(f"{row['jobs']:>4}  {row['seconds']:>8.1f}  {row['villages_per_minute']:>12.2f}  "
                  f"{row['video_seconds_per_second']:>13.3f}  {base / row['seconds']:>7.2f}x")
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
