"""Cut a Timeline into segments that render independently and join with `-c copy`. Pure.

Each scene gives a *body* segment (its frames outside any transition) and each crossfade or fade
through black gives a *transition* segment holding the two overlapping scene layers. Cuts need no
segment. Segments are contiguous, in time order, and cover [0, timeline.duration) exactly.

Given the encoder's GOP, a long body is split into *chunks* (ordinary segments, encoded in parallel
and cached separately): their lengths are whole GOPs counted from the body's start, so the joined
stream has exactly the keyframes of the unsplit body (kbvideo.render.ffmpeg.keyframe_expr forces one
every GOP from each segment's start and merges a short last GOP, which only the last chunk can have).
A chunk is drawn from the same pieces and texts as the body, cut to its frames; every effect is
computed from the item's own frame numbers (`offset`, `skip`), so nothing jumps at a chunk's edge.

A *held* stretch of a body, where every frame shows the same picture (a card or chart once it has
settled, a photo that does not move; no text coming, going or sliding; outside the programme's fades), is one segment
whose first GOP alone is encoded and listed `repeat` times in the join (a closed GOP of identical
frames is the same bits wherever it stands). Its edges are whole GOPs from the body's start, so the
joined stream still has exactly the keyframes of the unsplit body, and the frames before and after
it are chunked as a body is. x264 spends ~10 ms on each identical 1080p frame at the master's
settings (benchmarks/README.md, "held pictures").

A segment's cache key holds everything that shapes its pixels, positions relative to the segment's
start (so lengthening scene 2 does not invalidate scene 5): shots, texts, transition, output size,
rate, encoder settings and the identity (path, size, mtime) of every source it reads.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from typing import Any, Callable

from kbvideo.timeline.model import Shot, TextItem, Timeline, Transition
from kbvideo.i18n import _
from kbvideo.vocab.effects import text_motion

KEY_VERSION = 3  # bump when the way a segment is drawn changes
# Chunks of a long scene body: about CHUNK_SECONDS each, never shorter than CHUNK_MIN_SECONDS (each
# chunk pays an ffmpeg start, a seek with its decoder pre-roll and a filter graph). 5 s was measured on
# the 60-s reference job (benchmarks/README.md, item 4); 7 s, the default, gives a 13-14 s body two chunks
# (both cores busy on an edit) with fewer extra starts; 5 vs 7 is not yet compared on the 180-s job.
CHUNK_SECONDS = 7.0
CHUNK_MIN_SECONDS = 3.0
# A held stretch shorter than this is encoded frame by frame: cutting it out costs up to two more ffmpeg
# runs (the frames before and after it), each reading its source again
HELD_MIN_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Piece:
    """`count` frames of `shot`, starting `offset` frames into the shot."""

    shot: Shot | None  # None: a gap, drawn black
    offset: int
    count: int


@dataclass(frozen=True, slots=True)
class Layer:
    scene: str
    start: int  # absolute frames [start, end)
    end: int
    pieces: tuple[Piece, ...]
    texts: tuple[TextItem, ...]


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    start: int
    end: int
    layers: tuple[Layer, ...]  # one, or two for a transition (outgoing, incoming)
    transition: Transition | None = None
    repeat: int = 1  # > 1: a held stretch, whose first frames // repeat frames are encoded and joined this often

    @property
    def frames(self) -> int:
        """Frames of the programme it covers."""
        return self.end - self.start

    @property
    def encoded(self) -> int:
        """Frames its file holds."""
        return self.frames // self.repeat

    def unit(self) -> "Segment":
        """What is encoded: the segment cut to its first `encoded` frames (itself when not held)."""
        if self.repeat == 1:
            return self
        return cut_segment(self, self.start, self.start + self.encoded, self.name)


def cut_segment(segment: Segment, start: int, end: int, name: str | None = None) -> Segment:
    """Frames [start, end) of a one-layer segment: the same pieces from the same offsets, the texts on them."""
    (layer,) = segment.layers
    pieces, cursor = [], layer.start
    for piece in layer.pieces:
        a, b = max(cursor, start), min(cursor + piece.count, end)
        if b > a:
            pieces.append(Piece(piece.shot, piece.offset + (a - cursor), b - a))
        cursor += piece.count
    texts = tuple(t for t in layer.texts if t.start < end and t.end > start)
    return Segment(name or f"{segment.name}-{start}-{end}", start, end, (Layer(layer.scene, start, end, tuple(pieces), texts),))


def _layer(timeline: Timeline, scene: str, start: int, end: int) -> Layer:
    pieces: list[Piece] = []
    cursor = start
    for shot in sorted(timeline.shots_in(scene), key=lambda s: s.start):
        a, b = max(start, shot.start), min(end, shot.end)
        if b <= a:
            continue
        if a > cursor:
            pieces.append(Piece(None, 0, a - cursor))
        pieces.append(Piece(shot, a - shot.start, b - a))
        cursor = b
    if cursor < end:
        pieces.append(Piece(None, 0, end - cursor))
    texts = tuple(t for t in timeline.texts_in(scene) if t.start < end and t.end > start)
    return Layer(scene, start, end, tuple(pieces), texts)


def chunk_bounds(start: int, end: int, gop: int, target: int, minimum: int,
                 keep_out: tuple[tuple[int, int], ...] = ()) -> list[int]:
    """Where a body [start, end) is cut: [start, ..., end], inner cuts on whole GOPs from `start`.

    As many chunks as `target` frames each asks for, but no more than keep every chunk at least
    `minimum` frames; the body's whole GOPs are shared out evenly (the rest of a GOP goes to the
    last chunk). No cut falls strictly inside a `keep_out` range (the programme's fades)."""
    frames = end - start
    gops = frames // gop
    per_chunk = max(1, -(-minimum // gop))  # GOPs a chunk needs to reach the minimum
    count = min(-(-frames // max(1, target)), gops // per_chunk)
    if count <= 1:
        return [start, end]
    cuts = [start + (gops * i // count) * gop for i in range(1, count)]
    cuts = [c for c in cuts if not any(lo < c < hi for lo, hi in keep_out)]
    return [start, *cuts, end]


def held_stretch(layer: Layer, settled: Callable[[Shot], int | None], fps, keep_out=()) -> tuple[int, int] | None:
    """The longest stretch [a, b) of a body's layer where every frame is the same picture: a piece of a shot
    past the frame `settled(shot)` says it stops changing from (None: it never does), outside `keep_out`
    (the programme's fades), with no text coming, going or moving in (kbvideo.vocab.effects.text_motion):
    a text standing still on it is part of the picture."""
    edges, moving = {x for lo_hi in keep_out for x in lo_hi}, list(keep_out)
    for text in layer.texts:
        _kind, fade = text_motion(text, fps)
        edges |= {text.start, text.start + fade, text.end - fade, text.end}
        moving += [(text.start, text.start + fade), (text.end - fade, text.end)]
    best = None
    cursor = layer.start
    for piece in layer.pieces:
        start, cursor = cursor, cursor + piece.count
        still = None if piece.shot is None else settled(piece.shot)
        if still is None:
            continue
        a = max(start, start + still - piece.offset)
        points = sorted({a, cursor} | {e for e in edges if a < e < cursor})
        for lo, hi in zip(points, points[1:]):  # the texts on screen are the same between two edges
            if any(x < hi and y > lo for x, y in moving):
                continue
            if best is None or hi - lo > best[1] - best[0]:
                best = (lo, hi)
    return best


def split_held(start: int, end: int, stretch: tuple[int, int] | None, gop: int, minimum: int) -> tuple[int, int] | None:
    """Where a body [start, end) is cut around its held `stretch`: (first, last) frames of the held
    segment, whole GOPs counted from `start`, at least `minimum` frames, and what follows it either empty
    or long enough to keep its own keyframe (as kbvideo.render.ffmpeg.keyframe_expr would, unsplit)."""
    if stretch is None:
        return None
    a, b = stretch
    first = start + -(-(a - start) // gop) * gop
    count = max(0, (min(b, end) - first) // gop)
    rest = end - (first + count * gop)
    if 0 < rest < gop and rest < max(2, gop // 2):
        count -= 1  # a short last GOP is merged into the one before it: leave that GOP to the tail
    if count * gop < max(minimum, 2 * gop):
        return None
    return first, first + count * gop


def plan_segments(timeline: Timeline, gop: int | None = None, *, fades: tuple[int, int] = (0, 0),
                  settled: Callable[[Shot], int | None] | None = None) -> list[Segment]:
    """The segments of `timeline`, in order. With `gop` (the encoder's keyframe interval), a scene body
    of at least twice CHUNK_MIN_SECONDS is split into chunks of whole GOPs (see the module docstring);
    `fades` (programme fade in and out, frames) keeps chunk edges out of the fades. With `settled` (shot →
    the first of its frames from which all are the same, or None) and `gop`, a held stretch of at least
    HELD_MIN_SECONDS is encoded once a GOP and repeated (the module docstring)."""
    by_from = {t.from_scene: t for t in timeline.transitions}
    by_to = {t.to_scene: t for t in timeline.transitions}
    target = round(CHUNK_SECONDS * timeline.fps)
    minimum = round(CHUNK_MIN_SECONDS * timeline.fps)
    held_min = round(HELD_MIN_SECONDS * timeline.fps)
    keep_out = ((0, fades[0]), (timeline.duration - fades[1], timeline.duration))
    out: list[Segment] = []
    for index, scene in enumerate(timeline.scenes):
        incoming = by_to.get(scene.id)
        outgoing = by_from.get(scene.id)
        a = scene.start + (incoming.duration if incoming else 0)
        b = scene.end - (outgoing.duration if outgoing else 0)
        if b > a:
            name = f"{index + 1:02d}-{scene.id}"
            held = None
            if settled and gop:
                held = split_held(a, b, held_stretch(_layer(timeline, scene.id, a, b), settled, timeline.fps, keep_out), gop, held_min)
            h0, h1 = held or (b, b)
            # the frames before and after a held stretch are chunked as a body is: whole GOPs from its start
            cuts = chunk_bounds(a, h0, gop, target, minimum, keep_out) if gop else [a, b]
            cuts = cuts if h0 > a else []
            after = chunk_bounds(h1, b, gop, target, minimum, keep_out) if h1 < b else []
            parts = list(zip(cuts, cuts[1:])) + ([(h0, h1)] if held else []) + list(zip(after, after[1:]))
            for n, (c0, c1) in enumerate(parts):
                repeat = (c1 - c0) // gop if held and c0 == h0 else 1
                out.append(Segment(name if len(parts) == 1 else f"{name}.{n + 1}", c0, c1,
                                   (_layer(timeline, scene.id, c0, c1),), repeat=repeat))
        if outgoing and outgoing.duration > 0:
            t0, t1 = outgoing.start, outgoing.start + outgoing.duration
            layers = (_layer(timeline, outgoing.from_scene, t0, t1), _layer(timeline, outgoing.to_scene, t0, t1))
            out.append(Segment(f"{index + 1:02d}-{outgoing.kind}", t0, t1, layers, outgoing))
    cursor = 0
    for segment in out:
        if segment.start != cursor:
            raise ValueError(_("segments do not tile the timeline at frame {cursor} ({name})").format(cursor=cursor, name=segment.name))
        cursor = segment.end
    if cursor != timeline.duration:
        raise ValueError(_("segments end at frame {cursor}, timeline at {duration}").format(cursor=cursor, duration=timeline.duration))
    return out


@dataclass(frozen=True, slots=True)
class Handoff:
    """Frames a transition's layer needs that the body segment next to it reads anyway (the same clip
    or drawn card shot, continuing): that segment draws its edge piece `piece.count` frames longer and hands those
    frames over, so the transition neither seeks in the clip nor decodes its preroll again."""

    producer: str  # the body segment that draws them
    consumer: str  # the transition segment
    side: int  # 0: the outgoing scene's frames after the producer's last; 1: the incoming's before its first
    piece: Piece  # the transition layer's piece they are


def handoffs(segments: list[Segment], is_clip: Callable[[Shot], bool]) -> list[Handoff]:
    """Where a transition's layer is a single piece of a decoded shot (`is_clip`: a clip, a drawn card)
    continuing its neighbouring body's edge piece."""
    out = []
    for i, seg in enumerate(segments):
        if seg.transition is None or len(seg.layers) != 2:
            continue
        for side, j in ((0, i - 1), (1, i + 1)):
            if not 0 <= j < len(segments):
                continue
            body, layer = segments[j], seg.layers[side]
            if body.transition is not None or body.repeat > 1 or len(body.layers) != 1 or len(layer.pieces) != 1:
                continue  # a held segment draws one GOP of its frames: the transition reads the shot itself
            if (body.end, body.start)[side] != (seg.start, seg.end)[side]:
                continue  # not adjacent (a part's segments may have gaps)
            piece, edge = layer.pieces[0], body.layers[0].pieces[-1 if side == 0 else 0]
            if piece.shot is None or edge.shot != piece.shot or not is_clip(piece.shot):
                continue
            if (edge.offset + edge.count == piece.offset) if side == 0 else (piece.offset + piece.count == edge.offset):
                out.append(Handoff(body.name, seg.name, side, piece))
    return out


def _plain(obj: Any, origin: int) -> dict[str, Any]:
    out = {}
    for f in fields(obj):
        if f.name == "where":
            continue
        value = getattr(obj, f.name)
        if f.name == "start":
            value -= origin
        elif hasattr(value, "__dataclass_fields__"):
            value = {g.name: getattr(value, g.name) for g in fields(value)}
        out[f.name] = value
    return out


def segment_key(segment: Segment, timeline: Timeline, settings: dict[str, Any],
                identity: Callable[[str], Any]) -> str:
    """sha256 of everything that shapes the segment; `identity(path)` gives (size, mtime_ns) of a source."""
    origin = segment.start
    data = {
        "v": KEY_VERSION,
        "frames": segment.frames,
        "size": [timeline.width, timeline.height],
        "fps": str(timeline.fps),
        "settings": settings,
        "transition": None if segment.transition is None else [segment.transition.kind, segment.transition.duration],
        "layers": [
            {
                "start": layer.start - origin,
                "pieces": [{"offset": p.offset, "count": p.count,
                            "shot": None if p.shot is None else _plain(p.shot, p.shot.start),
                            "source": None if p.shot is None or not p.shot.source else [p.shot.source, identity(p.shot.source)]}
                           for p in layer.pieces],
                "texts": [_plain(t, origin) for t in layer.texts],
            }
            for layer in segment.layers
        ],
    }
    blob = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:24]
