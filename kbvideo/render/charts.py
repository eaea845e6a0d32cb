"""Chart painters: the shared chart heading (ChartPainter), horizontal bars (BarsPainter) and the
countdown of columns per period with a big counting figure (CountdownPainter).

Built on kbvideo.render.paint; kbvideo.render.painters picks them by chart style (CHART_PAINTERS).
"""

from __future__ import annotations

from fractions import Fraction

from PIL import Image, ImageDraw

from kbvideo.i18n import _
from kbvideo.layout.screen import Box
from kbvideo.layout.text import TextFitError, load_font, text_width
from kbvideo.render.paint import (
    Clock,
    Painter,
    Tile,
    check_glyphs,
    decimals_of,
    ease_out,
    fit_text,
    format_number,
    label_tiles,
    shared_font,
    with_unit,
)
from kbvideo.timeline.model import Shot
from kbvideo.vocab import Chart


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
        check_glyphs([(chart.title or "", True), (chart.unit or "", False), (chart.unit or "", True)]
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
        self.labels = label_tiles(self.chart.labels, size, min(size, 18), (right - left) * 0.3, height, "right")
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
        self.labels = label_tiles(self.chart.labels, 36, 14, slot * 0.95, height, "center")
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
            check_glyphs([(text, True)])
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
