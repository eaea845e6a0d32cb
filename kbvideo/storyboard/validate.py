"""YNode tree → Storyboard, reporting every problem at once with its line, column and a hint.

The top of the storyboard, its kampung, output, defaults, music and scenes are read here; a scene's
shots in kbvideo.storyboard.shots, its titles, captions, lower thirds and narration in
kbvideo.storyboard.texts (both mixed into StoryboardParser).

Key tables name every key a mapping may hold (unknown keys get "did you mean"; the JSON Schema is
built from the same tables); reading each value is kbvideo.storyboard.fields' job.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from kbvideo.errors import SpecError, excerpt
from kbvideo.i18n import _
from kbvideo.storyboard.fields import ID_PATTERN, Skip
from kbvideo.storyboard.nodes import YNode
from kbvideo.storyboard.model import Kampung, Music, Output, Scene, Storyboard, TransitionSpec
from kbvideo.storyboard.shots import CARD_KEYS, CHART_KEYS, CHART_STYLES, SHOT_KEYS, ShotReader  # noqa: F401
from kbvideo.storyboard.texts import (  # noqa: F401  (key tables: the JSON Schema reads them all here)
    CAPTION_FILE_KEYS,
    CAPTION_KEYS,
    FROM_NARRATION,
    LOWER_THIRD_KEYS,
    MOTION_KEYS,
    NARRATION_KEYS,
    RATE_RANGE,
    TITLE_KEYS,
    TextReader,
)
from kbvideo.timecode import Time, parse_fps
from kbvideo.vocab import FAMILY_FUNCTIONS, FITS, TOPICS, TRANSITIONS
from kbvideo.vocab.effects import TEXT_MOTION, TEXT_MOTION_FRAMES, TEXT_MOTIONS, TRANSITION  # noqa: F401

SCHEMA_VERSION = 1
FPS_ALLOWED = (Fraction(24), Fraction(25), Fraction(30), Fraction(30000, 1001), Fraction(50), Fraction(60))
CATEGORIES = ("kota", "kabupaten")

TOP_KEYS = ("schema_version", "extends", "kampung", "output", "defaults", "vars", "music", "poster", "scenes")
POSTER_KEYS = ("at",)
# extends: resolved (merged) by kbvideo.storyboard.template before parsing; ignored here.
KAMPUNG_KEYS = ("name", "desa", "kelurahan", "kecamatan", "kota", "kabupaten", "provinsi", "category", "year")
OUTPUT_KEYS = ("size", "fps", "rules")
DEFAULT_KEYS = ("fit", "fill", "transition", "clip_volume", "title_duration", "lower_third_duration",
                "narration_rate", "captions", "text_motion")
MUSIC_KEYS = ("file", "volume", "duck")
SCENE_KEYS = ("id", "topic", "functions", "title", "shots", "captions", "lower_thirds", "narration", "transition")
TRANSITION_KEYS = ("type", "duration")


class StoryboardParser(ShotReader, TextReader):
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
            text_motion=dict(defaults.get("text_motion", {})),
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
            elif key == "text_motion":
                out[key] = self.collect(self.text_motions, value)
            else:
                out[key] = self.collect(self.time, value, f"defaults.{key}", True)
        return {k: v for k, v in out.items() if v is not None}

    def text_motions(self, node: YNode) -> dict[str, tuple[str, int | None]]:
        """defaults.text_motion: {caption: fade, title: fade, lower_third: slide} — each like an element's motion."""
        fields = self.mapping(node, tuple(TEXT_MOTION), "defaults.text_motion")
        out = {}
        for kind, value in fields.items():
            motion = self.collect(self.text_motion, value, f"defaults.text_motion.{kind}")
            if motion is not None:
                out[kind] = motion
        return out

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


