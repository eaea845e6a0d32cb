"""Probe results on disk, so a second `validate` or `plan` opens no media file at all."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from kbvideo.media.probe import PROBE_VERSION, MediaInfo


class ProbeCache:
    """Probe results on disk: one small JSON file per media file, keyed by absolute path, size and mtime_ns.

    A hit needs only os.stat of the media file (no media is opened, PyAV is not imported). Writers use
    a temporary file + os.replace, so concurrent runs never leave a half-written entry.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.hits = 0
        self.misses = 0

    def _entry_path(self, absolute: str) -> Path:
        return self.folder / (hashlib.sha1(absolute.encode("utf-8", "surrogateescape")).hexdigest()[:24] + ".json")

    def get(self, path: str | os.PathLike) -> MediaInfo | None:
        absolute = os.path.abspath(path)
        try:
            st = os.stat(absolute)
            with open(self._entry_path(absolute), encoding="utf-8") as handle:
                entry = json.load(handle)
            if (entry.get("version") != PROBE_VERSION or entry.get("path") != absolute
                    or entry.get("size") != st.st_size or entry.get("mtime_ns") != st.st_mtime_ns):
                raise LookupError
            info = MediaInfo.from_dict(entry["info"])
        except (OSError, ValueError, LookupError, TypeError):
            self.misses += 1
            return None
        self.hits += 1
        return info

    def put(self, info: MediaInfo) -> None:
        entry = {"version": PROBE_VERSION, "path": info.path, "size": info.size_bytes, "mtime_ns": info.mtime_ns,
                 "info": info.to_dict()}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(entry, handle)
                os.replace(tmp, self._entry_path(info.path))
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError:
            pass  # a read-only or full disk only costs speed next time
