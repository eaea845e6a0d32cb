"""Narration findings: scratch voice still in the timeline, text that does not match its recording,
text too long for its scene. Pure (the speech was measured before)."""

from __future__ import annotations

from fractions import Fraction

from kbvideo.i18n import _
from kbvideo.rules.findings import Finding
from kbvideo.rules.profile import RulesProfile
from kbvideo.speech.model import Speech
from kbvideo.storyboard.model import Storyboard
from kbvideo.timeline.model import Timeline


def scratch_items(timeline: Timeline):
    return [a for a in timeline.audio if a.kind == "narration" and a.voice]


def scratch_findings(timeline: Timeline, profile: RulesProfile | None, *, final: bool) -> list[Finding]:
    """One finding per scene still narrated by the scratch voice: a final render at the profile's
    severity (warning by default, error in the contest profile); a plan or a draft as information."""
    severity = (profile.narration_scratch_final if profile is not None else "warning") if final else "info"
    if severity is None:
        return []
    out = []
    for item in scratch_items(timeline):
        seconds = timeline.seconds(item.duration)
        if final:
            message = _("scene '{scene}': the narration is still the scratch voice ({voice}, {seconds:.1f} s); "
                        "record it and give narration.file before delivering")
        else:
            message = _("scene '{scene}': narration spoken by the scratch voice ({voice}, {seconds:.1f} s); "
                        "record it before the final render")
        out.append(Finding("narration.scratch", severity,
                           message.format(scene=item.scene, voice=item.voice, seconds=seconds),
                           {"scene": item.scene, "voice": item.voice, "seconds": round(seconds, 3)}, item.where))
    return out


def check_narration(board: Storyboard, speech: dict[str, Speech], timeline: Timeline,
                    profile: RulesProfile) -> list[Finding]:
    """Scratch narration (information), recordings that do not match their text, text too long for its scene."""
    out = scratch_findings(timeline, profile, final=False)
    spans = {s.id: s for s in timeline.scenes}
    pace = profile.narration_pace_cps
    for scene in board.scenes:
        spec, said = scene.narration, speech.get(scene.id)
        if spec is None or not spec.text or scene.id not in spans:
            continue
        where = spec.loc
        reading = len(" ".join(spec.text.split())) / pace
        if said is not None and not said.scratch and said.spoken_seconds > 0:
            ratio = said.spoken_seconds / reading
            limit = profile.narration_mismatch_ratio
            if ratio > limit or ratio < 1 / limit:
                out.append(Finding("narration.text_mismatch", "warning", _(
                    "scene '{scene}': the recording speaks for {spoken:.1f} s, but its text read at a normal pace "
                    "({pace:g} characters a second) takes about {reading:.1f} s: do the text and the file match?"
                ).format(scene=scene.id, spoken=said.spoken_seconds, pace=pace, reading=reading),
                    {"measured": round(said.spoken_seconds, 3), "expected": round(reading, 3)}, where))
        span = spans[scene.id]
        at = float(Fraction(spec.at.to_frames(timeline.fps)) / timeline.fps)
        room = timeline.seconds(span.duration) - at
        if reading > room:
            out.append(Finding("narration.fit", "warning", _(
                "scene '{scene}': its narration text read at a normal pace ({pace:g} characters a second) takes "
                "about {reading:.1f} s, but from {at:.1f} s the scene has {room:.1f} s left: shorten the text or "
                "lengthen the scene"
            ).format(scene=scene.id, pace=pace, reading=reading, at=at, room=room),
                {"measured": round(reading, 3), "limit": round(room, 3)}, where))
    return out
