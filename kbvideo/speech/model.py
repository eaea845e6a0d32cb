"""Narration speech as the timeline needs it: the sound file, its length, and when each word is said.

Words are the text's whitespace-separated tokens (`tokens`), so the voice, the aligner and the cue
splitter all count them the same way. Times are seconds from the start of the sound file; they are
measurements, turned into whole frames by the timeline resolver.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"\S+")
SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*$")  # a word that ends a sentence


def tokens(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of each word of `text`."""
    return [m.span() for m in _TOKEN.finditer(text)]


def letters(text: str) -> int:
    """How much there is to say: letters and digits (spaces and punctuation take no time to speak)."""
    return sum(1 for ch in text if ch.isalnum())


@dataclass(frozen=True, slots=True)
class Word:
    start_char: int
    end_char: int
    start: float  # seconds into the sound file
    end: float


@dataclass(frozen=True, slots=True)
class Speech:
    """One scene's narration: the file that sounds and, when the text is known, when each word is said."""

    source: str  # the recording, or the cached WAV of the scratch voice
    seconds: float  # length of the sound file
    text: str | None = None
    voice: str | None = None  # the scratch voice that spoke it ("espeak-ng id, 160 wpm"); None for a recording
    words: tuple[Word, ...] = ()  # one per token of `text`
    speech_start: float = 0.0  # first and last sound in the file (silence around it not counted)
    speech_end: float = 0.0

    @property
    def scratch(self) -> bool:
        return self.voice is not None

    @property
    def spoken_seconds(self) -> float:
        return max(0.0, self.speech_end - self.speech_start)
