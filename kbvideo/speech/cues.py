"""Captions from the narration: the text split into cues and timed to the speech. Pure.

A sentence always starts a new cue. A sentence that does not fit one cue (too many characters for
the lines, or spoken for longer than a cue may stay) is split at its clause boundaries (after , ; :
and dashes, before conjunctions such as "dan", "yang", "untuk"), preferring the split that leaves
two even halves, again and again until every piece fits. Each cue appears when its first word is
said and stays until a little after its last word, long enough to be read (characters per second,
minimum duration) but never into the next cue (gap of some frames) nor past the maximum duration.
Cues that need two lines carry an explicit line break, balanced, so every player shows the same lines.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from kbvideo.speech.model import SENTENCE_END, Word

_CLAUSE_END = re.compile(r"[,;:]+[\"'”’)\]]*$|[—–]$")
_DASHES = {"—", "–", "-", "--"}
# a break before these reads naturally (Indonesian conjunctions and relative words)
_CONJUNCTIONS = {"dan", "atau", "tetapi", "tapi", "serta", "yang", "untuk", "karena", "sehingga", "agar", "supaya",
                 "dengan", "dari", "ketika", "saat", "bahwa", "namun", "lalu", "kemudian", "hingga", "sampai",
                 "oleh", "bagi", "pada", "di", "ke", "sebagai", "melalui"}
HOLD = 0.6  # seconds a cue may stay after its last word, for reading


@dataclass(frozen=True, slots=True)
class CueLimits:
    """The subtitle norms of the rules profile (its `captions:` section)."""

    chars_per_line: int = 42
    lines: int = 2
    max_cps: float = 17.0
    min_duration: float = 5 / 6
    max_duration: float = 7.0
    gap_frames: int = 2


@dataclass(frozen=True, slots=True)
class Cue:
    text: str  # with an explicit line break when it needs two lines
    start: int  # frames from the start of the narration's sound
    end: int


def sentence_ends(text: str, words: tuple[Word, ...]) -> list[bool]:
    """For each word: does a sentence end after it?"""
    return [bool(SENTENCE_END.search(text[w.start_char:w.end_char])) for w in words]


def break_lines(text: str, width: int, max_lines: int) -> list[str] | None:
    """`text` on at most `max_lines` lines of at most `width` characters, balanced; None if it cannot fit."""
    words = text.split()
    if not words:
        return None
    if len(text) <= width:
        return [text]
    if max_lines < 2:
        return None
    best = None
    for k in range(1, len(words)):
        first, second = " ".join(words[:k]), " ".join(words[k:])
        if len(first) > width or len(second) > width:
            continue
        # most even lines; a little bonus for breaking after punctuation
        score = max(len(first), len(second)) - (3 if _CLAUSE_END.search(words[k - 1]) else 0)
        if best is None or score < best[0]:
            best = (score, [first, second])
    return best[1] if best else None  # three lines are never needed: a cue that long is split


class _Splitter:
    def __init__(self, text: str, words: tuple[Word, ...], limits: CueLimits, fps: Fraction):
        self.text, self.words, self.limits, self.fps = text, words, limits, fps
        self.gap = limits.gap_frames / float(fps)

    def chunk_text(self, first: int, last: int) -> str:
        return " ".join(self.text[self.words[first].start_char:self.words[last].end_char].split())

    def fits(self, first: int, last: int) -> bool:
        text = self.chunk_text(first, last)
        if break_lines(text, self.limits.chars_per_line, self.limits.lines) is None:
            return False
        spoken = self.words[last].end - self.words[first].start
        if spoken > self.limits.max_duration - self.gap:
            return False
        # readable in the time until the next word (or a short hold after the last one)
        room = (self.words[last + 1].start if last + 1 < len(self.words) else self.words[last].end + HOLD)
        return len(text) / max(room - self.words[first].start - self.gap, 1e-6) <= self.limits.max_cps

    def strength(self, k: int) -> int:
        """How good a break is between word k-1 and word k."""
        before = self.text[self.words[k - 1].start_char:self.words[k - 1].end_char]
        after = self.text[self.words[k].start_char:self.words[k].end_char]
        if SENTENCE_END.search(before):
            return 4
        if _CLAUSE_END.search(before) or after in _DASHES:
            return 3
        if after.lower().strip("\"'“‘(") in _CONJUNCTIONS:
            return 1
        return 0

    def split(self, first: int, last: int) -> list[tuple[int, int]]:
        if first == last or self.fits(first, last):
            return [(first, last)]
        total = len(self.chunk_text(first, last))
        best = None
        for k in range(first + 1, last + 1):
            left, right = len(self.chunk_text(first, k - 1)), len(self.chunk_text(k, last))
            imbalance = abs(left - right) / total  # 0 (even) .. 1
            fit_bonus = 1.5 * (self.fits(first, k - 1) + self.fits(k, last))
            score = self.strength(k) + fit_bonus - 4 * imbalance
            if best is None or score > best[0]:
                best = (score, k)
        k = best[1]
        return self.split(first, k - 1) + self.split(k, last)


def _frame(seconds: float, fps: Fraction) -> int:
    return math.floor(Fraction(seconds).limit_denominator(1_000_000) * fps + Fraction(1, 2))


def make_cues(text: str, words: tuple[Word, ...], limits: CueLimits, fps: Fraction,
              end_limit: int | None = None) -> list[Cue]:
    """Cues for `text` whose `words` are timed (seconds from the start of the sound).

    Frames count from the start of the sound; no cue ends after `end_limit` (e.g. the scene's end)."""
    if not words:
        return []
    splitter = _Splitter(text, words, limits, fps)
    ends = sentence_ends(text, words)
    chunks: list[tuple[int, int]] = []
    first = 0
    for i, is_end in enumerate(ends):
        if is_end or i == len(words) - 1:
            chunks += splitter.split(first, i)
            first = i + 1
    chunks = _merge_short(chunks, splitter)
    cues: list[Cue] = []
    max_frames = math.floor(Fraction(limits.max_duration).limit_denominator(1000) * fps)
    min_frames = math.ceil(Fraction(limits.min_duration).limit_denominator(1000) * fps)
    for index, (a, b) in enumerate(chunks):
        body = splitter.chunk_text(a, b)
        lines = break_lines(body, limits.chars_per_line, limits.lines) or [body]
        start = _frame(words[a].start, fps)
        if cues and start < cues[-1].end + limits.gap_frames:
            start = cues[-1].end + limits.gap_frames
        next_start = _frame(words[chunks[index + 1][0]].start, fps) if index + 1 < len(chunks) else None
        latest = next_start - limits.gap_frames if next_start is not None else None
        if end_limit is not None:
            latest = end_limit if latest is None else min(latest, end_limit)
        wanted = max(_frame(words[b].end + HOLD, fps), start + min_frames,
                     start + math.ceil(len(body) * fps / Fraction(limits.max_cps).limit_denominator(1000)))
        end = min(wanted, start + max_frames)
        if latest is not None:
            end = min(end, latest)
        if end <= start:
            continue  # no room at all (the narration runs past its scene): nothing to show
        cues.append(Cue("\n".join(lines), start, end))
    return cues


def _merge_short(chunks: list[tuple[int, int]], splitter: _Splitter) -> list[tuple[int, int]]:
    """A piece said too quickly to be read on its own joins its neighbour when the two fit as one cue."""
    limits, words = splitter.limits, splitter.words
    out = list(chunks)
    changed = True
    while changed:
        changed = False
        for i, (a, b) in enumerate(out):
            room = (words[out[i + 1][0]].start if i + 1 < len(out) else words[b].end + splitter.gap + 1.0)
            if room - words[a].start - splitter.gap >= limits.min_duration:
                continue
            for j in (i + 1, i - 1):  # prefer joining the following piece
                if 0 <= j < len(out):
                    lo, hi = min(out[i][0], out[j][0]), max(out[i][1], out[j][1])
                    if splitter.fits(lo, hi):
                        out[min(i, j)] = (lo, hi)
                        del out[max(i, j)]
                        changed = True
                        break
            if changed:
                break
    return out
