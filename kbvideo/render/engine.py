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
import json
import os
import secrets
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from kbvideo import proc as processes
from kbvideo.errors import KbError, Loc, MediaError, RenderError, SpecError, UsageError
from kbvideo.fsutil import InputGuard, disk_error
from kbvideo.i18n import _
from kbvideo.layout.screen import Element, resolve_collisions, text_elements
from kbvideo.render import ffmpeg, partial
from kbvideo.render.assets import AssetCache
from kbvideo.render.encode import Encoding
from kbvideo.render.files import code_fingerprint, output_paths
from kbvideo.render.finish import Finishing, RenderResult
from kbvideo.render.graphics import check_texts
from kbvideo.render.painters import make_painter
from kbvideo.render.segments import plan_segments, segment_key
from kbvideo.render.sources import source_facts
from kbvideo.render.stages import Stages
from kbvideo.rules.drafts import draft_size
from kbvideo.rules.findings import Finding
from kbvideo.timecode import format_seconds
from kbvideo.timeline.model import Timeline
from kbvideo.vocab.effects import SHOT_KIND

TEMP_PREFIX = ".kbvideo-render-"
DEFAULT_JOBS = 2
LONG_FACTOR = 2  # refuse (unless allowed) timelines longer than this many times the profile's maximum ...
LONG_MARGIN = 300.0  # ... and than the maximum + this many seconds
NO_PROFILE_MAX = 3 * 3600.0  # without a profile maximum: three hours
BITS_PER_PIXEL = 0.15  # generous size estimate of encoded video (the sample's 1080p master: ~0.06)
SPACE_MARGIN = 32 * 1024 * 1024
UPSCALE_WARN = 2.0  # a source enlarged more than this is a warning naming the file and the factor
Progress = Callable[[int, int, str], None]  # (frames done, frames to encode, stage)
Notice = Callable[[str], None]


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






class _Render(AssetCache, Encoding, Finishing):
    """One render job. Its parts live in their own modules: the cached inputs (render/assets.py),
    encoding segments and the sound mix (render/encode.py), finishing and checking the output
    (render/finish.py); this class plans the work, checks before it starts and runs the pool."""

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
        self.timings: dict[str, float] = {}  # coarse elapsed times (report "timings")
        self.stages = Stages(self.lock)  # per-stage wall / CPU / memory (report "stages")
        self.segment_stats: dict[str, dict] = {}  # segment name → its encode's figures (report "segments")
        self.pool_started = time.perf_counter()  # reset when the pool starts: segments' "began" counts from it
        self.x264_threads: dict[str, list[str]] = {}  # set by encode_all: x264 threads per segment name
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
        with self.stages.timed("text_check"):
            self._check_texts()
        with self.stages.timed("layout"):
            self._resolve_layout()
        with self.stages.timed("source_facts", files=len(inputs)):
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
            raise SpecError([(n.where or Loc("<timeline>", 0, 0)).problem(f"{n.message} ({n.other})", code=n.code)
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

    # ---------- jobs

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
        # frames handed from bodies to transitions wait raw in the temp folder: a few transitions' worth at a time
        handed = (self.jobs + 2) * 2 * max((x.duration for x in t.transitions), default=0) * t.width * t.height * 3 / 2
        needs = {self.cache_dir: per_frame * todo_frames + wav / 16,  # new segments, the AAC mix
                 self.work_parent: per_frame * t.duration + wav + handed + SPACE_MARGIN}  # joined video (renamed out), mix
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
        settings = self.settings()
        identity = lambda p: self.facts[p].identity  # noqa: E731
        with self.stages.timed("plan"):  # segments and their cache keys (the seals are checked after)
            # long bodies in chunks of whole GOPs; a final encodes a held picture once a GOP (a draft's static
            # frames cost x264 ultrafast little, less than the extra ffmpeg runs that would cut them out)
            segments = plan_segments(t, self.encoder.gop, fades=self.fades, settled=None if self.draft else self.settled_from)
            if self.part is not None:  # a part of the programme: only its segments, same cache keys
                segments = partial.select_segments(segments, self.part)
            keyed = []
            for segment in segments:
                unit = segment.unit()  # what its file holds: a held segment's is one GOP, wherever and however long it is held
                key = segment_key(unit, t, {**settings, "fades": self._segment_fades(unit)}, identity)
                keyed.append((segment, key, self._cache_file("segments", key, ".mp4")))
        plan = [(segment, key, target, self._intact(target, _("segment"))) for segment, key, target in keyed]
        todo = [(s, target) for s, _key, target, cached in plan if not cached]
        self.total_frames = sum(s.frames for s, _target in todo)  # a held segment's progress counts its repeats
        audio_target = self._cache_file("audio", self.audio_key(), ".m4a")
        audio_cached = self._intact(audio_target, _("sound mix")) and self._intact(
            audio_target.with_suffix(".json"), _("sound measurements"))
        audio_info: dict = {}
        self.check_space(self.total_frames, not audio_cached)
        self.timings["prepare"] = time.perf_counter() - started

        # kept for readers of older reports: draft proxies are now made by the segments' own ffmpeg runs
        # (their time is in "segments"; stages.proxies lists each one)
        self.timings["proxies"] = 0.0
        t0 = self.pool_started = time.perf_counter()
        with ThreadPoolExecutor(self.jobs) as pool:
            self.encode_all(pool, todo, None if audio_cached else audio_target)
        if audio_target.with_suffix(".json").exists():
            audio_info = json.loads(audio_target.with_suffix(".json").read_text())
        self.timings["segments"] = time.perf_counter() - t0

        return self.finish(plan, audio_target, audio_info, started)







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
