"""Cut a Timeline into segments that render independently and join with `-c copy`. Pure.

Each scene gives one segment: from its start (where a crossfade or fade through black from the
previous scene overlaps it) to where its own outgoing transition begins. A segment that opens with a
transition holds two layers: the previous scene's last frames, only as long as the transition, and
this scene, blended over them by `xfade`. So every transition is rendered with the scene it leads
into, by the same process and decoder, instead of in a short segment of its own (one process start
and one source pre-roll less per transition). Cuts need nothing. Segments are contiguous, in time
order, and cover [0, timeline.duration) exactly.

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

KEY_VERSION = 4  # bump when the way a segment is drawn changes


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
    layers: tuple[Layer, ...]  # one, or two when it opens with a transition (outgoing tail, this scene)
    transition: Transition | None = None

    @property
    def frames(self) -> int:
        return self.end - self.start


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


def plan_segments(timeline: Timeline) -> list[Segment]:
    by_from = {t.from_scene: t for t in timeline.transitions}
    by_to = {t.to_scene: t for t in timeline.transitions}
    out: list[Segment] = []
    for index, scene in enumerate(timeline.scenes):
        incoming = by_to.get(scene.id)
        outgoing = by_from.get(scene.id)
        a = scene.start
        b = scene.end - (outgoing.duration if outgoing else 0)
        if b <= a:
            continue
        this = _layer(timeline, scene.id, a, b)
        if incoming and incoming.duration > 0:
            t0, t1 = incoming.start, incoming.start + incoming.duration
            layers = (_layer(timeline, incoming.from_scene, t0, t1), this)
            out.append(Segment(f"{index + 1:02d}-{scene.id}", a, b, layers, incoming))
        else:
            out.append(Segment(f"{index + 1:02d}-{scene.id}", a, b, (this,)))
    cursor = 0
    for segment in out:
        if segment.start != cursor:
            raise ValueError(f"segments do not tile the timeline at frame {cursor} ({segment.name})")
        cursor = segment.end
    if cursor != timeline.duration:
        raise ValueError(f"segments end at frame {cursor}, timeline at {timeline.duration}")
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
