"""Render benchmark on the reference job of ../shared/bench-anchor (see its README).

    python benchmarks/bench_render.py [--only floor,final,draft,scene,edit,moviepy,profile] [--seconds 180]
                                      [--jobs 2] [--work bench-work/render] [--anchor ../shared/bench-anchor]

The job (plan.py: 17 scenes, 1080p/720p/portrait clips, 4 stills, a caption per scene, 0.5 s
crossfades, music at 25 %) is expressed as a kbvideo Timeline built from plan.py's own table, so the
two stay the same job. Sources are generated once with the anchor's gen_sources.sh into --work/src.
Everything is timed in the same run, and reported as ratios:

  floor        two encoder floors of the same synthetic 1080p30 picture and tone: `floor_master` with
               exactly the final's encoder settings (the rules profile's `master:` section, through
               kbvideo.render.ffmpeg.final_encoder: the argv the segments are encoded with) and
               `floor` with floor.sh's fixed settings (crf 23, AAC 128k; with --seconds < 180 the
               same settings for that long), kept as a second figure comparable with older runs
  final        our cold render (empty segment cache) / floor_master                target ≤ 1.3
               (and / floor); peak resident memory of the whole process tree      target ≤ 1 GB
               With floor and final both run: `floor_content`, the final's own frames decoded and
               encoded again with the master's argv, and `decode_final`, that decode alone: the
               encoder floor of the job's pictures (testsrc2 is much easier for x264)
  pictures     the job's own floor (pictures_floor.py), each round: the programme's exact pictures
               (a lossless render, once, unpacked to raw frames) encoded with the master's argv
               (`floor_pictures`; `read_pictures`, the raw read alone, is recorded), plus every shown stretch of the clips decoded
               once (`decode_stretches`): `floor_job`, what any renderer of this job must spend
  draft        draft without proxies, first draft making proxies, draft from proxies; / running time
                                                                                    target ≤ 1/20
  scene        `render --draft --scene` of scenes s02+s03+s04 (41 s, the reference job has no single
               40-s scene) and of s03 alone (14.5 s), proxies made, segments not cached; once with
               the sound mix cached (a picture edit) and once without           target ≤ 3 s
  graph        the same job as ONE hand-written ffmpeg command (one_graph.py: trims, fits, captions,
               xfades and the music mix in one filter graph) with the master's argv, each round beside
               floor_master and the final: what the job's own work costs done the cheapest way
  edit         re-render after one caption edit / cold final render                 target ≤ 0.05
               and its floor: the CPU the final spent on the segments the edit re-encodes (every
               frame the caption is on), as a share of the final's CPU
  moviepy      a_moviepy.py --t T  vs  our cold render of the same first T s (T = min(30, --seconds))
                                                                                    target ≥ 8×
               and vs `floor_content_Ts_moviepy_settings`: our T-s render at the script's settings
               decoded and encoded again exactly as the script encodes, and `floor_job_Ts_moviepy_settings`
               (pictures_floor.py): those T s' exact pictures and their sound encoded so, plus their
               clips read once (the most any renderer of this job can reach)
  profile      a final and a draft from proxies rendered again with every segment's ffmpeg argv also
               run with `-f null` (decode + filter only, see ffmpeg_log.py): where the time goes.
               Not a timed figure (the null passes add work); run it after the others.

Every render's ffmpeg runs are logged (argv, wall, CPU) through a KBVIDEO_FFMPEG wrapper (a few ms
per process; --no-log turns it off), and the renderer's Python stages are timed by wrapping its
functions from outside: both go to results.json as `stages`. The load average is recorded before
and after each part: the machine is shared.
Results are printed and written to --work/results.json. The full job takes many minutes on 2 cores:
run it when the machine is quiet; --seconds 20 checks that everything works.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import functools
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kbvideo.media.ffmpeg_bin import ffmpeg_exe  # noqa: E402
from kbvideo.render import render_timeline  # noqa: E402
from kbvideo.rules.profile import load_profile  # noqa: E402
from kbvideo.timeline.model import AudioItem, SceneSpan, Shot, TextItem, Timeline, Transition  # noqa: E402

import ffmpeg_log  # noqa: E402  (benchmarks/, beside this script)
from one_graph import one_graph_command  # noqa: E402
import pictures_floor  # noqa: E402
import psutil  # noqa: E402

from kbvideo.render import ffmpeg as render_ffmpeg  # noqa: E402
from kbvideo.render import partial  # noqa: E402
from kbvideo.render.segments import plan_segments  # noqa: E402
from kbvideo.rules.drafts import draft_size  # noqa: E402

PARTS = ("floor", "final", "pictures", "graph", "draft", "scene", "edit", "moviepy", "profile")
SCENE_IDS = (["s02", "s03", "s04"], ["s03"])  # 41 s (three clip scenes, the job has no 40-s scene), 14.5 s


class PeakMemory:
    """Peak resident memory (sum of RSS) of a process and all its descendants, sampled in a thread."""

    def __init__(self, pid: int | None = None, interval: float = 0.2):
        self.pid = pid or os.getpid()
        self.interval = interval
        self.peak = 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
        if total > self.peak:
            self.peak, self.peak_processes = total, len(procs)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


class StageTimer:
    """Wall time spent in the renderer's own functions, measured by wrapping them from outside.

    Only names that exist are wrapped (the engine is being refactored); calls that run in parallel
    threads add up, so a stage's sum can exceed the render's wall time."""

    FUNCTIONS = ("source_facts", "check_texts", "resolve_collisions", "plan_segments", "segment_key",
                 "render_motion_shot", "render_text_overlay", "render_draft_mark", "fit_picture", "fit_layers",
                 "render_audio", "_count_frames", "count_frames", "_sha256", "check_file", "check_output", "probe",
                 "write_srt", "write_vtt")
    METHODS = ("preflight", "clip_source", "encode_segment", "encode_audio", "layout_elements", "_check", "finish")
    MODULES = ("engine", "assets", "encode", "finish")  # where the render's parts look these names up

    def __init__(self):
        self.calls: dict[str, list[float]] = {}
        self.segments: dict[str, float] = {}
        self.lock = threading.Lock()
        self.undo: list[tuple[object, str, object, bool]] = []

    def _wrap(self, owner, name: str, label: str):
        original = getattr(owner, name, None)
        if original is None or not callable(original):
            return
        timer = self

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent = time.perf_counter() - t0
                with timer.lock:
                    timer.calls.setdefault(label, []).append(spent)
                    if name == "encode_segment" and len(args) > 1 and hasattr(args[1], "name"):
                        timer.segments[args[1].name] = spent

        self.undo.append((owner, name, original, name in vars(owner)))
        setattr(owner, name, wrapper)

    def __enter__(self):
        import importlib

        for module_name in self.MODULES:
            try:
                module = importlib.import_module(f"kbvideo.render.{module_name}")
            except ImportError:
                continue
            for name in self.FUNCTIONS:
                self._wrap(module, name, name)
        from kbvideo.render import engine

        render_class = getattr(engine, "_Render", None)
        if render_class is not None:
            for name in self.METHODS:
                self._wrap(render_class, name, "_Render." + name)
        return self

    def __exit__(self, *exc):
        for owner, name, original, own in reversed(self.undo):
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)  # it was inherited: uncover the parent's again

    def report(self) -> dict:
        return {"functions": {k: {"calls": len(v), "wall": round(sum(v), 3)} for k, v in sorted(self.calls.items())},
                "encode_segment": {k: round(v, 3) for k, v in sorted(self.segments.items())}}


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def floor_command(ff: str, seconds: float, out: Path, encoder=None, fps: int = 30, size: str = "1920x1080") -> list[str]:
    """testsrc2 (1080p30 unless `size`) + a tone encoded with `encoder` (kbvideo's Encoder: the master's or
    the draft's exact argv) or, without one, with floor.sh's fixed settings."""
    head = [ff, "-hide_banner", "-nostats", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
            f"testsrc2=s={size}:r={fps}:d={seconds}", "-f", "lavfi", "-i",
            f"sine=frequency=440:sample_rate=48000:d={seconds}", "-ac", "2"]
    if encoder is None:
        video = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]
        audio = ["-c:a", "aac", "-b:a", "128k", "-ar", "48000"]
    else:
        frames = round(seconds * fps)
        video = encoder.video_args(Fraction(fps), frames) + ["-frames:v", str(frames)]
        audio = ["-c:a", "aac", "-aac_coder", getattr(encoder, "aac_coder", "twoloop"), "-b:a", encoder.audio_bitrate,
                 "-ar", "48000"]
    return head + video + audio + ["-movflags", "+faststart", str(out)]


def load_plan(anchor: Path, work: Path):
    os.environ["BENCH_DIR"] = str(work)
    os.environ.setdefault("BENCH_FONT", str(REPO / "kbvideo/fonts/DejaVuSans-Bold.ttf"))  # plan.py's captions
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


def moviepy_settings(profile):
    """The profile with the MoviePy script's encoder settings (crf 23, no peak cap, AAC 128k) for the master."""
    return dataclasses.replace(profile, master_crf=23, master_maxrate=None, master_bufsize=None,
                               master_audio_bitrate="128k")


def edited(timeline: Timeline) -> Timeline:
    """One caption changed, in the middle of the job."""
    texts = list(timeline.texts)
    k = len(texts) // 2
    texts[k] = dataclasses.replace(texts[k], text=texts[k].text + " (revisi)")
    return dataclasses.replace(timeline, texts=tuple(texts))


CPU_SPENT: dict[int, float] = {}  # id of a timed call's result → CPU seconds of this process and its children


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn, cpu: dict | None = None, name: str = "") -> tuple[float, object]:
    """Wall seconds of fn() (and, with `cpu`, its CPU seconds with its waited-for children into cpu[name])."""
    c0 = cpu_seconds()
    start = time.perf_counter()
    value = fn()
    spent = time.perf_counter() - start
    if cpu is not None:
        cpu[name] = round(cpu_seconds() - c0, 2)
    return spent, value


