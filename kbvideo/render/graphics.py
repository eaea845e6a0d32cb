"""Text drawn with Pillow into RGBA overlay images: captions, scene titles, lower thirds, the DRAFT mark.

Nothing here goes through an ffmpeg filter string, so every character is drawn exactly as written
(`:` `'` `%` `\\` quotes, braces, newlines). The renderer places each PNG at (x, y) on the frame.

Layout is designed for 1920x1080 and scaled by height/1080, inside the title-safe area (90 % of the
frame, EBU R95). Boxes, sizes and positions are even numbers (yuv420p chroma). Lines are measured
with the font's full extent (ascent + descent, and the glyphs' own bbox), so descenders of "gjpqy"
are never cut. Characters DejaVu cannot draw are found from the font's cmap table before drawing.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
import struct
import tempfile
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable

from PIL import Image, ImageDraw, ImageFont

from kbvideo.errors import KbError, Problem
from kbvideo.timeline.model import TextItem, Timeline

STYLE_VERSION = 2  # bump when the look changes: overlay file names (cache keys) include it
REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"
TITLE_SAFE = 0.90  # EBU R95: titles inside the central 90 % of width and height
CAPTION_WIDTH = 0.75  # captions wrap before 3/4 of the frame width (subtitle norms: short lines)

WHITE = (255, 255, 255)
BRAND = (11, 93, 59)  # #0b5d3b, the default card colour
ACCENT = (242, 183, 5)  # #f2b705
CAPTION_BOX = (0, 0, 0, 166)
TITLE_BOX = (0, 0, 0, 150)
ROLE_BOX = (0, 0, 0, 176)
NAME_BOX = (*BRAND, 232)
DRAFT_BOX = (200, 24, 24, 200)

# Sizes in pixels at 1080 lines.
CAPTION_SIZE, TITLE_SIZE, NAME_SIZE, ROLE_SIZE, DRAFT_SIZE = 44, 60, 46, 32, 40


class TextFitError(KbError, ValueError):
    """Text that cannot be drawn as asked: too long for its lines, or characters the font lacks."""

    exit_code = 2
    code = "text.fit"


class MissingGlyphError(TextFitError):
    """Characters the shipped font cannot draw."""

    code = "text.glyphs"


@dataclass(frozen=True)
class OverlayImage:
    """An RGBA PNG to place with its top-left corner at (x, y) on the frame. All four numbers are even."""

    path: Path
    x: int
    y: int
    width: int
    height: int


# ---------------------------------------------------------------------------------------- fonts


@functools.lru_cache(maxsize=None)
def _font_bytes(name: str) -> bytes:
    return resources.files("kbvideo").joinpath("fonts", name).read_bytes()


_per_thread = threading.local()


def load_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The shipped DejaVu font at `size` pixels (read through importlib.resources, no system fonts).

    Cached per thread: a FreeType face must not be used by two threads at once (segments render in a pool).
    """
    cache = _per_thread.__dict__.setdefault("fonts", {})
    key = (max(1, int(size)), bool(bold))
    if key not in cache:
        cache[key] = ImageFont.truetype(io.BytesIO(_font_bytes(BOLD if bold else REGULAR)), key[0])
    return cache[key]


def scaled(size: float, height: int) -> int:
    """A size given for 1080 lines, at a frame `height` lines tall."""
    return max(1, round(size * height / 1080))


@functools.lru_cache(maxsize=None)
def font_codepoints(bold: bool = False) -> frozenset[int]:
    """Every code point the shipped font maps to a real glyph, read from its cmap table."""
    return frozenset(_parse_cmap(_font_bytes(BOLD if bold else REGULAR)))


