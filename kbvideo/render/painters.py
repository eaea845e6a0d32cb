"""Painters of the motion graphics: title cards and charts, drawn frame by frame with Pillow.

The layout of the painters, lowest first (imports point downward only):

- kbvideo.render.paint: number and timing helpers (format_number, Clock), the dithered background,
  text tiles and fitting (Tile, fit_text, shared_font) and the Painter base class;
- kbvideo.render.charts: the chart painters (ChartPainter, BarsPainter, CountdownPainter);
- this module: the title card (CardPainter), the painter for a shot (`make_painter`, chart styles in
  CHART_PAINTERS) and `check_motion_shot`, which lays a shot out without drawing it.

Encoding the frames is kbvideo.render.motion's job.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable

from PIL import Image, ImageDraw

from kbvideo.errors import KbError
from kbvideo.i18n import _
from kbvideo.layout.screen import Box
from kbvideo.layout.text import TextFitError, title_lines
from kbvideo.render.charts import BarsPainter, CountdownPainter
from kbvideo.render.paint import Clock, Painter, Tile, check_glyphs, ease_out, fit_text
from kbvideo.timeline.model import Shot


class CardPainter(Painter):
    """Title card: an accent bar grows from the centre, the title rises and fades in, then the subtitle."""

    def __init__(self, shot: Shot, width: int, height: int, fps: Fraction):
        super().__init__(shot, width, height, fps)
        left, top, right, bottom = self.safe
        check_glyphs([(shot.title or "", True), (shot.subtitle or "", False)])
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
