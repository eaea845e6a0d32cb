"""YNode tree → Storyboard, reporting every problem at once with its line, column and a hint.

Key tables name every key a mapping may hold (unknown keys get "did you mean"; the JSON Schema is
built from the same tables); reading each value is kbvideo.storyboard.fields' job.
"""

from __future__ import annotations

import os
import dataclasses
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from kbvideo.errors import SpecError, excerpt
from kbvideo.i18n import _
from kbvideo.storyboard.fields import ID_PATTERN, FieldReader, Skip, did_you_mean
from kbvideo.storyboard.load import YNode
from kbvideo.storyboard.model import (
    Kampung,
    Loc,
    Music,
    NarrationSpec,
    Output,
    Scene,
    ShotSpec,
    Storyboard,
    TimedText,
    TransitionSpec,
)
from kbvideo.storyboard.subtitles import read_cues
from kbvideo.timecode import Time, parse_fps
from kbvideo.vocab import FAMILY_FUNCTIONS, FITS, MOTIONS, SHOT_KINDS, TOPICS, TRANSITIONS, Chart
from kbvideo.vocab.effects import SHOT_KIND, TRANSITION, Value

SCHEMA_VERSION = 1
FPS_ALLOWED = (Fraction(24), Fraction(25), Fraction(30), Fraction(30000, 1001), Fraction(50), Fraction(60))
CATEGORIES = ("kota", "kabupaten")
CHART_STYLES = ("bars", "countdown")

TOP_KEYS = ("schema_version", "extends", "kampung", "output", "defaults", "vars", "music", "poster", "scenes")
POSTER_KEYS = ("at",)
# extends: resolved (merged) by kbvideo.storyboard.template before parsing; ignored here.
KAMPUNG_KEYS = ("name", "desa", "kelurahan", "kecamatan", "kota", "kabupaten", "provinsi", "category", "year")
OUTPUT_KEYS = ("size", "fps", "rules")
DEFAULT_KEYS = ("fit", "fill", "transition", "clip_volume", "title_duration", "lower_third_duration",
                "narration_rate", "captions")
MUSIC_KEYS = ("file", "volume", "duck")
SCENE_KEYS = ("id", "topic", "functions", "title", "shots", "captions", "lower_thirds", "narration", "transition")
SHOT_KEYS = {name: tuple(kind.keys) for name, kind in SHOT_KIND.items()}  # from the registry (vocab.effects)
TIME_ARGS = {"in": "in_point", "out": "out_point", "duration": "duration"}  # time keys → ShotSpec fields
CARD_KEYS = ("title", "subtitle", "color")
CHART_KEYS = ("title", "unit", "style", "data")
TITLE_KEYS = ("text", "at", "duration")
CAPTION_KEYS = ("text", "at", "duration")
CAPTION_FILE_KEYS = ("srt", "vtt", "offset")
LOWER_THIRD_KEYS = ("name", "role", "at", "duration")
NARRATION_KEYS = ("file", "text", "at", "volume", "rate")
FROM_NARRATION = "from_narration"  # captions: split from the narration text and timed to the speech
RATE_RANGE = (80, 450)  # scratch voice words per minute (espeak-ng's range)
TRANSITION_KEYS = ("type", "duration")


