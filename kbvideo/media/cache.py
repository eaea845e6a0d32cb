"""Probe results on disk, so a second `validate` or `plan` opens no media file at all."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import types
import typing
from fractions import Fraction
from pathlib import Path

from kbvideo.fsutil import write_atomic
from kbvideo.media.probe import PROBE_VERSION, AudioStream, MediaInfo, VideoStream

MAX_ENTRY_BYTES = 1_000_000  # a real entry is a few kB


class ProbeCache:
    """Probe results on disk: one small JSON file per media file, keyed by absolute path, size and mtime_ns.

    A hit needs only os.stat of the media file (no media is opened, PyAV is not imported). Writers use
    a temporary file + os.replace, so concurrent runs never leave a half-written entry.

    Self-healing: an entry carries the SHA-256 of its content, and every field is type-checked when
    read. A damaged entry (truncated, flipped bytes, hand-edited, wrong types, NaN) is deleted and
    counted in `discarded`; the file is probed again and the entry rewritten. A cache folder that is
    read-only, is a file, or is full only costs speed: nothing here ever raises.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.hits = 0
        self.misses = 0
        self.discarded = 0

    def _entry_path(self, absolute: str) -> Path:
        return self.folder / (hashlib.sha1(absolute.encode("utf-8", "surrogateescape")).hexdigest()[:24] + ".json")

    def get(self, path: str | os.PathLike) -> MediaInfo | None:
        absolute = os.path.abspath(path)
        entry_path = self._entry_path(absolute)
        try:
            st = os.stat(absolute)
            with open(entry_path, "rb") as handle:
                data = handle.read(MAX_ENTRY_BYTES + 1)
        except (OSError, ValueError):
            self.misses += 1
            return None
        try:
            info = _read_entry(data, absolute)
        except Exception:  # noqa: BLE001 - whatever is wrong with an entry, it is rebuilt, never fatal
            self.discarded += 1
            self.misses += 1
            try:
                entry_path.unlink()
            except OSError:
                pass
            return None
        if info.size_bytes != st.st_size or info.mtime_ns != st.st_mtime_ns:
            self.misses += 1  # the media file changed since: a stale entry, not a damaged one
            return None
        self.hits += 1
        return info

    def put(self, info: MediaInfo) -> None:
        body = info.to_dict()
        entry = {"version": PROBE_VERSION, "path": info.path, "size": info.size_bytes, "mtime_ns": info.mtime_ns,
                 "sha256": _digest(body), "info": body}
        try:
            text = json.dumps(entry, allow_nan=False, ensure_ascii=True)
        except (TypeError, ValueError):
            return  # not representable (e.g. a NaN from a strange file): simply not cached
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomic(self._entry_path(info.path), text)
        except (OSError, ValueError):
            pass  # a read-only, full or misplaced cache folder only costs speed next time


def _digest(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, allow_nan=False, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _no_constants(name: str):
    raise ValueError(f"{name} in a cache entry")


def _read_entry(data: bytes, absolute: str) -> MediaInfo:
    """The MediaInfo of one entry; raises (anything) when the entry is not exactly what put() wrote."""
    if len(data) > MAX_ENTRY_BYTES:
        raise ValueError("entry too large")
    entry = json.loads(data.decode("utf-8"), parse_constant=_no_constants)
    if not isinstance(entry, dict):
        raise ValueError("entry is not an object")
    if entry.get("version") != PROBE_VERSION or entry.get("path") != absolute:
        raise LookupError("another version or file")
    body = entry.get("info")
    if not isinstance(body, dict) or entry.get("sha256") != _digest(body):
        raise ValueError("checksum mismatch")
    info = MediaInfo.from_dict(body)
    _check_types(info)
    if info.path != absolute or info.size_bytes != entry.get("size") or info.mtime_ns != entry.get("mtime_ns"):
        raise ValueError("entry disagrees with itself")
    return info


def _check_types(obj) -> None:
    """Every field of a MediaInfo (and its streams) has the type its annotation names; floats are finite."""
    hints = typing.get_type_hints(type(obj))
    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        if not _matches(value, hints[field.name]):
            raise TypeError(f"{type(obj).__name__}.{field.name} = {value!r:.40}")
        if isinstance(value, tuple):
            for item in value:
                _check_types(item)


def _matches(value, annotation) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is tuple:
        (item_type, *_rest) = typing.get_args(annotation)
        return isinstance(value, tuple) and all(isinstance(v, item_type) for v in value)
    if origin is dict or annotation is dict:
        return isinstance(value, dict)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is Fraction:
        return isinstance(value, Fraction)
    if annotation in (VideoStream, AudioStream, str, bool):
        return isinstance(value, annotation)
    return True
