"""The painters' common ground: number and timing helpers, the dithered background, text tiles
and fitting, and the Painter base class.

A painter lays everything out once (fonts, wrapping, a static background with the text that does
not move baked in), then draws each frame from its integer index only, so the same inputs give the
same pixels. Once the animation has settled, the held frame is reused as is. The painters
themselves are in kbvideo.render.painters (title cards, and `make_painter`) and
kbvideo.render.charts (charts); encoding their frames is kbvideo.render.motion's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Callable

import numpy as np
from PIL import Image, ImageColor

from kbvideo.i18n import _
from kbvideo.layout.screen import ACCENT, BRAND, Box, content_area
from kbvideo.layout.text import (
    MissingGlyphError,
    TextBlock,
    TextFitError,
    describe_chars,
    draw_block_mask,
    layout_block,
    load_font,
    missing_glyphs,
    scaled,
    text_width,
    wrap_lines,
)
from kbvideo.timeline.model import Shot

DARK_TEXT = (17, 24, 20)
LIGHT_TEXT = (255, 255, 255)
ALT_ACCENT = BRAND  # accent on light backgrounds


# ---------------------------------------------------------------------------- numbers and timing


def format_number(value: float, decimals: int = 0) -> str:
    """Indonesian style: thousands with '.', decimals with ',' (1234.5 → '1.234,5')."""
    text = f"{abs(value):,.{decimals}f}".replace(",", "\0").replace(".", ",").replace("\0", ".")
    return f"-{text}" if value < 0 and text.strip("0.,") else text


def decimals_of(values: tuple[float, ...], most: int = 2) -> int:
    """How many decimals the data is written with (at most `most`): (41, 27.5) → 1."""
    places = 0
    for value in values:
        exponent = Decimal(str(value)).normalize().as_tuple().exponent
        places = max(places, -exponent if isinstance(exponent, int) and exponent < 0 else 0)
    return min(places, most)


def with_unit(number: str, unit: str) -> str:
    if not unit:
        return number
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"


def ease_out(p: float) -> float:
    p = min(1.0, max(0.0, p))
    return 1 - (1 - p) ** 3


@dataclass(frozen=True)
class Clock:
    """Frame index → seconds; animation times are squeezed when the shot is shorter than they need."""

    fps: Fraction
    frames: int
    wanted: float  # seconds the full animation wants

    @property
    def squeeze(self) -> float:
        available = 0.8 * self.frames / float(self.fps)
        return min(1.0, available / self.wanted) if self.wanted > 0 else 1.0

    def progress(self, index: int, start: float, length: float) -> float:
        t = index / float(self.fps)
        start, length = start * self.squeeze, max(length * self.squeeze, 1e-9)
        return min(1.0, max(0.0, (t - start) / length))

    def frame_at(self, seconds: float) -> int:
        """First frame index at or after `seconds` of (squeezed) animation time."""
        return int(np.ceil(seconds * self.squeeze * float(self.fps) - 1e-9))


# ------------------------------------------------------------------------------------- drawing


def _rgb(color: str) -> tuple[int, int, int]:
    try:
        return ImageColor.getrgb(color)[:3]
    except (ValueError, AttributeError):
        raise TextFitError(_("colour {color!r} is not a colour").format(color=color), _("write it as #rrggbb")) from None


def _luminance(rgb: tuple[int, int, int]) -> float:
    r, g, b = (c / 255 for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


DITHER_SEED = 1087  # fixed: the same card gives the same pixels on every render
DITHER = 2.0  # code values: one RGB step is only ~0.6 of a Y step, so ±1 would be lost going to yuv420p


def _background(rgb: tuple[int, int, int], width: int, height: int) -> Image.Image:
    """A soft vertical gradient around the colour (lighter at the top, darker at the bottom).

    Dithered: a slow ramp over 1080 lines steps one code value every 30-60 lines, which shows as bands
    after encoding. Triangular noise of ±DITHER code values (fixed seed) before rounding breaks the
    steps up, strong enough to survive the conversion to 8-bit Y'CbCr."""
    ramp = np.linspace(1.12, 0.78, height, dtype=np.float32)[:, None, None]
    exact = np.array(rgb, dtype=np.float32)[None, None, :] * ramp
    rng = np.random.default_rng(DITHER_SEED)
    noise = DITHER * (rng.random((height, width, 1), dtype=np.float32) - rng.random((height, width, 1), dtype=np.float32))
    pixels = np.clip(exact + noise + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels))