def _parse_cmap(data: bytes) -> set[int]:
    """Unicode code points of an sfnt font's cmap (formats 4 and 12), glyph 0 (.notdef) excluded."""
    num_tables = struct.unpack_from(">H", data, 4)[0]
    cmap_offset = None
    for i in range(num_tables):
        tag, _checksum, offset, _length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        if tag == b"cmap":
            cmap_offset = offset
    if cmap_offset is None:
        raise KbError("the shipped font has no cmap table")
    count = struct.unpack_from(">H", data, cmap_offset + 2)[0]
    codes: set[int] = set()
    for i in range(count):
        platform, encoding, sub = struct.unpack_from(">HHI", data, cmap_offset + 4 + 8 * i)
        if not (platform == 0 or (platform == 3 and encoding in (1, 10))):
            continue
        start = cmap_offset + sub
        fmt = struct.unpack_from(">H", data, start)[0]
        if fmt == 4:
            codes |= _cmap_format4(data, start)
        elif fmt == 12:
            codes |= _cmap_format12(data, start)
    return codes


def _cmap_format4(data: bytes, start: int) -> set[int]:
    seg_count = struct.unpack_from(">H", data, start + 6)[0] // 2
    ends_at = start + 14
    starts_at = ends_at + 2 * seg_count + 2
    deltas_at = starts_at + 2 * seg_count
    ranges_at = deltas_at + 2 * seg_count
    codes = set()
    for seg in range(seg_count):
        end = struct.unpack_from(">H", data, ends_at + 2 * seg)[0]
        first = struct.unpack_from(">H", data, starts_at + 2 * seg)[0]
        delta = struct.unpack_from(">h", data, deltas_at + 2 * seg)[0]
        range_offset = struct.unpack_from(">H", data, ranges_at + 2 * seg)[0]
        for code in range(first, end + 1):
            if code == 0xFFFF:
                continue
            if range_offset == 0:
                glyph = (code + delta) & 0xFFFF
            else:
                where = ranges_at + 2 * seg + range_offset + 2 * (code - first)
                glyph = struct.unpack_from(">H", data, where)[0]
                glyph = (glyph + delta) & 0xFFFF if glyph else 0
            if glyph:
                codes.add(code)
    return codes


def _cmap_format12(data: bytes, start: int) -> set[int]:
    groups = struct.unpack_from(">I", data, start + 12)[0]
    codes = set()
    for i in range(groups):
        first, last, glyph = struct.unpack_from(">III", data, start + 16 + 12 * i)
        codes.update(code for offset, code in enumerate(range(first, last + 1)) if glyph + offset)
    return codes


def missing_glyphs(text: str, bold: bool = False) -> set[str]:
    """Characters of `text` the shipped font cannot draw (whitespace and newlines ignored)."""
    known = font_codepoints(bold)
    return {ch for ch in text if not ch.isspace() and ord(ch) not in known}


def describe_chars(chars: Iterable[str]) -> str:
    """'中' (U+4E2D), '😀' (U+1F600): a readable list for messages."""
    return ", ".join(f"'{ch}' (U+{ord(ch):04X})" for ch in sorted(chars))


# ------------------------------------------------------------------------------------- wrapping


def text_width(line: str, font: ImageFont.FreeTypeFont) -> int:
    """Inked width of one line in pixels (0 for an empty line)."""
    if not line:
        return 0
    left, _top, right, _bottom = font.getbbox(line, anchor="ls")
    return right - left


def wrap_lines(text: str, font: ImageFont.FreeTypeFont, max_width: int, max_lines: int = 2) -> list[str]:
    """Break `text` into at most `max_lines` lines no wider than `max_width` pixels.

    Newlines in the text are kept as line breaks; other breaks go at spaces only, and the text of a
    line is exactly the text written between them. A paragraph that needs two lines is split where
    the two lines are most even (subtitle style). Raises TextFitError when it cannot fit.
    """
    paragraphs = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    wrapped = [_wrap_paragraph(p, font, max_width) for p in paragraphs]
    lines = [line for group in wrapped for line in group]
    if len(lines) > max_lines:
        raise TextFitError(
            f"text needs {len(lines)} lines, at most {max_lines} fit: {text!r}",
            "shorten the text, or split it into two items",
        )
    return lines


