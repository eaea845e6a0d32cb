"""Per-stage figures of one render, for its report (`.render.json`, key "stages").

Every stage the render goes through adds what it spent: wall seconds, and for a stage run by child
processes (ffmpeg, MoviePy's ffmpeg) their CPU seconds (user + system, from `os.wait4`) and the
largest peak memory of one of them (KiB). A stage's figures add up over all its runs: stages run in
the worker threads in parallel, so a stage's wall can exceed the time the whole render took (the
coarse `timings` keep the elapsed times).

Recorded from several threads at once: every change holds the render job's lock.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any, Callable, Iterator

from kbvideo.proc import Usage

# the order stages appear in the report (the order a render meets them); unknown ones follow
ORDER = ("source_facts", "text_check", "layout", "plan", "seal_check", "proxies", "stills", "text_overlays",
         "draft_mark", "motion_graphics", "segments", "frame_count", "seal_store", "sound_mix", "sound_limit",
         "sound_encode", "join", "poster", "sidecars", "check")
DIGITS = 4  # seconds are kept to 0.1 ms


def _round(value: Any) -> Any:
    return round(value, DIGITS) if isinstance(value, float) else value


def usage_dict(usage: Usage | None, wall: float | None = None) -> dict[str, Any]:
    """wall, cpu, maxrss_kib of one child run (`wall` given: that instead of the child's own; cpu and
    maxrss_kib None when unknown)."""
    if wall is None:
        wall = usage.wall if usage is not None else 0.0
    return {"wall": _round(wall), "cpu": _round(usage.cpu) if usage is not None else None,
            "maxrss_kib": usage.maxrss_kib if usage is not None else None}


class Stages:
    """stage name → {"wall", "count", and where known "cpu", "maxrss_kib", other sums, "items"}."""

    def __init__(self, lock: threading.Lock):
        self.lock = lock
        self.data: dict[str, dict[str, Any]] = {}

    def add(self, stage: str, wall: float, usage: Usage | None = None, *, count: int = 1,
            item: dict[str, Any] | None = None, **sums: float) -> None:
        """One run of `stage` took `wall` seconds (its child's `usage`, if it ran one); `sums` (frames,
        bytes, …) are added to the stage's own; `item` is appended to its list of runs."""
        with self.lock:
            entry = self.data.setdefault(stage, {"wall": 0.0, "count": 0})
            entry["wall"] += wall
            entry["count"] += count
            if usage is not None:
                entry["cpu"] = entry.get("cpu", 0.0) + usage.cpu
                if usage.maxrss_kib is not None:
                    entry["maxrss_kib"] = max(entry.get("maxrss_kib", 0), usage.maxrss_kib)
            for key, value in sums.items():
                entry[key] = entry.get(key, 0) + value
            if item is not None:
                entry.setdefault("items", []).append(item)

    def child(self, stage: str, **sums: float) -> Callable[[Usage], None]:
        """A `stats` callback for `kbvideo.render.ffmpeg.run`: the child's wall, CPU and memory go to `stage`."""
        return lambda usage: self.add(stage, usage.wall, usage, **sums)

    @contextlib.contextmanager
    def timed(self, stage: str, **sums: float) -> Iterator[None]:
        """Time the block (wall seconds) as one run of `stage`; nothing is recorded if it raises."""
        started = time.perf_counter()
        yield
        self.add(stage, time.perf_counter() - started, **sums)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            names = [n for n in ORDER if n in self.data] + sorted(n for n in self.data if n not in ORDER)
            return {name: {key: (_round(value) if key != "items" else [dict(i) for i in value])
                           for key, value in self.data[name].items()} for name in names}
