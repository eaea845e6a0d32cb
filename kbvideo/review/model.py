"""What a review shows, gathered from a plan (and a draft's report when there is one). Pure.

The review page and the contact sheet both draw from `Review`; the caption flags are the findings
the rules already gave (one place per decision), matched to their caption by its storyboard location.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from kbvideo.errors import Problem
from kbvideo.i18n import _
from kbvideo.rules.contest import caption_cps, caption_lines, length_verdict
from kbvideo.rules.findings import Finding, verdict
from kbvideo.timeline.model import SceneSpan, Shot, TextItem, Timeline

# short flag shown beside a caption, by rule id
CAPTION_FLAGS = {
    "captions.reading_speed": "FAST",
    "captions.min_duration": "SHORT",
    "captions.max_duration": "LONG",
    "captions.lines": "LINES",
    "captions.gap": "GAP",
    "text.fit": "FIT",
    "text.glyphs": "GLYPH",
}


@dataclass(slots=True)
class CaptionRow:
    item: TextItem
    lines: list[str]
    cps: float
    flags: list[str]


@dataclass(slots=True)
class SceneRow:
    index: int
    span: SceneSpan
    shots: list[Shot]
    texts: list[TextItem]  # titles and lower thirds
    captions: list[CaptionRow]


@dataclass(slots=True)
class Review:
    title: str
    place: str
    timeline: Timeline
    rules_name: str
    limit: float | None  # seconds (the profile's maximum)
    length_text: str
    verdict: str  # pass | warn | fail (of the plan's findings)
    scenes: list[SceneRow]
    findings: list[Finding]
    warnings: list[Problem] = field(default_factory=list)
    draft: Path | None = None
    draft_note: str | None = None  # e.g. the draft is older than the storyboard

    def seconds(self, frames: int) -> float:
        return float(Fraction(frames) / self.timeline.fps)


def build_review(plan, draft: Path | None = None) -> Review:
    timeline: Timeline = plan.timeline
    profile = plan.profile
    flags: dict[str, list[str]] = {}
    for finding in plan.findings:
        if finding.rule in CAPTION_FLAGS and finding.where:
            flags.setdefault(finding.where, []).append(CAPTION_FLAGS[finding.rule])
    scenes = []
    for index, span in enumerate(timeline.scenes, 1):
        captions = [CaptionRow(c, caption_lines(c.text, profile.caption_max_chars_per_line), caption_cps(c, timeline.fps),
                               sorted(set(flags.get(str(c.where) if c.where else "", []))))
                    for c in timeline.texts_in(span.id, "caption")]
        texts = [t for t in timeline.texts_in(span.id) if t.kind != "caption"]
        scenes.append(SceneRow(index, span, list(timeline.shots_in(span.id)), texts, captions))
    kampung = plan.board.kampung
    place = ", ".join(p for p in (kampung.kelurahan, kampung.kecamatan, kampung.kota or kampung.kabupaten,
                                  kampung.provinsi) if p) if kampung else ""
    review = Review(kampung.name if kampung else plan.storyboard_path.stem, place, timeline, profile.name,
                    profile.duration_max, length_verdict(timeline.duration, timeline.fps, profile.duration_max),
                    verdict(plan.findings), scenes, list(plan.findings), list(plan.warnings))
    if draft is not None and Path(draft).exists():
        review.draft = Path(draft)
        review.draft_note = _draft_note(Path(draft), timeline)
    return review


def _draft_note(draft: Path, timeline: Timeline) -> str | None:
    """Why the draft's chapters may be off: it was rendered from another version of the storyboard."""
    report = Path(str(draft)[:-4] + ".render.json")
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
        rendered = data["timeline"]
    except (OSError, ValueError, KeyError):
        return None
    same = (rendered.get("frames") == timeline.duration
            and [(s["id"], s["start"], s["duration"]) for s in rendered.get("scenes", [])]
            == [(s.id, s.start, s.duration) for s in timeline.scenes]
            and [t["text"] for t in rendered.get("texts", [])] == [t.text for t in timeline.texts])
    if same:
        return None
    return _("the draft was rendered from an earlier version of the storyboard: render it again with --draft")
