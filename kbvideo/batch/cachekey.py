"""Resume: one key per village over everything its video depends on.

The key covers the storyboard and template texts, the roster row, the assets' contents, the
timeline as resolved, the rules profile, the output settings, the kbvideo version and the
renderer's code fingerprint. It is stored beside the output (`NAME.mp4.key.json`, written after
the video itself) with its components, so a second run can skip an up-to-date village and say
why another one is rendered again ("changed: assets").

Asset contents are hashed with sha256 once; the hash is cached by (size, mtime) like black's
cache, so a batch of hundreds of villages re-reads only files that changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from importlib import metadata
from pathlib import Path
from typing import Any

from kbvideo.fsutil import write_atomic
from kbvideo.i18n import _
from kbvideo.render.files import code_fingerprint

KEY_SUFFIX = ".key.json"
CHUNK = 1024 * 1024


def kbvideo_version() -> str:
    try:
        return metadata.version("kbvideo")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileHasher:
    """sha256 of file contents, cached in a JSON file by (path, size, mtime_ns)."""

    def __init__(self, cache_file: Path | None):
        self.cache_file = cache_file
        self.lock = threading.Lock()
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        if cache_file is not None and cache_file.is_file():
            try:
                loaded = json.loads(cache_file.read_text(encoding="utf-8"))
            except (OSError, ValueError, RecursionError):
                loaded = {}
            # a damaged file (not an object, entries of the wrong shape) only costs re-hashing
            self.entries = {k: v for k, v in loaded.items() if isinstance(v, dict) and isinstance(v.get("sha256"), str)
                            and isinstance(v.get("size"), int) and isinstance(v.get("mtime_ns"), int)} \
                if isinstance(loaded, dict) else {}

    def hash(self, path: str | Path) -> str:
        path = os.path.abspath(path)
        stat = os.stat(path)
        with self.lock:
            entry = self.entries.get(path)
            if entry and entry["size"] == stat.st_size and entry["mtime_ns"] == stat.st_mtime_ns:
                return entry["sha256"]
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        value = digest.hexdigest()
        with self.lock:
            self.entries[path] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": value}
            self.dirty = True
        return value

    def save(self) -> None:
        if self.cache_file is None or not self.dirty:
            return
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        with self.lock:
            text = json.dumps(self.entries, indent=0, sort_keys=True)
            self.dirty = False
        write_atomic(self.cache_file, text)


def _without_where(value: Any) -> Any:
    """The timeline minus 'where' (file:line): moving a comment must not look like a new video."""
    if isinstance(value, dict):
        return {k: _without_where(v) for k, v in value.items() if k != "where"}
    if isinstance(value, list):
        return [_without_where(v) for v in value]
    return value


def key_components(*, texts: dict[str, str], row: dict[str, str] | None, timeline: dict[str, Any],
                   assets: dict[str, str], profile: Any, settings: dict[str, Any]) -> dict[str, Any]:
    """Each part of the key as a short digest (stored, so a changed part can be named)."""
    def digest(value: Any) -> str:
        return sha256_bytes(json.dumps(value, sort_keys=True, default=str, ensure_ascii=False).encode())[:32]

    return {
        "kbvideo": kbvideo_version(),
        "renderer": code_fingerprint(),
        "storyboards": digest(texts),
        "row": digest(row or {}),
        "assets": digest(assets),
        "timeline": digest(_without_where(timeline)),
        "rules": digest(repr(profile)),
        "settings": digest(settings),
    }


def combine(components: dict[str, Any]) -> str:
    return sha256_bytes(json.dumps(components, sort_keys=True).encode())


def key_path(output: Path) -> Path:
    return output.with_name(output.name + KEY_SUFFIX)


def read_key(output: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(key_path(output).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None  # a damaged key file means "not up to date"


def write_key(output: Path, record: dict[str, Any]) -> None:
    write_atomic(key_path(output), json.dumps(record, indent=2, ensure_ascii=False, default=str))


def changed_parts(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    if not old or "components" not in old:
        return [_("no earlier key")]
    before = old["components"]
    return [name for name in new if before.get(name) != new[name]] or ["key"]