@dataclass(frozen=True)
class Tile:
    """A text block rendered once into a coverage mask, pasted per frame in one colour."""

    mask: Image.Image

    @classmethod
    def of(cls, block: TextBlock) -> "Tile":
        mask = Image.new("L", (max(1, block.width), max(1, block.height)), 0)
        draw_block_mask(mask, block, 0, 0)
        return cls(mask)

    def paste(self, frame: Image.Image, x: int, y: int, color: tuple[int, int, int], alpha: float = 1.0) -> None:
        if alpha <= 0:
            return
        mask = self.mask if alpha >= 1 else self.mask.point([round(v * alpha) for v in range(256)])
        frame.paste(color, (x, y, x + mask.width, y + mask.height), mask)


def fit_text(text: str, bold: bool, size: float, smallest: float, max_width: int, height: int,
             max_lines: int = 2, align: str = "left", breaker: Callable = wrap_lines) -> TextBlock:
    """Wrap `text` at the largest size (from `size` down to `smallest`, 1080-line pixels) that fits."""
    current, last_error = size, None
    while current >= smallest - 1e-9:
        font = load_font(scaled(current, height), bold)
        try:
            return layout_block(breaker(text, font, max_width, max_lines), font, align)
        except TextFitError as exc:
            last_error = exc
        current *= 0.92
    raise TextFitError(_("{text!r} does not fit: {message}").format(text=text, message=last_error.message), last_error.hint)


def shared_font(texts: list[str], bold: bool, size: float, smallest: float, max_width: float, height: int):
    """The largest font (from `size` down to `smallest`, 1080-line pixels) at which every text fits on
    one line of `max_width`; None if none does. Labels of one chart share one size."""
    current = size
    while current >= smallest - 1e-9:
        font = load_font(scaled(current, height), bold)
        if all(text_width(text, font) <= max_width for text in texts):
            return font
        current *= 0.92
    return None


def label_tiles(labels: tuple[str, ...], size: float, smallest: float, max_width: float, height: int,
                 align: str) -> list[Tile]:
    font = shared_font(list(labels), False, size, smallest, max_width, height)
    if font is None:
        raise TextFitError(_("the chart labels do not fit in {max_width} px each: {list!r}").format(max_width=round(max_width), list=list(labels)),
                           _("shorten the labels or show fewer items in one chart"))
    return [Tile.of(layout_block([label], font, align)) for label in labels]


def check_glyphs(texts: list[tuple[str, bool]]) -> None:
    missing: set[str] = set()
    for text, bold in texts:
        missing |= missing_glyphs(text, bold)
    if missing:
        raise MissingGlyphError(_("the font (DejaVu Sans) cannot draw {describe_chars}").format(describe_chars=describe_chars(missing)),
                           _("remove or replace these characters (emoji and CJK are not in the shipped font)"))


class Painter:
    """Draws frame `index` of a motion shot. Subclasses lay out in __init__, then `bake` and `draw`."""

    hold_from: int = 0  # from this frame on, every frame is the same

    def __init__(self, shot: Shot, width: int, height: int, fps: Fraction):
        self.shot, self.width, self.height, self.fps = shot, width, height, Fraction(fps)
        self.color = _rgb(shot.color)
        light = _luminance(self.color) > 0.6
        self.ink = DARK_TEXT if light else LIGHT_TEXT
        self.accent = ALT_ACCENT if light else ACCENT
        area = content_area(width, height)  # title-safe, caption zone kept free
        self.safe = (area.x, area.y, area.right, area.bottom)
        self._base: Image.Image | None = None
        self._held: np.ndarray | None = None

    def s(self, value: float) -> int:
        return scaled(value, self.height)

    def base(self) -> Image.Image:
        if self._base is None:
            self._base = _background(self.color, self.width, self.height)
            self.bake(self._base)
        return self._base

    def bake(self, image: Image.Image) -> None:
        """Draw what never moves onto the background."""

    def elements(self) -> list[tuple[str, Box]]:
        """(kind, box) of everything this painter draws, at its settled position (for the layout report)."""
        return []

    def draw(self, frame: Image.Image, index: int) -> None:
        raise NotImplementedError

    def frame(self, index: int) -> np.ndarray:
        if index >= self.hold_from and self._held is not None:
            return self._held
        image = self.base().copy()
        self.draw(image, index)
        pixels = np.asarray(image)
        if index >= self.hold_from:
            self._held = pixels
        return pixels

