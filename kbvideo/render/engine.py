"""render_timeline: segments (parallel, cached) + one audio mix → joined with -c copy → checked MP4.

Files: everything is made in a per-render temp folder beside the target
(`.kbvideo-render-<pid>-<token>/`); the finished MP4 and its sidecars are moved into place with
os.replace at the end, each through the input guard (kbvideo.fsutil): no file the render writes may
be one of its inputs. On any error, Ctrl-C, SIGTERM or SIGHUP the children are killed and the folder
is removed; after a SIGKILL the children die with the render (kbvideo.proc) and a lifeline helper
removes the folder.

Before any work: a timeline far longer than the profile allows is refused (unless `allow_long`),
and the free space beside the output and in the cache is compared with an estimate of the need.

Persistent cache (`cache_dir`): encoded segments, the normalised audio, proxies, motion shots. Each
entry has a `.sha256` seal (size and digest) written when it is stored and checked before it is
used; a damaged or unsealed entry is rebuilt, with a notice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import secrets
import shutil
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from kbvideo import proc as processes
from kbvideo.check import check_output
from kbvideo.errors import KbError, MediaError, Problem, RenderError, SpecError, UsageError
from kbvideo.fsutil import InputGuard, disk_error, replace_into
from kbvideo.i18n import _
from kbvideo.layout.screen import Element, resolve_collisions, text_elements
from kbvideo.media.probe import probe
from kbvideo.render import ffmpeg
from kbvideo.render.audio import AudioFacts, Ducking, render_audio
from kbvideo.render.files import code_fingerprint, output_paths
from kbvideo.render.graph import TONEMAP, Assets, ClipSource, SegmentGraph
from kbvideo.render.segments import Segment, plan_segments, segment_key
from kbvideo.render.sources import source_facts
from kbvideo.render.graphics import check_texts, render_draft_mark, render_text_overlay
from kbvideo.render.motion import render_motion_shot
from kbvideo.render import partial
from kbvideo.render.painters import make_painter
from kbvideo.render.sidecars import write_srt, write_vtt
from kbvideo.render.stills import contain_size, fit_layers, fit_picture
from kbvideo.rules.drafts import draft_size
from kbvideo.rules.findings import Finding
from kbvideo.rules.narration import scratch_findings, scratch_items
from kbvideo.timecode import format_seconds
from kbvideo.timeline.model import Timeline
from kbvideo.vocab.effects import MOTION, SHOT_KIND
from kbvideo.i18n import _

TEMP_PREFIX = ".kbvideo-render-"
DEFAULT_JOBS = 2
LONG_FACTOR = 2  # refuse (unless allowed) timelines longer than this many times the profile's maximum ...
LONG_MARGIN = 300.0  # ... and than the maximum + this many seconds
NO_PROFILE_MAX = 3 * 3600.0  # without a profile maximum: three hours
BITS_PER_PIXEL = 0.15  # generous size estimate of encoded video (the sample's 1080p master: ~0.06)
SPACE_MARGIN = 32 * 1024 * 1024
SEAL_SUFFIX = ".sha256"
UPSCALE_WARN = 2.0  # a source enlarged more than this is a warning naming the file and the factor
Progress = Callable[[int, int, str], None]  # (frames done, frames to encode, stage)
Notice = Callable[[str], None]


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
    notices: list[str] = field(default_factory=list)  # e.g. damaged cache entries that were rebuilt

    @property
    def segments_encoded(self) -> int:
        return sum(1 for s in self.segments if not s["cached"])


class UndrawableTextError(SpecError):
    """Text the fonts cannot draw or that cannot fit: the same findings `validate` reports, and like
    there, a violated rule (exit 1) rather than a broken storyboard."""

    exit_code = 1


def max_render_seconds(profile) -> float:
    """The longest timeline `render` starts without `allow_long`: far past what a profile accepts."""
    limit = getattr(profile, "duration_max", None) if profile is not None else None
    if not limit:
        return NO_PROFILE_MAX
    return max(limit * LONG_FACTOR, limit + LONG_MARGIN)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _seal_path(path: Path) -> Path:
    return path.with_name(path.name + SEAL_SUFFIX)


def _human_bytes(count: float) -> str:
    if count >= 1e9:
        return f"{count / 1e9:.1f} GB"
    return f"{count / 1e6:.0f} MB"


def layout_elements(timeline: Timeline, *, draft: bool = False, max_chars: int = 42, max_lines: int = 2) -> list[Element]:
    """Every element drawn on a (collision-resolved) timeline with its box and frames: texts from
    kbvideo.layout, the parts of cards and charts from their painters."""
    t = timeline
    out = text_elements(t, t.width, t.height, draft=draft, max_chars=max_chars, max_lines=max_lines)
    for shot in t.shots:
        if SHOT_KIND[shot.kind].painted:
            for kind, box in make_painter(shot, t.width, t.height, t.fps).elements():
                out.append(Element(kind, "content", shot.start, shot.end, box, shot.scene))
    return sorted(out, key=lambda e: (e.start, e.kind))


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
                 media: dict | None, proxies: bool, check: bool, protect=(), allow_long: bool = False,
                 notice: Notice | None = None, part: partial.Part | None = None):
        self.source_timeline = timeline
        self.part = part  # render only these programme frames (kbvideo.render.partial)
        self.protect = [os.fspath(p) for p in protect if p]
        self.allow_long = allow_long
        self.notice_hook = notice
        self.notices: list[str] = []
        self.verified: dict[Path, bool] = {}
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
        self.encoder = ffmpeg.draft_encoder(timeline.fps) if draft else ffmpeg.final_encoder(timeline.fps, profile)
        fade_in = profile.master_fade_in if profile is not None else 0.0  # no profile: no programme fades
        fade_out = profile.master_fade_out if profile is not None else 0.0
        self.fades = (round(fade_in * timeline.fps), round(fade_out * timeline.fps))  # frames
        self.caption_limits = ((profile.caption_max_chars_per_line, profile.caption_max_lines) if profile is not None
                               else (42, 2))
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
            raise UsageError(_("output must be an .mp4 file: {out_path}").format(out_path=self.out_path), _("use -o NAME.mp4"))
        if t.width % 2 or t.height % 2:
            raise UsageError(_("output size {width}x{height} has an odd side; H.264 4:2:0 needs even sizes").format(width=t.width, height=t.height),
                             _("use an even width and height in the storyboard's output"))
        if t.duration <= 0:
            raise UsageError(_("the timeline is empty: nothing to render"))
        limit = max_render_seconds(self.profile)
        if not self.allow_long and t.duration_seconds > limit:
            length = (_("{hours:.1f} hours").format(hours=t.duration_seconds / 3600) if t.duration_seconds >= 3600
                      else format_seconds(t.duration_seconds))
            raise UsageError(
                _("the timeline lasts {length}; a profile video may last {maximum}, and render refuses anything "
                  "over {limit}").format(length=length, limit=format_seconds(limit, 0),
                                         maximum=format_seconds(getattr(self.profile, "duration_max", None) or limit, 0)),
                _("check the durations in the storyboard (kbvideo plan shows each scene); to render it anyway, "
                  "use --allow-long"))
        inputs = list(t.media_paths())
        self.guard = InputGuard([*inputs, *self.protect])
        self.guard.check_all(output_paths(self.out_path).values())
        self._check_texts()
        self._resolve_layout()
        self.facts = source_facts(inputs, self.media)
        self.source_findings = self._upscale_findings()
        for path, facts in self.facts.items():
            if any(s.source == path and SHOT_KIND[s.kind].source == "video" for s in t.shots) and facts.kind != "video":
                raise MediaError(path, _("is {kind}, not a video").format(kind=facts.kind), _("use it as a still or as sound"))

    def _check_texts(self) -> None:
        """Every text must be drawable by the shipped fonts and fit its lines: caught before any rendering."""
        max_chars, max_lines = self.caption_limits
        problems = check_texts(self.timeline, max_chars=max_chars, max_lines=max_lines)
        if problems:
            raise UndrawableTextError(problems)

    def _resolve_layout(self) -> None:
        """Scene titles and lower thirds moved so nothing collides on screen (kbvideo.layout.screen)."""
        self.timeline, notes = resolve_collisions(self.timeline)
        errors = [n for n in notes if n.severity == "error"]
        if errors:
            raise SpecError([Problem(n.where or "<timeline>", 0, 0, f"{n.message} ({n.other})", None, code=n.code)
                             for n in errors])

    def layout_elements(self) -> list[Element]:
        """Every drawn element with its box and frames, for the render report."""
        max_chars, max_lines = self.caption_limits
        return layout_elements(self.timeline, draft=self.draft, max_chars=max_chars, max_lines=max_lines)

    def _upscale_findings(self) -> list[Finding]:
        """A clip enlarged more than UPSCALE_WARN times to fill its place looks soft: say which, and by how much."""
        t, out, seen = self.source_timeline, [], set()
        for shot in t.shots:
            facts = self.facts.get(shot.source) if SHOT_KIND[shot.kind].source == "video" else None
            if facts is None or not facts.display or shot.source in seen:
                continue
            w, h = facts.display
            factor = (max if shot.fit == "cover" else min)(t.width / w, t.height / h)
            if factor > UPSCALE_WARN:
                seen.add(shot.source)
                out.append(Finding("source.upscale", "warning",
                                   _("{path} ({w}x{h}) is enlarged {factor:.1f}x to fit {W}x{H}: it will look soft").format(
                                       path=shot.source, w=w, h=h, factor=factor, W=t.width, H=t.height),
                                   {"factor": round(factor, 2), "size": [w, h]}, shot.where))
        return out

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

    def notice(self, message: str) -> None:
        with self.lock:
            self.notices.append(message)
        if self.notice_hook is not None:
            self.notice_hook(message)

    def _store(self, tmp: Path, final: Path) -> Path:
        """Move a finished cache entry into place, sealed with its size and sha256."""
        seal = f"{Path(tmp).stat().st_size} {_sha256(Path(tmp))}\n"
        replace_into(tmp, final, self.guard)
        seal_tmp = self.temp / f"seal-{secrets.token_hex(4)}"
        seal_tmp.write_text(seal, encoding="ascii")
        replace_into(seal_tmp, _seal_path(final), self.guard)
        with self.lock:
            self.verified[final] = True
        return final

    def _intact(self, path: Path, what: str) -> bool:
        """True when the cache entry exists and matches its seal; a damaged one is reported (it is rebuilt)."""
        with self.lock:
            if path in self.verified:
                return self.verified[path]
        ok, reason = True, ""
        if not path.exists():
            ok = False
        else:
            try:
                size, digest = _seal_path(path).read_text(encoding="ascii").split()
                if int(size) != path.stat().st_size:
                    ok, reason = False, _("it is {actual} bytes, {sealed} were stored").format(
                        actual=path.stat().st_size, sealed=size)
                elif _sha256(path) != digest:
                    ok, reason = False, _("its contents changed since it was stored")
            except (OSError, ValueError, UnicodeDecodeError):
                ok, reason = False, _("it has no valid seal")
            if not ok:
                self.notice(_("the cached {what} {name} is damaged ({reason}): rebuilding it").format(
                    what=what, name=path.name, reason=reason))
        with self.lock:
            self.verified[path] = ok
        return ok

    def proxy(self, path: str) -> ClipSource:
        facts = self.facts[path]
        t = self.timeline
        key = hashlib.sha256(json.dumps([path, facts.identity, t.width, t.height, self.fingerprint]).encode()).hexdigest()[:24]
        final = self._cache_file("proxies", key, ".mp4")
        dw, dh = facts.display or (t.width, t.height)
        scale = min(1.0, max(t.width / dw, t.height / dh))
        pw, ph = max(2, round(dw * scale / 2) * 2), max(2, round(dh * scale / 2) * 2)
        if not self._intact(final, _("proxy")):
            tmp = self.temp / f"proxy-{key}.mp4"
            chain = (TONEMAP + "," if facts.hdr else "") + f"scale={pw}:{ph}:flags=bicubic,setsar=1,format=yuv420p"
            ffmpeg.run(["-i", path, "-map", "0:v:0", "-vf", chain, "-fps_mode", "passthrough", "-an",
                        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-g", "10", "-bf", "0",
                        "-f", "mp4", str(tmp)], what=_("making a proxy of {path}").format(path=path), cancel=self.cancel, children=self.children,
                       cache_dir=str(self.cache_dir))
            self._store(tmp, final)
        return ClipSource(str(final), (pw, ph), False, absolute_times=True)

    def clip_source(self, path: str) -> ClipSource:
        facts = self.facts[path]
        if self.use_proxies:
            return self._memo(("proxy", path), lambda: self.proxy(path))
        return ClipSource(path, facts.display, facts.hdr, sar=facts.sar is not None)

    def still_png(self, shot) -> Path:
        t = self.timeline

        moving = shot.motion in MOTION and MOTION[shot.motion].moves and shot.fit != "cover"

        def make():
            name = hashlib.sha256(json.dumps([shot.source, shot.fit, shot.fill, t.width, t.height]).encode()).hexdigest()[:16]
            display = self.facts[shot.source].display
            if moving and display and contain_size(*display, t.width, t.height) != (t.width, t.height):
                # Ken Burns moves the picture inside its box, never the fill around it
                return fit_layers(shot.source, t.width, t.height, shot.fill, self.temp / f"still-{name}-fill.png",
                                  self.temp / f"still-{name}-picture.png")
            return fit_picture(shot.source, t.width, t.height, shot.fit, shot.fill, self.temp / f"still-{name}.png")

        return self._memo(("still", shot.source, shot.fit, shot.fill, moving), make)

    def motion_asset(self, shot) -> tuple[str, Path]:
        t = self.timeline

        def make() -> tuple[str, Path]:
            plain = {f.name: getattr(shot, f.name) for f in dataclasses.fields(shot) if f.name not in ("start", "where", "scene")}
            key = hashlib.sha256(json.dumps([plain, t.width, t.height, str(t.fps), self.draft, self.fingerprint],
                                            default=str).encode()).hexdigest()[:24]
            final = self._cache_file("motion", key, ".mp4")
            if not self._intact(final, _("motion graphic")):
                tmp = self.temp / f"motion-{key}.mp4"
                made = render_motion_shot(dataclasses.replace(shot, start=0), t.width, t.height, t.fps, tmp,
                                          draft=self.draft, cancel=self.cancel)
                self._store(Path(made), final)
            return "video", final

        return self._memo(("motion", shot.kind, shot.title, shot.subtitle, shot.color, shot.chart, shot.duration), make)

    def text_overlay(self, item, folder: Path):
        t = self.timeline

        def make():
            sub = folder / f"text-{len(self.memo)}-{secrets.token_hex(3)}"
            sub.mkdir(parents=True, exist_ok=True)
            return render_text_overlay(item, t.width, t.height, sub, *self.caption_limits)

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
        graph = SegmentGraph(t.width, t.height, t.fps, draft=self.draft, programme=(t.duration, *self.fades))
        assets = Assets(clip=self.clip_source, still=self.still_png, motion=self.motion_asset,
                        text=lambda item: self.text_overlay(item, self.temp), draft_mark=self.draft_mark())
        args = graph.build(segment, assets)
        tmp = self.temp / f"seg-{segment.name}.mp4"
        ffmpeg.run([*args, "-an", *self.encoder.video_args(t.fps, segment.frames), "-frames:v", str(segment.frames),
                    "-f", "mp4", str(tmp)], what=_("rendering {name}").format(name=segment.name),
                   on_frame=lambda n: self.report(segment.name, n), cancel=self.cancel, children=self.children,
                   cache_dir=str(self.cache_dir))
        frames = _count_frames(tmp)[0]
        if frames != segment.frames:
            raise RenderError(_("segment {name} has {frames} frames, {frames2} were planned").format(name=segment.name, frames=frames, frames2=segment.frames),
                              _("this is a kbvideo bug: please report it with the storyboard"))
        self._store(tmp, target)

    def _segment_fades(self, segment: Segment) -> list[int]:
        """What of the programme's fades falls in this segment (part of its cache key)."""
        fade_in, fade_out = self.fades
        t = self.timeline
        return [fade_in if segment.start < fade_in else 0,
                t.duration - segment.start if segment.end > t.duration - fade_out else 0, fade_out]

    def audio_key(self) -> str:
        t = self.timeline
        items = [[dataclasses.astuple(a), self.facts[a.source].identity] for a in t.audio]
        loud = self.profile.loudness if self.profile is not None else None
        data = [items, str(t.fps), t.duration, [(x.start, x.duration, x.kind) for x in t.transitions],
                dataclasses.astuple(loud) if loud else None, self.encoder.audio_bitrate, self.fades,
                dataclasses.astuple(Ducking.from_profile(self.profile)), self.fingerprint]
        return hashlib.sha256(json.dumps(data, default=str).encode()).hexdigest()[:24]

    def encode_audio(self, target: Path) -> dict:
        loud = self.profile.loudness if self.profile is not None else None
        tmp = self.temp / "audio.m4a"
        facts = lambda p: AudioFacts(self.facts[p].has_audio, self.facts[p].channels)  # noqa: E731
        info = render_audio(self.timeline, tmp, self.temp, facts=facts, target=loud.target if loud else None,
                            true_peak=loud.true_peak_max if loud else -1.0, bitrate=self.encoder.audio_bitrate,
                            fades=tuple(self.timeline.seconds(f) for f in self.fades),
                            ducking=Ducking.from_profile(self.profile),
                            cancel=self.cancel, children=self.children)
        info_tmp = self.temp / "audio-info.json"
        info_tmp.write_text(json.dumps(info), encoding="utf-8")
        self._store(info_tmp, target.with_suffix(".json"))
        self._store(tmp, target)
        return info

    # ---------- the whole render
    def run(self) -> RenderResult:
        started = time.perf_counter()
        with processes.on_signals():  # SIGTERM / SIGHUP unwind like Ctrl-C: children killed, temp folder removed
            self.preflight()
            try:
                self.out_path.parent.mkdir(parents=True, exist_ok=True)
                self.work_parent.mkdir(parents=True, exist_ok=True)
                _clean_stale(self.work_parent)
                self.temp = self.work_parent / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
                self.temp.mkdir()
            except OSError as exc:
                raise disk_error(exc, _("preparing the output folder")) or RenderError(
                    _("cannot write in {folder}: {reason}").format(folder=self.work_parent, reason=exc.strerror or exc),
                    _("check that the output folder is writable, or choose another one (-o)")) from exc
            lifeline = processes.Lifeline([self.temp])  # removes the folder even after a SIGKILL
            try:
                return self._run(started)
            except OSError as exc:
                self.cancel.set()
                self.children.kill()
                error = disk_error(exc, _("rendering"))
                if error is None:
                    raise
                raise error from exc
            except BaseException:
                self.cancel.set()
                self.children.kill()
                raise
            finally:
                shutil.rmtree(self.temp, ignore_errors=True)
                lifeline.close()

    def check_space(self, todo_frames: int, audio_needed: bool) -> None:
        """Refuse to start when the folders cannot hold what the render will write (a generous estimate)."""
        t = self.timeline
        per_frame = t.width * t.height * BITS_PER_PIXEL / 8
        wav = (t.duration_seconds * 48000 * 2 * 4 * 2) if audio_needed else 0  # float stereo mix + limited copy
        needs = {self.cache_dir: per_frame * todo_frames + wav / 16,  # new segments, the AAC mix
                 self.work_parent: per_frame * t.duration + wav + SPACE_MARGIN}  # joined video (renamed out), mix
        by_device: dict[int, tuple[Path, float]] = {}
        for folder, amount in needs.items():
            probe_dir = next((p for p in (folder, *folder.parents) if p.exists()), folder)
            try:
                device = os.stat(probe_dir).st_dev
            except OSError:
                continue
            place, total = by_device.get(device, (probe_dir, 0.0))
            by_device[device] = (place, total + amount)
        for place, amount in by_device.values():
            try:
                free = shutil.disk_usage(place).free
            except OSError:
                continue
            if free < amount:
                raise KbError(
                    _("not enough free space in {folder}: this render needs about {need}, {free} are free").format(
                        folder=place, need=_human_bytes(amount), free=_human_bytes(free)),
                    _("free some space, or render to another disk (-o) and move the cache there (KBVIDEO_CACHE_DIR)"))

    def _run(self, started: float) -> RenderResult:
        t = self.timeline
        segments = plan_segments(t)
        if self.part is not None:  # a part of the programme: only its segments, same cache keys
            segments = partial.select_segments(segments, self.part)
        settings = self.settings()
        identity = lambda p: self.facts[p].identity  # noqa: E731
        plan = []
        for segment in segments:
            key = segment_key(segment, t, {**settings, "fades": self._segment_fades(segment)}, identity)
            target = self._cache_file("segments", key, ".mp4")
            plan.append((segment, key, target, self._intact(target, _("segment"))))
        todo = [(s, target) for s, _key, target, cached in plan if not cached]
        self.total_frames = sum(s.frames for s, _target in todo)
        audio_target = self._cache_file("audio", self.audio_key(), ".m4a")
        audio_cached = self._intact(audio_target, _("sound mix")) and self._intact(
            audio_target.with_suffix(".json"), _("sound measurements"))
        audio_info: dict = {}
        self.check_space(self.total_frames, not audio_cached)
        self.timings["prepare"] = time.perf_counter() - started

        t0 = time.perf_counter()
        if self.use_proxies and todo:
            clips = sorted({p.shot.source for s, _ in todo for layer in s.layers for p in layer.pieces
                            if p.shot is not None and SHOT_KIND[p.shot.kind].source == "video"})
            with ThreadPoolExecutor(self.jobs) as pool:
                self._wait(pool, [pool.submit(self.clip_source, c) for c in clips])
        self.timings["proxies"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        with ThreadPoolExecutor(self.jobs) as pool:
            futures = []
            if not audio_cached:
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
        listing.write_text("".join(_safe_list_line(target) for _s, _k, target, _c in plan))
        joined = self.temp / self.out_path.name
        meta = ["-metadata", f"title={t.title}"] if t.title else []
        sound = ["-map", "1:a:0", "-c", "copy"]
        planned = t.duration
        if self.part is not None:  # the part's stretch of the programme's sound; its programme timecode
            sound = ["-filter_complex", partial.audio_filter(self.part, t.fps, 1), "-map", "[aout]", "-c:v", "copy",
                     "-c:a", "aac", "-b:a", self.encoder.audio_bitrate,
                     "-timecode", partial.smpte_timecode(self.part.pieces[0].start, t.fps)]
            planned = self.part.frames
        ffmpeg.run(["-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(audio_target),
                    "-map", "0:v:0", *sound, *meta, "-movflags", "+faststart",
                    "-f", "mp4", str(joined)], what=_("joining the segments"), cancel=self.cancel, children=self.children,
                   cache_dir=str(self.cache_dir))
        frames, vsec, asec = _count_frames(joined)
        if frames != planned:
            raise RenderError(_("the joined video has {frames} frames, {duration} were planned").format(
                frames=frames, duration=planned), _("this is a kbvideo bug: please report it with the storyboard"))
        self.timings["join"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        finals = output_paths(self.out_path)
        staged: dict[str, tuple[Path, Path]] = {}
        poster_time = Fraction(self.poster_frame()) / t.fps
        poster_tmp = self.temp / "poster.jpg"
        ffmpeg.run(["-ss", ffmpeg.seconds(poster_time), "-i", str(joined), "-frames:v", "1", "-q:v", "3",
                    "-f", "image2", str(poster_tmp)], what=_("extracting the poster"), cancel=self.cancel, children=self.children)
        staged["poster"] = (poster_tmp, finals["poster"])
        findings: list[Finding] = list(self.source_findings)
        for kind, writer in (("srt", write_srt), ("vtt", write_vtt)):
            tmp = self.temp / f"captions.{kind}"
            writer(self.source_timeline if self.part is None else partial.shift_texts(self.source_timeline, self.part), tmp, *self.caption_limits)
            staged[kind] = (tmp, finals[kind])
        for tmp, final in staged.values():
            replace_into(tmp, final, self.guard)
        replace_into(joined, self.out_path, self.guard)  # the video last: its name appears only when all is there
        self.timings["finish"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        findings += self._check(frames, vsec, asec)
        self.timings["check"] = time.perf_counter() - t0
        self.timings["total"] = time.perf_counter() - started
        segment_rows = [{"name": s.name, "start": s.start, "frames": s.frames, "key": key, "cached": cached}
                        for s, key, _, cached in plan]
        report_path = finals["report"]
        report = {
            "output": str(self.out_path), "draft": self.draft, "frames": frames, "duration": vsec,
            "audio_duration": asec, "size": [t.width, t.height], "encoder": self.encoder.key(),
            "audio_bitrate": self.encoder.audio_bitrate,
            "timeline": self._timeline_dict(), "probe": self._probe_dict(), "audio": audio_info,
            "findings": [f.to_dict() for f in findings], "timings": self.timings, "segments": segment_rows,
            "scratch_narration": [{"scene": a.scene, "voice": a.voice, "start": a.start, "frames": a.duration}
                                  for a in scratch_items(t)],
            "notices": self.notices,
            "part": self.part.to_dict(t.fps) if self.part is not None else None,
            "layout": [e.to_dict() for e in self.layout_elements()], "poster_frame": self.poster_frame(),
        }
        tmp = self.temp / "report.json"
        tmp.write_text(json.dumps(report, indent=2, default=str, ensure_ascii=False), encoding="utf-8")
        replace_into(tmp, report_path, self.guard)
        sidecar_paths = {k: final for k, (_tmp, final) in staged.items() if k != "poster"}
        return RenderResult(self.out_path, frames, vsec, sidecar_paths, report_path, staged["poster"][1], findings,
                            self.timings, segment_rows, list(self.notices))

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

    def poster_frame(self) -> int:
        """The poster's frame: `poster: {at: …}` when given, else the title card once it has settled;
        never a frame with a caption or lower third burned in, nor one inside the programme's fades."""
        t = self.timeline
        if self.part is not None:  # the middle of the part's own file
            return self.part.frames // 2
        fade_in, fade_out = self.fades
        last = t.duration - 1 - fade_out
        covered = [(x.start, x.end) for x in t.texts if x.kind in ("caption", "lower_third")]

        def clean(frame: int) -> bool:
            return fade_in <= frame <= last and not any(a <= frame < b for a, b in covered)

        wanted = t.meta.get("poster_at")
        if wanted is not None:
            return max(0, min(t.duration - 1, int(wanted)))
        candidates: list[int] = []
        for shot in t.shots:
            if shot.kind == "card":
                settled = shot.start + make_painter(shot, t.width, t.height, t.fps).hold_from
                candidates += range(max(settled, shot.start), shot.end)
        candidates += [s.start + s.duration // 2 for s in t.shots]  # else the middle of any shot
        candidates += range(t.duration)
        return next((f for f in candidates if clean(f)), t.duration // 2)

    def _timeline_dict(self) -> dict:
        from kbvideo.timeline.io import to_dict

        return to_dict(self.source_timeline)

    def _probe_dict(self) -> dict:
        return probe(str(self.out_path)).to_dict()

    def _check(self, frames: int, vsec: float, asec: float) -> list[Finding]:
        out: list[Finding] = []
        t = self.timeline
        if abs(vsec - asec) > float(1 / t.fps) + 0.025:  # AAC framing adds up to ~21 ms
            out.append(Finding("render.av_sync", "error", _("audio lasts {asec:.3f} s, video {vsec:.3f} s").format(asec=asec, vsec=vsec),
                               {"audio": asec, "video": vsec}))
        out += scratch_findings(t, self.profile, final=not self.draft)  # never delivered by mistake
        if self.part is not None:
            out.append(Finding("render.part", "info", _("part of the programme ({label}): contest rules not checked")
                               .format(label=self.part.label)))
        if not self.run_check or self.profile is None or self.part is not None:
            return out
        if self.draft:
            out.append(Finding("render.draft", "info", _("draft at {width}x{height}: frame size not checked").format(width=t.width, height=t.height)))
        report = check_output(self.out_path, self.profile, timeline=self.source_timeline, draft=self.draft)
        return out + list(report.findings)


def render_timeline(timeline: Timeline, out_path: str | Path, *, profile=None, draft: bool = False,
                    jobs: int | None = None, work_dir: str | Path | None = None, progress: Progress | None = None,
                    cache_dir: str | Path | None = None, media: dict | None = None, proxies: bool = True,
                    check: bool = True, protect=(), allow_long: bool = False,
                    notice: Notice | None = None, part: partial.Part | None = None) -> RenderResult:
    """Render `timeline` to `out_path` (MP4) with sidecars; see the module docstring.

    `protect`: more files that must never be written (the storyboard, its templates, a rules file);
    the timeline's media are always protected. `allow_long`: render even a timeline far past the
    profile's maximum. `notice(message)`: called for things the user should know (a rebuilt cache entry).
    SIGTERM/SIGHUP raise `kbvideo.proc.Terminated` (a KeyboardInterrupt) after cleaning up.
    `part` (kbvideo.render.partial) renders only those programme frames, from the same segment cache.
    """
    out = Path(os.path.abspath(out_path))
    job = _Render(timeline, out, profile=profile, draft=draft, jobs=jobs,
                  work_dir=Path(work_dir) if work_dir else None, progress=progress,
                  cache_dir=Path(cache_dir) if cache_dir else None, media=media, proxies=proxies, check=check,
                  protect=protect, allow_long=allow_long, notice=notice, part=part)
    return job.run()
