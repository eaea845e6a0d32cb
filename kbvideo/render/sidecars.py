"""Caption sidecars beside the video: SubRip (.srt) and WebVTT (.vtt), UTF-8.

Cue times come from the timeline's integer frames at its Fraction rate, converted exactly and
rounded to the millisecond (frame 30 at 30000/1001 fps → 00:00:01,001). Each cue carries exactly
the lines drawn in the picture (`kbvideo.layout.text.caption_lines`: written breaks kept, long text
broken into at most two balanced lines of the profile's characters per line); only what each
format cannot hold changes: a blank line (it would end the cue) is dropped, and in WebVTT `&`, `<`,
`>` are written as character references so that players show them instead of reading markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from kbvideo.fsutil import write_atomic
from kbvideo.layout.text import CAPTION_MAX_CHARS, CAPTION_MAX_LINES, TextFitError, caption_lines
from kbvideo.timecode import format_seconds, round_half_up
from kbvideo.timeline.model import Timeline


@dataclass(frozen=True, slots=True)
class Cue:
    index: int  # 1-based, in time order
    start_frame: int
    end_frame: int  # exclusive
    text: str


def caption_cues(timeline: Timeline) -> list[Cue]:
    """The timeline's captions as cues, sorted by start (then end), numbered from 1."""
    captions = sorted(
        (t for t in timeline.texts if t.kind == "caption" and t.duration > 0),
        key=lambda t: (t.start, t.end),
    )
    return [Cue(i, t.start, t.end, t.text) for i, t in enumerate(captions, start=1)]


def frame_to_ms(frame: int, fps: Fraction) -> int:
    """Exact milliseconds of a frame boundary, rounded half up."""
    return round_half_up(Fraction(frame) * 1000 / Fraction(fps))


def format_timestamp(ms: int, separator: str) -> str:
    """A cue time: 3723004 ms → '01:02:03,004' (SubRip, separator ',') or '01:02:03.004' (WebVTT)."""
    return format_seconds(Fraction(ms, 1000), 3, hours=True, separator=separator)


def _lines(text: str, max_chars: int = CAPTION_MAX_CHARS, max_lines: int = CAPTION_MAX_LINES) -> list[str]:
    try:
        lines = caption_lines(text, max_chars, max_lines)
    except TextFitError:  # refused before rendering; written breaks are the best we have
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [line for line in lines if line.strip()] or [""]


def srt_text(timeline: Timeline, max_chars: int = CAPTION_MAX_CHARS, max_lines: int = CAPTION_MAX_LINES) -> str:
    blocks = []
    for cue in caption_cues(timeline):
        start = format_timestamp(frame_to_ms(cue.start_frame, timeline.fps), ",")
        end = format_timestamp(frame_to_ms(cue.end_frame, timeline.fps), ",")
        blocks.append("\n".join([str(cue.index), f"{start} --> {end}", *_lines(cue.text, max_chars, max_lines)]))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def _vtt_escape(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def vtt_text(timeline: Timeline, max_chars: int = CAPTION_MAX_CHARS, max_lines: int = CAPTION_MAX_LINES) -> str:
    blocks = ["WEBVTT"]
    for cue in caption_cues(timeline):
        start = format_timestamp(frame_to_ms(cue.start_frame, timeline.fps), ".")
        end = format_timestamp(frame_to_ms(cue.end_frame, timeline.fps), ".")
        blocks.append("\n".join([str(cue.index), f"{start} --> {end}", *map(_vtt_escape, _lines(cue.text, max_chars, max_lines))]))
    return "\n\n".join(blocks) + "\n"


def _write(path: Path, text: str) -> Path:
    """Atomic UTF-8 write (no BOM, LF line ends): a temp file beside the target, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, text, newline="\n")


def write_srt(timeline: Timeline, path: Path, max_chars: int = CAPTION_MAX_CHARS,
              max_lines: int = CAPTION_MAX_LINES) -> Path:
    """SubRip captions of the timeline (times like 00:00:01,033)."""
    return _write(path, srt_text(timeline, max_chars, max_lines))


def write_vtt(timeline: Timeline, path: Path, max_chars: int = CAPTION_MAX_CHARS,
              max_lines: int = CAPTION_MAX_LINES) -> Path:
    """WebVTT captions of the timeline (times like 00:00:01.033)."""
    return _write(path, vtt_text(timeline, max_chars, max_lines))
