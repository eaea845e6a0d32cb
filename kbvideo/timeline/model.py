"""The resolved timeline: everything a renderer needs, in integer frames at a Fraction frame rate.

Times are frames at `Timeline.fps` (no float drift). Scenes follow each other on one video track;
a transition into the next scene overlaps the two (the next scene starts `transition.duration`
frames before the previous one ends), so total = Σ scene lengths − Σ overlaps.

All positions (`start`) are absolute timeline frames. `source_in` of a clip is the first frame to
take from the source, counted at the *output* rate after the source is conformed to it.
Objects are frozen: stages return new objects instead of mutating.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from kbvideo.errors import Loc
from kbvideo.vocab import Chart


@dataclass(frozen=True, slots=True)
class Shot:
    """One picture on the video track, inside one scene, cut on exact frames."""

    kind: str  # one of kbvideo.vocab.SHOT_KINDS
    scene: str
    start: int
    duration: int
    source: str | None = None  # absolute path for clip/still
    source_in: int = 0  # clip: first source frame at the output rate
    fit: str = "contain"  # contain (fill around) | cover (crop)
    fill: str = "blur"  # contain's fill: "blur" or a colour "#rrggbb"
    motion: str = "none"  # stills: Ken Burns motion
    color: str = "#0b5d3b"  # card / chart background
    title: str | None = None  # card: big text (animated in)
    subtitle: str | None = None  # card: smaller text
    chart: Chart | None = None
    where: Loc | None = None  # where the storyboard wrote it, for messages (with the line, for the caret)

    @property
    def end(self) -> int:
        return self.start + self.duration




@dataclass(frozen=True, slots=True)
class TextItem:
    """Text drawn over the picture: a scene title, a lower third or a caption."""

    kind: str  # title | lower_third | caption
    scene: str
    start: int
    duration: int
    text: str  # exact text as written (after {placeholders}); may contain newlines
    subtext: str | None = None  # lower third: role
    where: Loc | None = None
    motion: tuple[str, int] | None = None  # (fade|slide|none, frames in and out); None: TEXT_MOTION's default

    @property
    def end(self) -> int:
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class AudioItem:
    """A piece of sound on the mix: clip sound, narration, or the music bed."""

    kind: str  # clip | narration | music
    source: str
    start: int
    duration: int
    source_in: int = 0  # frames at the output rate into the source
    volume: float = 1.0  # linear gain
    duck: bool = False  # music: lower under narration
    scene: str | None = None
    where: Loc | None = None
    voice: str | None = None  # narration spoken by the scratch voice ("espeak-ng id, 150 wpm"), to be recorded

    @property
    def end(self) -> int:
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class Transition:
    """Between scene `from_scene` and `to_scene`; occupies [start, start + duration)."""

    kind: str  # one of kbvideo.vocab.TRANSITIONS
    from_scene: str
    to_scene: str
    start: int
    duration: int  # 0 for a cut


@dataclass(frozen=True, slots=True)
class SceneSpan:
    id: str
    topic: str
    functions: tuple[str, ...]
    start: int
    duration: int
    where: Loc | None = None

    @property
    def end(self) -> int:
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class Timeline:
    fps: Fraction
    width: int
    height: int
    duration: int  # frames
    scenes: tuple[SceneSpan, ...]
    shots: tuple[Shot, ...]
    texts: tuple[TextItem, ...]
    audio: tuple[AudioItem, ...]
    transitions: tuple[Transition, ...]
    title: str = ""  # the video's title (kampung name)
    rules: str = "lomba-kampung-kb-2025"
    meta: dict = field(default_factory=dict, compare=False)  # kampung fields etc.

    def seconds(self, frames: int) -> float:
        return float(Fraction(frames) / self.fps)

    @property
    def duration_seconds(self) -> float:
        return self.seconds(self.duration)

    def shots_in(self, scene_id: str) -> tuple[Shot, ...]:
        return tuple(s for s in self.shots if s.scene == scene_id)

    def texts_in(self, scene_id: str, kind: str | None = None) -> tuple[TextItem, ...]:
        return tuple(t for t in self.texts if t.scene == scene_id and (kind is None or t.kind == kind))

    def media_paths(self) -> tuple[str, ...]:
        paths = [s.source for s in self.shots if s.source] + [a.source for a in self.audio]
        return tuple(dict.fromkeys(paths))
