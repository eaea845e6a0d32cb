"""Encoding the render's parts: each segment (its filter graph, exactly its planned frames) and the
single sound mix, both stored in the cache; and waiting on the pool that runs them.

Part of the render job (kbvideo.render.engine._Render mixes it in).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path

from kbvideo import proc as processes
from kbvideo.errors import RenderError
from kbvideo.i18n import _
from kbvideo.render import ffmpeg
from kbvideo.render.audio import AudioFacts, Ducking, render_audio
from kbvideo.render.graph import Assets, SegmentGraph
from kbvideo.render.segments import Segment, handoffs
from kbvideo.vocab.effects import SHOT_KIND
from kbvideo.render.stages import usage_dict


def count_frames(path: Path) -> tuple[int, float, float]:
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


def x264_threads(jobs: int, segments: int, last: bool = False) -> list[str]:
    """x264's thread option for a segment of a render that encodes `segments` with `jobs` workers.
    With more segments than workers, the workers keep the cores busy between them, so each x264 gets
    its share of the cores: on 2 cores, one thread each, which spent 4-5 % less CPU than x264's own
    count (3 frame threads and a lookahead per process) in every round of a 4-round A/B
    (benchmarks/README.md), and encodes the same bits whatever else runs beside it. The `last` body
    to start gets a thread per core: the other workers run out of work while it encodes (on the 30-s
    reference render one core stood idle for the last 3.3 s), and its extra thread takes that core
    instead. With fewer segments, or one worker, x264 takes the cores itself."""
    if jobs < 2 or segments <= jobs:
        return []
    cores = processes.usable_cores()
    return ["-threads", str(cores if last else max(1, cores // jobs))]


def _decoded(shot) -> bool:
    """Whether a shot is read by decoding a video (a clip, or a card or chart drawn to its cached file):
    what a transition would seek and decode again, so a neighbouring body hands its frames over.
    Photos are not: a transition reads their fitted PNG once."""
    kind = SHOT_KIND[shot.kind]
    return kind.source == "video" or kind.painted


class Encoding:
    """Segment and sound-mix encoding jobs, run in the render's thread pool."""

    def settings(self) -> dict:
        return {"encoder": self.encoder.key(), "draft": self.draft, "proxies": self.use_proxies,
                "code": self.fingerprint}

    def encode_all(self, pool, todo: list[tuple[Segment, Path]], audio_target: Path | None) -> None:
        """Encode the segments to do (and the sound mix when `audio_target` is given) on the pool. A body
        next to a transition that is also to do draws the frames the transition needs from the same clip
        on the way (kbvideo.render.segments.Handoff); the transition runs once its bodies are done, ahead
        of the bodies still waiting, so few handed-over frames sit in the temp folder at a time."""
        offers = handoffs([s for s, _target in todo], _decoded)
        path = lambda h: self.temp / f"handoff-{h.consumer}-{h.side}.nut"  # noqa: E731
        give: dict[str, dict] = {}
        take: dict[str, dict] = {}
        waits: dict[str, set[str]] = {}
        for h in offers:
            give.setdefault(h.producer, {})[h.side] = (h, path(h))
            take.setdefault(h.consumer, {})[h.side] = path(h)
            waits.setdefault(h.consumer, set()).add(h.producer)
        bodies = deque(x for x in todo if x[0].name not in waits)  # programme order: transitions get ready early
        last = bodies[-1][0].name if bodies else None
        self.x264_threads = {s.name: x264_threads(self.jobs, len(todo), last=s.name == last) for s, _target in todo}
        ready: deque = deque()
        later = {x[0].name: x for x in todo if x[0].name in waits}
        running: dict = {}

        def submit(segment, target):
            job = pool.submit(self.encode_segment, segment, target, give.get(segment.name), take.get(segment.name))
            running[job] = segment.name

        if audio_target is not None:
            running[pool.submit(self.encode_audio, audio_target)] = None
        try:
            while bodies or ready or running:
                while len(running) < self.jobs + 1 and (ready or bodies):  # one queued: no idle core between jobs
                    submit(*(ready.popleft() if ready else bodies.popleft()))
                done, _pending = wait(list(running), return_when=FIRST_COMPLETED)
                for job in done:
                    name = running.pop(job)
                    if job.exception() is not None:
                        raise job.exception()
                    for consumer, producers in waits.items():
                        if name in producers:
                            producers.discard(name)
                            if not producers:
                                ready.append(later[consumer])
        except BaseException:  # a failed job, Ctrl-C or SIGTERM: stop the others before the pool joins them
            self.cancel.set()
            for job in running:
                job.cancel()
            self.children.kill()
            raise

    def encode_segment(self, segment: Segment, target: Path, give: dict | None = None, take: dict | None = None) -> None:
        """Encode one segment into the cache; its figures go to `segment_stats` (began: seconds from the
        pool's start; wall: the whole job, the inputs it made first included; encode_wall, cpu, maxrss_kib, fps: its ffmpeg run). `give`
        and `take`: frames handed over between a body and a transition next to it (`encode_all`)."""
        started = time.perf_counter()
        t = self.timeline
        graph = SegmentGraph(t.width, t.height, t.fps, draft=self.draft, programme=(t.duration, *self.fades))
        assets = Assets(clip=self.clip_source, still=self.still_png, motion=self.motion_asset,
                        text=lambda item: self.text_overlay(item, self.temp), draft_mark=self.draft_mark())
        take = {side: path for side, path in (take or {}).items() if path.exists()}  # else: from the clip
        unit = segment.unit()  # a held segment: its first GOP, joined `repeat` times (kbvideo.render.segments)
        args = graph.build(unit, assets, give=give, take=take)
        tmp = self.temp / f"seg-{segment.name}.mp4"
        used = []
        extra = [arg for output in graph.outputs_extra for arg in output]  # draft proxies made on the way
        ffmpeg.run([*args, "-an", *self.encoder.video_args(t.fps, unit.frames), *self.x264_threads.get(segment.name, []),
                    "-frames:v", str(unit.frames),
                    "-f", "mp4", str(tmp), *extra], what=_("rendering {name}").format(name=segment.name),
                   on_frame=lambda n: self.report(segment.name, n * segment.repeat), cancel=self.cancel, children=self.children,
                   cache_dir=str(self.cache_dir), stats=used.append)
        usage = used[0]
        self.stages.add("segments", usage.wall, usage, frames=unit.frames)
        with self.stages.timed("frame_count"):
            frames = count_frames(tmp)[0]
        if frames != unit.frames:
            raise RenderError(_("segment {name} has {frames} frames, {frames2} were planned").format(name=segment.name, frames=frames, frames2=unit.frames),
                              _("this is a kbvideo bug: please report it with the storyboard"))
        self.store_proxies(graph.proxies, segment.name)
        for path in take.values():
            path.unlink(missing_ok=True)  # read: the frames are in this segment now
        self._store(tmp, target)
        figures = usage_dict(usage, time.perf_counter() - started)
        figures.update(began=round(started - self.pool_started, 3), encode_wall=round(usage.wall, 4),
                       fps=round(unit.frames / usage.wall, 2) if usage.wall > 0 else None)
        if give or take:  # frames handed over: 0 = the outgoing scene's, 1 = the incoming's
            figures["handoff"] = {"gave": sorted(give or {}), "took": sorted(take)}
        with self.lock:
            self.segment_stats[segment.name] = figures

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
                dataclasses.astuple(loud) if loud else None, self.encoder.audio_bitrate, self.encoder.aac_coder, self.fades,
                dataclasses.astuple(Ducking.from_profile(self.profile)), self.fingerprint]
        return hashlib.sha256(json.dumps(data, default=str).encode()).hexdigest()[:24]

    def encode_audio(self, target: Path) -> dict:
        loud = self.profile.loudness if self.profile is not None else None
        tmp = self.temp / "audio.m4a"
        facts = lambda p: AudioFacts(self.facts[p].has_audio, self.facts[p].channels)  # noqa: E731
        info = render_audio(self.timeline, tmp, self.temp, facts=facts, target=loud.target if loud else None,
                            true_peak=loud.true_peak_max if loud else -1.0, bitrate=self.encoder.audio_bitrate,
                            aac_coder=self.encoder.aac_coder,
                            fades=tuple(self.timeline.seconds(f) for f in self.fades),
                            ducking=Ducking.from_profile(self.profile),
                            cancel=self.cancel, children=self.children,
                            stats=lambda step, usage: self.stages.add(f"sound_{step}", usage.wall, usage))
        info_tmp = self.temp / "audio-info.json"
        info_tmp.write_text(json.dumps(info), encoding="utf-8")
        self._store(info_tmp, target.with_suffix(".json"))
        self._store(tmp, target)
        return info
