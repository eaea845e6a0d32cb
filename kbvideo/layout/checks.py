"""Text problems of a timeline, found before anything is rendered: characters the shipped font cannot
draw, text that cannot fit its lines, captions over the profile's lines (with a suggested split).

Used by `validate` (kbvideo.rules.contest) and by the renderer's preflight, so both judge a text
with the same fonts, sizes and breaks that draw it. Cards and charts are laid out by their painters
(kbvideo.render.painters, above this layer): callers that know them pass `painted`, the painter's
own check, and their text is judged too.
"""

from __future__ import annotations

from typing import Callable, Iterable

from kbvideo.errors import Loc, Problem
from kbvideo.i18n import _
from kbvideo.layout.screen import text_layout
from kbvideo.layout.text import CAPTION_MAX_CHARS, CAPTION_MAX_LINES, MissingGlyphError, TextFitError, describe_chars, missing_glyphs
from kbvideo.timeline.model import Shot, TextItem, Timeline
from kbvideo.vocab.effects import SHOT_KIND

PaintedCheck = Callable[[Shot, int, int], None]  # (shot, width, height); raises TextFitError


def check_glyphs(item: TextItem) -> None:
    """Raise MissingGlyphError when the font cannot draw a character of the item (titles are bold)."""
    bold = item.kind in ("title", "lower_third")
    missing = missing_glyphs(item.text, bold) | (missing_glyphs(item.subtext) if item.subtext else set())
    if missing:
        raise MissingGlyphError(
            _("{text!r}: the font (DejaVu Sans) cannot draw {describe_chars}").format(text=item.text, describe_chars=describe_chars(missing)),
            _("remove or replace these characters (emoji and CJK are not in the shipped font)"),
        )


def _problem(where: Loc | None, message: str, hint: str | None, code: str) -> Problem:
    """At the item's place in the storyboard (with its line, for the caret), else at "<timeline>"."""
    return (where or Loc("<timeline>", 0, 0)).problem(message, hint, code=code)


def check_texts(timeline: Timeline, sizes: Iterable[tuple[int, int]] | None = None, *,
                max_chars: int = CAPTION_MAX_CHARS, max_lines: int = CAPTION_MAX_LINES,
                painted: PaintedCheck | None = None) -> list[Problem]:
    """Every text problem of a timeline, each once, located: captions, titles and lower thirds, and
    with `painted` the text of title cards and charts, at each frame size in `sizes` (default: the
    timeline's)."""
    sizes = list(sizes or [(timeline.width, timeline.height)])
    problems: dict[tuple, Problem] = {}

    def attempt(thing, check) -> None:
        for width, height in sizes:
            try:
                check(width, height)
            except TextFitError as exc:
                message = _("scene '{scene}': {kind}: {message}").format(scene=thing.scene, kind=thing.kind, message=exc.message)
                problems.setdefault((thing.where, message), _problem(thing.where, message, exc.hint, exc.code))

    for item in timeline.texts:
        attempt(item, lambda width, height, item=item: (check_glyphs(item),
                                                        text_layout(item, width, height, max_chars, max_lines)))
    if painted is not None:
        for shot in timeline.shots:
            if SHOT_KIND[shot.kind].painted:
                attempt(shot, lambda width, height, shot=shot: painted(shot, width, height))
    return list(problems.values())
