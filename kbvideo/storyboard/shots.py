"""Reading a scene's shots: which kind (kbvideo.vocab.effects), its keys and each value by its type,
a title card's text and an animated chart's data. Part of the storyboard parser
(kbvideo.storyboard.validate.StoryboardParser mixes it in)."""

from __future__ import annotations

import dataclasses
from typing import Any

from kbvideo.errors import excerpt
from kbvideo.i18n import _
from kbvideo.storyboard.fields import FieldReader, Skip, did_you_mean
from kbvideo.storyboard.nodes import YNode
from kbvideo.storyboard.model import ShotSpec
from kbvideo.vocab import FITS, MOTIONS, SHOT_KINDS, Chart
from kbvideo.vocab.effects import SHOT_KIND, Value

CHART_STYLES = ("bars", "countdown")
SHOT_KEYS = {name: tuple(kind.keys) for name, kind in SHOT_KIND.items()}  # from the registry (vocab.effects)
TIME_ARGS = {"in": "in_point", "out": "out_point", "duration": "duration"}  # time keys → ShotSpec fields
CARD_KEYS = ("title", "subtitle", "color")
CHART_KEYS = ("title", "unit", "style", "data")


class ShotReader(FieldReader):
    """The shots of a scene."""

    def fill(self, node: YNode, what: str) -> str:
        raw = self.scalar(node, what).strip()
        if raw.lower() == "blur":
            return "blur"
        if raw.lower() == "black":
            return "#000000"
        return self.colour(node, what)

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
