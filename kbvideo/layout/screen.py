"""Where every on-screen element sits, frame range by frame range, in named zones inside title-safe.

Zones (all inside the title-safe area, EBU R95 90 %):

    corner   top-right: the DRAFT mark (or a logo); the top zone never reaches it
    top      top centre: the scene title
    lower    left, just above the caption zone: the lower third (name + role)
    caption  bottom centre: captions, at most two balanced lines
    content  everything between: what title cards and charts draw (they keep the caption zone free,
             so a caption never covers a chart's data)

Collisions the storyboard asks for are resolved by one rule, **the later one waits**: a scene title
and a lower third never share the screen (the one that starts later waits until the other has gone,
plus WAIT_GAP frames), and neither is laid over a title card or a chart (it waits until that shot
has ended). Each move is reported as an `info` note; when the wait would carry the element past its
scene's end, it is an error naming both locations.

Text boxes are computed here once; `kbvideo.render.graphics` draws into them, `validate` measures
them, and the sidecars take the caption lines from `caption_lines`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Iterable

from kbvideo.errors import Loc
from kbvideo.i18n import _
from kbvideo.layout.text import (
    CAPTION_MAX_CHARS,
    CAPTION_MAX_LINES,
    TextBlock,
    TextFitError,
    _even_down,
    _even_up,
    caption_lines,
    layout_block,
    load_font,
    scaled,
    title_safe,
    wrap_lines,
)
from kbvideo.timeline.model import TextItem, Timeline
from kbvideo.vocab.effects import SHOT_KIND

# Sizes in pixels at 1080 lines.
CAPTION_SIZE, TITLE_SIZE, NAME_SIZE, ROLE_SIZE, DRAFT_SIZE = 44, 60, 46, 32, 40
WAIT_GAP = 6  # frames between a title leaving and a lower third arriving (and after a card or chart)
MOTION_KINDS = tuple(name for name, kind in SHOT_KIND.items() if kind.painted)  # cards and charts
BRAND = (11, 93, 59)  # #0b5d3b, the default card colour
ACCENT = (242, 183, 5)  # #f2b705


@dataclass(frozen=True, slots=True)
class Box:
    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    def overlaps(self, other: "Box") -> bool:
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.width, self.height]


@dataclass(frozen=True)
class Panel:
    """A filled rectangle of a text element, relative to the element's top-left; `role` picks its colour."""

    role: str  # plate | accent | name | role | draft
    left: int
    top: int
    right: int
    bottom: int


@dataclass(frozen=True)
class TextLayout:
    """One text element laid out: its box on the frame, its panels and its text blocks (relative)."""

    kind: str
    zone: str
    box: Box
    panels: tuple[Panel, ...]
    blocks: tuple[tuple[TextBlock, int, int], ...]  # block, x, y inside the box

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(line for block, _x, _y in self.blocks for line in block.lines)


@dataclass(frozen=True)
class Element:
    """A drawn element and the frames [start, end) it is on screen."""

    kind: str
    zone: str
    start: int
    end: int
    box: Box
    scene: str | None = None
    lines: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "zone": self.zone, "start": self.start, "end": self.end,
                "box": self.box.as_list(), "scene": self.scene, "lines": list(self.lines)}


@dataclass(frozen=True)
class Note:
    """A collision the layout resolved (severity info) or could not (error), with both locations."""

    severity: str
    message: str
    where: Loc | None
    other: Loc | None = None
    code: str = "layout.collision"


# ------------------------------------------------------------------------------------ zones


def safe_area(width: int, height: int) -> Box:
    left, top, right, bottom = title_safe(width, height)
    return Box(left, top, right - left, bottom - top)


def caption_zone(height: int) -> int:
    """Height kept free above the title-safe bottom for two-line captions (lower thirds sit above it)."""
    font = load_font(scaled(CAPTION_SIZE, height))
    ascent, descent = font.getmetrics()
    return _even_up(2 * (ascent + descent) + 2 * scaled(10, height) + scaled(20, height))


def corner_box(width: int, height: int) -> Box:
    """The top-right corner kept for the DRAFT mark (or a logo)."""
    font = load_font(scaled(DRAFT_SIZE, height), bold=True)
    block = layout_block(["DRAFT"], font)
    pad_x, pad_y = scaled(18, height), scaled(8, height)
    w, h = _even_up(block.width + 2 * pad_x), _even_up(block.height + 2 * pad_y)
    safe = safe_area(width, height)
    return Box(safe.right - w, safe.y, w, h)


