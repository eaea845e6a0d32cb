"""Render benchmark on the reference job of ../shared/bench-anchor (see its README).

    python benchmarks/bench_render.py [--only floor,final,draft,edit,moviepy] [--seconds 180] [--jobs 2]
                                      [--work bench-work/render] [--anchor ../shared/bench-anchor]

The job (plan.py: 17 scenes, 1080p/720p/portrait clips, 4 stills, a caption per scene, 0.5 s
crossfades, music at 25 %) is expressed as a kbvideo Timeline built from plan.py's own table, so the
two stay the same job. Sources are generated once with the anchor's gen_sources.sh into --work/src.
Everything is timed in the same run, and reported as ratios:

  floor        the encoder floor (floor.sh; with --seconds < 180 the same ffmpeg settings for that long)
  final        our cold render (empty segment cache) / floor                       target ≤ 1.3
  draft        draft without proxies, first draft making proxies, draft from proxies; / running time
                                                                                    target ≤ 1/20
  edit         re-render after one caption edit / cold final render                 target ≤ 0.10
  moviepy      a_moviepy.py --t T  vs  our cold render of the same first T s (T = min(30, --seconds))
                                                                                    target ≥ 8×
Results are printed and written to --work/results.json. The full job takes many minutes on 2 cores:
run it when the machine is quiet; --seconds 20 checks that everything works.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kbvideo.media.ffmpeg_bin import ffmpeg_exe  # noqa: E402
from kbvideo.render import render_timeline  # noqa: E402
from kbvideo.rules.profile import load_profile  # noqa: E402
from kbvideo.timeline.model import AudioItem, SceneSpan, Shot, TextItem, Timeline, Transition  # noqa: E402

PARTS = ("floor", "final", "draft", "edit", "moviepy")


def load_plan(anchor: Path, work: Path):
    os.environ["BENCH_DIR"] = str(work)
    sys.path.insert(0, str(anchor))
    import plan  # the anchor's table of the job

    return plan


def reference_timeline(plan, src: Path, fill: str = "#000000") -> Timeline:
    fps = Fraction(plan.FPS)
    xf = round(plan.XF * plan.FPS)
    spans, shots, texts, audio, transitions = [], [], [], [], []
    start = 0
    for index, (kind, name, inpt, dur, caption) in enumerate(plan.SCENES):
        sid = f"s{index + 1:02d}"
        frames = round(dur * plan.FPS)
        if kind == "title":
            title, subtitle = plan.TITLE_TEXT, plan.TITLE_SUB
            shots.append(Shot("card", sid, start, frames, title=title, subtitle=subtitle,
                              color="#%02x%02x%02x" % plan.TITLE_BG))
        elif kind == "clip":
            shots.append(Shot("clip", sid, start, frames, str(src / name), round(inpt * plan.FPS), fill=fill))
            audio.append(AudioItem("clip", str(src / name), start, frames, round(inpt * plan.FPS), scene=sid))
        else:
            shots.append(Shot("still", sid, start, frames, str(src / name), fill=fill))
        if caption:
            texts.append(TextItem("caption", sid, start, frames, caption))
        spans.append(SceneSpan(sid, "other", (), start, frames))
        if index < len(plan.SCENES) - 1:
            transitions.append(Transition("crossfade", sid, f"s{index + 2:02d}", start + frames - xf, xf))
            start += frames - xf
    total = spans[-1].end
    audio.append(AudioItem("music", str(src / "music.mp3"), 0, total, 0, plan.MUSIC_VOL))
    return Timeline(fps, plan.W, plan.H, total, tuple(spans), tuple(shots), tuple(texts), tuple(audio),
                    tuple(transitions), title="bench")


def truncate(timeline: Timeline, frames: int) -> Timeline:
    """The first `frames` of the timeline (ending before a transition that would straddle the end)."""
    for t in timeline.transitions:
        if t.start < frames < t.start + t.duration:
            frames = t.start
    cut = lambda items: tuple(dataclasses.replace(x, duration=min(x.end, frames) - x.start)  # noqa: E731
                              for x in items if x.start < frames)
    return dataclasses.replace(timeline, duration=frames, scenes=cut(timeline.scenes), shots=cut(timeline.shots),
                               texts=cut(timeline.texts), audio=cut(timeline.audio),
                               transitions=tuple(t for t in timeline.transitions if t.start + t.duration <= frames))


def edited(timeline: Timeline) -> Timeline:
    """One caption changed, in the middle of the job."""
    texts = list(timeline.texts)
    k = len(texts) // 2
    texts[k] = dataclasses.replace(texts[k], text=texts[k].text + " (revisi)")
    return dataclasses.replace(timeline, texts=tuple(texts))


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(PARTS), help="comma list of: " + ", ".join(PARTS))
    parser.add_argument("--seconds", type=float, default=180.0, help="render only the first SECONDS of the job")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--fill", default="#000000", help="contain fill: the reference pads with black; 'blur'")
    parser.add_argument("--work", type=Path, default=REPO / "bench-work" / "render")
    parser.add_argument("--anchor", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "bench-anchor")
    args = parser.parse_args()
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    work = args.work.resolve()
    src = work / "src"
    ff = ffmpeg_exe()
    if not (src / "music.mp3").exists() or not (src / "s4.png").exists():
        print("generating the sources (a few minutes) ...", file=sys.stderr)
        subprocess.run(["bash", str(args.anchor / "gen_sources.sh")], check=True,
                       env=dict(os.environ, BENCH_DIR=str(work), FF=ff, PY=sys.executable))
    plan = load_plan(args.anchor, work)
    profile = load_profile()
    full = reference_timeline(plan, src, args.fill)
    frames = min(full.duration, round(args.seconds * plan.FPS))
    job = truncate(full, frames)
    seconds = job.duration_seconds
    out = work / "out"
    out.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    extra: dict[str, object] = {"seconds": seconds, "jobs": args.jobs or 2, "fill": args.fill}

    def fresh(name: str) -> Path:
        folder = work / f"cache-{name}"
        shutil.rmtree(folder, ignore_errors=True)
        return folder

    def render(timeline, name, cache, **kw):
        return render_timeline(timeline, out / name, profile=profile, jobs=args.jobs, cache_dir=cache,
                               check=False, **kw)

    if "floor" in parts:
        if frames == full.duration and abs(seconds - 180) < 1e-9:
            cmd = ["bash", str(args.anchor / "floor.sh"), str(out / "floor.mp4")]
        else:  # floor.sh's settings, for the scaled-down length
            cmd = [ff, "-hide_banner", "-nostats", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                   f"testsrc2=s=1920x1080:r=30:d={seconds}", "-f", "lavfi", "-i",
                   f"sine=frequency=440:sample_rate=48000:d={seconds}", "-ac", "2", "-c:v", "libx264", "-preset",
                   "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-ar", "48000",
                   "-movflags", "+faststart", str(out / "floor.mp4")]
        times["floor"], _ = timed(lambda: subprocess.run(cmd, check=True, env=dict(os.environ, FF=ff)))
    if "final" in parts or "edit" in parts:
        cache = fresh("final")
        times["final"], result = timed(lambda: render(job, "final.mp4", cache))
        extra["final_frames"] = result.frames
        extra["final_timings"] = result.timings
        if "edit" in parts:
            times["edit"], result = timed(lambda: render(edited(job), "edited.mp4", cache))
            extra["edit_segments_encoded"] = result.segments_encoded
    if "draft" in parts:
        times["draft_no_proxies"], _ = timed(lambda: render(job, "d0.draft.mp4", fresh("draft0"), draft=True,
                                                            proxies=False))
        cache = fresh("draft1")
        times["draft_making_proxies"], _ = timed(lambda: render(job, "d1.draft.mp4", cache, draft=True))
        shutil.rmtree(cache / "segments", ignore_errors=True)
        shutil.rmtree(cache / "audio", ignore_errors=True)
        times["draft_with_proxies"], r = timed(lambda: render(job, "d2.draft.mp4", cache, draft=True))
        extra["draft_frames"] = r.frames
    if "moviepy" in parts:
        t = min(30.0, seconds)
        short = truncate(full, round(t * plan.FPS))
        times[f"ours_{t:g}s"], _ = timed(lambda: render(short, "short.mp4", fresh("short")))
        cmd = [sys.executable, str(args.anchor / "a_moviepy.py"), str(out / "moviepy.mp4"), "--t", str(t)]
        times[f"moviepy_{t:g}s"], _ = timed(lambda: subprocess.run(cmd, check=True, cwd=out,
                                                                   env=dict(os.environ, BENCH_DIR=str(work),
                                                                            BENCH_FONT=str(REPO / "kbvideo/fonts/DejaVuSans-Bold.ttf"))))

    ratios: dict[str, float] = {}
    if "floor" in times:
        for key in ("final", "draft_no_proxies", "draft_making_proxies", "draft_with_proxies"):
            if key in times:
                ratios[f"{key} / floor"] = times[key] / times["floor"]
    for key in ("draft_no_proxies", "draft_making_proxies", "draft_with_proxies"):
        if key in times:
            ratios[f"{key} / running time"] = times[key] / seconds
    if "edit" in times:
        ratios["edit / final"] = times["edit"] / times["final"]
    mp = [k for k in times if k.startswith("moviepy_")]
    if mp:
        ours = times["ours_" + mp[0][len("moviepy_"):]]
        ratios[f"{mp[0]} / ours"] = times[mp[0]] / ours
    print(f"reference job, first {seconds:g} s, jobs={extra['jobs']}, fill={args.fill}")
    for key, value in times.items():
        print(f"  {key:<26} {value:8.1f} s")
    for key, value in ratios.items():
        print(f"  {key:<40} {value:6.2f}")
    (work / "results.json").write_text(json.dumps({"times": times, "ratios": ratios, **extra}, indent=2, default=str))


if __name__ == "__main__":
    main()
