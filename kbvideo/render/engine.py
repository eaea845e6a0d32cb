"""render_timeline: segments (parallel, cached) + one audio mix → joined with -c copy → checked MP4.

Files: everything is made in a per-render temp folder beside the target
(`.kbvideo-render-<pid>-<token>/`); the finished MP4 and its sidecars are moved into place with
os.replace at the end. On any error, Ctrl-C or SIGTERM the children are killed and the folder is
removed; a folder left by a SIGKILLed render is removed by the next render in that folder.
Persistent cache (`cache_dir`): encoded segments, the normalised audio, proxies, motion shots.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import secrets
import shutil
import signal
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from kbvideo.check import check_file
from kbvideo.errors import MediaError, RenderError, SpecError, UsageError
from kbvideo.media.probe import probe
from kbvideo.render import ffmpeg
from kbvideo.render.audio import AudioFacts, render_audio
from kbvideo.render.graph import TONEMAP, Assets, ClipSource, SegmentGraph
from kbvideo.render.segments import Segment, plan_segments, segment_key
from kbvideo.render.sources import source_facts
from kbvideo.render.graphics import check_texts, render_draft_mark, render_text_overlay
from kbvideo.render.motion import render_motion_shot
from kbvideo.render.sidecars import write_srt, write_vtt
from kbvideo.render.stills import fit_picture
from kbvideo.rules.findings import Finding
from kbvideo.rules.narration import scratch_findings, scratch_items
from kbvideo.timeline.model import Timeline

TEMP_PREFIX = ".kbvideo-render-"
DRAFT_HEIGHT = 480
DEFAULT_JOBS = 2
Progress = Callable[[int, int, str], None]  # (frames done, frames to encode, stage)


@dataclass(slots=True)
class RenderResult:
    path: Path
    frames: int
    duration: float  # seconds, probed from the output's video stream
    sidecars: dict[str, Path]
    report_path: Path | None
    poster: Path | None
    findings: list[Finding]
    timings: dict[str, float]
    segments: list[dict[str, Any]] = field(default_factory=list)  # name, frames, key, cached

    @property
    def segments_encoded(self) -> int:
        return sum(1 for s in self.segments if not s["cached"])


class _Terminated(BaseException):
    """SIGTERM during a render: unwinds like Ctrl-C so temp files are removed."""


@functools.lru_cache(maxsize=None)
def code_fingerprint() -> str:
    """Changes when any renderer module changes: cached segments never outlive the code that drew them.

    Read once per process, so that editing the code during a long run cannot mix two fingerprints."""
    folder = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def draft_size(width: int, height: int) -> tuple[int, int]:
    if height <= DRAFT_HEIGHT:
        return width, height
    w = round(width * DRAFT_HEIGHT / height / 2) * 2
    return max(2, w), DRAFT_HEIGHT


def profile_for_output(profile, timeline: Timeline, draft: bool):
    """The rules to judge a render of `timeline` by: a draft is small on purpose, so its frame size is its own."""
    if not draft or profile is None:
        return profile
    width, height = draft_size(timeline.width, timeline.height)
    return dataclasses.replace(profile, width=width, height=height)


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _clean_stale(folder: Path) -> None:
    for entry in folder.glob(TEMP_PREFIX + "*"):
        try:
            pid = int(entry.name[len(TEMP_PREFIX):].split("-")[0])
        except ValueError:
            continue
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except PermissionError:
            pass


def _count_frames(path: Path) -> tuple[int, float, float]:
    """(video frames, video seconds, audio seconds) from the container's packets (no decoding)."""
    import av

    with av.open(str(path)) as container:
        v = container.streams.video[0]
        frames = 0
        vmax = 0.0
        amax = 0.0
        streams = [v] + list(container.streams.audio[:1])
        for packet in container.demux(streams):
            if packet.pts is None or packet.duration is None:
                continue
            end = float((packet.pts + packet.duration) * packet.time_base)
            if packet.stream.type == "video":
                frames += 1
                vmax = max(vmax, end)
            else:
                amax = max(amax, end)
    return frames, vmax, amax


def _safe_list_line(path: Path) -> str:
    return "file '" + str(path).replace("'", "'\\''") + "'\n"


