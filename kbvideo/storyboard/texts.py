"""Reading what is said and shown as text in a scene: its title, captions (plain, timed, or from a
subtitle file), lower thirds and narration. Part of the storyboard parser
(kbvideo.storyboard.validate.StoryboardParser mixes it in)."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

from kbvideo.errors import Loc
from kbvideo.i18n import _
from kbvideo.storyboard.fields import FieldReader, Skip
from kbvideo.storyboard.nodes import YNode
from kbvideo.storyboard.model import NarrationSpec, TimedText
from kbvideo.storyboard.subtitles import read_cues
from kbvideo.vocab.effects import TEXT_MOTION_FRAMES, TEXT_MOTIONS
from kbvideo.timecode import Time

TITLE_KEYS = ("text", "at", "duration", "motion")
CAPTION_KEYS = ("text", "at", "duration", "motion")
CAPTION_FILE_KEYS = ("srt", "vtt", "offset")
LOWER_THIRD_KEYS = ("name", "role", "at", "duration", "motion")
MOTION_KEYS = ("type", "frames")
NARRATION_KEYS = ("file", "text", "at", "volume", "rate")
FROM_NARRATION = "from_narration"  # captions: split from the narration text and timed to the speech
RATE_RANGE = (80, 450)  # scratch voice words per minute (espeak-ng's range)


class TextReader(FieldReader):
    """Titles, captions, lower thirds and narration."""

    def title(self, node: YNode, what: str, defaults: dict[str, Any]) -> TimedText:
        duration = defaults.get("title_duration", Time(seconds=Fraction(4)))
        if node.kind == "scalar":
            return TimedText(self.text(node, _("{what}: title").format(what=what)), self.loc(node), Time(seconds=Fraction(0)), duration)
        fields = self.mapping(node, TITLE_KEYS, _("{what}: title").format(what=what), required=("text",))
        if "text" not in fields:
            raise Skip()
        text = self.text(fields["text"], f"{what}: title.text")
        at = self.collect(self.time, fields["at"], f"{what}: title.at") if "at" in fields else Time(seconds=Fraction(0))
        if "duration" in fields:
            duration = self.collect(self.time, fields["duration"], f"{what}: title.duration", True, default=duration)
        motion = self.collect(self.text_motion, fields["motion"], f"{what}: title.motion") if "motion" in fields else None
        return TimedText(text, self.loc(node), at, duration, motion=motion)

    def captions(self, node: YNode, what: str) -> list[TimedText]:
        if node.kind == "map":  # captions: {srt: file.srt, offset: 1.5}
            return self.caption_file(node, what)
        items = self.seq(node, _("{what}: captions").format(what=what))
        colons = [item for item in items if _colon_text(item) is not None]
        for item in colons:
            self.problems.append(item.problem(
                None, _("{what}: caption has a ':' followed by a space, so YAML reads it as a key and a value")
                .format(what=what),
                _("put the text in quotes: {text}").format(text='"' + _colon_text(item).replace('"', "'") + '"')))
        items = [item for item in items if all(item is not c for c in colons)]
        timed = [item.kind == "map" for item in items]
        if any(timed) and not all(timed):
            raise self.fail(node, _("{what}: captions mix plain text and timed captions").format(what=what),
                            _("either all plain strings (spread evenly over the scene) or all with text/at/duration"))
        out = []
        for item in items:
            if item.kind == "scalar":
                text = self.collect(self.text, item, _("{what}: caption").format(what=what))
                if text is not None:
                    out.append(TimedText(text, self.loc(item)))
                continue
            fields = self.collect(self.mapping, item, CAPTION_KEYS, _("{what}: caption").format(what=what), ("text", "at", "duration"), default=None)
            if not fields or not all(k in fields for k in ("text", "at", "duration")):
                continue
            text = self.collect(self.text, fields["text"], _("{what}: caption text").format(what=what))
            at = self.collect(self.time, fields["at"], _("{what}: caption at").format(what=what))
            duration = self.collect(self.time, fields["duration"], _("{what}: caption duration").format(what=what), True)
            motion = (self.collect(self.text_motion, fields["motion"], _("{what}: caption motion").format(what=what))
                      if "motion" in fields else None)
            if None not in (text, at, duration):
                out.append(TimedText(text, self.loc(item), at, duration, motion=motion))
        return out

    def caption_file(self, node: YNode, what: str) -> list[TimedText]:
        """Captions from a subtitle file; cue times count from the scene's start, plus `offset` seconds."""
        fields = self.mapping(node, CAPTION_FILE_KEYS, _("{what}: captions").format(what=what))
        kinds = [k for k in ("srt", "vtt") if k in fields]
        if len(kinds) != 1:
            raise self.fail(node, _("{what}: captions from a file need one of srt: or vtt:").format(what=what),
                            _("e.g. captions: {{srt: ../assets/teks/dashat.srt, offset: 1.5}}"))
        kind = kinds[0]
        path = self.asset(fields[kind], f"{what}: captions.{kind}")
        offset = Fraction(0)
        if "offset" in fields:
            value = self.collect(self.number, fields["offset"], f"{what}: captions.offset", -3600, 3600)
            offset = Fraction(value).limit_denominator(1000) if value is not None else offset
        written = Path(self.scalar(fields[kind], "path"))
        base_label = Path(self.loc(fields[kind]).path).parent
        label = os.path.normpath(base_label / written) if not written.is_absolute() else str(written)
        cues, problems = read_cues(path, kind, label)
        self.problems.extend(problems)
        out = []
        for cue in cues:
            loc = Loc(label, cue.line, 1, cue.source_line)
            start = cue.start + offset
            if start < 0:
                self.problems.append(loc.problem(
                    _("{what}: this cue starts {seconds} s before the scene (offset {offset})").format(
                        what=what, seconds=f"{float(-start):g}", offset=f"{float(offset):g}"),
                    _("raise the offset or remove the cue")))
                continue
            out.append(TimedText(cue.text, loc, Time(seconds=start), Time(seconds=cue.end - cue.start)))
        self.caption_sources.append(path)
        return out

    def lower_thirds(self, node: YNode, what: str, defaults: dict[str, Any]) -> list[TimedText]:
        default_duration = defaults.get("lower_third_duration", Time(seconds=Fraction(5)))
        out = []
        for item in self.seq(node, _("{what}: lower_thirds").format(what=what)):
            fields = self.collect(self.mapping, item, LOWER_THIRD_KEYS, _("{what}: lower third").format(what=what), ("name", "role"), default=None)
            if not fields or "name" not in fields:
                continue
            name = self.collect(self.text, fields["name"], _("{what}: lower third name").format(what=what))
            role = self.collect(self.text, fields["role"], _("{what}: lower third role").format(what=what)) if "role" in fields else None
            at = self.collect(self.time, fields["at"], _("{what}: lower third at").format(what=what)) if "at" in fields else Time(seconds=Fraction(1))
            duration = (self.collect(self.time, fields["duration"], _("{what}: lower third duration").format(what=what), True)
                        if "duration" in fields else default_duration)
            motion = (self.collect(self.text_motion, fields["motion"], _("{what}: lower third motion").format(what=what))
                      if "motion" in fields else None)
            if None not in (name, at, duration):
                out.append(TimedText(name, self.loc(item), at, duration, subtext=role, motion=motion))
        return out

    def text_motion(self, node: YNode, what: str) -> tuple[str, int | None]:
        """motion: fade | slide | none, or {type: fade, frames: 8} (frames at the output rate, 0–30)."""
        if node.kind == "scalar":
            return self.choice(node, what, TEXT_MOTIONS), None
        fields = self.mapping(node, MOTION_KEYS, what, required=("type",))
        if "type" not in fields:
            raise Skip()
        kind = self.choice(fields["type"], f"{what}.type", TEXT_MOTIONS)
        frames = None
        if "frames" in fields:
            frames = self.integer(fields["frames"], f"{what}.frames")
            low, high = TEXT_MOTION_FRAMES
            if not low <= frames <= high:
                raise self.fail(fields["frames"], _("{what}.frames is {value}; it must be between {low} and {high}")
                                .format(what=what, value=frames, low=low, high=high),
                                _("6 to 12 frames reads as a quick, calm move"))
        return kind, frames

    def narration(self, node: YNode, what: str, default_rate: int | None = None) -> NarrationSpec:
        if node.kind == "scalar":
            return NarrationSpec(self.asset(node, _("{what}: narration").format(what=what)), self.loc(node))
        fields = self.mapping(node, NARRATION_KEYS, _("{what}: narration").format(what=what))
        if "file" not in fields and "text" not in fields:
            raise self.fail(node, _("{what}: narration needs 'file:' (a recording) or 'text:' (spoken by the "
                                    "scratch voice until it is recorded)").format(what=what),
                            _('e.g. narration: {text: "Kampung KB ...", at: 1}'))
        file = self.collect(self.asset, fields["file"], f"{what}: narration.file") if "file" in fields else None
        text = self.collect(self.text, fields["text"], f"{what}: narration.text") if "text" in fields else None
        if file is None and text is None:
            raise Skip()  # already reported
        at = self.collect(self.time, fields["at"], f"{what}: narration.at", default=None) if "at" in fields else None
        volume = self.collect(self.number, fields["volume"], f"{what}: narration.volume", 0, 4, default=1.0) if "volume" in fields else 1.0
        rate = self.collect(self.rate, fields["rate"], f"{what}: narration.rate") if "rate" in fields else None
        if rate is not None and file is not None:
            self.warn(fields["rate"], _("{what}: narration.rate only sets the scratch voice's speed; the recording "
                                        "is played as it is").format(what=what))
        loc = self.loc(fields["file"] if "file" in fields else fields["text"])
        return NarrationSpec(file, loc, at or Time(seconds=Fraction(0)), volume, text, rate or default_rate)

    def rate(self, node: YNode, what: str) -> int:
        value = self.integer(node, what)
        low, high = RATE_RANGE
        if not low <= value <= high:
            raise self.fail(node, _("{what} is {value} words per minute; it must be between {low} and {high}")
                            .format(what=what, value=value, low=low, high=high), _("150 is a calm narration pace"))
        return value


def _colon_text(item: YNode) -> str | None:
    """`- Makanan dibagikan: keluarga ...` (a caption YAML read as a one-key mapping): the text as written."""
    if item.kind != "map" or len(item.value) != 1:
        return None
    (key, (key_node, value_node)), = item.value.items()
    if key in CAPTION_KEYS or key_node.quoted or value_node.kind != "scalar" or item.source is None:
        return None
    line = item.source.line(item.line) or ""
    if line[item.col - 1:].lstrip().startswith("{"):
        return None
    text = line[item.col - 1:]
    if not value_node.quoted and " #" in text:
        text = text[: text.index(" #")]
    return text.strip()
