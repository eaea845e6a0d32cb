"""Text drawn with Pillow into RGBA overlay images: captions, scene titles, lower thirds, the DRAFT mark.

Nothing here goes through an ffmpeg filter string, so every character is drawn exactly as written
(`:` `'` `%` `\\` quotes, braces, newlines). Where each element sits and how its lines break is
decided by `kbvideo.layout` (the same layout `validate` and the sidecars use); this module only
paints the boxes and text of a `TextLayout` and saves the PNG. Boxes, sizes and positions are even
numbers (yuv420p chroma).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from PIL import Image, ImageDraw

from kbvideo.errors import KbError, Problem
from kbvideo.fsutil import atomic_path
from kbvideo.layout import checks as layout_checks
from kbvideo.layout.checks import check_glyphs
from kbvideo.layout.screen import (  # noqa: F401  (some re-exported for tests and older callers)
    ACCENT,
    BRAND,
    CAPTION_SIZE,
    TextLayout,
    draft_mark_layout,
    text_layout,
)
from kbvideo.layout.text import (  # noqa: F401
    CAPTION_MAX_CHARS,
    CAPTION_MAX_LINES,
    TextBlock,
    TextFitError,
    draw_block_mask,
    load_font,
    missing_glyphs,
    scaled,
    text_width,
    wrap_lines,
)
from kbvideo.i18n import _
from kbvideo.render.painters import check_motion_shot
from kbvideo.timeline.model import TextItem, Timeline

STYLE_VERSION = 3  # bump when the look changes: overlay file names (cache keys) include it

WHITE = (255, 255, 255)
PANEL_COLOURS = {
    "plate": (0, 0, 0, 166),
    "accent": (*ACCENT, 255),
    "name": (*BRAND, 232),
    "role": (0, 0, 0, 176),
    "draft": (200, 24, 24, 200),
}


@dataclass(frozen=True)
class OverlayImage:
    """An RGBA PNG to place with its top-left corner at (x, y) on the frame. All four numbers are even."""

    path: Path
    x: int
    y: int
    width: int
    height: int


# --------------------------------------------------------------------------------- the overlays


@dataclass
class _Canvas:
    """An overlay being composed: translucent boxes first, then text on top (straight alpha, no fringes)."""

    width: int
    height: int

    def __post_init__(self) -> None:
        self.image = Image.new("RGBA", (self.width, self.height), (0, 0, 0, 0))
        self.draw = ImageDraw.Draw(self.image)

    def box(self, left: int, top: int, right: int, bottom: int, color: tuple[int, ...]) -> None:
        if right > left and bottom > top:
            self.draw.rectangle((left, top, right - 1, bottom - 1), fill=color)

    def text(self, block: TextBlock, x: int, y: int, color: tuple[int, int, int] = WHITE) -> None:
        mask = Image.new("L", self.image.size, 0)
        draw_block_mask(mask, block, x, y)
        layer = Image.new("RGBA", self.image.size, (*color, 0))
        layer.putalpha(mask)
        self.image = Image.alpha_composite(self.image, layer)
        self.draw = ImageDraw.Draw(self.image)


def paint(layout: TextLayout) -> Image.Image:
    """The RGBA image of a laid-out text element."""
    canvas = _Canvas(layout.box.width, layout.box.height)
    for panel in layout.panels:
        canvas.box(panel.left, panel.top, panel.right, panel.bottom, PANEL_COLOURS[panel.role])
    for block, x, y in layout.blocks:
        canvas.text(block, x, y)
    return canvas.image


def render_text_overlay(item: TextItem, width: int, height: int, out_dir: Path,
                        max_chars: int = CAPTION_MAX_CHARS, max_lines: int = CAPTION_MAX_LINES) -> OverlayImage:
    """Draw a caption, scene title or lower third for a `width` x `height` frame into `out_dir`.

    The PNG's name is a hash of everything that shapes it, so an unchanged item keeps its file.
    Raises TextFitError (with the item's storyboard location) for missing glyphs or text too long.
    """
    _check_frame(width, height)
    try:
        check_glyphs(item)
        layout = text_layout(item, width, height, max_chars, max_lines)
    except TextFitError as exc:
        raise type(exc)(_located(item, exc.message), exc.hint) from None
    key = repr((STYLE_VERSION, item.kind, item.text, item.subtext, width, height, max_chars, max_lines))
    path = Path(out_dir) / f"{item.kind}-{hashlib.sha1(key.encode()).hexdigest()[:16]}.png"
    _save_png(paint(layout), path)
    box = layout.box
    return OverlayImage(path, box.x, box.y, box.width, box.height)


def render_draft_mark(width: int, height: int, out_dir: Path) -> OverlayImage:
    """A visible 'DRAFT' badge in the top-right corner of the title-safe area."""
    _check_frame(width, height)
    layout = draft_mark_layout(width, height)
    path = Path(out_dir) / f"draft-{width}x{height}-v{STYLE_VERSION}.png"
    _save_png(paint(layout), path)
    box = layout.box
    return OverlayImage(path, box.x, box.y, box.width, box.height)


# ------------------------------------------------------------------------------- checks, saving


def _check_frame(width: int, height: int) -> None:
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise KbError(_("frame size {width}x{height} must be positive even numbers (yuv420p)").format(width=width, height=height))


def _located(item: TextItem, message: str) -> str:
    where = f"{item.where}: " if item.where else ""
    return f"{where}scene '{item.scene}': {item.kind}: {message}"


def _save_png(image: Image.Image, path: Path) -> None:
    """Write atomically: a temp file beside the target, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG", compress_level=1)


def check_texts(timeline: Timeline, sizes: Iterable[tuple[int, int]] | None = None, *,
                max_chars: int = CAPTION_MAX_CHARS, max_lines: int = CAPTION_MAX_LINES) -> list[Problem]:
    """Every text problem of a timeline (kbvideo.layout.checks), the text of title cards and charts
    included, as their painters lay it out; at each frame size in `sizes` (default: the timeline's)."""
    return layout_checks.check_texts(timeline, sizes, max_chars=max_chars, max_lines=max_lines,
                                     painted=check_motion_shot)
