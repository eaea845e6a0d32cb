"""Time spellings of storyboards, and exact conversions between seconds and frames.

Accepted: `12`, `12.5`, `"12s"`, `"1:30"`, `"1:30.5"`, `"00:01:30.500"`, `"45f"` (frames).
Seconds are kept as Fractions; frames are integers at a Fraction frame rate, rounded half up.
"""

from __future__ import annotations

import math
import re
from kbvideo.i18n import _
from dataclasses import dataclass
from fractions import Fraction

_NUMBER = r"\d+(?:\.\d+)?"
_SECONDS = re.compile(rf"^({_NUMBER})\s*s?$")
_FRAMES = re.compile(r"^(\d+)\s*f$")
_CLOCK = re.compile(rf"^(?:(\d+):)?(\d+):({_NUMBER})$")
FPS_ALIASES = {"29.97": Fraction(30000, 1001), "23.976": Fraction(24000, 1001), "59.94": Fraction(60000, 1001)}


@dataclass(frozen=True, slots=True)
class Time:
    """A duration or position as written: exact seconds, or a frame count."""

    seconds: Fraction | None = None
    frames: int | None = None

    def to_frames(self, fps: Fraction) -> int:
        if self.frames is not None:
            return self.frames
        return round_half_up(self.seconds * fps)

    def __str__(self) -> str:
        return f"{self.frames}f" if self.frames is not None else format_seconds(self.seconds)


def round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def parse_time(raw: str | int | float) -> Time:
    """Parse one time spelling; raises ValueError with a readable message."""
    text = str(raw).strip().lower()
    if match := _FRAMES.match(text):
        return Time(frames=int(match.group(1)))
    if match := _SECONDS.match(text):
        return Time(seconds=Fraction(match.group(1)))
    if match := _CLOCK.match(text):
        hours, minutes, seconds = match.groups()
        if int(minutes) >= 60 and hours is not None or Fraction(seconds) >= 60:
            raise ValueError(_("'{raw}' is not a valid time (minutes and seconds go up to 59)").format(raw=raw))
        total = Fraction(seconds) + 60 * int(minutes) + 3600 * int(hours or 0)
        return Time(seconds=total)
    raise ValueError(_("'{raw}' is not a time").format(raw=raw))


def parse_fps(raw: str | int | float) -> Fraction:
    text = str(raw).strip()
    if text in FPS_ALIASES:
        return FPS_ALIASES[text]
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ValueError(_("'{raw}' is not a frame rate").format(raw=raw)) from None
    if value <= 0:
        raise ValueError(_("'{raw}' is not a frame rate").format(raw=raw))
    return value


def frames_to_seconds(frames: int, fps: Fraction) -> Fraction:
    return Fraction(frames) / fps


def format_seconds(seconds: Fraction | float, decimals: int = 1, *, hours: bool = False, separator: str = ".") -> str:
    """174 → '2:54.0'; 3723.5 → '1:02:03.5'. The one clock formatter: plans, findings, reports, progress,
    and (hours=True, fixed width) subtitle cues: format_seconds(3723.004, 3, hours=True, separator=",")
    → '01:02:03,004'."""
    sign = "-" if seconds < 0 else ""
    value = abs(float(seconds))
    scale = 10**decimals
    tenths = round(value * scale)
    whole, frac = divmod(tenths, scale)
    whole_hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    tail = f"{separator}{frac:0{decimals}d}" if decimals else ""
    if hours:
        return f"{sign}{whole_hours:02d}:{minutes:02d}:{secs:02d}{tail}"
    if whole_hours:
        return f"{sign}{whole_hours}:{minutes:02d}:{secs:02d}{tail}"
    return f"{sign}{minutes}:{secs:02d}{tail}"


def format_fps(fps: Fraction) -> str:
    return str(fps.numerator) if fps.denominator == 1 else f"{fps.numerator}/{fps.denominator}"
