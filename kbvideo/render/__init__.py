"""Rendering a Timeline to a contest-ready MP4.

    render_timeline(timeline, out_path, *, profile, draft=False, jobs=None, work_dir=None,
                    progress=None, cache_dir=None, media=None, proxies=True, check=True) -> RenderResult

Backends are looked up by name (`get_backend(name)`); "ffmpeg" (segments + filter graphs) is the
only one so far. See kbvideo/render/engine.py for the design (its parts: assets.py, encode.py,
finish.py). The engine is imported on first use, so that importing a light part of the renderer
(`kbvideo.render.files`, `kbvideo.render.painters`) does not load it.
"""

from __future__ import annotations

from typing import Any, Callable

from kbvideo.errors import UsageError
from kbvideo.i18n import _

BACKENDS = ("ffmpeg",)


def get_backend(name: str = "ffmpeg") -> Callable[..., Any]:
    if name not in BACKENDS:
        raise UsageError(_("unknown render backend '{name}'").format(name=name), hint="known: " + ", ".join(BACKENDS))
    from kbvideo.render.engine import render_timeline

    return render_timeline


def __getattr__(name: str) -> Any:
    if name in ("render_timeline", "RenderResult"):
        from kbvideo.render import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'kbvideo.render' has no attribute {name!r}")


__all__ = ["BACKENDS", "RenderResult", "get_backend", "render_timeline"]