def content_area(width: int, height: int) -> Box:
    """Where cards and charts draw: title-safe minus the caption zone at the bottom."""
    safe = safe_area(width, height)
    return Box(safe.x, safe.y, safe.width, safe.height - caption_zone(height))


# ---------------------------------------------------------------------------- text elements


def caption_layout(text: str, width: int, height: int, max_chars: int = CAPTION_MAX_CHARS,
                   max_lines: int = CAPTION_MAX_LINES) -> TextLayout:
    safe = safe_area(width, height)
    pad_x, pad_y = scaled(24, height), scaled(10, height)
    font = load_font(scaled(CAPTION_SIZE, height))
    lines = caption_lines(text, max_chars, max_lines)
    block = layout_block(lines, font, "center")
    if block.width > safe.width - 2 * pad_x:
        raise TextFitError(_("a caption line is wider than the picture: {text!r}").format(text=text), _("shorten it"))
    w, h = _even_up(block.width + 2 * pad_x), _even_up(block.height + 2 * pad_y)
    box = Box(_even_down((width - w) / 2), safe.bottom - h, w, h)
    return TextLayout("caption", "caption", box, (Panel("plate", 0, 0, w, h),),
                      ((block, (w - block.width) // 2, (h - block.height) // 2),))


def title_layout(text: str, width: int, height: int) -> TextLayout:
    safe, corner = safe_area(width, height), corner_box(width, height)
    pad_x, pad_y, bar = scaled(36, height), scaled(16, height), _even_up(scaled(6, height))
    gap = scaled(16, height)
    room = safe.width - 2 * (corner.width + gap)  # centred, clear of the corner on both sides
    font = load_font(scaled(TITLE_SIZE, height), bold=True)
    block = layout_block(wrap_lines(text, font, room - 2 * pad_x), font, "center")
    w, h = _even_up(block.width + 2 * pad_x), _even_up(block.height + 2 * pad_y + bar)
    box = Box(_even_down((width - w) / 2), safe.y, w, h)
    return TextLayout("title", "top", box, (Panel("plate", 0, 0, w, h - bar), Panel("accent", 0, h - bar, w, h)),
                      ((block, (w - block.width) // 2, (h - bar - block.height) // 2),))


def lower_third_layout(name: str, role: str | None, width: int, height: int) -> TextLayout:
    safe = safe_area(width, height)
    bar, pad_x, pad_y = _even_up(scaled(10, height)), scaled(22, height), scaled(10, height)
    max_text = min(safe.width, round(width * 0.62)) - bar - 2 * pad_x
    name_font = load_font(scaled(NAME_SIZE, height), bold=True)
    role_font = load_font(scaled(ROLE_SIZE, height))
    name_block = layout_block(wrap_lines(name, name_font, max_text), name_font)
    role_block = layout_block(wrap_lines(role, role_font, max_text), role_font) if role else None
    name_h = _even_up(name_block.height + 2 * pad_y)
    role_h = _even_up(role_block.height + 2 * pad_y) if role_block else 0
    inner_w = max(name_block.width, role_block.width if role_block else 0) + 2 * pad_x
    w, h = _even_up(bar + inner_w), name_h + role_h
    panels = [Panel("accent", 0, 0, bar, h), Panel("name", bar, 0, bar + _even_up(name_block.width + 2 * pad_x), name_h)]
    blocks = [(name_block, bar + pad_x, (name_h - name_block.height) // 2)]
    if role_block:
        panels.append(Panel("role", bar, name_h, bar + _even_up(role_block.width + 2 * pad_x), h))
        blocks.append((role_block, bar + pad_x, name_h + (role_h - role_block.height) // 2))
    y = max(safe.y, safe.bottom - caption_zone(height) - h)
    return TextLayout("lower_third", "lower", Box(safe.x, _even_down(y), w, h), tuple(panels), tuple(blocks))


def draft_mark_layout(width: int, height: int) -> TextLayout:
    box = corner_box(width, height)
    font = load_font(scaled(DRAFT_SIZE, height), bold=True)
    block = layout_block(["DRAFT"], font)
    return TextLayout("draft_mark", "corner", box, (Panel("draft", 0, 0, box.width, box.height),),
                      ((block, (box.width - block.width) // 2, (box.height - block.height) // 2),))


def text_layout(item: TextItem, width: int, height: int, max_chars: int = CAPTION_MAX_CHARS,
                max_lines: int = CAPTION_MAX_LINES) -> TextLayout:
    """The layout of a caption, scene title or lower third; raises TextFitError when it cannot fit."""
    if item.kind == "caption":
        return caption_layout(item.text, width, height, max_chars, max_lines)
    if item.kind == "title":
        return title_layout(item.text, width, height)
    if item.kind == "lower_third":
        return lower_third_layout(item.text, item.subtext, width, height)
    raise TextFitError(_("unknown text kind {kind!r}").format(kind=item.kind), _("use caption, title or lower_third"))


# ------------------------------------------------------------------------------- collisions


def _overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def resolve_collisions(timeline: Timeline) -> tuple[Timeline, list[Note]]:
    """The timeline with scene titles and lower thirds moved so they never collide (the later one
    waits), and a note for each move or each collision that cannot be resolved. Pure."""
    notes: list[Note] = []
    scene_end = {s.id: s.end for s in timeline.scenes}
    moved: dict[int, TextItem] = {}
    for scene in timeline.scenes:
        blockers = [(s.start, s.end, s.kind, s.where) for s in timeline.shots_in(scene.id) if s.kind in MOTION_KINDS]
        items = sorted(((i, t) for i, t in enumerate(timeline.texts)
                        if t.scene == scene.id and t.kind in ("title", "lower_third")), key=lambda p: (p[1].start, p[0]))
        placed: list[TextItem] = []
        for index, item in items:
            start, reasons = item.start, []
            for _round in range(len(placed) + len(blockers) + 1):
                clash = next(((o.end, o.kind, o.where) for o in placed
                              if _overlap(start, start + item.duration, o.start, o.end)), None)
                if clash is None:
                    clash = next(((b_end, kind, where) for b_start, b_end, kind, where in blockers
                                  if _overlap(start, start + item.duration, b_start, b_end)), None)
                if clash is None:
                    break
                start = clash[0] + WAIT_GAP
                reasons.append(clash)
            new = dataclasses.replace(item, start=start) if start != item.start else item
            if reasons:
                _end, kind, where = reasons[-1]
                what = {"title": _("the scene title"), "lower_third": _("the lower third"),
                        "card": _("the title card"), "chart": _("the chart")}.get(kind, kind)
                seconds = timeline.seconds(start - item.start)
                if start + item.duration > scene_end.get(scene.id, timeline.duration):
                    notes.append(Note("error", _("scene '{scene}': {kind} would collide with {other} and cannot "
                                                 "wait for it inside the scene").format(
                                                     scene=scene.id, kind=item.kind.replace("_", " "), other=what),
                                      item.where, where))
                    new = item
                else:
                    notes.append(Note("info", _("scene '{scene}': {kind} waits {seconds:.1f} s for {other} to leave "
                                                "the screen").format(scene=scene.id, kind=item.kind.replace("_", " "),
                                                                      seconds=seconds, other=what),
                                      item.where, where))
            moved[index] = new
            placed.append(new)
    texts = tuple(moved.get(i, t) for i, t in enumerate(timeline.texts))
    return dataclasses.replace(timeline, texts=texts), notes


def text_elements(timeline: Timeline, width: int, height: int, *, draft: bool = False,
                  max_chars: int = CAPTION_MAX_CHARS, max_lines: int = CAPTION_MAX_LINES) -> list[Element]:
    """Every text element of a (collision-resolved) timeline with its box and frames."""
    out = []
    for item in timeline.texts:
        if item.duration <= 0:
            continue
        layout = text_layout(item, width, height, max_chars, max_lines)
        out.append(Element(item.kind, layout.zone, item.start, item.end, layout.box, item.scene, layout.lines))
    if draft:
        mark = draft_mark_layout(width, height)
        out.append(Element("draft_mark", "corner", 0, timeline.duration, mark.box, None, ("DRAFT",)))
    return out


def overlaps(elements: Iterable[Element]) -> list[tuple[Element, Element]]:
    """Pairs of elements on screen at the same frame whose boxes overlap (a layout bug if any)."""
    items = sorted(elements, key=lambda e: e.start)
    out = []
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            if b.start >= a.end:
                break
            if _overlap(a.start, a.end, b.start, b.end) and a.box.overlaps(b.box):
                out.append((a, b))
    return out
