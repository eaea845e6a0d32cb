"""Captions read from a subtitle file: `captions: {srt: file.srt, offset: 1.5}` (or `vtt:`).

Cue times are relative to the scene's start, shifted by `offset` seconds (may be negative). Each
caption keeps the file and line of its cue, so a cue that is malformed, empty, or falls outside its
scene is reported as `file.srt:LINE:1`.

SRT is parsed by the `srt` package (strict: a malformed block is an error at its line, never skipped).
WebVTT is read here: webvtt-py (0.6) silently drops a cue with a malformed time and gives no line
numbers, and the format's cue syntax is small (header, optional NOTE/STYLE/REGION blocks, optional
cue id, `start --> end [settings]`, text lines). Markup (`<i>`, `<v Name>`, `{\\an8}`) is removed
and entities are decoded: the renderer draws plain text.
"""

from __future__ import annotations

import dataclasses
import html
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from kbvideo.errors import Problem
from kbvideo.i18n import _

_TAG = re.compile(r"<[^>]*>")
_ASS = re.compile(r"\{\\[^}]*\}")
_VTT_TIME = re.compile(r"^(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})$")


@dataclass(frozen=True, slots=True)
class Cue:
    start: Fraction  # seconds from the file's zero
    end: Fraction
    text: str
    line: int  # 1-based line of the cue's timing line
    source_line: str


def clean_text(text: str) -> str:
    text = _ASS.sub("", _TAG.sub("", text))
    lines = [html.unescape(line).replace("\u00a0", " ").strip() for line in text.replace("\r", "").split("\n")]
    return "\n".join(line for line in lines if line)


def read_text(path: Path) -> tuple[str, list[Problem]]:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        problem = Problem(str(path), line, 1, _("the subtitle file is not UTF-8 text"),
                          _("save it again as UTF-8 (most subtitle editors offer it)"))
        return "", [problem]


def _located(path: Path, lines: list[str], line: int, message: str, hint: str | None = None) -> Problem:
    source = lines[line - 1] if 0 < line <= len(lines) else None
    return Problem(str(path), line, 1, message, hint, source)


def parse_srt(path: Path, text: str) -> tuple[list[Cue], list[Problem]]:
    import srt

    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    normalised = "\n".join(lines)
    timing_lines = [n for n, line in enumerate(lines, 1) if "-->" in line]
    try:
        subtitles = list(srt.parse(normalised))
    except srt.SRTParseError as exc:
        line = normalised[:exc.expected_start].count("\n") + 1  # where the unreadable text begins
        while line <= len(lines) and not lines[line - 1].strip():
            line += 1
        if line < len(lines) and lines[line - 1].strip().isdigit():  # the cue number is fine: its time line is not
            line += 1
        return [], [_located(path, lines, line, _("malformed subtitle block"),
                             _("each block is a number, a line 00:00:01,000 --> 00:00:03,500, then the text"))]
    cues, problems = [], []
    for index, subtitle in enumerate(subtitles):
        line = timing_lines[index] if index < len(timing_lines) else 1
        cue = Cue(Fraction(subtitle.start.total_seconds()).limit_denominator(1000),
                  Fraction(subtitle.end.total_seconds()).limit_denominator(1000), clean_text(subtitle.content),
                  line, lines[line - 1] if line <= len(lines) else "")
        problems += _check_cue(path, lines, cue)
        cues.append(cue)
    return cues, problems


def _vtt_time(raw: str) -> Fraction | None:
    match = _VTT_TIME.match(raw.strip())
    if not match:
        return None
    hours, minutes, seconds, millis = match.groups()
    return Fraction(int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)) + Fraction(int(millis), 1000)


def parse_vtt(path: Path, text: str) -> tuple[list[Cue], list[Problem]]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines or not lines[0].startswith("WEBVTT"):
        return [], [_located(path, lines, 1, _("a WebVTT file must start with WEBVTT"),
                             _("is it an .srt file? then write srt: instead of vtt:"))]
    cues, problems = [], []
    n = 1
    while n < len(lines):
        while n < len(lines) and not lines[n].strip():
            n += 1
        if n >= len(lines):
            break
        block_start = n
        block = []
        while n < len(lines) and lines[n].strip():
            block.append(lines[n])
            n += 1
        if block[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        timing = 0 if "-->" in block[0] else 1 if len(block) > 1 and "-->" in block[1] else None
        if timing is None:
            problems.append(_located(path, lines, block_start + 1, _("this block has no timing line"),
                                     _("write 00:01.000 --> 00:03.500 before the text")))
            continue
        line = block_start + timing + 1
        left, _sep, right = block[timing].partition("-->")
        start, end = _vtt_time(left), _vtt_time(right.strip().split()[0] if right.strip() else "")
        if start is None or end is None:
            problems.append(_located(path, lines, line, _("malformed cue time"),
                                     _("write mm:ss.ttt or hh:mm:ss.ttt, e.g. 00:01.000 --> 00:03.500")))
            continue
        cue = Cue(start, end, clean_text("\n".join(block[timing + 1:])), line, lines[line - 1])
        problems += _check_cue(path, lines, cue)
        cues.append(cue)
    return cues, problems


def _check_cue(path: Path, lines: list[str], cue: Cue) -> list[Problem]:
    if cue.end <= cue.start:
        return [_located(path, lines, cue.line, _("the cue ends before it starts"))]
    if not cue.text:
        return [_located(path, lines, cue.line, _("the cue has no text"), _("remove the cue or write its text"))]
    return []


def read_cues(path: Path, kind: str, label: str | None = None) -> tuple[list[Cue], list[Problem]]:
    """Cues of an `.srt` (kind "srt") or `.vtt` file, and every problem found, located at `label`:LINE."""
    text, problems = read_text(path)
    if not problems and not text.strip():
        problems = [Problem(str(path), 1, 1, _("the subtitle file is empty"))]
    cues: list[Cue] = []
    if not problems:
        cues, problems = parse_srt(path, text) if kind == "srt" else parse_vtt(path, text)
    if label is not None:
        problems = [dataclasses.replace(p, path=label) for p in problems]
    return cues, problems
