"""Text measurement with the shipped fonts: glyph coverage, widths, line blocks, the title-safe area.

The lowest part of the layout: `validate` (rules), the renderer's drawing and the sidecars all
measure text here, so a line is judged with the same font, size and breaks that draw it. Sizes are
given for 1080 lines and scaled by height/1080. Lines are measured with the font's full extent
(ascent + descent, and the glyphs' own bbox), so descenders of "gjpqy" are never cut. Characters
DejaVu cannot draw are found from the font's cmap table before drawing.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Iterable

from PIL import Image, ImageDraw, ImageFont

from kbvideo.errors import KbError
from kbvideo.i18n import _

REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"
TITLE_SAFE = 0.90  # EBU R95: titles inside the central 90 % of width and height


class TextFitError(KbError, ValueError):
    """Text that cannot be drawn as asked: too long for its lines, or characters the font lacks."""

    exit_code = 2
    code = "text.fit"


class MissingGlyphError(TextFitError):
    """Characters the shipped font cannot draw."""

    code = "text.glyphs"


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
        raise KbError(_("the shipped font has no cmap table"))
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
            _("text needs {count} lines, at most {max_lines} fit: {text!r}").format(count=len(lines), max_lines=max_lines, text=text),
            _("shorten the text, or split it into two items"),
        )
    return lines


def _wrap_paragraph(paragraph: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    words = list(re.finditer(r"\S+", paragraph))
    if not words:
        return [""]
    for word in words:
        if text_width(word.group(), font) > max_width:
            raise TextFitError(
                _("the word {group!r} is wider than a line ({max_width} px)").format(group=word.group(), max_width=max_width),
                _("shorten it or put a space in it"),
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




# ------------------------------------------------------------------------------ caption lines

CAPTION_MAX_CHARS = 42  # subtitle norm (and the 2025 profile): characters per line
CAPTION_MAX_LINES = 2
_PUNCT_END = (",", ";", ":", ".", "!", "?", "—", "–")


class CaptionLinesError(TextFitError):
    """A caption that needs more lines of `max_chars` than allowed; `suggestion` splits it in two."""

    code = "captions.lines"

    def __init__(self, message: str, hint: str | None = None, suggestion: tuple[str, str] | None = None):
        super().__init__(message, hint)
        self.suggestion = suggestion


def _words(paragraph: str) -> list[re.Match]:
    return list(re.finditer(r"\S+", paragraph))


def _best_two(paragraph: str, words: list[re.Match], max_chars: int | None) -> tuple[str, str] | None:
    """The balanced two-line break of a paragraph: the longer line as short as possible, with a small
    preference for breaking after punctuation (subtitle style); None if no break fits `max_chars`."""
    best, best_score = None, None
    for k in range(1, len(words)):
        first = paragraph[words[0].start():words[k - 1].end()]
        second = paragraph[words[k].start():words[-1].end()]
        longer = max(len(first), len(second))
        if max_chars is not None and longer > max_chars:
            continue
        score = (longer - (4 if first.endswith(_PUNCT_END) else 0), longer, k)
        if best_score is None or score < best_score:
            best, best_score = (first, second), score
    return best


def _greedy(paragraph: str, words: list[re.Match], max_chars: int) -> list[str]:
    lines, first = [], 0
    while first < len(words):
        last = first + 1
        while last < len(words) and words[last].end() - words[first].start() <= max_chars:
            last += 1
        lines.append(paragraph[words[first].start():words[last - 1].end()])
        first = last
    return lines


def caption_lines(text: str, max_chars: int = CAPTION_MAX_CHARS, max_lines: int = CAPTION_MAX_LINES) -> list[str]:
    """The lines of a caption as they are drawn and written to .srt/.vtt: at most `max_chars`
    characters each and `max_lines` lines, broken where the lines are most even (not greedy).

    Written newlines are kept as breaks. Raises CaptionLinesError (with a suggested split) when the
    caption needs more lines."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    paragraphs = [p for p in paragraphs if p] or [""]
    lines: list[str] = []
    for paragraph in paragraphs:
        words = _words(paragraph)
        if len(paragraph) <= max_chars or not words:
            lines.append(paragraph)
            continue
        two = _best_two(paragraph, words, max_chars)
        lines += list(two) if two else _greedy(paragraph, words, max_chars)
    if len(lines) > max_lines or any(len(line) > max_chars for line in lines):
        split = suggest_split(" ".join(paragraphs))
        longest = max(len(line) for line in lines)
        raise CaptionLinesError(
            _("caption needs {count} lines (longest {longest} characters); at most {max_lines} lines of {max_chars} characters fit").format(count=len(lines), longest=longest, max_lines=max_lines, max_chars=max_chars),
            _("split it into two captions: \"{first}\" and \"{second}\"").format(first=split[0], second=split[1]) if split else _("shorten it"),
            split,
        )
    return lines


def suggest_split(text: str) -> tuple[str, str] | None:
    """Two halves of a long caption for a suggestion: after the punctuation nearest the middle, else
    at the word nearest the middle."""
    words = _words(text)
    if len(words) < 2:
        return None
    middle = len(text) / 2
    scored = []
    for k in range(1, len(words)):
        first = text[:words[k - 1].end()]
        distance = abs(len(first) - middle)
        scored.append((distance - (len(text) / 4 if first.endswith(_PUNCT_END) else 0), k))
    k = min(scored)[1]
    return text[:words[k - 1].end()].strip(), text[words[k].start():].strip()


# ------------------------------------------------------------------------------- title lines

SEPARATORS = ("·", "•", "—", "–", "|", ",")


def title_lines(text: str, font: ImageFont.FreeTypeFont, max_width: int, max_lines: int = 2) -> list[str]:
    """Lines of a title-card text: breaks go at separators (·, —, |, commas) so a place name such as
    "Kecamatan Pekalongan Selatan" stays whole; a separator standing alone at a break is dropped
    (a comma stays). Falls back to balanced word breaks when no separator break fits."""
    paragraphs = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(paragraphs) > 1 or text_width(text, font) <= max_width:
        return wrap_lines(text, font, max_width, max_lines)
    pieces = _separator_pieces(text)
    best = None
    if len(pieces) > 1:
        import itertools

        for count in range(1, min(max_lines, len(pieces)) ):
            for cuts in itertools.combinations(range(1, len(pieces)), count):
                bounds = (0, *cuts, len(pieces))
                lines = [_join_pieces(pieces[a:b]) for a, b in zip(bounds, bounds[1:])]
                widest = max(text_width(line, font) for line in lines)
                if widest <= max_width and (best is None or (len(lines), widest) < best[0]):
                    best = ((len(lines), widest), lines)
            if best is not None:
                break
    return best[1] if best else wrap_lines(text, font, max_width, max_lines)


def _separator_pieces(text: str) -> list[str]:
    """Split after each separator that stands between words ("A · B" → ["A ·", "B"])."""
    pieces, start = [], 0
    for match in re.finditer(r"\s*([·•—–|])\s+|(,)\s+", text):
        end = match.end(2) if match.group(2) else match.end(1)
        pieces.append(text[start:end].strip())
        start = match.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def _join_pieces(pieces: list[str]) -> str:
    line = " ".join(pieces)
    for sep in SEPARATORS[:-1]:
        if line.endswith(" " + sep):
            line = line[: -len(sep) - 1].rstrip()
    return line
