"""Versioned Timeline ⇄ dict (JSON). `duration` (seconds) sits at the top level for scripts."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from kbvideo.errors import Loc
from kbvideo.i18n import _
from kbvideo.timecode import format_fps
from kbvideo.timeline.model import AudioItem, SceneSpan, Shot, TextItem, Timeline, Transition
from kbvideo.vocab import Chart

SCHEMA = "kbvideo.timeline"
VERSION = 1


def _item(obj) -> dict[str, Any]:
    out = {}
    for name in obj.__slots__:
        value = getattr(obj, name)
        if isinstance(value, Chart):
            value = {"title": value.title, "labels": list(value.labels), "values": list(value.values),
                     "unit": value.unit, "style": value.style}
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Loc):
            value = str(value)  # "path:line:col"
        out[name] = value
    return out


def to_dict(timeline: Timeline) -> dict[str, Any]:
    fps = timeline.fps
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "duration": round(timeline.duration_seconds, 6),
        "frames": timeline.duration,
        "fps": format_fps(fps),
        "width": timeline.width,
        "height": timeline.height,
        "title": timeline.title,
        "rules": timeline.rules,
        "meta": dict(timeline.meta),
        "scenes": [_item(s) | {"start_seconds": round(float(s.start / fps), 6),
                               "duration_seconds": round(float(s.duration / fps), 6)} for s in timeline.scenes],
        "transitions": [_item(t) for t in timeline.transitions],
        "shots": [_item(s) for s in timeline.shots],
        "texts": [_item(t) for t in timeline.texts],
        "audio": [_item(a) for a in timeline.audio],
    }


def _build(cls, data: dict[str, Any]):
    kwargs = {}
    for name in cls.__slots__:
        if name not in data:
            continue
        value = data[name]
        if name == "chart" and value is not None:
            value = Chart(value["title"], tuple(value["labels"]), tuple(value["values"]), value.get("unit", ""),
                          value.get("style", "bars"))
        elif name == "where" and value is not None:
            value = Loc.parse(value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    return cls(**kwargs)


def from_dict(data: dict[str, Any]) -> Timeline:
    if data.get("schema") != SCHEMA:
        raise ValueError(_("not a kbvideo timeline (schema {get!r})").format(get=data.get('schema')))
    if data.get("version") != VERSION:
        raise ValueError(_("timeline version {get} is not supported (expected {VERSION})").format(get=data.get('version'), VERSION=VERSION))
    return Timeline(
        fps=Fraction(data["fps"]),
        width=data["width"],
        height=data["height"],
        duration=data["frames"],
        scenes=tuple(_build(SceneSpan, s) for s in data["scenes"]),
        shots=tuple(_build(Shot, s) for s in data["shots"]),
        texts=tuple(_build(TextItem, t) for t in data["texts"]),
        audio=tuple(_build(AudioItem, a) for a in data["audio"]),
        transitions=tuple(_build(Transition, t) for t in data["transitions"]),
        title=data.get("title", ""),
        rules=data.get("rules", ""),
        meta=dict(data.get("meta", {})),
    )


def dumps(timeline: Timeline) -> str:
    return json.dumps(to_dict(timeline), ensure_ascii=False, indent=2)


def loads(text: str) -> Timeline:
    return from_dict(json.loads(text))
