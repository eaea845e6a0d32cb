"""Rendering part of a programme: some scenes (`--scene`) or a stretch of time (`--from/--to`). Pure.

A part is a list of programme frame ranges. A scene brings its incoming and outgoing transitions,
and a transition brings the frames of the neighbouring scene it blends with; `--from/--to` is cut
to the frame, except that a transition is always drawn whole. Whole segments (kbvideo.render.segments)
come from (and go into) the same segment cache as the full render, bit for bit; a scene body cut by
the part's edge (or a chunk of a long body, see kbvideo.render.segments) is drawn as a shorter
segment of its own, from the same pieces at the same offsets. Parts are chosen on scene and
transition edges only, so a part is the same whether or not the bodies are planned in chunks.

Times shown for a part are the full programme's: `Piece.start` says where each piece sits in the
programme; the output MP4 carries the programme timecode of its first frame (a `tmcd` track, shown
by editors and by VLC) and the render report lists every piece.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

from kbvideo.errors import UsageError
from kbvideo.i18n import _
from kbvideo.render.segments import Segment, cut_segment
from kbvideo.timecode import format_seconds, round_half_up
from kbvideo.timeline.model import Timeline


@dataclass(frozen=True, slots=True)
class Piece:
    """Programme frames [start, end) and where they begin in the part's own file."""

    start: int
    end: int
    at: int  # first frame of this piece in the part's output

    @property
    def frames(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Part:
    pieces: tuple[Piece, ...]
    label: str  # "scene dashat", "0:20.0–0:45.0" — for messages and the report

    @property
    def frames(self) -> int:
        return sum(p.frames for p in self.pieces)

    def to_dict(self, fps: Fraction) -> dict:
        return {"label": self.label, "frames": self.frames,
                "pieces": [{"start_frame": p.start, "end_frame": p.end, "at_frame": p.at,
                            "start": float(Fraction(p.start) / fps), "end": float(Fraction(p.end) / fps),
                            "at": float(Fraction(p.at) / fps)} for p in self.pieces]}


def _pieces(ranges: list[tuple[int, int]]) -> tuple[Piece, ...]:
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, at = [], 0
    for start, end in merged:
        out.append(Piece(start, end, at))
        at += end - start
    return tuple(out)


def _widen(segments: list[Segment], start: int, end: int) -> tuple[int, int]:
    """The smallest run of whole segments covering programme frames [start, end)."""
    touched = [s for s in segments if s.end > start and s.start < end]
    if not touched:
        raise UsageError(_("nothing to render between those times"))
    return touched[0].start, touched[-1].end


def part_for_scenes(timeline: Timeline, segments: list[Segment], scene_ids: list[str]) -> Part:
    """Each scene whole, with its transitions (and the neighbour frames they blend)."""
    known = {s.id: s for s in timeline.scenes}
    unknown = [i for i in scene_ids if i not in known]
    if unknown:
        raise UsageError(_("no scene '{scene}' in this storyboard").format(scene=unknown[0]),
                         hint=_("scenes: {ids}").format(ids=", ".join(known)))
    ranges = [_widen(segments, known[i].start, known[i].end) for i in scene_ids]
    label = ", ".join(dict.fromkeys(scene_ids))
    return Part(_pieces(ranges), _("scene {ids}").format(ids=label))


def part_for_times(timeline: Timeline, segments: list[Segment], start: Fraction | None,
                   end: Fraction | None) -> Part:
    """Programme seconds [start, end) to the frame; an end inside a transition takes the whole transition."""
    fps = timeline.fps
    a = 0 if start is None else round_half_up(start * fps)
    b = timeline.duration if end is None else round_half_up(end * fps)
    if a >= timeline.duration:
        raise UsageError(_("--from {start} is at or after the end of the programme ({total})").format(
            start=format_seconds(Fraction(a) / fps), total=format_seconds(Fraction(timeline.duration) / fps)))
    b = min(b, timeline.duration)
    if b <= a:
        raise UsageError(_("--to must be after --from"))
    lo, hi = a, b
    for segment in segments:  # a transition is drawn whole (its blend spans all its frames)
        if segment.transition is not None and segment.start < lo < segment.end:
            lo = segment.start
        if segment.transition is not None and segment.start < hi < segment.end:
            hi = segment.end
    return Part(_pieces([(lo, hi)]),
                f"{format_seconds(Fraction(lo) / fps)}–{format_seconds(Fraction(hi) / fps)}")


def select_segments(segments: list[Segment], part: Part) -> list[Segment]:
    """The segments of the part, in programme order: whole ones as they are (cached with the full render's),
    a scene body cut by the part's edge as a shorter segment of its own."""
    out = []
    for segment in segments:
        for piece in part.pieces:
            a, b = max(segment.start, piece.start), min(segment.end, piece.end)
            if b <= a:
                continue
            if (a, b) == (segment.start, segment.end):
                out.append(segment)
            elif segment.transition is None:
                out.append(cut_segment(segment, a, b))
            else:
                raise ValueError(f"part {piece} cuts the transition segment {segment.name}")
    return out


def shift_texts(timeline: Timeline, part: Part) -> Timeline:
    """The timeline's texts as they fall in the part's own file (for its .srt/.vtt); cut at piece edges."""
    texts = []
    for piece in part.pieces:
        for item in timeline.texts:
            a, b = max(item.start, piece.start), min(item.end, piece.end)
            if b > a:
                texts.append(dataclasses.replace(item, start=a - piece.start + piece.at, duration=b - a))
    return dataclasses.replace(timeline, texts=tuple(texts), duration=part.frames)


def audio_filter(part: Part, fps: Fraction, input_index: int) -> str:
    """ffmpeg filter cutting the pieces out of the programme's mixed sound and joining them."""
    chains, labels = [], []
    for n, piece in enumerate(part.pieces):
        start, end = Fraction(piece.start) / fps, Fraction(piece.end) / fps
        chains.append(f"[{input_index}:a]atrim=start={float(start):.6f}:end={float(end):.6f},"
                      f"asetpts=PTS-STARTPTS[pa{n}]")
        labels.append(f"[pa{n}]")
    if len(labels) == 1:
        return chains[0].rsplit("[", 1)[0] + "[aout]"
    return ";".join(chains) + ";" + "".join(labels) + f"concat=n={len(labels)}:v=0:a=1[aout]"


def smpte_timecode(frame: int, fps: Fraction) -> str:
    """HH:MM:SS:FF of a programme frame (drop-frame, with ';', at 29.97 and 59.94)."""
    if fps.denominator == 1:
        base = fps.numerator
        ff = frame % base
        seconds = frame // base
        return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{ff:02d}"
    base = round(fps)
    drop = 2 * base // 30  # frames dropped each minute except every tenth
    per_10 = base * 600 - drop * 9
    per_min = base * 60 - drop
    tens, rest = divmod(frame, per_10)
    if rest > drop:
        frame += drop * 9 * tens + drop * ((rest - drop) // per_min)
    else:
        frame += drop * 9 * tens
    ff = frame % base
    seconds = frame // base
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d};{ff:02d}"
