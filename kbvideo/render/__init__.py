"""Rendering a Timeline to a contest-ready MP4.

    render_timeline(timeline, out_path, *, profile, draft=False, jobs=None, work_dir=None,
                    progress=None, cache_dir=None, media=None, proxies=True, check=True) -> RenderResult

Backends are looked up by name (`BACKENDS`, `get_backend(name)`); "ffmpeg" (segments + filter graphs)
is the only one so far. See kbvideo/render/engine.py for the design.
"""

from __future__ import annotations

from typing import Callable

from kbvideo.errors import UsageError
from kbvideo.render.engine import RenderResult, render_timeline

BACKENDS: dict[str, Callable[..., RenderResult]] = {"ffmpeg": render_timeline}


def get_backend(name: str = "ffmpeg") -> Callable[..., RenderResult]:
    try:
        return BACKENDS[name]
    except KeyError:
        raise UsageError(f"unknown render backend '{name}'", hint="known: " + ", ".join(BACKENDS)) from None


__all__ = ["BACKENDS", "RenderResult", "get_backend", "render_timeline"]
