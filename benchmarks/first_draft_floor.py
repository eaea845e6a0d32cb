"""The least a first draft that makes its proxies must spend: a floor for `draft_making_proxies`.

    python benchmarks/first_draft_floor.py [--work bench-work/render] [--jobs 2] [--rounds 3]

Run after `bench_render.py --only draft` (it reads the stretches the first draft read, from
`out/d1.draft.render.json`: `stages.proxies` items). For each stretch of a clip the first draft
read, ONE ffmpeg does only what a proxy-making draft cannot avoid for it: decode the stretch (from
the keyframe before it, as any reader must), bring it once to the proxy's size, and encode it twice:
the proxy with kbvideo's proxy argv, and the draft picture with the draft's exact x264 argv.
Stretches run two at a time, as the render's segments do. Left out, all in the floor's favour: the
stills and the title card, captions, crossfades, the sound mix and the join. `floor_draft`
(testsrc2 through the draft's argv) and `decode_used` (the same stretches decoded alone) are run in
the same go, so the parts can be compared, and `floor_draft_no_proxies`: the same stretches
decoded and encoded as the draft picture only (the floor of a first draft that makes no proxies).

Prints the floor as a share of the job's running time (the `draft_making_proxies` target is 0.2)
and writes it to --work/first-draft-floor.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_render import cpu_seconds, floor_command, timed  # noqa: E402
from kbvideo.media.ffmpeg_bin import ffmpeg_exe  # noqa: E402
from kbvideo.media.probe import probe  # noqa: E402
from kbvideo.render import ffmpeg as render_ffmpeg  # noqa: E402
from kbvideo.render.assets import PROXY_CRF, proxy_size  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=REPO / "bench-work" / "render")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = args.work.resolve()
    report = json.loads((work / "out" / "d1.draft.render.json").read_text())
    items = report["stages"].get("proxies", {}).get("items", [])  # {source, segment, stretch} per proxy made
    stretches = [(i["source"], i["stretch"]) for i in items]
    if not stretches:
        raise SystemExit("no proxies in out/d1.draft.render.json: run bench_render.py --only draft first")
    fps = Fraction(report["timeline"]["fps"]) if "timeline" in report else Fraction(30)
    dw, dh = report["size"]
    seconds = report["duration"]
    ff = ffmpeg_exe()
    draft = render_ffmpeg.draft_encoder(fps)
    null = Path("/dev/null")

    def one(source_stretch, encode: bool, make_proxy: bool = True) -> None:
        source, (a, b) = source_stretch
        info = probe(source)
        video = info.main_video
        pw, ph = proxy_size((video.display_width, video.display_height), dw, dh)
        frames = round((b - a) * float(fps))
        head = [ff, "-hide_banner", "-nostats", "-loglevel", "error", "-y", "-ss", f"{a:.6f}", "-t", f"{b - a:.6f}",
                "-i", source]
        if not encode:
            subprocess.run(head + ["-map", "0:v:0", "-f", "null", "-"], check=True)
            return
        fit = min(dw / pw, dh / ph)  # the draft picture: the proxy's frames fitted in the draft's frame
        fw, fh = max(2, round(pw * fit / 2) * 2), max(2, round(ph * fit / 2) * 2)
        graph = (f"[0:v:0]scale={pw}:{ph}:flags=bilinear,format=yuv420p,split=2[p][d];"
                 f"[d]scale={fw}:{fh}:flags=fast_bilinear,pad={dw}:{dh}:(ow-iw)/2:(oh-ih)/2[dd]")
        proxy = ["-map", "[p]", "-an", "-c:v", "libx264", "-preset", "ultrafast", "-crf", str(PROXY_CRF), "-g", "10",
                 "-bf", "0", "-f", "mp4", str(null)]
        picture = ["-map", "[dd]", "-an", *draft.video_args(fps, frames), "-f", "mp4", str(null)]
        if not make_proxy:  # the draft picture alone (a first draft that makes no proxies)
            graph, proxy = graph.replace("split=2[p][d]", "null[d]"), []
        subprocess.run(head + ["-filter_complex", graph, *proxy, *picture], check=True)

    def all_of(encode: bool, make_proxy: bool = True):
        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(lambda s: one(s, encode, make_proxy), stretches))

    cpu: dict[str, float] = {}
    rows = []
    for _round in range(args.rounds):
        row = {}
        row["floor_first_draft"], _ = timed(lambda: all_of(True), cpu, "floor_first_draft")
        row["floor_draft_no_proxies"], _ = timed(lambda: all_of(True, False), cpu, "floor_draft_no_proxies")
        row["decode_used"], _ = timed(lambda: all_of(False), cpu, "decode_used")
        cmd = floor_command(ff, seconds, work / "out" / "floor-draft-again.mp4", draft, int(fps), f"{dw}x{dh}")
        row["floor_draft"], _ = timed(lambda: subprocess.run(cmd, check=True), cpu, "floor_draft")
        row["cpu"] = dict(cpu)
        rows.append(row)
        print(row, flush=True)
    med = {k: statistics.median(r[k] for r in rows)
           for k in ("floor_first_draft", "floor_draft_no_proxies", "decode_used", "floor_draft")}
    used = sum(b - a for _s, (a, b) in stretches)
    result = {"stretches": len(stretches), "seconds_read": round(used, 2), "running_time": seconds, "rounds": rows,
              "median": med, "floor_first_draft / running time": med["floor_first_draft"] / seconds,
              "floor_draft_no_proxies / running time": med["floor_draft_no_proxies"] / seconds,
              "decode_used / running time": med["decode_used"] / seconds,
              "floor_draft / running time": med["floor_draft"] / seconds, "cpu_seconds_total": round(cpu_seconds(), 1)}
    (work / "first-draft-floor.json").write_text(json.dumps(result, indent=2))
    for key, value in result.items():
        if key not in ("rounds",):
            print(f"  {key:40s} {value}")


if __name__ == "__main__":
    main()
