"""Contest rules applied to a planned timeline, before anything is rendered. Pure."""

from __future__ import annotations

import math
from fractions import Fraction

from kbvideo.errors import Loc
from kbvideo.i18n import _, ngettext
from kbvideo.layout.checks import PaintedCheck, check_texts
from kbvideo.layout.screen import resolve_collisions
from kbvideo.layout.text import CaptionLinesError
from kbvideo.layout.text import caption_lines as _layout_caption_lines
from kbvideo.rules.findings import Finding
from kbvideo.rules.profile import RulesProfile
from kbvideo.timecode import format_fps, format_seconds
from kbvideo.timeline.model import TextItem, Timeline
from kbvideo.vocab import FAMILY_FUNCTIONS


def caption_cps(item: TextItem, fps: Fraction) -> float:
    """Reading speed: characters (spaces included, newlines as one space) per second on screen."""
    seconds = Fraction(item.duration) / fps
    return len(" ".join(item.text.split())) / float(seconds) if seconds else math.inf


def caption_too_fast(item: TextItem, fps: Fraction, profile: RulesProfile) -> bool:
    """Over the profile's reading speed (`plan` marks it FAST; `validate` warns captions.reading_speed)."""
    return caption_cps(item, fps) > profile.caption_max_cps


def caption_too_short(item: TextItem, fps: Fraction, profile: RulesProfile) -> bool:
    """On screen less than the profile's minimum (`plan` marks it SHORT; `validate` warns
    captions.min_duration). Compared exactly: 25 frames at 30 fps are 5/6 s, not under a 5/6 s minimum."""
    return Fraction(item.duration) / fps < Fraction(profile.caption_min_duration).limit_denominator(1000)


def caption_lines(text: str, width: int, max_lines: int = 99) -> list[str]:
    """Lines as the picture and the sidecars break them (kbvideo.layout): written newlines kept,
    long lines broken where they are most even."""
    try:
        return _layout_caption_lines(text, width, max_lines)
    except CaptionLinesError:
        return [text]


def length_verdict(frames: int, fps: Fraction, limit_seconds: float | None) -> str:
    """'2:54.0 of 3:00 — 6.0 s left' or '3:04.2 — 4.2 s OVER'."""
    seconds = Fraction(frames) / fps
    if limit_seconds is None:
        return format_seconds(seconds)
    limit = Fraction(limit_seconds).limit_denominator(1000)
    if seconds > limit:
        over = seconds - limit
        return _("{length} — {amount} OVER the {limit} limit").format(length=format_seconds(seconds), amount=_amount(over, fps), limit=format_seconds(limit, 0))
    return _("{length} of {limit} — {amount} left").format(length=format_seconds(seconds), limit=format_seconds(limit, 0), amount=_amount(limit - seconds, fps))


def _amount(seconds: Fraction, fps: Fraction) -> str:
    frames = round(seconds * fps)
    if frames < fps:
        return ngettext("{seconds:.3f} s ({frames} frame)", "{seconds:.3f} s ({frames} frames)", frames).format(seconds=float(seconds), frames=frames)
    return f"{float(seconds):.1f} s"


def check_timeline(timeline: Timeline, profile: RulesProfile, *, painted: PaintedCheck | None = None) -> list[Finding]:
    """The contest rules on a planned timeline. `painted` checks the text of title cards and charts as
    their painters lay it out (kbvideo.render.painters.check_motion_shot; the pipeline passes it)."""
    findings: list[Finding] = []
    fps = timeline.fps
    seconds = float(Fraction(timeline.duration) / fps)
    if profile.duration_max is not None and Fraction(timeline.duration) / fps > Fraction(profile.duration_max).limit_denominator(1000):
        findings.append(Finding("duration.max", "error", length_verdict(timeline.duration, fps, profile.duration_max),
                                {"measured": round(seconds, 3), "limit": profile.duration_max}))
    if profile.duration_min is not None and seconds < profile.duration_min:
        findings.append(Finding("duration.min", profile.duration_min_severity,
                                _("{length} is under the {minimum} the profile expects: use more of the time").format(length=format_seconds(seconds), minimum=format_seconds(profile.duration_min, 0)), {"measured": round(seconds, 3), "limit": profile.duration_min}))
    if profile.width and profile.height and (timeline.width, timeline.height) != (profile.width, profile.height):
        findings.append(Finding("video.resolution", "error",
                                _("planned {width}x{height}, the profile asks for {width2}x{height2}").format(width=timeline.width, height=timeline.height, width2=profile.width, height2=profile.height),
                                {"measured": f"{timeline.width}x{timeline.height}", "limit": f"{profile.width}x{profile.height}"}))
    if profile.fps and fps not in profile.fps:
        allowed = ", ".join(format_fps(f) for f in profile.fps)
        findings.append(Finding("video.fps", "error", _("planned {format_fps} fps; the profile allows {allowed}").format(format_fps=format_fps(fps), allowed=allowed),
                                {"measured": format_fps(fps), "limit": allowed}))
    topics = {scene.topic for scene in timeline.scenes}
    for topic in profile.topics_required:
        if topic not in topics:
            findings.append(Finding("topics.required", "error", _("no scene shows '{topic}', which the contest requires").format(topic=topic),
                                    {"topic": topic}))
    for topic in profile.topics_recommended:
        if topic not in topics:
            findings.append(Finding("topics.recommended", "info", _("no scene with topic '{topic}'").format(topic=topic), {"topic": topic}))
    if profile.family_functions_all:
        shown = {f for scene in timeline.scenes for f in scene.functions}
        missing = [f for f in FAMILY_FUNCTIONS if f not in shown]
        if missing:
            findings.append(Finding("family_functions", profile.family_functions_all,
                                    _("{count} of the eight family functions not shown: {names}").format(count=len(missing), names=', '.join(missing)),
                                    {"missing": missing}))
    findings += _caption_findings(timeline, profile)
    findings += _text_findings(timeline, profile, painted)
    findings += _layout_findings(timeline)
    return findings


