"""Finishing a render: join the segments with the sound, take the poster, write the caption sidecars,
move everything into place (the video last), check the output and write the report.

Part of the render job (kbvideo.render.engine._Render mixes it in).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from kbvideo.check import check_output
from kbvideo.errors import RenderError
from kbvideo.fsutil import replace_into
from kbvideo.i18n import _
from kbvideo.media.info import SCRATCH_TAG
from kbvideo.media.probe import probe
from kbvideo.render import ffmpeg, partial
from kbvideo.render.encode import count_frames
from kbvideo.render.files import output_paths
from kbvideo.render.painters import make_painter
from kbvideo.render.sidecars import write_srt, write_vtt
from kbvideo.rules.findings import Finding
from kbvideo.rules.narration import scratch_findings, scratch_items
from kbvideo.timeline.io import to_dict

# Room kept for the index at the start of a joined file: bytes per packet (video frame or AAC frame) and a base
MOOV_ROOM = (64, 131072)


def _safe_list_line(path: Path) -> str:
    return "file '" + str(path).replace("'", "'\\''") + "'\n"


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
    segments: list[dict[str, Any]] = field(default_factory=list)  # name, frames, key, cached, wall, cpu, …
    notices: list[str] = field(default_factory=list)  # e.g. damaged cache entries that were rebuilt
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage → wall, cpu, count, … (render/stages.py)

    @property
    def segments_encoded(self) -> int:
        return sum(1 for s in self.segments if not s["cached"])


class Finishing:
    """The steps after the segments are encoded."""

    def finish(self, plan: list, audio_target: Path, audio_info: dict, started: float) -> RenderResult:
        """Join, poster, sidecars, everything moved into place, the output checked, the report written.
        `plan`: (segment, cache key, cached file, was cached) in programme order."""
        t = self.timeline
        t0 = time.perf_counter()
        listing = self.temp / "segments.txt"
        listing.write_text("".join(_safe_list_line(target) * s.repeat for s, _k, target, _c in plan))  # held: repeated
        joined = self.temp / self.out_path.name
        meta = ["-metadata", f"title={t.title}"] if t.title else []
        scratch = sorted({a.scene for a in scratch_items(t) if a.scene})
        if scratch:  # written into the file, so `kbvideo check` knows it on any copy (kbvideo.media.probe reads it)
            meta += ["-metadata", f"comment={SCRATCH_TAG}{','.join(scratch)}"]
        sound = ["-map", "1:a:0", "-c", "copy"]
        planned = t.duration
        if self.part is not None:  # the part's stretch of the programme's sound; its programme timecode
            sound = ["-filter_complex", partial.audio_filter(self.part, t.fps, 1), "-map", "[aout]", "-c:v", "copy",
                     "-c:a", "aac", "-aac_coder", self.encoder.aac_coder, "-b:a", self.encoder.audio_bitrate,
                     "-timecode", partial.smpte_timecode(self.part.pieces[0].start, t.fps)]
            planned = self.part.frames
        # The index (moov) goes before the media so players and YouTube start at once. Room for it is kept at
        # the start as the file is written (no second pass over the whole master, as +faststart makes): the
        # 3-minute master's index is ~190 KB, ~14 bytes a packet; 64 a packet is kept, the rest is padding.
        packets = planned + int(planned / t.fps * 48000 / 1024) + 2
        per_packet, base = MOOV_ROOM
        for place in (["-moov_size", str(per_packet * packets + base)], ["-movflags", "+faststart"]):
            try:
                ffmpeg.run(["-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(audio_target),
                            "-map", "0:v:0", *sound, *meta, *place, "-f", "mp4", str(joined)], what=_("joining the segments"),
                           cancel=self.cancel, children=self.children, cache_dir=str(self.cache_dir),
                           stats=self.stages.child("join"))
                break
            except RenderError:  # with -moov_size: the room was too small (never seen); then a second pass
                if place[0] != "-moov_size" or self.cancel.is_set():
                    raise
        with self.stages.timed("frame_count"):
            frames, vsec, asec = count_frames(joined)
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
                    "-f", "image2", str(poster_tmp)], what=_("extracting the poster"), cancel=self.cancel, children=self.children,
                   stats=self.stages.child("poster"))
        staged["poster"] = (poster_tmp, finals["poster"])
        findings: list[Finding] = list(self.source_findings)
        with self.stages.timed("sidecars"):
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
        self.stages.add("check", self.timings["check"])
        self.timings["total"] = time.perf_counter() - started
        segment_rows = [self._segment_row(s, key, cached) for s, key, _, cached in plan]
        stages = self.stages.to_dict()
        report_path = finals["report"]
        report = {
            "output": str(self.out_path), "draft": self.draft, "frames": frames, "duration": vsec,
            "audio_duration": asec, "size": [t.width, t.height], "encoder": self.encoder.key(),
            "audio_bitrate": self.encoder.audio_bitrate,
            "timeline": self._timeline_dict(), "probe": self._probe_dict(), "audio": audio_info,
            "findings": [f.to_dict() for f in findings], "timings": self.timings, "stages": stages,
            "segments": segment_rows,
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
                            self.timings, segment_rows, list(self.notices), stages)

    def _segment_row(self, segment, key: str, cached: bool) -> dict[str, Any]:
        """A segment in the report: a cached one took no encoding (its figures are None)."""
        row = {"name": segment.name, "start": segment.start, "frames": segment.frames, "key": key, "cached": cached}
        if segment.repeat > 1:  # a held picture: its file holds one GOP, joined `repeat` times
            row["repeat"] = segment.repeat
        figures = None if cached else self.segment_stats.get(segment.name)
        row.update(figures or {"wall": None, "encode_wall": None, "cpu": None, "maxrss_kib": None, "fps": None})
        return row

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
