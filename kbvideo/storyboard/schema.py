"""JSON Schema of the storyboard format, built from the validator's own key tables so the two agree.

Editors (VS Code's YAML extension: `# yaml-language-server: $schema=storyboard.schema.json`) use it
to autocomplete and check. The validator stays the authority: it also checks files, times against
media and YAML 1.1 traps that a schema cannot see.
"""

from __future__ import annotations

from typing import Any

from kbvideo.storyboard import validate as v
from kbvideo.vocab import FAMILY_FUNCTIONS, FITS, MOTIONS, TOPICS, TRANSITIONS
from kbvideo.vocab.effects import SHOT_KIND, Value

TIME = {
    "description": 'seconds (12.5), "12s", "1:30", "00:01:30.500" or frames "45f"',
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*s?|(\d+:)?\d+:\d+(\.\d+)?|\d+\s*f)\s*$"},
    ],
}
TEXT = {"type": "string", "minLength": 1, "description": "text; {kampung.name}, {kampung.village}, {vars.x} … are filled in"}
PATH = {"type": "string", "minLength": 1, "description": "path relative to the storyboard's folder, inside the project"}
COLOUR = {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}
VOLUME = {"type": "number", "minimum": 0, "maximum": 4}
NUMBER_OR_VAR = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*\{vars\.[A-Za-z_][A-Za-z0-9_]*\}\s*$"}],
                 "description": 'a number, or "{vars.NAME}" filled from vars / a roster row'}
RATE = {"type": "integer", "minimum": v.RATE_RANGE[0], "maximum": v.RATE_RANGE[1],
        "description": "scratch voice speed, words per minute"}
FILL = {"anyOf": [{"enum": ["blur", "black"]}, COLOUR]}
TEXT_MOTION = {
    "anyOf": [
        {"enum": list(v.TEXT_MOTIONS)},
        {"type": "object", "additionalProperties": False, "required": ["type"],
         "properties": {"type": {"enum": list(v.TEXT_MOTIONS)},
                        "frames": {"type": "integer", "minimum": v.TEXT_MOTION_FRAMES[0],
                                   "maximum": v.TEXT_MOTION_FRAMES[1]}}},
    ],
    "description": "how the text comes in and goes out: fade, slide or none; {type, frames} also sets its frames",
}


def _obj(keys, props: dict[str, Any], required=()) -> dict[str, Any]:
    assert set(props) == set(keys), (sorted(props), sorted(keys))
    return {"type": "object", "additionalProperties": False, "properties": props, "required": list(required)}


def _caption_file() -> dict[str, Any]:
    """captions: {srt: file.srt, offset: 1.5} or {vtt: file.vtt}."""
    props = {"srt": PATH, "vtt": PATH, "offset": {"type": "number"}}
    return {"oneOf": [{**_obj(v.CAPTION_FILE_KEYS, props, [kind]), "not": {"required": [other]}}
                      for kind, other in (("srt", "vtt"), ("vtt", "srt"))]}


def _transition() -> dict[str, Any]:
    return {"anyOf": [
        {"enum": list(TRANSITIONS)},
        _obj(v.TRANSITION_KEYS, {"type": {"enum": list(TRANSITIONS)}, "duration": TIME}, ["type"]),
    ]}


def _shot_value_schemas() -> dict[str, Any]:
    """The schema of each type of shot value (kbvideo.vocab.effects), as the validator reads it."""
    return {
        Value.ASSET: PATH, Value.TIME: TIME, Value.VOLUME: VOLUME, Value.FIT: {"enum": list(FITS)},
        Value.FILL: FILL, Value.MOTION: {"enum": list(MOTIONS)}, Value.COLOUR: COLOUR, Value.TEXT: TEXT,
        Value.CARD: {"anyOf": [TEXT, _obj(v.CARD_KEYS, {"title": TEXT, "subtitle": TEXT, "color": COLOUR})]},
        Value.CHART: _obj(v.CHART_KEYS, {
            "title": TEXT, "unit": {"type": "string"}, "style": {"enum": list(v.CHART_STYLES)},
            "data": {"anyOf": [
                {"type": "object", "additionalProperties": NUMBER_OR_VAR},
                {"type": "array", "items": _obj(("label", "value"), {"label": {"type": ["string", "number"]},
                                                                     "value": NUMBER_OR_VAR}, ["label", "value"])},
            ]}}, ["title", "data"]),
    }


