"""The effects a storyboard can name, one small class each: shot kinds, transitions and motions.

Validation (kbvideo/storyboard/validate.py), the JSON Schema (storyboard/schema.py), the resolver
(timeline/resolve.py) and the graph builder (render/graph.py) all read these registries; none of
them keeps a list of kinds of its own. Adding a wipe is one class here, and its test:

    @register_transition
    class WipeLeft(XFade):
        name, xfade = "wipe_left", "wipeleft"

The registration order is the order `kbvideo schema` and "did you mean" list them in.

Graph fragments receive the graph builder (kbvideo.render.graph.SegmentGraph) as `graph` and use
its small public surface only: `label(prefix)`, `add(filter)`, `restamp`, `fps`, `seconds(frames)`
and the piece builders (`video_piece`, `still_piece`, `painted_piece`). This module imports nothing
of kbvideo: it sits below `storyboard` and `timeline`, which both read it.
"""

from __future__ import annotations

from typing import Any, ClassVar

# ------------------------------------------------------------------------------------ shot kinds

class Value:
    """The type of each value a shot may hold: the validator reads (validate.StoryboardParser.shot_value)
    and the schema describes (schema._shot_value_schemas) each type in one place."""

    ASSET, TIME, VOLUME, FIT, FILL = "asset", "time", "volume", "fit", "fill"
    MOTION, COLOUR, TEXT, CARD, CHART = "motion", "colour", "text", "card", "chart"


class ShotKind:
    """One kind of picture on the video track."""

    name: ClassVar[str]
    keys: ClassVar[dict[str, str]]  # key → value type, in the order the schema lists them
    source: ClassVar[str | None] = None  # the kind of media file it shows ("video", "image"), if any
    needs_duration: ClassVar[bool] = True  # a clip's length can come from its file instead
    painted: ClassVar[bool] = False  # drawn by a painter (its text is laid out and checked before rendering)
    needs_title: ClassVar[bool] = False
    either_or: ClassVar[tuple[str, ...]] = ()  # keys that may not be written together

    def draw(self, graph: Any, shot: Any, offset: int, count: int, assets: Any) -> str:
        """Filters drawing `count` frames of `shot` from frame `offset` of it; returns the output label."""
        raise NotImplementedError


SHOT_KIND: dict[str, ShotKind] = {}


def register_shot_kind(cls: type[ShotKind]) -> type[ShotKind]:
    SHOT_KIND[cls.name] = cls()
    return cls


@register_shot_kind
class Clip(ShotKind):
    """A piece of a video file, from `in` for `duration` (or up to `out`, or to its end)."""

    name = "clip"
    keys = {"clip": Value.ASSET, "in": Value.TIME, "out": Value.TIME, "duration": Value.TIME, "volume": Value.VOLUME, "fit": Value.FIT, "fill": Value.FILL}
    source = "video"
    needs_duration = False
    either_or = ("out", "duration")

    def draw(self, graph, shot, offset, count, assets):
        return graph.clip_piece(assets.clip, shot.source, shot.source_in + offset, count, shot.fit, shot.fill)


@register_shot_kind
class Still(ShotKind):
    """A photo held for `duration`, optionally moving (see the motions below)."""

    name = "still"
    keys = {"still": Value.ASSET, "duration": Value.TIME, "motion": Value.MOTION, "fit": Value.FIT, "fill": Value.FILL}
    source = "image"

    def draw(self, graph, shot, offset, count, assets):
        return graph.still_piece(assets.still(shot), offset, count, shot.duration, shot.motion)


class Painted(ShotKind):
    """Drawn frame by frame by a painter (kbvideo.render.painters), encoded once and cached."""

    painted = True

    def draw(self, graph, shot, offset, count, assets):
        return graph.painted_piece(assets.motion(shot), offset, count, shot.duration)


@register_shot_kind
class Card(Painted):
    """A title card: big text (and a subtitle) on a colour."""

    name = "card"
    keys = {"card": Value.CARD, "duration": Value.TIME, "color": Value.COLOUR, "title": Value.TEXT, "subtitle": Value.TEXT}
    needs_title = True


@register_shot_kind
class ChartShot(Painted):
    """An animated chart: bars growing, figures counting."""

    name = "chart"
    keys = {"chart": Value.CHART, "duration": Value.TIME, "color": Value.COLOUR}


# ------------------------------------------------------------------------------------ transitions


class Transition:
    """A way from one scene into the next."""

    name: ClassVar[str]
    overlaps: ClassVar[bool] = True  # the scenes overlap for its duration (a cut takes no time)

    def blend(self, graph: Any, first: str, second: str, frames: int) -> str:
        """Filters blending layer [first] into [second] over exactly `frames` frames; returns the label."""
        raise NotImplementedError


TRANSITION: dict[str, Transition] = {}


def register_transition(cls: type[Transition]) -> type[Transition]:
    TRANSITION[cls.name] = cls()
    return cls


@register_transition
class Cut(Transition):
    name = "cut"
    overlaps = False


