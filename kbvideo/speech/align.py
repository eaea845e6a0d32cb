"""A recorded narration's text aligned to its speech, sentence by sentence. Pure.

The recording's stretches of speech (kbvideo.speech.segments) are laid end to end; each sentence
is expected to begin where its share of the text's letters falls on that speech-only clock. Each
sentence after the first is then placed at the pause nearest to that expectation (dynamic
programming keeps them in order, prefers the longer pauses, and lets a sentence said without a
pause sit inside a stretch instead). Words inside a sentence share its speech time by letters.
"""

from __future__ import annotations


from kbvideo.speech.model import SENTENCE_END, Word, letters, tokens

SKIP_COST = 0.35  # a sentence placed inside a stretch of speech (no pause before it)
PAUSE_BONUS = 0.25  # a longer pause is a likelier sentence boundary


def sentences(text: str) -> list[list[tuple[int, int]]]:
    """The text's tokens grouped by sentence."""
    out: list[list[tuple[int, int]]] = [[]]
    for span in tokens(text):
        out[-1].append(span)
        if SENTENCE_END.search(text[span[0]:span[1]]):
            out.append([])
    return [s for s in out if s]


class _Clock:
    """Speech-only time (pauses removed) ⇄ time in the recording."""

    def __init__(self, segments: list[tuple[float, float]]):
        self.segments = segments
        self.cum = [0.0]
        for a, b in segments:
            self.cum.append(self.cum[-1] + (b - a))

    @property
    def total(self) -> float:
        return self.cum[-1]

    def real(self, u: float, at_start: bool) -> float:
        """Recording time at speech-only time `u`; at a pause, its end (a start) or its beginning (an end)."""
        for j, (a, b) in enumerate(self.segments):
            lo, hi = self.cum[j], self.cum[j + 1]
            if u < hi or (u == hi and not at_start) or j == len(self.segments) - 1:
                return a + min(max(u - lo, 0.0), b - a)
        return self.segments[-1][1] if self.segments else 0.0


def _place_sentences(weights: list[int], clock: _Clock) -> list[float]:
    """Speech-only start time of each sentence."""
    count, total = len(weights), clock.total
    all_letters = max(1, sum(weights))
    expected = [total * sum(weights[:k]) / all_letters for k in range(count)]
    gaps = len(clock.segments) - 1  # pause j lies before segment j (1..gaps)
    if count <= 1 or gaps <= 0 or total <= 0:
        return expected
    unit = total / count
    pauses = [clock.segments[j][0] - clock.segments[j - 1][1] for j in range(1, gaps + 1)]
    longest = max(pauses)

    def cost(k: int, j: int) -> float:
        return ((clock.cum[j] - expected[k]) / unit) ** 2 - PAUSE_BONUS * pauses[j - 1] / longest

    # best[k][j]: cost of sentences 1..k with the last one placed at pause j (j = 0: none placed yet)
    inf = float("inf")
    best = [[inf] * (gaps + 1) for _ in range(count)]
    back: list[list[tuple[int, int] | None]] = [[None] * (gaps + 1) for _ in range(count)]
    best[0][0] = 0.0
    for k in range(1, count):
        for last in range(gaps + 1):
            if best[k - 1][last] == inf:
                continue
            here = best[k - 1][last] + SKIP_COST  # sentence k inside a stretch
            if here < best[k][last]:
                best[k][last], back[k][last] = here, (last, -1)
            for j in range(last + 1, gaps + 1):
                value = best[k - 1][last] + cost(k, j)
                if value < best[k][j]:
                    best[k][j], back[k][j] = value, (last, j)
    j = min(range(gaps + 1), key=lambda x: best[count - 1][x])
    placed: list[int | None] = [None] * count
    for k in range(count - 1, 0, -1):
        previous, chosen = back[k][j]
        placed[k] = chosen if chosen >= 0 else None
        j = previous
    starts: list[float | None] = [0.0] + [clock.cum[p] if p is not None else None for p in placed[1:]]
    for k in range(1, count):  # sentences without a pause: by letters between their neighbours
        if starts[k] is None:
            before = max(i for i in range(k) if starts[i] is not None)
            after = next((i for i in range(k + 1, count) if starts[i] is not None), None)
            end = starts[after] if after is not None else total
            span_letters = sum(weights[before:after if after is not None else count])
            starts[k] = starts[before] + (end - starts[before]) * sum(weights[before:k]) / max(1, span_letters)
    return starts


def align_words(text: str, segments: list[tuple[float, float]], seconds: float) -> tuple[Word, ...]:
    """Every token of `text` timed in a recording whose speech is `segments` (of `seconds` in all)."""
    groups = sentences(text)
    if not groups:
        return ()
    clock = _Clock(list(segments) or [(0.0, seconds)])
    weights = [max(1, sum(letters(text[a:b]) for a, b in group)) for group in groups]
    starts = _place_sentences(weights, clock) + [clock.total]
    words: list[Word] = []
    for k, group in enumerate(groups):
        u, end = starts[k], starts[k + 1]
        per = [max(1, letters(text[a:b])) for a, b in group]
        scale = (end - u) / sum(per)
        for (a, b), weight in zip(group, per):
            words.append(Word(a, b, clock.real(u, True), clock.real(u + weight * scale, False)))
            u += weight * scale
    return tuple(words)