def _wrap_paragraph(paragraph: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    words = list(re.finditer(r"\S+", paragraph))
    if not words:
        return [""]
    for word in words:
        if text_width(word.group(), font) > max_width:
            raise TextFitError(
                f"the word {word.group()!r} is wider than a line ({max_width} px)",
                "shorten it or put a space in it",
            )

    def span(i: int, j: int) -> str:  # words i..j-1 as written, inner spaces kept
        return paragraph[words[i].start() : words[j - 1].end()]

    lines, first = [], 0
    while first < len(words):
        last = first + 1
        while last < len(words) and text_width(span(first, last + 1), font) <= max_width:
            last += 1
        lines.append(span(first, last))
        first = last
    if len(lines) == 2:  # balance: the break that makes the longer line shortest
        best = min(
            range(1, len(words)),
            key=lambda k: (max(text_width(span(0, k), font), text_width(span(k, len(words)), font)), k),
        )
        lines = [span(0, best), span(best, len(words))]
    return lines


# ---------------------------------------------------------------------------------- text blocks


@dataclass(frozen=True)
class TextBlock:
    """Lines laid out for drawing: each line's origin (left, baseline) relative to the block's top-left."""

    lines: tuple[str, ...]
    font: ImageFont.FreeTypeFont
    origins: tuple[tuple[int, int], ...]
    width: int
    height: int


def layout_block(lines: list[str], font: ImageFont.FreeTypeFont, align: str = "left", gap: int = 0) -> TextBlock:
    """Stack lines using ascent/descent and each line's own bbox, so nothing (accents, descenders) clips."""
    ascent, descent = font.getmetrics()
    extents = []
    for line in lines:
        if line:
            left, top, right, bottom = font.getbbox(line, anchor="ls")
        else:
            left = top = right = bottom = 0
        extents.append((left, min(top, -ascent), right, max(bottom, descent)))
    width = max((right - left) for left, _t, right, _b in extents) if extents else 0
    origins, cursor = [], 0
    for left, top, right, bottom in extents:
        line_width = right - left
        offset = {"left": 0, "center": (width - line_width) // 2, "right": width - line_width}[align]
        origins.append((offset - left, cursor - top))
        cursor += (bottom - top) + gap
    height = cursor - gap if lines else 0
    return TextBlock(tuple(lines), font, tuple(origins), width, height)


def draw_block_mask(mask: Image.Image, block: TextBlock, x: int, y: int) -> None:
    """Draw the block's glyph coverage (255 = ink) into an 'L' image with its top-left at (x, y)."""
    draw = ImageDraw.Draw(mask)
    for line, (ox, oy) in zip(block.lines, block.origins):
        if line:
            draw.text((x + ox, y + oy), line, font=block.font, fill=255, anchor="ls")


def _even_up(value: float) -> int:
    value = int(-(-value // 1))
    return value + (value % 2)


def _even_down(value: float) -> int:
    value = int(value // 1)
    return value - (value % 2)


def title_safe(width: int, height: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the title-safe area, even numbers, inside the frame."""
    margin_x = _even_up(width * (1 - TITLE_SAFE) / 2)
    margin_y = _even_up(height * (1 - TITLE_SAFE) / 2)
    return margin_x, margin_y, _even_down(width - margin_x), _even_down(height - margin_y)


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


def render_text_overlay(item: TextItem, width: int, height: int, out_dir: Path) -> OverlayImage:
    """Draw a caption, scene title or lower third for a `width` x `height` frame into `out_dir`.

    The PNG's name is a hash of everything that shapes it, so an unchanged item keeps its file.
    Raises TextFitError (with the item's storyboard location) for missing glyphs or text too long.
    """
    _check_frame(width, height)
    try:
        _check_glyphs(item)
        if item.kind == "caption":
            canvas, x, y = _caption(item.text, width, height)
        elif item.kind == "title":
            canvas, x, y = _scene_title(item.text, width, height)
        elif item.kind == "lower_third":
            canvas, x, y = _lower_third(item.text, item.subtext, width, height)
        else:
            raise TextFitError(f"unknown text kind {item.kind!r}", "use caption, title or lower_third")
    except TextFitError as exc:
        raise TextFitError(_located(item, exc.message), exc.hint) from None
    key = repr((STYLE_VERSION, item.kind, item.text, item.subtext, width, height))
    path = Path(out_dir) / f"{item.kind}-{hashlib.sha1(key.encode()).hexdigest()[:16]}.png"
    _save_png(canvas.image, path)
    return OverlayImage(path, x, y, canvas.width, canvas.height)


def render_draft_mark(width: int, height: int, out_dir: Path) -> OverlayImage:
    """A visible 'DRAFT' badge in the top-right corner of the title-safe area."""
    _check_frame(width, height)
    font = load_font(scaled(DRAFT_SIZE, height), bold=True)
    block = layout_block(["DRAFT"], font)
    pad_x, pad_y = scaled(18, height), scaled(8, height)
    canvas = _Canvas(_even_up(block.width + 2 * pad_x), _even_up(block.height + 2 * pad_y))
    canvas.box(0, 0, canvas.width, canvas.height, DRAFT_BOX)
    canvas.text(block, (canvas.width - block.width) // 2, (canvas.height - block.height) // 2)
    left, top, right, _bottom = title_safe(width, height)
    path = Path(out_dir) / f"draft-{width}x{height}-v{STYLE_VERSION}.png"
    _save_png(canvas.image, path)
    return OverlayImage(path, right - canvas.width, top, canvas.width, canvas.height)


def _caption(text: str, width: int, height: int) -> tuple[_Canvas, int, int]:
    left, _top, right, bottom = title_safe(width, height)
    pad_x, pad_y = scaled(24, height), scaled(10, height)
    font = load_font(scaled(CAPTION_SIZE, height))
    line_max = min(right - left, round(width * CAPTION_WIDTH)) - 2 * pad_x  # ~55 characters
    block = layout_block(wrap_lines(text, font, line_max), font, "center")
    canvas = _Canvas(_even_up(block.width + 2 * pad_x), _even_up(block.height + 2 * pad_y))
    canvas.box(0, 0, canvas.width, canvas.height, CAPTION_BOX)
    canvas.text(block, (canvas.width - block.width) // 2, (canvas.height - block.height) // 2)
    return canvas, _even_down((width - canvas.width) / 2), bottom - canvas.height


def _scene_title(text: str, width: int, height: int) -> tuple[_Canvas, int, int]:
    left, top, right, _bottom = title_safe(width, height)
    pad_x, pad_y, bar = scaled(36, height), scaled(16, height), _even_up(scaled(6, height))
    font = load_font(scaled(TITLE_SIZE, height), bold=True)
    block = layout_block(wrap_lines(text, font, right - left - 2 * pad_x), font, "center")
    canvas = _Canvas(_even_up(block.width + 2 * pad_x), _even_up(block.height + 2 * pad_y + bar))
    canvas.box(0, 0, canvas.width, canvas.height - bar, TITLE_BOX)
    canvas.box(0, canvas.height - bar, canvas.width, canvas.height, (*ACCENT, 255))
    canvas.text(block, (canvas.width - block.width) // 2, (canvas.height - bar - block.height) // 2)
    return canvas, _even_down((width - canvas.width) / 2), top


def caption_zone(height: int) -> int:
    """Height kept free above the title-safe bottom for two-line captions (lower thirds sit above it)."""
    font = load_font(scaled(CAPTION_SIZE, height))
    ascent, descent = font.getmetrics()
    return _even_up(2 * (ascent + descent) + 2 * scaled(10, height) + scaled(20, height))


def _lower_third(name: str, role: str | None, width: int, height: int) -> tuple[_Canvas, int, int]:
    left, _top, right, bottom = title_safe(width, height)
    bar, pad_x, pad_y = _even_up(scaled(10, height)), scaled(22, height), scaled(10, height)
    max_text = min(right - left, round(width * 0.62)) - bar - 2 * pad_x
    name_font = load_font(scaled(NAME_SIZE, height), bold=True)
    role_font = load_font(scaled(ROLE_SIZE, height))
    name_block = layout_block(wrap_lines(name, name_font, max_text), name_font)
    role_block = layout_block(wrap_lines(role, role_font, max_text), role_font) if role else None
    name_h = _even_up(name_block.height + 2 * pad_y)
    role_h = _even_up(role_block.height + 2 * pad_y) if role_block else 0
    inner_w = max(name_block.width, role_block.width if role_block else 0) + 2 * pad_x
    canvas = _Canvas(_even_up(bar + inner_w), name_h + role_h)
    canvas.box(0, 0, bar, canvas.height, (*ACCENT, 255))
    canvas.box(bar, 0, bar + _even_up(name_block.width + 2 * pad_x), name_h, NAME_BOX)
    canvas.text(name_block, bar + pad_x, (name_h - name_block.height) // 2)
    if role_block:
        canvas.box(bar, name_h, bar + _even_up(role_block.width + 2 * pad_x), canvas.height, ROLE_BOX)
        canvas.text(role_block, bar + pad_x, name_h + (role_h - role_block.height) // 2)
    y = max(_top_of(height), bottom - caption_zone(height) - canvas.height)
    return canvas, left, _even_down(y)


def _top_of(height: int) -> int:
    return title_safe(2, height)[1]


# ------------------------------------------------------------------------------- checks, saving


def _check_frame(width: int, height: int) -> None:
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise KbError(f"frame size {width}x{height} must be positive even numbers (yuv420p)")


def _check_glyphs(item: TextItem) -> None:
    bold = item.kind in ("title", "lower_third")
    missing = missing_glyphs(item.text, bold) | (missing_glyphs(item.subtext) if item.subtext else set())
    if missing:
        raise MissingGlyphError(
            f"{item.text!r}: the font (DejaVu Sans) cannot draw {describe_chars(missing)}",
            "remove or replace these characters (emoji and CJK are not in the shipped font)",
        )


def _located(item: TextItem, message: str) -> str:
    where = f"{item.where}: " if item.where else ""
    return f"{where}scene '{item.scene}': {item.kind}: {message}"


def _save_png(image: Image.Image, path: Path) -> None:
    """Write atomically: a temp file beside the target, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            image.save(handle, format="PNG", compress_level=1)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _problem(where: str | None, message: str, hint: str | None, code: str) -> Problem:
    path, line, col = "<timeline>", 0, 0
    if where:
        parts = where.rsplit(":", 2)
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            path, line, col = parts[0], int(parts[1]), int(parts[2])
        else:
            path = where
    return Problem(path, line, col, message, hint, code=code)


def check_texts(timeline: Timeline, sizes: Iterable[tuple[int, int]] | None = None) -> list[Problem]:
    """Every text problem of a timeline, found before rendering: missing glyphs, text that cannot fit.

    Checks captions, titles and lower thirds, and the text of title cards and charts, at each frame
    size in `sizes` (default: the timeline's). Raise `SpecError(problems)` if the list is not empty.
    """
    from kbvideo.render import painters  # local: the painters build on this module

    sizes = list(sizes or [(timeline.width, timeline.height)])
    problems: dict[tuple, Problem] = {}
    for item in timeline.texts:
        for width, height in sizes:
            try:
                _check_glyphs(item)
                if item.kind == "caption":
                    _caption(item.text, width, height)
                elif item.kind == "title":
                    _scene_title(item.text, width, height)
                elif item.kind == "lower_third":
                    _lower_third(item.text, item.subtext, width, height)
            except TextFitError as exc:
                message = f"scene '{item.scene}': {item.kind}: {exc.message}"
                problems.setdefault((item.where, message), _problem(item.where, message, exc.hint, exc.code))
    for shot in timeline.shots:
        if shot.kind not in ("card", "chart"):
            continue
        for width, height in sizes:
            try:
                painters.check_motion_shot(shot, width, height)
            except TextFitError as exc:
                message = f"scene '{shot.scene}': {shot.kind}: {exc.message}"
                problems.setdefault((shot.where, message), _problem(shot.where, message, exc.hint, exc.code))
    return list(problems.values())
