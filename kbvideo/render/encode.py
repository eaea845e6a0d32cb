"""Encoding the render's parts: each segment (its filter graph, exactly its planned frames) and the
single sound mix, both stored in the cache; and waiting on the pool that runs them.

Part of the render job (kbvideo.render.engine._Render mixes it in).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from concurrent.futures import FIRST_EXCEPTION, wait
from pathlib import Path

from kbvideo.errors import RenderError
from kbvideo.i18n import _
from kbvideo.render import ffmpeg
from kbvideo.render.audio import AudioFacts, Ducking, render_audio
from kbvideo.render.graph import Assets, SegmentGraph
from kbvideo.render.segments import Segment
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


class Encoding:
    """Segment and sound-mix encoding jobs, run in the render's thread pool."""

    def settings(self) -> dict:
        return {"encoder": self.encoder.key(), "draft": self.draft, "proxies": self.use_proxies,
                "code": self.fingerprint}

    def encode_segment(self, segment: Segment, target: Path) -> None:
        """Encode one segment into the cache; its figures go to `segment_stats` (wall: the whole job,
        the inputs it made first included; encode_wall, cpu, maxrss_kib, fps: its ffmpeg run)."""
        started = time.perf_counter()
        t = self.timeline
        graph = SegmentGraph(t.width, t.height, t.fps, draft=self.draft, programme=(t.duration, *self.fades))
        assets = Assets(clip=self.clip_source, still=self.still_png, motion=self.motion_asset,
                        text=lambda item: self.text_overlay(item, self.temp), draft_mark=self.draft_mark())
        args = graph.build(segment, assets)
        tmp = self.temp / f"seg-{segment.name}.mp4"
        used = []
        extra = [arg for output in graph.outputs_extra for arg in output]  # draft proxies made on the way
        ffmpeg.run([*args, "-an", *self.encoder.video_args(t.fps, segment.frames), "-frames:v", str(segment.frames),
                    "-f", "mp4", str(tmp), *extra], what=_("rendering {name}").format(name=segment.name),
                   on_frame=lambda n: self.report(segment.name, n), cancel=self.cancel, children=self.children,
                   cache_dir=str(self.cache_dir), stats=used.append)
        usage = used[0]
        self.stages.add("segments", usage.wall, usage, frames=segment.frames)
        with self.stages.timed("frame_count"):
            frames = count_frames(tmp)[0]
        if frames != segment.frames:
            raise RenderError(_("segment {name} has {frames} frames, {frames2} were planned").format(name=segment.name, frames=frames, frames2=segment.frames),
                              _("this is a kbvideo bug: please report it with the storyboard"))
        self.store_proxies(graph.proxies, segment.name)
        self._store(tmp, target)
        figures = usage_dict(usage, time.perf_counter() - started)
        figures.update(encode_wall=round(usage.wall, 4),
                       fps=round(segment.frames / usage.wall, 2) if usage.wall > 0 else None)
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
