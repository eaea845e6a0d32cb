"""How long `kbvideo check` takes on a 1080p30 file, as a ratio of the file's running time.

    python benchmarks/bench_check.py [FILE] [--seconds 180] [--runs 3] [--work bench-work/check]

Without FILE, a 1080p30 H.264/AAC file of --seconds (default 180: the contest length) is generated
once into --work (testsrc2 + a tone, x264 veryfast, faststart) and reused by later runs.
Reported (medians of --runs, in-process `check_file`, and one whole CLI run for each mode):

  probe        the header part alone (kbvideo.media.probe.probe)            target: well under 1 s
  quick        check_file(quick=True): header + audio pass                   target: well under 1 s of header
  full         check_file(): one decoding pass for every measurement         target: well under 1.0 x running time
  decode       bare `ffmpeg -i FILE -f null -` decode of both streams: the floor the full check stands on

Ratios are seconds / running time; `full / decode` shows what the measurements cost on top of decoding.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kbvideo.check import check_file  # noqa: E402
from kbvideo.media.ffmpeg_bin import ffmpeg_exe  # noqa: E402
from kbvideo.media.probe import probe  # noqa: E402
from kbvideo.rules.profile import load_profile  # noqa: E402


def make_source(work: Path, seconds: float) -> Path:
    out = work / f"check-1080p30-{seconds:g}s.mp4"
    if out.exists():
        return out
    work.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name("tmp-" + out.name)
    print(f"generating {out} ({seconds:g} s of 1080p30) ...", file=sys.stderr)
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", f"testsrc2=s=1920x1080:r=30:d={seconds}",
           "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={seconds}",
           "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "15", "-bf", "2",
           "-c:a", "aac", "-b:a", "192k", "-ac", "2", "-movflags", "+faststart", "-f", "mp4", str(tmp)]
    subprocess.run(cmd, check=True)
    tmp.rename(out)
    return out


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_of(runs: int, fn) -> float:
    return statistics.median(timed(fn) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=REPO / "bench-work" / "check")
    args = parser.parse_args()

    path = args.file or make_source(args.work, args.seconds)
    profile = load_profile()
    info = probe(path)
    running = info.duration or args.seconds
    print(f"file: {path} ({running:.3f} s, {info.size_bytes / 1e6:.1f} MB, "
          f"{info.main_video.display_width}x{info.main_video.display_height} @ {float(info.main_video.fps):.3f} fps); "
          f"cpus: {os.cpu_count()}; load: {os.getloadavg()[0]:.2f}")

    decode_cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
                  "-map", "0:v:0", "-map", "0:a:0?", "-f", "null", "-"]
    results = {
        "probe": median_of(args.runs, lambda: probe(path)),
        "quick": median_of(args.runs, lambda: check_file(path, profile, quick=True)),
        "full": median_of(args.runs, lambda: check_file(path, profile)),
        "decode": median_of(args.runs, lambda: subprocess.run(decode_cmd, check=True)),
    }
    cli = {}
    for mode, extra in (("quick", ["--quick"]), ("full", [])):
        cmd = [sys.executable, "-m", "kbvideo", "check", "--json", *extra, str(path)]
        cli[mode] = timed(lambda: subprocess.run(cmd, capture_output=True, cwd=REPO))

    report = check_file(path, profile)
    print(f"verdict: {report.verdict}; rules: {', '.join(report.rules) or '-'}")
    print(f"{'stage':<8} {'seconds':>8} {'x running time':>15}")
    for name, seconds in results.items():
        print(f"{name:<8} {seconds:8.3f} {seconds / running:15.4f}")
    for name, seconds in cli.items():
        print(f"{'cli ' + name:<8} {seconds:8.3f} {seconds / running:15.4f}   (whole process, one run)")
    print(f"full / decode = {results['full'] / results['decode']:.2f}   "
          f"quick - probe (audio pass) = {results['quick'] - results['probe']:.3f} s")
    ok_full = results["full"] / running < 0.5
    ok_probe = results["probe"] < 1.0
    print(f"targets: full < 0.5 x running time: {'OK' if ok_full else 'MISSED'}; "
          f"header part < 1 s: {'OK' if ok_probe else 'MISSED'}")


if __name__ == "__main__":
    main()
