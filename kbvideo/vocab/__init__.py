"""Names a storyboard and a timeline share: topics, family functions, shot kinds, fits, motions,
transitions, and the data of an animated chart. Shot kinds, transitions and motions are classes in
a registry (kbvideo/vocab/effects.py); their names are listed here too.

Neutral ground below both `kbvideo.storyboard` (which validates against these names) and
`kbvideo.timeline` (which carries them to the renderer), so neither imports the other for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from kbvideo.vocab.effects import MOTIONS, SHOT_KINDS, TRANSITIONS

TOPICS = ("opening", "dashat", "kebun_pikatu", "pemberdayaan", "closing", "other")
FAMILY_FUNCTIONS = (
    "keagamaan",
    "sosial_budaya",
    "cinta_kasih",
    "perlindungan",
    "reproduksi",
    "sosialisasi_pendidikan",
    "ekonomi",
    "pembinaan_lingkungan",
)
FITS = ("contain", "cover")


@dataclass(frozen=True, slots=True)
class Chart:
    """An animated data scene: bars growing, figures counting."""

    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    unit: str = ""
    style: str = "bars"  # "bars" | "countdown"


__all__ = ["FAMILY_FUNCTIONS", "FITS", "MOTIONS", "SHOT_KINDS", "TOPICS", "TRANSITIONS", "Chart"]