def default_anchor() -> Path:
    """../shared/bench-anchor from the checkout (or from a worktree one folder deeper)."""
    for parent in Path(__file__).resolve().parents[1:]:
        if (parent / "shared" / "bench-anchor").is_dir():
            return parent / "shared" / "bench-anchor"
    return Path(__file__).resolve().parents[2] / "shared" / "bench-anchor"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(p for p in PARTS if p != "profile"),
                        help="comma list of: " + ", ".join(PARTS) + " (default: all but profile)")
    parser.add_argument("--seconds", type=float, default=180.0, help="render only the first SECONDS of the job")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--fill", default="#000000", help="contain fill: the reference pads with black; 'blur'")
    parser.add_argument("--no-log", action="store_true", help="do not log the renderer's ffmpeg runs")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run floor_master, the final and the content floor this many times, side by side; "
                             "report medians (the machine is shared: one run can be 20 %% off)")
    parser.add_argument("--moviepy-seconds", type=float, default=30.0, help="length of the MoviePy comparison")
    parser.add_argument("--work", type=Path, default=REPO / "bench-work" / "render")
    parser.add_argument("--anchor", type=Path, default=default_anchor())
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
    logs = work / "ffmpeg-logs"  # one log per render, replaced when that render runs again
    times: dict[str, float] = {}
    memory: dict[str, dict] = {}
    cpu: dict[str, float] = {}  # CPU seconds (user + system) of each timed step, children included
    stages: dict[str, dict] = {}
    load: dict[str, list[float]] = {"start": load_average()}
    extra: dict[str, object] = {"seconds": seconds, "jobs": args.jobs or 2, "fill": args.fill,
                                "cpus": os.cpu_count(), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    master = render_ffmpeg.final_encoder(job.fps, profile)
    extra["master_encoder"] = {**master.key(), "audio_bitrate": master.audio_bitrate,
                               "argv": master.video_args(job.fps, job.duration)}

    def fresh(name: str) -> Path:
        folder = work / f"cache-{name}"
        shutil.rmtree(folder, ignore_errors=True)
        return folder

    def render(timeline, name, cache, *, null_pass=False, **kw):
        """One render, timed; its ffmpeg runs logged, its Python stages timed, its memory sampled."""
        previous = os.environ.get("KBVIDEO_FFMPEG")
        log = logs / f"{name}.log"
        log.unlink(missing_ok=True)
        if not args.no_log:
            ffmpeg_log.use(ffmpeg_log.install(logs, log))
        if null_pass:
            os.environ["KBV_NULLPASS"] = "1"
        try:
            with StageTimer() as stage_timer, PeakMemory() as peak:
                spent, result = timed(lambda: render_timeline(timeline, out / name, profile=kw.pop("profile", profile), jobs=args.jobs,
                                                              cache_dir=cache, check=False, **kw), cpu, name)
        finally:
            os.environ.pop("KBV_NULLPASS", None)
            if not args.no_log:
                ffmpeg_log.unuse(previous)
        rows = ffmpeg_log.read(log)
        stages[name] = {"wall": round(spent, 3), "timings": {k: round(v, 3) for k, v in result.timings.items()},
                        "python": stage_timer.report(), "ffmpeg": ffmpeg_log.summary(rows),
                        "ffmpeg_runs": [{"role": r["role"], "kind": r["kind"], "wall": r["wall"], "cpu": round(r["cpu"], 3)}
                                        for r in rows],
                        "segments_encoded": result.segments_encoded, "frames": result.frames,
                        "load_after": load_average()}
        memory[name] = {"peak_rss_mb": round(peak.peak / 2**20, 1), "processes_at_peak": peak.peak_processes}
        return spent, result

    per_round: list[dict[str, float]] = []
    round_keys = ("floor_master", "final", "decode_final", "floor_content", "one_graph",  # every round; medians
                  "read_pictures", "floor_pictures", "decode_stretches", "floor_job")
    for round_no in range(args.rounds):  # floor_master, final and the content floor, side by side each round
        if "floor" in parts:
            load["floor"] = load_average()
            cmd = floor_command(ff, seconds, out / "floor-master.mp4", master, plan.FPS)
            times["floor_master"], _ = timed(lambda: subprocess.run(cmd, check=True), cpu, "floor_master")
        if "floor" in parts and round_no == 0:  # the second floors, once
            if frames == full.duration and abs(seconds - 180) < 1e-9:
                cmd = ["bash", str(args.anchor / "floor.sh"), str(out / "floor.mp4")]
            else:  # floor.sh's settings, for the scaled-down length
                cmd = floor_command(ff, seconds, out / "floor.mp4")
            times["floor"], _ = timed(lambda: subprocess.run(cmd, check=True, env=dict(os.environ, FF=ff)), cpu, "floor")
            # the draft's own floor: its exact encoder argv (ultrafast, crf 30, AAC 96k) at the draft size
            dw, dh = draft_size(1920, 1080)
            cmd = floor_command(ff, seconds, out / "floor-draft.mp4", render_ffmpeg.draft_encoder(Fraction(plan.FPS)),
                                plan.FPS, f"{dw}x{dh}")
            times["floor_draft"], _ = timed(lambda: subprocess.run(cmd, check=True), cpu, "floor_draft")
        if "final" in parts or "edit" in parts:
            load["final"] = load_average()
            cache = fresh("final")
            times["final"], result = render(job, "final.mp4", cache)
            extra["final_frames"] = result.frames
            extra["final_timings"] = result.timings
            final_segments = {row["name"]: row for row in result.segments}
            if "floor" in parts:
                # The floor of the job's own pictures: the final's frames and sound decoded and encoded again with
                # exactly the master's settings, next to the same decode alone. testsrc2 is far easier for
                # x264 than the job's noise-like clips at CRF 18: this separates content from overhead.
                final_mp4 = out / "final.mp4"
                frames_out = result.frames
                decode = [ff, "-hide_banner", "-nostats", "-loglevel", "error", "-i", str(final_mp4), "-map", "0:v:0",
                          "-map", "0:a:0"]
                times["decode_final"], _ = timed(lambda: subprocess.run(decode + ["-f", "null", "-"], check=True),
                                                 cpu, "decode_final")
                # picture and sound, as floor_master encodes both: the master's video argv, its AAC settings
                encode = decode + master.video_args(job.fps, frames_out) + [
                    "-frames:v", str(frames_out), "-c:a", "aac", "-aac_coder", master.aac_coder, "-b:a", master.audio_bitrate,
                    "-ar", "48000", "-y", str(out / "floor-content.mp4")]
                times["floor_content"], _ = timed(lambda: subprocess.run(encode, check=True), cpu, "floor_content")
            if "edit" in parts and round_no == args.rounds - 1:
                times["edit"], result = render(edited(job), "edited.mp4", cache)
                extra["edit_segments_encoded"] = result.segments_encoded
                # What the edit must re-encode whatever the pipeline: every segment whose pixels the caption
                # touches. Their CPU in the cold final, as a share of the final's whole CPU, is the edit's floor.
                redone = [row["name"] for row in result.segments if not row["cached"]]
                redone_cpu = sum(final_segments[name].get("cpu") or 0 for name in redone if name in final_segments)
                redone_frames = sum(final_segments[name]["frames"] for name in redone if name in final_segments)
                extra["edit_redone"] = {"segments": redone, "frames": redone_frames, "cpu_in_final": round(redone_cpu, 2)}
                if cpu.get("final.mp4"):
                    extra["edit_redone"]["share_of_final_cpu"] = round(redone_cpu / cpu["final.mp4"], 4)
                extra["edit_redone"]["share_of_frames"] = round(redone_frames / max(1, job.duration), 4)
        if "pictures" in parts:  # the job's own floor (pictures_floor.py): its pictures encoded, its clips read
            lossless, raw = out / "pictures.mp4", out / "pictures.nut"
            if round_no == 0:  # the programme's exact pictures, once: a lossless render, unpacked to raw frames
                load["pictures"] = load_average()
                with pictures_floor.lossless_encoder(render_ffmpeg):
                    times["pictures_render"], _ = render(job, lossless.name, fresh("pictures"))
                timed(lambda: pictures_floor.unpack(ff, lossless, raw), cpu, "unpack_pictures")
                stretches = pictures_floor.used_stretches(job)
            read = pictures_floor.read_command(ff, raw, lossless) + ["-f", "null", "-"]
            times["read_pictures"], _ = timed(lambda: subprocess.run(read, check=True), cpu, "read_pictures")
            cmd = pictures_floor.floor_command(ff, raw, lossless, master, job.fps, job.duration, out / "floor-pictures.mp4")
            times["floor_pictures"], _ = timed(lambda: subprocess.run(cmd, check=True), cpu, "floor_pictures")
            times["decode_stretches"], _ = timed(lambda: pictures_floor.decode_stretches(ff, stretches, args.jobs or 2),
                                                 cpu, "decode_stretches")
            # reading the raw frames costs almost no CPU and overlaps the encode (from disk, when the page cache
            # has dropped them, it takes up to 40 s of wall time alone): read_pictures is recorded, not subtracted
            times["floor_job"] = times["floor_pictures"] + times["decode_stretches"]
            if round_no == args.rounds - 1:
                raw.unlink(missing_ok=True)  # about 16 GB; made again by the next run
        if "graph" in parts:  # the same job as one hand-written ffmpeg command, the master's argv (one_graph.py)
            load["graph"] = load_average()
            cmd = one_graph_command(plan, ff, src, out / "one-graph.mp4", master.video_args(job.fps, job.duration),
                                    ["-c:a", "aac", "-aac_coder", master.aac_coder, "-b:a", master.audio_bitrate,
                                     "-ar", "48000"], seconds)
            with PeakMemory() as peak:
                times["one_graph"], _ = timed(lambda: subprocess.run(cmd, check=True), cpu, "one_graph")
            memory["one_graph"] = {"peak_rss_mb": round(peak.peak / 2**20, 1), "processes_at_peak": peak.peak_processes}
        row = {k: round(times[k], 2) for k in round_keys if k in times}
        if "final" in row and "floor_master" in row:
            row["final / floor_master"] = round(row["final"] / row["floor_master"], 3)
        if "final" in row and "floor_content" in row:
            row["final / floor_content"] = round(row["final"] / row["floor_content"], 3)
        if "floor_job" in row and "floor_master" in row:
            row["floor_job / floor_master"] = round(row["floor_job"] / row["floor_master"], 3)
        if "final" in row and "floor_job" in row:
            row["final / floor_job"] = round(row["final"] / row["floor_job"], 3)
        if "one_graph" in row and "floor_master" in row:
            row["one_graph / floor_master"] = round(row["one_graph"] / row["floor_master"], 3)
        if "final" in row and "one_graph" in row:
            row["final / one_graph"] = round(row["final"] / row["one_graph"], 3)
        per_round.append(row | {"load": load_average()})
        print(f"round {round_no + 1}: {per_round[-1]}", flush=True)
    if args.rounds > 1:  # the median of each figure over the rounds (each round's own ratios are kept too)
        import statistics
        for key in per_round[0]:
            if key in round_keys:
                times[key] = statistics.median(r[key] for r in per_round)
        extra["rounds"] = per_round
    if "draft" in parts or "scene" in parts:
        load["draft"] = load_average()
        if "draft" in parts:
            times["draft_no_proxies"], _ = render(job, "d0.draft.mp4", fresh("draft0"), draft=True, proxies=False)
        if "draft" in parts:
            # what any first draft that reads every frame of the clips once must spend (proxy making does):
            # each clip decoded to nothing, two at a time, as the proxies are made
            from concurrent.futures import ThreadPoolExecutor
            clips = sorted({s.source for s in job.shots if s.kind == "clip"})
            decode = lambda path: subprocess.run([ff, "-hide_banner", "-nostats", "-loglevel", "error", "-i", path,  # noqa: E731
                                                   "-map", "0:v:0", "-f", "null", "-"], check=True)
            def decode_all():
                with ThreadPoolExecutor(args.jobs or 2) as pool:
                    list(pool.map(decode, clips))
            times["decode_sources"], _ = timed(decode_all, cpu, "decode_sources")
        cache = fresh("draft1")
        times["draft_making_proxies"], _ = render(job, "d1.draft.mp4", cache, draft=True)
        shutil.rmtree(cache / "segments", ignore_errors=True)
        shutil.rmtree(cache / "audio", ignore_errors=True)
        times["draft_with_proxies"], r = render(job, "d2.draft.mp4", cache, draft=True)
        extra["draft_frames"] = r.frames
        if "scene" in parts:
            load["scene"] = load_average()
            segments = plan_segments(job)
            for ids in SCENE_IDS:
                if any(i not in {s.id for s in job.scenes} for i in ids):
                    continue
                part = partial.part_for_scenes(job, segments, list(ids))
                label = "+".join(ids)
                extra[f"scene_{label}_seconds"] = float(part.frames / job.fps)
                shutil.rmtree(cache / "segments", ignore_errors=True)  # the sound mix stays cached: a picture edit
                times[f"scene_{label}"], _ = render(job, f"scene-{label}.draft.mp4", cache, draft=True, part=part)
                shutil.rmtree(cache / "segments", ignore_errors=True)
                shutil.rmtree(cache / "audio", ignore_errors=True)  # nothing cached but the proxies
                times[f"scene_{label}_with_sound_mix"], _ = render(job, f"scene-{label}-a.draft.mp4", cache,
                                                                   draft=True, part=part)
    if "moviepy" in parts:
        load["moviepy"] = load_average()
        t = min(args.moviepy_seconds, seconds)
        short = truncate(full, round(t * plan.FPS))
        times[f"ours_{t:g}s"], _ = render(short, "short.mp4", fresh("short"))
        # Like for like: the same render with the MoviePy script's encoder settings (crf 23, no peak cap,
        # AAC 128k) instead of the master's, and the encoder floor of the master's settings for this length:
        # the master's settings cost ~1.5x floor.sh's, which caps what any pipeline can reach against MoviePy.
        same = moviepy_settings(profile)
        times[f"ours_{t:g}s_moviepy_settings"], _ = render(short, "short-mp.mp4", fresh("short-mp"), profile=same)
        cmd = floor_command(ff, t, out / "floor-master-short.mp4", master, plan.FPS)
        times[f"floor_master_{t:g}s"], _ = timed(lambda: subprocess.run(cmd, check=True), cpu, f"floor_master_{t:g}s")
        # The floor of the job's own pictures at the script's settings: our 30-s render (MoviePy's settings)
        # decoded and encoded again as a_moviepy.py encodes (libx264 veryfast crf 23, 2 threads, yuv420p):
        # what any renderer that decodes and encodes these pictures spends, whatever it does in between.
        decode = [ff, "-hide_banner", "-nostats", "-loglevel", "error", "-i", str(out / "short-mp.mp4"), "-map", "0:v:0"]
        as_script = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-threads", "2", "-pix_fmt", "yuv420p", "-an", "-y"]
        encode = decode + as_script + [str(out / "floor-content-short.mp4")]
        times[f"floor_content_{t:g}s_moviepy_settings"], _ = timed(lambda: subprocess.run(encode, check=True), cpu,
                                                                   f"floor_content_{t:g}s_moviepy_settings")
        # The job's own floor at the script's settings (pictures_floor.py): these T s' exact pictures (a lossless
        # render, unpacked to raw frames) encoded as the script encodes, plus the clips' shown stretches decoded.
        lossless, raw = out / "pictures-short.mp4", out / "pictures-short.nut"
        with pictures_floor.lossless_encoder(render_ffmpeg):
            render(short, lossless.name, fresh("pictures-short"))
        pictures_floor.unpack(ff, lossless, raw)
        read = pictures_floor.read_command(ff, raw)  # the pictures only
        times[f"read_pictures_{t:g}s"], _ = timed(lambda: subprocess.run(read + ["-f", "null", "-"], check=True), cpu,
                                                  f"read_pictures_{t:g}s")
        # ... and with them the programme's sound (from the lossless render), encoded as the script encodes its
        # sound (AAC 128k, 48 kHz): a renderer of this job writes its sound too (until 3 December afternoon the
        # pictures alone, ~0.7 CPU-s less on 30 s)
        as_script_av = [a for a in as_script if a != "-an"] + ["-c:a", "aac", "-b:a", "128k", "-ar", "48000"]
        encode = pictures_floor.read_command(ff, raw, lossless) + as_script_av + [str(out / "floor-pictures-short.mp4")]
        times[f"floor_pictures_{t:g}s_moviepy_settings"], _ = timed(lambda: subprocess.run(encode, check=True), cpu,
                                                                    f"floor_pictures_{t:g}s_moviepy_settings")
        times[f"decode_stretches_{t:g}s"], _ = timed(
            lambda: pictures_floor.decode_stretches(ff, pictures_floor.used_stretches(short), args.jobs or 2),
            cpu, f"decode_stretches_{t:g}s")
        times[f"floor_job_{t:g}s_moviepy_settings"] = (times[f"floor_pictures_{t:g}s_moviepy_settings"]
                                                       + times[f"decode_stretches_{t:g}s"])
        raw.unlink(missing_ok=True)
        cmd = [sys.executable, str(args.anchor / "a_moviepy.py"), str(out / "moviepy.mp4"), "--t", str(t)]
        proc_env = dict(os.environ, BENCH_DIR=str(work), BENCH_FONT=str(REPO / "kbvideo/fonts/DejaVuSans-Bold.ttf"))
        t0, c0 = time.perf_counter(), cpu_seconds()
        child = subprocess.Popen(cmd, cwd=out, env=proc_env)
        with PeakMemory(child.pid) as peak:
            if child.wait() != 0:
                raise SystemExit(f"a_moviepy.py failed ({child.returncode})")
        times[f"moviepy_{t:g}s"] = time.perf_counter() - t0
        cpu[f"moviepy_{t:g}s"] = round(cpu_seconds() - c0, 2)
        memory[f"moviepy_{t:g}s"] = {"peak_rss_mb": round(peak.peak / 2**20, 1), "processes_at_peak": peak.peak_processes}
    if "profile" in parts:  # not timed figures: every segment is decoded and filtered twice
        load["profile"] = load_average()
        render(job, "profile-final.mp4", fresh("profile-final"), null_pass=True)
        cache = work / "cache-draft1"
        if not (cache / "proxies").exists():
            render(job, "profile-d1.draft.mp4", cache, draft=True)
        shutil.rmtree(cache / "segments", ignore_errors=True)
        shutil.rmtree(cache / "audio", ignore_errors=True)
        render(job, "profile-d2.draft.mp4", cache, draft=True, null_pass=True)
    load["end"] = load_average()

    ratios: dict[str, float] = {}
    for floor in ("floor_master", "floor"):
        if floor in times:
            for key in ("final", "draft_no_proxies", "draft_making_proxies", "draft_with_proxies"):
                if key in times:
                    ratios[f"{key} / {floor}"] = times[key] / times[floor]
    for key in ("draft_no_proxies", "draft_making_proxies", "draft_with_proxies", "floor_draft", "decode_sources"):
        if key in times:
            ratios[f"{key} / running time"] = times[key] / seconds
            if "floor_draft" in times and key != "floor_draft":
                ratios[f"{key} / floor_draft"] = times[key] / times["floor_draft"]
    if "edit" in times:
        ratios["edit / final"] = times["edit"] / times["final"]
        if "share_of_final_cpu" in extra.get("edit_redone", {}):
            ratios["edit floor: re-encoded segments' CPU in the final / final CPU"] = extra["edit_redone"]["share_of_final_cpu"]
            ratios["edit / final, over its floor"] = ratios["edit / final"] / extra["edit_redone"]["share_of_final_cpu"]
    if "floor_content" in times and "final" in times:
        ratios["final / floor_content"] = times["final"] / times["floor_content"]
        ratios["floor_content / floor_master (content: job pictures vs testsrc2)"] = times["floor_content"] / times["floor_master"] if "floor_master" in times else float("nan")
        net = times["floor_content"] - times["decode_final"]
        ratios["final / (floor_content - decode_final)"] = times["final"] / net
    if "floor_job" in times:  # the job's own floor (pictures_floor.py)
        if "floor_master" in times:
            ratios["floor_job / floor_master (the job's pictures encoded + its clips read)"] = times["floor_job"] / times["floor_master"]
            ratios["floor_pictures / floor_master"] = times["floor_pictures"] / times["floor_master"]
        if "final" in times:
            ratios["final / floor_job"] = times["final"] / times["floor_job"]
    if "one_graph" in times:  # the job as one hand-written ffmpeg command (one_graph.py)
        if "floor_master" in times:
            ratios["one_graph / floor_master"] = times["one_graph"] / times["floor_master"]
        if "final" in times:
            ratios["final / one_graph"] = times["final"] / times["one_graph"]
    for key in [k for k in times if k.startswith("scene_") and not k.endswith("_with_sound_mix")]:
        if "draft_with_proxies" in times:
            ratios[f"{key} / draft_with_proxies"] = times[key] / times["draft_with_proxies"]
    mp = [k for k in times if k.startswith("moviepy_")]
    if mp:
        ours = times["ours_" + mp[0][len("moviepy_"):]]
        ratios[f"{mp[0]} / ours"] = times[mp[0]] / ours
        same = times.get("ours_" + mp[0][len("moviepy_"):] + "_moviepy_settings")
        if same:
            ratios[f"{mp[0]} / ours_moviepy_settings"] = times[mp[0]] / same
        content_short = times.get("floor_content_" + mp[0][len("moviepy_"):] + "_moviepy_settings")
        if content_short:
            ratios[f"{mp[0]} / floor_content_moviepy_settings (the most any decode + encode of these pictures can reach)"] = times[mp[0]] / content_short
            if same:
                ratios[f"ours_{mp[0][len('moviepy_'):]}_moviepy_settings / floor_content_moviepy_settings"] = same / content_short
        job_short = times.get("floor_job_" + mp[0][len("moviepy_"):] + "_moviepy_settings")
        if job_short:
            ratios[f"{mp[0]} / floor_job_moviepy_settings (the most any renderer of these pictures can reach)"] = times[mp[0]] / job_short
            if same:
                ratios[f"ours_{mp[0][len('moviepy_'):]}_moviepy_settings / floor_job_moviepy_settings"] = same / job_short
        floor_short = times.get("floor_master_" + mp[0][len("moviepy_"):])
        if floor_short:
            ratios[f"{mp[0]} / floor_master (the most any render at the master's settings can reach)"] = times[mp[0]] / floor_short
            ratios[f"ours_{mp[0][len('moviepy_'):]} / floor_master"] = ours / floor_short
    print(f"reference job, first {seconds:g} s, jobs={extra['jobs']}, fill={args.fill}, load {load}")
    if args.rounds > 1:
        print(f"  {args.rounds} rounds of floor_master / final / floor_content: medians below, each round in results.json")
    for key, value in times.items():
        print(f"  {key:<34} {value:8.1f} s")
    for key, value in ratios.items():
        print(f"  {key:<44} {value:6.3f}")
    for key, value in cpu.items():
        print(f"  cpu {key:<30} {value:8.1f} s")
    for key, value in memory.items():
        print(f"  peak memory {key:<22} {value['peak_rss_mb']:8.0f} MB ({value['processes_at_peak']} processes)")
    results = work / "results.json"
    previous = json.loads(results.read_text()) if results.exists() else {}
    if set(parts) == {"profile"}:  # a profiling run adds its stages to the last timed run's results
        previous.setdefault("stages", {}).update(stages)
        previous.setdefault("load", {}).update(load)
        results.write_text(json.dumps(previous, indent=2, default=str))
        return
    results.write_text(json.dumps({"times": times, "ratios": ratios, "cpu": cpu, "memory": memory, "load": load, **extra,
                                   "stages": stages}, indent=2, default=str))


if __name__ == "__main__":
    main()