def storyboard_schema() -> dict[str, Any]:
    assert set(v.MOTION_KEYS) == set(TEXT_MOTION["anyOf"][1]["properties"])
    timed_text = _obj(v.CAPTION_KEYS, {"text": TEXT, "at": TIME, "duration": TIME, "motion": TEXT_MOTION},
                      ["text", "at", "duration"])
    values = _shot_value_schemas()
    shot = {"oneOf": [
        _obj(v.SHOT_KEYS[name], {key: values[value] for key, value in kind.keys.items()},
             [name] + (["duration"] if kind.needs_duration else []))
        for name, kind in SHOT_KIND.items()
    ]}
    scene = _obj(v.SCENE_KEYS, {
        "id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]*$"},
        "topic": {"enum": list(TOPICS)},
        "functions": {"type": "array", "items": {"enum": list(FAMILY_FUNCTIONS)}, "uniqueItems": True},
        "title": {"anyOf": [TEXT, _obj(v.TITLE_KEYS, {"text": TEXT, "at": TIME, "duration": TIME,
                                                            "motion": TEXT_MOTION}, ["text"])]},
        "shots": {"type": "array", "minItems": 1, "items": shot},
        "captions": {"anyOf": [{"type": "array", "items": TEXT}, {"type": "array", "items": timed_text},
                               {"const": v.FROM_NARRATION},
                               _caption_file()]},
        "lower_thirds": {"type": "array", "items": _obj(v.LOWER_THIRD_KEYS, {
            "name": TEXT, "role": TEXT, "at": TIME, "duration": TIME, "motion": TEXT_MOTION}, ["name"])},
        "narration": {"anyOf": [PATH, {**_obj(v.NARRATION_KEYS, {"file": PATH, "text": TEXT, "at": TIME, "volume": VOLUME,
                                                                 "rate": RATE}),
                                       "anyOf": [{"required": ["file"]}, {"required": ["text"]}]}]},
        "transition": _transition(),
    }, ["id", "topic", "shots"])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://kbvideo.invalid/storyboard.schema.json",
        "title": "kbvideo storyboard",
        "description": "One Kampung KB profile video: the kampung, output settings, music and scenes.",
        **_obj(v.TOP_KEYS, {
            "schema_version": {"const": v.SCHEMA_VERSION},
            "extends": {"type": "string", "minLength": 1,
                        "description": "template storyboard this one builds on (path relative to this file); "
                                       "keys written here win, scenes merge by id"},
            "kampung": _obj(v.KAMPUNG_KEYS, {
                "name": TEXT, "desa": TEXT, "kelurahan": TEXT, "kecamatan": TEXT, "kota": TEXT, "kabupaten": TEXT,
                "provinsi": TEXT, "category": {"enum": list(v.CATEGORIES)}, "year": {"type": "integer"},
            }, ["name"]),
            "output": _obj(v.OUTPUT_KEYS, {
                "size": {"anyOf": [{"type": "string", "pattern": r"^\d+\s*[xX×]\s*\d+$"},
                                   {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}]},
                "fps": {"anyOf": [{"enum": [24, 25, 30, 50, 60, 29.97]},
                                  {"enum": ["24", "25", "30", "50", "60", "30000/1001", "29.97"]}]},
                "rules": {"type": "string"},
            }),
            "defaults": _obj(v.DEFAULT_KEYS, {
                "fit": {"enum": list(FITS)}, "fill": FILL, "transition": _transition(), "clip_volume": VOLUME,
                "title_duration": TIME, "lower_third_duration": TIME, "narration_rate": RATE,
                "captions": {"const": v.FROM_NARRATION},
                "text_motion": _obj(tuple(v.TEXT_MOTION), {kind: TEXT_MOTION for kind in v.TEXT_MOTION}),
            }),
            "vars": {"type": "object", "additionalProperties": {"type": "string"}},
            "poster": _obj(v.POSTER_KEYS, {"at": TIME}, ["at"]),
            "music": {"anyOf": [PATH, _obj(v.MUSIC_KEYS, {"file": PATH, "volume": VOLUME, "duck": {"type": "boolean"}},
                                           ["file"])]},
            "scenes": {"type": "array", "minItems": 1, "items": scene},
        }, ["kampung", "scenes"]),
    }