class XFade(Transition):
    """A transition ffmpeg's `xfade` filter draws, by its name there."""

    xfade: ClassVar[str]

    def blend(self, graph, first, second, frames):
        a, b, out = graph.label("xa"), graph.label("xb"), graph.label("x")
        graph.add(f"[{first}]fps={graph.fps}[{a}]")
        graph.add(f"[{second}]fps={graph.fps}[{b}]")
        graph.add(f"[{a}][{b}]xfade=transition={self.xfade}:duration={graph.seconds(frames)}:offset=0,"
                  f"trim=end_frame={frames},{graph.restamp}[{out}]")
        return out


@register_transition
class Crossfade(XFade):
    name, xfade = "crossfade", "fade"


@register_transition
class FadeBlack(Transition):
    """Down to black and up again, symmetric around one black frame: 1, (d-1)/d … 1/d, 0, 1/d …
    (d-1)/d, 1 with d = frames // 2 (ffmpeg's fade out starts at full level, its fade in at black;
    an odd count ends on a full frame)."""

    name = "fade_black"

    def blend(self, graph, first, second, frames):
        a, b, out = graph.label("xa"), graph.label("xb"), graph.label("x")
        down = max(1, frames // 2)
        graph.add(f"[{first}]trim=end_frame={down},{graph.restamp},fade=t=out:start_frame=0:nb_frames={down}[{a}]")
        graph.add(f"[{second}]trim=start_frame={down},{graph.restamp},fade=t=in:start_frame=0:nb_frames={down}[{b}]")
        graph.add(f"[{a}][{b}]concat=n=2:v=1:a=0,{graph.restamp}[{out}]")
        return out


@register_transition
class WipeLeft(XFade):
    name, xfade = "wipe_left", "wipeleft"


@register_transition
class WipeRight(XFade):
    name, xfade = "wipe_right", "wiperight"


@register_transition
class WipeUp(XFade):
    name, xfade = "wipe_up", "wipeup"


@register_transition
class WipeDown(XFade):
    name, xfade = "wipe_down", "wipedown"


@register_transition
class SlideLeft(XFade):
    name, xfade = "slide_left", "slideleft"


@register_transition
class SlideRight(XFade):
    name, xfade = "slide_right", "slideright"


@register_transition
class CircleOpen(XFade):
    name, xfade = "circle_open", "circleopen"


@register_transition
class CircleClose(XFade):
    name, xfade = "circle_close", "circleclose"


# ------------------------------------------------------------------------------------ motions


class Motion:
    """How a still moves inside its frame (Ken Burns), as ffmpeg expressions of the eased progress."""

    name: ClassVar[str]
    moves: ClassVar[bool] = True

    def view(self, width: float, height: float, zoom: float, ease: str) -> tuple[str, str, str]:
        """(zoom, centre x, centre y) of the view over a `width` x `height` picture; `zoom` is the
        largest magnification, `ease` the progress expression (0 → 1)."""
        raise NotImplementedError


MOTION: dict[str, Motion] = {}


def register_motion(cls: type[Motion]) -> type[Motion]:
    MOTION[cls.name] = cls()
    return cls


@register_motion
class NoMotion(Motion):
    name = "none"
    moves = False


@register_motion
class ZoomIn(Motion):
    name = "zoom_in"

    def view(self, width, height, zoom, ease):
        return f"(1+{zoom - 1:.6f}*{ease})", f"{width / 2}", f"{height / 2}"


@register_motion
class ZoomOut(Motion):
    name = "zoom_out"

    def view(self, width, height, zoom, ease):
        return f"({zoom:.6f}-{zoom - 1:.6f}*{ease})", f"{width / 2}", f"{height / 2}"


class Pan(Motion):
    """The view travels across the picture, magnified."""

    direction: ClassVar[int]  # -1: to the left, +1: to the right

    def view(self, width, height, zoom, ease):
        room = width / 2 - width / (2 * zoom)
        sign = "+" if self.direction > 0 else "-"
        return f"{zoom:.6f}", f"({width / 2 - self.direction * room:.4f}{sign}{2 * room:.4f}*{ease})", f"{height / 2}"


@register_motion
class PanLeft(Pan):
    name, direction = "pan_left", -1


@register_motion
class PanRight(Pan):
    name, direction = "pan_right", 1


SHOT_KINDS = tuple(SHOT_KIND)
TRANSITIONS = tuple(TRANSITION)
MOTIONS = tuple(MOTION)


# Text motions, kept apart from the shots' Ken Burns motions above: how titles, lower thirds
# and captions come in and go out. TEXT_MOTION: the default per kind, its frames counted at 30 fps (scaled to the
# output rate); `frames:` in a storyboard counts at the output rate.
TEXT_MOTIONS = ("fade", "slide", "none")
TEXT_MOTION = {"caption": ("fade", 6), "title": ("fade", 10), "lower_third": ("slide", 10)}
TEXT_MOTION_FRAMES = (0, 30)  # frames: allowed in a storyboard


def text_motion(item, fps) -> tuple[str, int]:
    """(fade | slide | none, frames) a text item comes in with and goes out with, at the output rate `fps`:
    its resolved motion, else its kind's default (a timeline written before text motions); never more
    than a third of the item. Between the two it stands still."""
    if item.motion is not None:  # resolved from the storyboard (kbvideo.timeline.resolve)
        kind, frames = item.motion
    else:
        kind, frames = TEXT_MOTION.get(item.kind, ("none", 0))
        frames = round(frames * fps / 30)
    return kind, 0 if kind == "none" else min(max(0, frames), item.duration // 3)