class StoryboardParser(FieldReader):
    """The sections of a storyboard, top to bottom; each returns model objects."""

    def parse(self, root: YNode) -> Storyboard:
        if root.kind != "map":
            raise SpecError(root.problem(None, _("a storyboard must be a mapping with 'kampung:' and 'scenes:'"),
                                         _("start from storyboards/jenggot.yaml")))
        self.caption_sources: list[Path] = []  # subtitle files read for captions (watched, like assets)
        top = self.mapping(root, TOP_KEYS, "storyboard", required=("kampung", "scenes"))
        if "schema_version" in top:
            version = self.collect(self.integer, top["schema_version"], "schema_version", default=SCHEMA_VERSION)
            if version != SCHEMA_VERSION:
                self.problems.append(top["schema_version"].problem(
                    None, _("schema_version {version} is not supported (this kbvideo reads {SCHEMA_VERSION})").format(version=version, SCHEMA_VERSION=SCHEMA_VERSION),
                    _("upgrade kbvideo or write schema_version: 1")))
        kampung = self.collect(self.kampung, top["kampung"], default=None) if "kampung" in top else None
        self.placeholders = dict(kampung.fields(derived=True)) if kampung else {}
        if "vars" in top:
            self.collect(self.declared_variables, top["vars"])
        self.placeholders.update(self.variables)  # given by the caller (a roster row) win over the file's
        output = self.collect(self.output, top["output"], default=Output()) if "output" in top else Output()
        defaults = self.collect(self.defaults, top["defaults"], default={}) if "defaults" in top else {}
        music = self.collect(self.music, top["music"]) if "music" in top else None
        poster_at = self.collect(self.poster, top["poster"]) if "poster" in top else None
        scenes = self.collect(self.scenes, top["scenes"], defaults, default=()) if "scenes" in top else ()
        self.problems += self.folder_problems()
        errors = sorted((p for p in self.problems if p.severity == "error"), key=lambda p: (p.line, p.col))
        if errors:
            raise SpecError(errors)
        return Storyboard(
            path=self.path,
            project_root=self.root,
            kampung=kampung,
            output=output,
            scenes=tuple(scenes),
            music=music,
            poster_at=poster_at,
            warnings=tuple(p for p in self.problems if p.severity == "warning"),
            caption_files=tuple(dict.fromkeys(self.caption_sources)),
        )

    def kampung(self, node: YNode) -> Kampung:
        fields = self.mapping(node, KAMPUNG_KEYS, "kampung", required=("name",))
        values: dict[str, Any] = {}
        for key, value_node in fields.items():
            if key == "category":
                values[key] = self.collect(self.choice, value_node, "kampung.category", CATEGORIES, default="kota")
            elif key == "year":
                values[key] = self.collect(self.integer, value_node, "kampung.year")
            else:
                values[key] = self.collect(self.text, value_node, f"kampung.{key}", False)
                if values[key] is None:
                    self.broken_placeholders.add(f"kampung.{key}")  # its error is reported once, not at every use
        if "name" not in fields:
            raise Skip()
        for first, second in (("kota", "kabupaten"), ("desa", "kelurahan")):
            if first in fields and second in fields:
                self.problems.append(fields[second].problem(
                    None, _("kampung: give either '{first}' or '{second}', not both").format(first=first, second=second),
                    _("keep the one that is right for this village and delete the other line")))
        category = values.get("category")
        if category == "kabupaten" and "kota" in fields and "kabupaten" not in fields:
            self.warn(fields["kota"], _("kampung: category is kabupaten but 'kota' is given"),
                      _("use kabupaten: ... for a regency"))
        if category == "kota" and "kabupaten" in fields and "kota" not in fields:
            self.warn(fields["kabupaten"], _("kampung: category is kota but 'kabupaten' is given"),
                      _("write category: kabupaten (or delete the category line)"))
        if "category" not in fields:
            values["category"] = "kabupaten" if "kabupaten" in fields else "kota"
        return Kampung(**{k: v for k, v in values.items() if v is not None or k == "name"})

    def declared_variables(self, node: YNode) -> None:
        if node.kind != "map":
            raise self.fail(node, _("vars must be a mapping of names to text"))
        for key, (key_node, value_node) in node.value.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                self.problems.append(key_node.problem(None, _("vars: '{key}' is not a valid name").format(key=excerpt(key)), _("use letters, digits and _")))
                continue
            value = self.collect(self.text, value_node, f"vars.{key}")  # {kampung.head} etc. filled in
            if value is not None:
                self.placeholders[f"vars.{key}"] = value
            else:
                self.broken_placeholders.add(f"vars.{key}")

    def output(self, node: YNode) -> Output:
        fields = self.mapping(node, OUTPUT_KEYS, "output")
        width, height, fps, rules = 1920, 1080, Fraction(30), None
        if "size" in fields:
            size = self.collect(self.size, fields["size"])
            if size:
                width, height = size
        if "fps" in fields:
            fps = self.collect(self.fps, fields["fps"], default=fps)
        if "rules" in fields:
            rules = self.collect(self.rules_file, fields["rules"])
        return Output(width, height, fps, rules)

    def rules_file(self, node: YNode) -> str:
        """A built-in profile name, or a rules file that (like media) stays inside the project."""
        rules = self.text(node, "output.rules", False)
        if rules.endswith((".yaml", ".yml")) or "/" in rules or "\\" in rules:
            try:
                target = (self.base_of(node) / rules).resolve()
            except (OSError, RuntimeError):
                raise self.fail(node, _("output.rules: cannot read '{path}'").format(path=excerpt(rules))) from None
            if not self.allow_outside and (Path(rules).is_absolute() or not target.is_relative_to(self.root)):
                raise self.fail(node, _("output.rules: '{path}' is outside the project folder ({root})").format(
                    path=excerpt(rules), root=self.root),
                    _("keep the rules file inside the project (or pass --allow-outside)"))
        return rules

    def size(self, node: YNode) -> tuple[int, int]:
        if node.kind == "seq" and len(node.value) == 2:
            raw = f"{node.value[0].value}x{node.value[1].value}"
        else:
            raw = self.scalar(node, "output.size")
        match = re.fullmatch(r"\s*([0-9]{1,6})\s*[x×X]\s*([0-9]{1,6})\s*", raw)
        if not match:
            raise self.fail(node, _("output.size: '{raw}' is not a frame size").format(raw=excerpt(raw)), _("write \"1920x1080\""))
        width, height = int(match.group(1)), int(match.group(2))
        if width % 2 or height % 2 or width < 16 or height < 16 or width > 7680 or height > 4320:
            raise self.fail(node, _("output.size {width}x{height}: width and height must be even, 16..7680 x 16..4320").format(width=width, height=height),
                            _("H.264 with 4:2:0 colour needs even sizes, e.g. 1920x1080"))
        return width, height

    def fps(self, node: YNode) -> Fraction:
        raw = self.scalar(node, "output.fps")
        try:
            fps = parse_fps(raw)
        except ValueError as exc:
            raise self.fail(node, _("output.fps: {exc}").format(exc=excerpt(exc, 120)), _("write 25, 30 or 30000/1001")) from None
        if fps not in FPS_ALLOWED:
            raise self.fail(node, _("output.fps {raw} is not a delivery frame rate").format(raw=excerpt(raw)),
                            _("use 24, 25, 30, 30000/1001 (29.97), 50 or 60"))
        return fps

    def defaults(self, node: YNode) -> dict[str, Any]:
        fields = self.mapping(node, DEFAULT_KEYS, "defaults")
        out: dict[str, Any] = {}
        for key, value in fields.items():
            if key == "fit":
                out[key] = self.collect(self.choice, value, "defaults.fit", FITS)
            elif key == "fill":
                out[key] = self.collect(self.fill, value, "defaults.fill")
            elif key == "transition":
                out[key] = self.collect(self.transition, value, "defaults.transition")
            elif key == "clip_volume":
                out[key] = self.collect(self.number, value, "defaults.clip_volume", 0, 4)
            elif key == "narration_rate":
                out[key] = self.collect(self.rate, value, "defaults.narration_rate")
            elif key == "captions":
                out[key] = self.collect(self.choice, value, "defaults.captions", (FROM_NARRATION,))
            else:
                out[key] = self.collect(self.time, value, f"defaults.{key}", True)
        return {k: v for k, v in out.items() if v is not None}

    def fill(self, node: YNode, what: str) -> str:
        raw = self.scalar(node, what).strip()
        if raw.lower() == "blur":
            return "blur"
        if raw.lower() == "black":
            return "#000000"
        return self.colour(node, what)

    def poster(self, node: YNode):
        """poster: {at: TIME} — the frame of the programme used for the poster image."""
        fields = self.mapping(node, POSTER_KEYS, "poster", required=("at",))
        if "at" not in fields:
            raise Skip()
        return self.time(fields["at"], "poster.at")

    def music(self, node: YNode) -> Music:
        if node.kind == "scalar":
            return Music(self.asset(node, "music"), 0.25, True, self.loc(node))
        fields = self.mapping(node, MUSIC_KEYS, "music", required=("file",))
        if "file" not in fields:
            raise Skip()
        file = self.asset(fields["file"], "music.file")
        volume = self.collect(self.number, fields["volume"], "music.volume", 0, 4, default=0.25) if "volume" in fields else 0.25
        duck = self.collect(self.boolean, fields["duck"], "music.duck", default=True) if "duck" in fields else True
        return Music(file, volume, duck, self.loc(fields["file"]))

    def scenes(self, node: YNode, defaults: dict[str, Any]) -> list[Scene]:
        items = self.seq(node, "scenes")
        if not items:
            raise self.fail(node, _("scenes is empty"), _("add at least one scene"))
        scenes = []
        seen: dict[str, YNode] = {}
        for index, item in enumerate(items):
            scene = self.collect(self.scene, item, index, defaults, seen)
            if scene is not None:
                scenes.append(scene)
        last = items[-1].get("transition") if items[-1].kind == "map" else None
        if scenes and last is not None and TRANSITION[scenes[-1].transition.kind].overlaps:
            self.problems.append(last.problem(None, _("scene '{id}': the last scene has no next scene to transition into").format(id=scenes[-1].id), _("remove its 'transition:'")))
        return scenes

    def scene(self, node: YNode, index: int, defaults: dict[str, Any], seen: dict[str, YNode]) -> Scene:
        what = _("scene {number}").format(number=index + 1)
        if node.kind == "map" and node.get("id") is not None and node.get("id").kind == "scalar":
            what = _("scene '{id}'").format(id=excerpt(node.get('id').value))
        fields = self.mapping(node, SCENE_KEYS, what, required=("id", "topic", "shots"))
        scene_id = self.collect(self.scene_id, fields["id"], seen) if "id" in fields else None
        topic = self.collect(self.choice, fields["topic"], _("{what}: topic").format(what=what), TOPICS) if "topic" in fields else None
        functions = self.collect(self.functions, fields["functions"], what, default=()) if "functions" in fields else ()
        shots = self.collect(self.shots, fields["shots"], what, defaults, default=()) if "shots" in fields else ()
        title = self.collect(self.title, fields["title"], what, defaults) if "title" in fields else None
        from_narration = False
        if "captions" in fields and fields["captions"].kind == "scalar":
            from_narration = self.collect(self.choice, fields["captions"], _("{what}: captions").format(what=what), (FROM_NARRATION,)) is not None
            captions = ()
        else:
            captions = self.collect(self.captions, fields["captions"], what, default=()) if "captions" in fields else ()
        lower_thirds = (self.collect(self.lower_thirds, fields["lower_thirds"], what, defaults, default=())
                        if "lower_thirds" in fields else ())
        narration = (self.collect(self.narration, fields["narration"], what, defaults.get("narration_rate"))
                     if "narration" in fields else None)
        if "captions" not in fields and defaults.get("captions") and narration is not None and narration.text:
            from_narration = True
        if from_narration and not (narration is None and "narration" in fields) and not (narration and narration.text):
            self.problems.append(fields["captions"].problem(
                None, _("{what}: captions from_narration need the narration's text").format(what=what),
                _("add 'text:' (the words as spoken) to the narration")))
        transition = defaults.get("transition", TransitionSpec())
        if "transition" in fields:
            transition = self.collect(self.transition, fields["transition"], _("{what}: transition").format(what=what), default=transition)
        if scene_id is None or topic is None:
            raise Skip()
        return Scene(scene_id, topic, self.loc(node), tuple(functions), title, tuple(shots), tuple(captions),
                     tuple(lower_thirds), narration, transition, from_narration)

    def scene_id(self, node: YNode, seen: dict[str, YNode]) -> str:
        raw = self.text(node, _("scene id"), placeholders=False)
        if not ID_PATTERN.match(raw):
            raise self.fail(node, _("scene id '{raw}' may hold only letters, digits, '-' and '_'").format(raw=excerpt(raw)), _("e.g. id: dashat-1"))
        if raw in seen:
            raise self.fail(node, _("scene id '{raw}' is used twice (first at line {line})").format(raw=excerpt(raw), line=seen[raw].line), _("give each scene its own id"))
        seen[raw] = node
        return raw

    def functions(self, node: YNode, what: str) -> list[str]:
        out = []
        for item in self.seq(node, _("{what}: functions").format(what=what)):
            value = self.collect(self.choice, item, _("{what}: family function").format(what=what), FAMILY_FUNCTIONS)
            if value and value not in out:
                out.append(value)
        return out

    def shots(self, node: YNode, what: str, defaults: dict[str, Any]) -> list[ShotSpec]:
        items = self.seq(node, _("{what}: shots").format(what=what))
        if not items:
            raise self.fail(node, _("{what}: shots is empty").format(what=what), _("add at least one clip, still, card or chart"))
        return [shot for shot in (self.collect(self.shot, item, what, defaults) for item in items) if shot]

    def shot(self, node: YNode, what: str, defaults: dict[str, Any]) -> ShotSpec:
        if node.kind != "map":
            raise self.fail(node, _("{what}: a shot must be a mapping such as 'clip: ../assets/clips/x.mp4'").format(what=what))
        kinds = [k for k in SHOT_KINDS if k in node.value]
        if len(kinds) != 1:
            message = _("a shot needs exactly one of clip, still, card, chart") if not kinds else _("a shot cannot be both {first} and {second}").format(first=kinds[0], second=kinds[1])
            hint = None
            for key in node.value:
                hint = hint or did_you_mean(key, SHOT_KINDS)
            raise self.fail(node, f"{what}: {message}", hint)
        kind = kinds[0]
        shot_kind = SHOT_KIND[kind]
        recorded = self.progress()
        fields = self.mapping(node, SHOT_KEYS[kind], _("{what}: {kind} shot").format(what=what, kind=kind))
        args: dict[str, Any] = {"kind": kind, "loc": self.loc(node)}
        args["fit"] = defaults.get("fit", "contain")
        args["fill"] = defaults.get("fill", "blur")
        args["volume"] = defaults.get("clip_volume", 1.0)
        for key, value in fields.items():
            label = f"{what}: {kind}.{key}" if key != kind else f"{what}: {kind}"
            self.shot_value(shot_kind.keys[key], key, value, label, args)
        if shot_kind.needs_duration and "duration" not in fields and self.progress() == recorded:
            raise self.fail(node, _("{what}: a {kind} shot needs a duration").format(what=what, kind=kind), _("add e.g. duration: 5"))
        if shot_kind.either_or and all(k in fields for k in shot_kind.either_or):  # only a clip's out/duration so far
            raise self.fail(fields[shot_kind.either_or[-1]], _("{what}: give 'out' or 'duration', not both").format(what=what))
        if shot_kind.needs_title and not args.get("title") and self.progress() == recorded:
            raise self.fail(node, _("{what}: a card needs a title").format(what=what), _("card: \"Kampung KB ...\""))
        return ShotSpec(**{k: v for k, v in args.items() if v is not None})

    def shot_value(self, kind: str, key: str, value: YNode, label: str, args: dict[str, Any]) -> None:
        """Read one value of a shot by its type (kbvideo.vocab.effects) into the ShotSpec's `args`."""
        if kind == Value.ASSET:
            args["source"] = self.collect(self.asset, value, label)
            args["source_loc"] = self.loc(value)
        elif kind == Value.CARD:
            self.collect(self.card, value, label, args)
        elif kind == Value.CHART:
            args["chart"] = self.collect(self.chart, value, label)
        elif kind == Value.TIME:
            args[TIME_ARGS[key]] = self.collect(self.time, value, label, key == "duration")
            if key == "out":
                args["out_loc"] = self.loc(value)
        elif kind == Value.VOLUME:
            args[key] = self.collect(self.number, value, label, 0, 4, default=1.0)
        elif kind == Value.FIT:
            args[key] = self.collect(self.choice, value, label, FITS, default="contain")
        elif kind == Value.FILL:
            args[key] = self.collect(self.fill, value, label, default="blur")
        elif kind == Value.MOTION:
            args[key] = self.collect(self.choice, value, label, MOTIONS, default="none")
        elif kind == Value.COLOUR:
            args[key] = self.collect(self.colour, value, label, default="#0b5d3b")
        elif kind == Value.TEXT:
            args[key] = self.collect(self.text, value, label)
        else:  # pragma: no cover - a value type added to vocab.effects without a reader here
            raise AssertionError(f"no reader for shot values of type {kind!r}")

    def card(self, node: YNode, what: str, args: dict[str, Any]) -> None:
        if node.kind == "scalar":
            args["title"] = self.text(node, what)
            return
        fields = self.mapping(node, CARD_KEYS, what)
        for key, value in fields.items():
            if key == "color":
                args["color"] = self.collect(self.colour, value, f"{what}.color")
            else:
                args[key] = self.collect(self.text, value, f"{what}.{key}")

    def chart(self, node: YNode, what: str) -> Chart:
        fields = self.mapping(node, CHART_KEYS, what, required=("title", "data"))
        title = self.collect(self.text, fields["title"], f"{what}.title", default="") if "title" in fields else ""
        unit = self.collect(self.text, fields["unit"], f"{what}.unit", default="") if "unit" in fields else ""
        style = self.collect(self.choice, fields["style"], f"{what}.style", CHART_STYLES, default="bars") if "style" in fields else "bars"
        labels: list[str] = []
        values: list[float] = []
        data = fields.get("data")
        if data is None:
            raise Skip()
        if data.kind == "map":
            pairs = [(k_node, v_node) for k_node, v_node in data.value.values()]
        elif data.kind == "seq":
            pairs = []
            for item in data.value:
                entry = self.collect(self.mapping, item, ("label", "value"), _("{what}.data item").format(what=what), default=None)
                if entry and "label" in entry and "value" in entry:
                    pairs.append((entry["label"], entry["value"]))
                elif entry is not None:
                    self.problems.append(item.problem(None, _("{what}.data item needs label and value").format(what=what)))
        else:
            raise self.fail(data, _("{what}.data must map labels to numbers").format(what=what), 'data: {"2022": 40, "2023": 25}')
        for label_node, value_node in pairs:
            if label_node.kind != "scalar":
                self.problems.append(label_node.problem(None, _("{what}.data: a label must be a single value").format(what=what)))
                continue
            label = label_node.value
            if self.collect(self.check_text, label_node, label, f"{what}.data label", default=False) is False:
                continue
            number = self.collect(self.number, value_node, _("{what}.data '{label}'").format(what=what, label=excerpt(label)), 0, 1e12)
            if number is not None:
                labels.append(str(label))
                values.append(number)
        if not labels:
            empty = self.fail(data, _("{what}.data is empty").format(what=what))
            empty.problem = dataclasses.replace(empty.problem, code="chart.data_empty")
            raise empty
        return Chart(title, tuple(labels), tuple(values), unit, style)

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
        return TimedText(text, self.loc(node), at, duration)

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
            if None not in (text, at, duration):
                out.append(TimedText(text, self.loc(item), at, duration))
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
            if None not in (name, at, duration):
                out.append(TimedText(name, self.loc(item), at, duration, subtext=role))
        return out

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

    def transition(self, node: YNode, what: str) -> TransitionSpec:
        if node.kind == "scalar":
            kind = self.choice(node, what, TRANSITIONS)
            duration = Time(seconds=Fraction(1, 2) if TRANSITION[kind].overlaps else Fraction(0))
            return TransitionSpec(kind, duration, self.loc(node))
        fields = self.mapping(node, TRANSITION_KEYS, what, required=("type",))
        if "type" not in fields:
            raise Skip()
        kind = self.choice(fields["type"], f"{what}.type", TRANSITIONS)
        if not TRANSITION[kind].overlaps:
            if "duration" in fields:
                self.warn(fields["duration"], _("{what}: a cut has no duration; it is ignored").format(what=what))
            return TransitionSpec(kind, Time(seconds=Fraction(0)), self.loc(node))
        duration = self.time(fields["duration"], f"{what}.duration", True) if "duration" in fields else Time(seconds=Fraction(1, 2))
        return TransitionSpec(kind, duration, self.loc(node))


def parse_storyboard(root: YNode, path: Path, project_root: Path, *, label: str | None = None,
                     allow_outside: bool = False, variables: dict[str, str] | None = None) -> Storyboard:
    """Pure apart from checking that asset files exist. Raises SpecError listing every problem.

    `variables` fill {vars.NAME} placeholders (e.g. from a roster row) and win over the file's own `vars:`.
    """
    parser = StoryboardParser(label or str(path), path.resolve(), project_root.resolve(), allow_outside, variables)
    return parser.parse(root)


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
