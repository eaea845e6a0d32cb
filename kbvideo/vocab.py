"""Names a storyboard and a timeline share: topics, family functions, shot kinds, fits, motions,
transitions, and the data of an animated chart.

Neutral ground below both `kbvideo.storyboard` (which validates against these names) and
`kbvideo.timeline` (which carries them to the renderer), so neither imports the other for them.
"""

from __future__ import annotations

from dataclasses import dataclass

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
TRANSITIONS = ("cut", "crossfade", "fade_black", "wipe_left", "wipe_right", "wipe_up", "wipe_down",
               "slide_left", "slide_right", "circle_open", "circle_close")
SHOT_KINDS = ("clip", "still", "card", "chart")
FITS = ("contain", "cover")
MOTIONS = ("none", "zoom_in", "zoom_out", "pan_left", "pan_right")


@dataclass(frozen=True, slots=True)
class Chart:
    """An animated data scene: bars growing, figures counting."""

    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    unit: str = ""
    style: str = "bars"  # "bars" | "countdown"
