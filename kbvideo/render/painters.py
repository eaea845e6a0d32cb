"""Painters of the motion graphics: title cards and charts, drawn frame by frame with Pillow.

A painter lays everything out once (fonts, wrapping, a static background with the text that does
not move baked in), then draws each frame from its integer index only, so the same inputs give the
same pixels. Once the animation has settled, the held frame is reused as is. Encoding them is
kbvideo.render.motion's job.

Size: about 490 lines, over the ~400 a module keeps to: the card and the two chart painters share
the fitting, timing and tile helpers at the top. Moving their layout (not their drawing) into
kbvideo.layout is the next step; it would also let the layout check cards and charts by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Callable

import numpy as np
from PIL import Image, ImageColor, ImageDraw

from kbvideo.errors import KbError
from kbvideo.layout.screen import ACCENT, BRAND, Box, content_area
from kbvideo.layout.text import (
    TextBlock,
    MissingGlyphError,
    TextFitError,
    describe_chars,
    draw_block_mask,
    layout_block,
    load_font,
    missing_glyphs,
    scaled,
    text_width,
    title_lines,
    wrap_lines,
)
from kbvideo.timeline.model import Shot
from kbvideo.vocab import Chart
from kbvideo.i18n import _

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


def _label_tiles(labels: tuple[str, ...], size: float, smallest: float, max_width: float, height: int,
                 align: str) -> list[Tile]:
    font = shared_font(list(labels), False, size, smallest, max_width, height)
    if font is None:
        raise TextFitError(_("the chart labels do not fit in {max_width} px each: {list!r}").format(max_width=round(max_width), list=list(labels)),
                           _("shorten the labels or show fewer items in one chart"))
    return [Tile.of(layout_block([label], font, align)) for label in labels]


def _check_glyphs(texts: list[tuple[str, bool]]) -> None:
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


class CardPainter(Painter):
    """Title card: an accent bar grows from the centre, the title rises and fades in, then the subtitle."""

    def __init__(self, shot: Shot, width: int, height: int, fps: Fraction):
        super().__init__(shot, width, height, fps)
        left, top, right, bottom = self.safe
        _check_glyphs([(shot.title or "", True), (shot.subtitle or "", False)])
        span = round((right - left) * 0.9)
        self.title = Tile.of(fit_text(shot.title, True, 92, 48, span, height, align="center",
                                      breaker=title_lines)) if shot.title else None
        self.sub = Tile.of(fit_text(shot.subtitle, False, 46, 28, span, height, align="center",
                                    breaker=title_lines)) if shot.subtitle else None
        self.bar_w, self.bar_h, gap = self.s(220), max(2, self.s(8)), self.s(30)
        heights = [t.mask.height for t in (self.title, self.sub) if t] + [self.bar_h]
        total = sum(heights) + gap * (len(heights) - 1)
        y = max(top, min((height - total) // 2, bottom - total))  # centred, above the caption zone
        self.title_y = y
        if self.title:
            y += self.title.mask.height + gap
        self.bar_y = y
        self.sub_y = y + self.bar_h + gap
        self.rise = self.s(36)
        self.clock = Clock(self.fps, shot.duration, 1.0)
        self.hold_from = self.clock.frame_at(1.0)

    def elements(self) -> list[tuple[str, Box]]:
        cx, out = self.width // 2, []
        for kind, tile, y in (("card_title", self.title, self.title_y), ("card_subtitle", self.sub, self.sub_y)):
            if tile is not None:
                out.append((kind, Box(cx - tile.mask.width // 2, y, tile.mask.width, tile.mask.height)))
        return out

    def draw(self, frame: Image.Image, index: int) -> None:
        clock, cx = self.clock, self.width // 2
        bar = ease_out(clock.progress(index, 0.0, 0.55))
        half = round(self.bar_w * bar / 2)
        if half > 0:
            ImageDraw.Draw(frame).rectangle((cx - half, self.bar_y, cx + half - 1, self.bar_y + self.bar_h - 1),
                                            fill=self.accent)
        for tile, y, start in ((self.title, self.title_y, 0.1), (self.sub, self.sub_y, 0.4)):
            if tile is None:
                continue
            p = ease_out(clock.progress(index, start, 0.6))
            tile.paste(frame, cx - tile.mask.width // 2, y + round(self.rise * (1 - p)), self.ink, p)


class ChartPainter(Painter):
    """Shared by the chart styles: the title at the top of the title-safe area, baked into the background."""

    def __init__(self, shot: Shot, width: int, height: int, fps: Fraction):
        super().__init__(shot, width, height, fps)
        chart = shot.chart
        if chart is None or not chart.values:
            raise TextFitError(_("a chart needs data (labels and values)"), _("add data: {label: value, ...}"))
        if len(chart.labels) != len(chart.values):
            raise TextFitError(_("a chart needs as many labels as values"))
        self.chart: Chart = chart
        _check_glyphs([(chart.title or "", True), (chart.unit or "", False), (chart.unit or "", True)]
                      + [(label, False) for label in chart.labels])
        left, top, right, _bottom = self.safe
        self.heading = Tile.of(fit_text(chart.title, True, 60, 36, right - left, height)) if chart.title else None
        self.area_top = top + (self.heading.mask.height + self.s(56) if self.heading else 0)
        self.decimals = decimals_of(chart.values)
        self.top = max(max(chart.values), 0) or 1.0

    def number(self, value: float) -> str:
        return with_unit(format_number(value, self.decimals), self.chart.unit)

    def bake(self, image: Image.Image) -> None:
        if self.heading:
            self.heading.paste(image, self.safe[0], self.safe[1], self.ink)

    def elements(self) -> list[tuple[str, Box]]:
        if not self.heading:
            return []
        return [("chart_title", Box(self.safe[0], self.safe[1], self.heading.mask.width, self.heading.mask.height))]


class BarsPainter(ChartPainter):
    """Horizontal bars growing one after another, each value counting up at the bar's end."""

    def __init__(self, shot: Shot, width: int, height: int, fps: Fraction):
        super().__init__(shot, width, height, fps)
        left, _top, right, bottom = self.safe
        n = len(self.chart.values)
        area_h = bottom - self.area_top
        self.row_h = min(self.s(130), area_h // n)
        if self.row_h < self.s(24):
            raise TextFitError(_("{n} bars do not fit on the picture").format(n=n), _("show fewer items in one chart"))
        size = min(40, 0.42 * self.row_h * 1080 / self.height)
        self.labels = _label_tiles(self.chart.labels, size, min(size, 18), (right - left) * 0.3, height, "right")
        self.value_font = load_font(self.s(size), bold=True)
        widest = max(text_width(self.number(v), self.value_font) for v in self.chart.values)
        self.bar_x = left + max(t.mask.width for t in self.labels) + self.s(28)
        self.bar_span = right - self.bar_x - widest - self.s(24)
        if self.bar_span < self.s(120):
            raise TextFitError(_("chart labels and values leave no room for the bars"), _("shorten the labels"))
        self.bar_h = max(2, round(self.row_h * 0.62))
        self.rows_y = self.area_top + (area_h - self.row_h * n) // 2
        self.stagger = 0.18
        self.clock = Clock(self.fps, shot.duration, 0.3 + self.stagger * (n - 1) + 1.2)
        self.hold_from = self.clock.frame_at(self.clock.wanted)

    def bake(self, image: Image.Image) -> None:
        super().bake(image)
        for i, tile in enumerate(self.labels):
            y = self.rows_y + i * self.row_h + (self.row_h - tile.mask.height) // 2
            tile.paste(image, self.bar_x - self.s(28) - tile.mask.width, y, self.ink)

    def elements(self) -> list[tuple[str, Box]]:
        rows = self.row_h * len(self.labels)
        widest = max(t.mask.width for t in self.labels)
        labels = Box(self.bar_x - self.s(28) - widest, self.rows_y, widest, rows)
        data = Box(self.bar_x, self.rows_y, self.safe[2] - self.bar_x, rows)  # bars and their values
        return super().elements() + [("chart_labels", labels), ("chart_data", data)]

    def draw(self, frame: Image.Image, index: int) -> None:
        draw = ImageDraw.Draw(frame)
        for i, value in enumerate(self.chart.values):
            p = ease_out(self.clock.progress(index, 0.3 + self.stagger * i, 1.2))
            y = self.rows_y + i * self.row_h + (self.row_h - self.bar_h) // 2
            length = round(self.bar_span * max(value, 0) / self.top * p)
            if length > 0:
                draw.rectangle((self.bar_x, y, self.bar_x + length - 1, y + self.bar_h - 1), fill=self.accent)
            if p > 0:
                draw.text((self.bar_x + length + self.s(14), y + self.bar_h // 2), self.number(value * p),
                          font=self.value_font, fill=self.ink, anchor="lm")


class CountdownPainter(ChartPainter):
    """Columns per period revealed in turn while a big figure counts from one value to the next,
    then the change from the first to the last ('turun 78% sejak 2022')."""

    def __init__(self, shot: Shot, width: int, height: int, fps: Fraction):
        super().__init__(shot, width, height, fps)
        left, _top, right, bottom = self.safe
        values, n = self.chart.values, len(self.chart.values)
        self.panel_x = left + round((right - left) * 0.62)
        plot_w = self.panel_x - left - self.s(40)
        slot = plot_w / n
        if slot < self.s(40):
            raise TextFitError(_("{n} columns do not fit on the picture").format(n=n), _("show fewer periods in one chart"))
        self.col_w = max(2, round(min(self.s(170), slot * 0.62)))
        self.slots = [round(left + slot * i + (slot - self.col_w) / 2) for i in range(n)]
        self.labels = _label_tiles(self.chart.labels, 36, 14, slot * 0.95, height, "center")
        # figures above the columns share one size; left out when they cannot fit (the big figure shows them)
        self.small = shared_font([format_number(v, self.decimals) for v in values], True, 34, 16, slot * 0.96, height)
        label_h = max(t.mask.height for t in self.labels)
        self.base_y = bottom - label_h - self.s(18)
        self.plot_h = self.base_y - self.area_top - self.s(60)
        panel_w = right - self.panel_x
        widest = max(values, key=lambda v: len(format_number(v, self.decimals)))
        big = fit_text(format_number(widest, self.decimals), True, 150, 48, panel_w, height, 1)
        self.big_font = big.font
        self.unit = Tile.of(fit_text(self.chart.unit, False, 44, 24, panel_w, height)) if self.chart.unit else None
        self.period_font = load_font(self.s(44), bold=True)
        first, last = values[0], values[-1]
        self.change = None
        if first and n > 1:
            pct = (last - first) / abs(first) * 100
            word = "turun" if pct < 0 else "naik" if pct > 0 else "tetap"
            places = 0 if abs(pct) >= 10 or float(abs(pct)).is_integer() else 1
            text = f"{word} {format_number(abs(pct), places)}% sejak {self.chart.labels[0]}" if pct else \
                f"tetap sejak {self.chart.labels[0]}"
            _check_glyphs([(text, True)])
            self.change = Tile.of(fit_text(text, True, 44, 24, panel_w, height))
        self.step, self.grow = 0.7, 0.55
        self.clock = Clock(self.fps, shot.duration, 0.3 + self.step * (n - 1) + self.grow + 0.6)
        self.hold_from = self.clock.frame_at(self.clock.wanted)
        self.panel_top = self.area_top + self.s(40)

    def bake(self, image: Image.Image) -> None:
        super().bake(image)
        draw = ImageDraw.Draw(image)
        left = self.safe[0]
        dim = tuple(round(a * 0.55 + b * 0.45) for a, b in zip(self.color, self.ink))
        draw.rectangle((left, self.base_y, self.panel_x - self.s(40) - 1, self.base_y + max(1, self.s(3)) - 1), fill=dim)
        for x, tile in zip(self.slots, self.labels):
            tile.paste(image, x + (self.col_w - tile.mask.width) // 2, self.base_y + self.s(14), self.ink)
        if self.unit:
            big_h = self.big_font.getmetrics()[0] + self.big_font.getmetrics()[1]
            y = self.panel_top + self.period_font.getmetrics()[0] + self.period_font.getmetrics()[1] + self.s(10) + big_h
            self.unit.paste(image, self.panel_x, y + self.s(6), self.ink)

    def elements(self) -> list[tuple[str, Box]]:
        left, _top, right, bottom = self.safe
        plot_right = self.panel_x - self.s(40)
        label_top = self.base_y + self.s(14)
        data_top = self.area_top
        labels = Box(left, label_top, plot_right - left, max(t.mask.height for t in self.labels))
        data = Box(left, data_top, plot_right - left, self.base_y + max(1, self.s(3)) - data_top)
        panel = Box(self.panel_x, self.panel_top, right - self.panel_x, bottom - self.panel_top)
        return super().elements() + [("chart_labels", labels), ("chart_data", data), ("chart_values", panel)]

    def readings(self, index: int) -> tuple[list[tuple[int, str]], str | None, int]:
        """What frame `index` shows: each revealed column's (height in px, figure), the big figure
        (None before the first column) and the current column. The current column grows or shrinks
        from the previous period's value to its own while the big figure counts the same way, so the
        column, its figure and the big figure agree on every frame."""
        values, columns, current, shown = self.chart.values, [], -1, 0.0
        for i, value in enumerate(values):
            p = ease_out(self.clock.progress(index, 0.3 + self.step * i, self.grow))
            if p <= 0:
                break
            current = i
            previous = values[i - 1] if i else 0.0
            shown = previous + (value - previous) * p
            columns.append((round(self.plot_h * max(shown, 0) / self.top), format_number(shown, self.decimals)))
        return columns, (format_number(shown, self.decimals) if current >= 0 else None), current

    def draw(self, frame: Image.Image, index: int) -> None:
        draw = ImageDraw.Draw(frame)
        values = self.chart.values
        dim = tuple(round(a * 0.45 + b * 0.55) for a, b in zip(self.color, self.ink))
        columns, big, current = self.readings(index)
        for i, (h, figure) in enumerate(columns):
            x = self.slots[i]
            if h > 0:
                draw.rectangle((x, self.base_y - h, x + self.col_w - 1, self.base_y - 1),
                               fill=self.accent if i == current else dim)
            if self.small is not None:
                draw.text((x + self.col_w // 2, self.base_y - h - self.s(10)), figure,
                          font=self.small, fill=self.ink, anchor="md")
        if current < 0:
            return
        y = self.panel_top
        draw.text((self.panel_x, y), self.chart.labels[current], font=self.period_font, fill=self.accent, anchor="la")
        ascent, descent = self.period_font.getmetrics()
        y += ascent + descent + self.s(10)
        draw.text((self.panel_x, y), big, font=self.big_font, fill=self.ink, anchor="la")
        if self.change:
            alpha = ease_out(self.clock.progress(index, 0.3 + self.step * (len(values) - 1) + self.grow, 0.6))
            self.change.paste(frame, self.panel_x, self.base_y - self.change.mask.height - self.s(10), self.accent, alpha)


CHART_PAINTERS: dict[str, Callable[..., Painter]] = {"bars": BarsPainter, "countdown": CountdownPainter}


def make_painter(shot: Shot, width: int, height: int, fps: Fraction) -> Painter:
    """The painter for a card or chart shot; raises TextFitError when its text cannot be drawn."""
    if shot.kind == "card":
        return CardPainter(shot, width, height, fps)
    if shot.kind == "chart":
        style = shot.chart.style if shot.chart else "bars"
        if style not in CHART_PAINTERS:
            raise TextFitError(_("chart style {style!r} is unknown").format(style=style), _("use bars or countdown"))
        return CHART_PAINTERS[style](shot, width, height, fps)
    raise KbError(_("shot kind {kind!r} is not a motion graphic (card or chart)").format(kind=shot.kind))


def check_motion_shot(shot: Shot, width: int, height: int, fps: Fraction = Fraction(30)) -> None:
    """Lay the shot out without drawing: raises TextFitError for missing glyphs or text that cannot fit."""
    make_painter(shot, width, height, fps)