def _caption_findings(timeline: Timeline, profile: RulesProfile) -> list[Finding]:
    fps = timeline.fps
    out: list[Finding] = []
    captions = sorted((t for t in timeline.texts if t.kind == "caption"), key=lambda t: t.start)
    for item in captions:
        where = item.where or item.scene
        seconds = float(Fraction(item.duration) / fps)
        cps = caption_cps(item, fps)
        if caption_too_fast(item, fps, profile):
            out.append(Finding("captions.reading_speed", "warning",
                               _("caption reads at {cps:.1f} characters/s (limit {caption_max_cps:g}): shorten it or give it more time").format(cps=cps, caption_max_cps=profile.caption_max_cps), {"measured": round(cps, 1), "limit": profile.caption_max_cps,
                                                                     "text": item.text}, where))
        if caption_too_short(item, fps, profile):
            out.append(Finding("captions.min_duration", "warning",
                               _("caption is on screen {seconds:.2f} s (at least {caption_min_duration:.2f} s)").format(seconds=seconds, caption_min_duration=profile.caption_min_duration),
                               {"measured": round(seconds, 3), "limit": profile.caption_min_duration}, where))
        if seconds > profile.caption_max_duration:
            out.append(Finding("captions.max_duration", "warning",
                               _("caption stays {seconds:.1f} s (at most {caption_max_duration:g} s): split it").format(seconds=seconds, caption_max_duration=profile.caption_max_duration),
                               {"measured": round(seconds, 3), "limit": profile.caption_max_duration}, where))
    for before, after in zip(captions, captions[1:]):
        gap = after.start - before.end
        if gap < profile.caption_min_gap_frames:
            what = _("overlaps the next one") if gap < 0 else _("is {gap} frame(s) before the next one").format(gap=gap)
            out.append(Finding("captions.gap", "warning",
                               _("caption {what} (at least {caption_min_gap_frames} frames apart)").format(what=what, caption_min_gap_frames=profile.caption_min_gap_frames),
                               {"measured": gap, "limit": profile.caption_min_gap_frames}, before.where))
    return out


def _layout_findings(timeline: Timeline) -> list[Finding]:
    """Collisions on screen the layout resolved (info: which element waits) or could not (error)."""
    _resolved, notes = resolve_collisions(timeline)
    out = []
    for note in notes:
        data = {"other": str(note.other)} if note.other else {}
        message = note.message + (f" ({note.other})" if note.other and note.severity == "error" else "")
        out.append(Finding(note.code, note.severity, message, data, note.where))
    return out


def _text_findings(timeline: Timeline, profile: RulesProfile, painted: PaintedCheck | None) -> list[Finding]:
    """Text the renderer could not draw: characters missing from the shipped font, text too long for its
    lines, captions over the profile's lines and characters per line (with a suggested split)."""
    out = []
    for problem in check_texts(timeline, max_chars=profile.caption_max_chars_per_line,
                               max_lines=profile.caption_max_lines, painted=painted):
        where = Loc(problem.path, problem.line, problem.col, problem.source_line) if problem.line else problem.path
        out.append(Finding(problem.code or "text.fit", "error", problem.message, {"hint": problem.hint} if problem.hint else {}, where))
    return out