class _Render:
    def __init__(self, timeline: Timeline, out_path: Path, *, profile, draft: bool, jobs: int | None,
                 work_dir: Path | None, progress: Progress | None, cache_dir: Path | None,
                 media: dict | None, proxies: bool, check: bool):
        self.source_timeline = timeline
        self.out_path = out_path
        self.profile = profile
        self.draft = draft
        self.jobs = max(1, jobs or DEFAULT_JOBS)
        self.progress = progress
        self.use_proxies = proxies and draft
        self.run_check = check
        self.media = media
        self.cache_dir = Path(cache_dir) if cache_dir else out_path.parent / ".kbvideo-cache"
        self.work_parent = Path(work_dir) if work_dir else out_path.parent
        if draft:
            w, h = draft_size(timeline.width, timeline.height)
            timeline = dataclasses.replace(timeline, width=w, height=h)
        self.timeline = timeline
        self.encoder = ffmpeg.draft_encoder(timeline.fps) if draft else ffmpeg.final_encoder(timeline.fps)
        self.cancel = threading.Event()
        self.children = ffmpeg.Children()
        self.lock = threading.Lock()
        self.memo: dict[Any, Any] = {}
        self.memo_locks: dict[Any, threading.Lock] = {}
        self.done_frames: dict[str, int] = {}
        self.total_frames = 0
        self.timings: dict[str, float] = {}
        self.fingerprint = code_fingerprint()

    # ---------- checks before any work
    def preflight(self) -> None:
        t = self.timeline
        if self.out_path.suffix.lower() != ".mp4":
            raise UsageError(f"output must be an .mp4 file: {self.out_path}", "use -o NAME.mp4")
        if t.width % 2 or t.height % 2:
            raise UsageError(f"output size {t.width}x{t.height} has an odd side; H.264 4:2:0 needs even sizes",
                             "use an even width and height in the storyboard's output")
        if t.duration <= 0:
            raise UsageError("the timeline is empty: nothing to render")
        inputs = list(t.media_paths())
        for path in inputs:
            if self.out_path.exists() and _same_file(path, self.out_path):
                raise UsageError(f"output {self.out_path} is the same file as the input {path}",
                                 "choose another output name (-o)")
            if os.path.abspath(path) == str(self.out_path):
                raise UsageError(f"output {self.out_path} is the same path as the input {path}",
                                 "choose another output name (-o)")
        self._check_texts()
        self.facts = source_facts(inputs, self.media)
        for path, facts in self.facts.items():
            if any(s.source == path and s.kind == "clip" for s in t.shots) and facts.kind != "video":
                raise MediaError(path, f"is {facts.kind}, not a video", "use it as a still or as sound")

    def _check_texts(self) -> None:
        """Every text must be drawable by the shipped fonts and fit its lines: caught before any rendering."""
        problems = check_texts(self.timeline)
        if problems:
            raise SpecError(problems)

    # ---------- progress
    def report(self, name: str, frames: int, stage: str = "video") -> None:
        if self.progress is None:
            return
        with self.lock:
            self.done_frames[name] = frames
            done = min(self.total_frames, sum(self.done_frames.values()))
            self.progress(done, self.total_frames, stage)

    # ---------- cached assets
    def _memo(self, key, make):
        with self.lock:
            if key in self.memo:
                return self.memo[key]
            lock = self.memo_locks.setdefault(key, threading.Lock())
        with lock:
            with self.lock:
                if key in self.memo:
                    return self.memo[key]
            value = make()
            with self.lock:
                self.memo[key] = value
            return value

    def _cache_file(self, folder: str, key: str, suffix: str) -> Path:
        path = self.cache_dir / folder / f"{key}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _store(self, tmp: Path, final: Path) -> Path:
        try:
            os.replace(tmp, final)
        except OSError:  # another filesystem
            shutil.copyfile(tmp, str(final) + ".part")
            os.replace(str(final) + ".part", final)
        return final

    def proxy(self, path: str) -> ClipSource:
        facts = self.facts[path]
        t = self.timeline
        key = hashlib.sha256(json.dumps([path, facts.identity, t.width, t.height, self.fingerprint]).encode()).hexdigest()[:24]
        final = self._cache_file("proxies", key, ".mp4")
        dw, dh = facts.display or (t.width, t.height)
        scale = min(1.0, max(t.width / dw, t.height / dh))
        pw, ph = max(2, round(dw * scale / 2) * 2), max(2, round(dh * scale / 2) * 2)
        if not final.exists():
            tmp = self.temp / f"proxy-{key}.mp4"
            chain = (TONEMAP + "," if facts.hdr else "") + f"scale={pw}:{ph}:flags=bicubic,format=yuv420p"
            ffmpeg.run(["-i", path, "-map", "0:v:0", "-vf", chain, "-fps_mode", "passthrough", "-an",
                        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-g", "10", "-bf", "0",
                        "-f", "mp4", str(tmp)], what=f"making a proxy of {path}", cancel=self.cancel, children=self.children)
            self._store(tmp, final)
        return ClipSource(str(final), (pw, ph), False)

    def clip_source(self, path: str) -> ClipSource:
        facts = self.facts[path]
        if self.use_proxies:
            return self._memo(("proxy", path), lambda: self.proxy(path))
        return ClipSource(path, facts.display, facts.hdr)

    def still_png(self, shot) -> Path:
        t = self.timeline

        def make() -> Path:
            name = hashlib.sha256(json.dumps([shot.source, shot.fit, shot.fill, t.width, t.height]).encode()).hexdigest()[:16]
            return fit_picture(shot.source, t.width, t.height, shot.fit, shot.fill, self.temp / f"still-{name}.png")

        return self._memo(("still", shot.source, shot.fit, shot.fill), make)

    def motion_asset(self, shot) -> tuple[str, Path]:
        t = self.timeline

        def make() -> tuple[str, Path]:
            plain = {f.name: getattr(shot, f.name) for f in dataclasses.fields(shot) if f.name not in ("start", "where", "scene")}
            key = hashlib.sha256(json.dumps([plain, t.width, t.height, str(t.fps), self.draft, self.fingerprint],
                                            default=str).encode()).hexdigest()[:24]
            final = self._cache_file("motion", key, ".mp4")
            if not final.exists():
                tmp = self.temp / f"motion-{key}.mp4"
                made = render_motion_shot(dataclasses.replace(shot, start=0), t.width, t.height, t.fps, tmp,
                                          draft=self.draft)
                self._store(Path(made), final)
            return "video", final

        return self._memo(("motion", shot.kind, shot.title, shot.subtitle, shot.color, shot.chart, shot.duration), make)

    def text_overlay(self, item, folder: Path):
        t = self.timeline

        def make():
            sub = folder / f"text-{len(self.memo)}-{secrets.token_hex(3)}"
            sub.mkdir(parents=True, exist_ok=True)
            return render_text_overlay(item, t.width, t.height, sub)

        return self._memo(("text", item), make)

    def draft_mark(self):
        if not self.draft:
            return None
        t = self.timeline

        def make():
            folder = self.temp / "draft-mark"
            folder.mkdir(exist_ok=True)
            return render_draft_mark(t.width, t.height, folder)

        return self._memo("draft-mark", make)

    # ---------- jobs
    def settings(self) -> dict:
        return {"encoder": self.encoder.key(), "draft": self.draft, "proxies": self.use_proxies,
                "code": self.fingerprint}

    def encode_segment(self, segment: Segment, target: Path) -> None:
        t = self.timeline
        graph = SegmentGraph(t.width, t.height, t.fps, draft=self.draft)
        assets = Assets(clip=self.clip_source, still=self.still_png, motion=self.motion_asset,
                        text=lambda item: self.text_overlay(item, self.temp), draft_mark=self.draft_mark())
        args = graph.build(segment, assets)
        tmp = self.temp / f"seg-{segment.name}.mp4"
        ffmpeg.run([*args, "-an", *self.encoder.video_args(t.fps), "-frames:v", str(segment.frames),
                    "-f", "mp4", str(tmp)], what=f"rendering {segment.name}",
                   on_frame=lambda n: self.report(segment.name, n), cancel=self.cancel, children=self.children)
        frames = _count_frames(tmp)[0]
        if frames != segment.frames:
            raise RenderError(f"segment {segment.name} has {frames} frames, {segment.frames} were planned",
                              "this is a kbvideo bug: please report it with the storyboard")
        self._store(tmp, target)

    def audio_key(self) -> str:
        t = self.timeline
        items = [[dataclasses.astuple(a), self.facts[a.source].identity] for a in t.audio]
        loud = self.profile.loudness if self.profile is not None else None
        data = [items, str(t.fps), t.duration, [(x.start, x.duration, x.kind) for x in t.transitions],
                dataclasses.astuple(loud) if loud else None, self.encoder.audio_bitrate, self.fingerprint]
        return hashlib.sha256(json.dumps(data, default=str).encode()).hexdigest()[:24]

    def encode_audio(self, target: Path) -> dict:
        loud = self.profile.loudness if self.profile is not None else None
        tmp = self.temp / "audio.m4a"
        facts = lambda p: AudioFacts(self.facts[p].has_audio, self.facts[p].channels)  # noqa: E731
        info = render_audio(self.timeline, tmp, self.temp, facts=facts, target=loud.target if loud else None,
                            true_peak=loud.true_peak_max if loud else -1.0, bitrate=self.encoder.audio_bitrate,
                            cancel=self.cancel, children=self.children)
        self._store(tmp, target)
        target.with_suffix(".json").write_text(json.dumps(info))
        return info

    # ---------- the whole render
    def run(self) -> RenderResult:
        started = time.perf_counter()
        self.preflight()
        self.out_path.parent.mkdir(parents=True, exist_ok=True)
        self.work_parent.mkdir(parents=True, exist_ok=True)
        _clean_stale(self.work_parent)
        self.temp = self.work_parent / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        self.temp.mkdir()
        old_handler = None
        if threading.current_thread() is threading.main_thread():
            def on_term(signum, frame):
                raise _Terminated()
            old_handler = signal.signal(signal.SIGTERM, on_term)
        try:
            return self._run(started)
        except BaseException:
            self.cancel.set()
            self.children.kill()
            raise
        finally:
            if old_handler is not None:
                signal.signal(signal.SIGTERM, old_handler)
            shutil.rmtree(self.temp, ignore_errors=True)

    def _run(self, started: float) -> RenderResult:
        t = self.timeline
        segments = plan_segments(t)
        settings = self.settings()
        identity = lambda p: self.facts[p].identity  # noqa: E731
        plan = []
        for segment in segments:
            key = segment_key(segment, t, settings, identity)
            target = self._cache_file("segments", key, ".mp4")
            plan.append((segment, key, target, target.exists()))
        todo = [(s, target) for s, _, target, cached in plan if not cached]
        self.total_frames = sum(s.frames for s, _ in todo)
        audio_target = self._cache_file("audio", self.audio_key(), ".m4a")
        audio_info: dict = {}
        self.timings["prepare"] = time.perf_counter() - started

        t0 = time.perf_counter()
        if self.use_proxies and todo:
            clips = sorted({p.shot.source for s, _ in todo for layer in s.layers for p in layer.pieces
                            if p.shot is not None and p.shot.kind == "clip"})
            with ThreadPoolExecutor(self.jobs) as pool:
                self._wait(pool, [pool.submit(self.clip_source, c) for c in clips])
        self.timings["proxies"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        with ThreadPoolExecutor(self.jobs) as pool:
            futures = []
            if not audio_target.exists():
                futures.append(pool.submit(self.encode_audio, audio_target))
            # longest first: better packing on few cores
            for segment, target in sorted(todo, key=lambda x: -x[0].frames):
                futures.append(pool.submit(self.encode_segment, segment, target))
            self._wait(pool, futures)
        if audio_target.with_suffix(".json").exists():
            audio_info = json.loads(audio_target.with_suffix(".json").read_text())
        self.timings["segments"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        listing = self.temp / "segments.txt"
        listing.write_text("".join(_safe_list_line(target) for _, _, target, _ in plan))
        joined = self.temp / self.out_path.name
        meta = ["-metadata", f"title={t.title}"] if t.title else []
        ffmpeg.run(["-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(audio_target),
                    "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", *meta, "-movflags", "+faststart",
                    "-f", "mp4", str(joined)], what="joining the segments", cancel=self.cancel, children=self.children)
        frames, vsec, asec = _count_frames(joined)
        if frames != t.duration:
            raise RenderError(f"the joined video has {frames} frames, {t.duration} were planned",
                              "this is a kbvideo bug: please report it with the storyboard")
        self.timings["join"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        stem = self.out_path.with_suffix("")
        staged: dict[str, tuple[Path, Path]] = {}
        poster_time = self._poster_time(segments)
        poster_tmp = self.temp / "poster.jpg"
        ffmpeg.run(["-ss", ffmpeg.seconds(poster_time), "-i", str(joined), "-frames:v", "1", "-q:v", "3",
                    "-f", "image2", str(poster_tmp)], what="extracting the poster", cancel=self.cancel, children=self.children)
        staged["poster"] = (poster_tmp, Path(f"{stem}.jpg"))
        findings: list[Finding] = []
        for kind, writer in (("srt", write_srt), ("vtt", write_vtt)):
            tmp = self.temp / f"captions.{kind}"
            writer(self.source_timeline, tmp)
            staged[kind] = (tmp, Path(f"{stem}.{kind}"))
        for tmp, final in staged.values():
            os.replace(tmp, final)
        os.replace(joined, self.out_path)  # the video last: its name appears only when all is there
        self.timings["finish"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        findings += self._check(frames, vsec, asec)
        self.timings["check"] = time.perf_counter() - t0
        self.timings["total"] = time.perf_counter() - started
        segment_rows = [{"name": s.name, "start": s.start, "frames": s.frames, "key": key, "cached": cached}
                        for s, key, _, cached in plan]
        report_path = Path(f"{stem}.render.json")
        report = {
            "output": str(self.out_path), "draft": self.draft, "frames": frames, "duration": vsec,
            "audio_duration": asec, "size": [t.width, t.height], "encoder": self.encoder.key(),
            "timeline": self._timeline_dict(), "probe": self._probe_dict(), "audio": audio_info,
            "findings": [f.to_dict() for f in findings], "timings": self.timings, "segments": segment_rows,
            "scratch_narration": [{"scene": a.scene, "voice": a.voice, "start": a.start, "frames": a.duration}
                                  for a in scratch_items(t)],
        }
        tmp = self.temp / "report.json"
        tmp.write_text(json.dumps(report, indent=2, default=str, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, report_path)
        sidecar_paths = {k: final for k, (_, final) in staged.items() if k != "poster"}
        return RenderResult(self.out_path, frames, vsec, sidecar_paths, report_path, staged["poster"][1], findings,
                            self.timings, segment_rows)

    def _wait(self, pool, futures) -> None:
        try:
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException:  # Ctrl-C / SIGTERM while waiting: stop the workers before the pool joins them
            self.cancel.set()
            for future in futures:
                future.cancel()
            self.children.kill()
            raise
        for future in done:
            exc = future.exception()
            if exc is not None:
                self.cancel.set()
                for p in pending:
                    p.cancel()
                self.children.kill()
                raise exc

    def _poster_time(self, segments: list[Segment]) -> Fraction:
        t = self.timeline
        body = [s for s in segments if s.transition is None]
        pick = body[1] if len(body) > 1 else segments[0]
        return Fraction(pick.start + pick.frames // 2) / t.fps

    def _timeline_dict(self) -> dict:
        from kbvideo.timeline.io import to_dict

        return to_dict(self.source_timeline)

    def _probe_dict(self) -> dict:
        return probe(str(self.out_path)).to_dict()

    def _check(self, frames: int, vsec: float, asec: float) -> list[Finding]:
        out: list[Finding] = []
        t = self.timeline
        if abs(vsec - asec) > float(1 / t.fps) + 0.025:  # AAC framing adds up to ~21 ms
            out.append(Finding("render.av_sync", "error", f"audio lasts {asec:.3f} s, video {vsec:.3f} s",
                               {"audio": asec, "video": vsec}))
        out += scratch_findings(t, self.profile, final=not self.draft)  # never delivered by mistake
        if not self.run_check or self.profile is None:
            return out
        if self.draft:
            out.append(Finding("render.draft", "info", f"draft at {t.width}x{t.height}: frame size not checked"))
        report = check_file(self.out_path, profile_for_output(self.profile, self.source_timeline, self.draft),
                            quick=self.draft)
        return out + list(report.findings)


def render_timeline(timeline: Timeline, out_path: str | Path, *, profile=None, draft: bool = False,
                    jobs: int | None = None, work_dir: str | Path | None = None, progress: Progress | None = None,
                    cache_dir: str | Path | None = None, media: dict | None = None, proxies: bool = True,
                    check: bool = True) -> RenderResult:
    """Render `timeline` to `out_path` (MP4) with sidecars; see the module docstring."""
    out = Path(os.path.abspath(out_path))
    job = _Render(timeline, out, profile=profile, draft=draft, jobs=jobs,
                  work_dir=Path(work_dir) if work_dir else None, progress=progress,
                  cache_dir=Path(cache_dir) if cache_dir else None, media=media, proxies=proxies, check=check)
    try:
        return job.run()
    except _Terminated:
        raise KeyboardInterrupt("terminated") from None
