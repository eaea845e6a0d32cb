"""The parsed storyboard: frozen dataclasses, positions kept for later messages.

Times are `Time` values as written (seconds or frames); the timeline resolver turns them into
frames at the output rate. Paths are absolute, already checked to stay inside the project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from kbvideo.errors import Loc, Problem
from kbvideo.timecode import Time
from kbvideo.vocab import Chart


@dataclass(frozen=True, slots=True)
class Kampung:
    name: str
    kelurahan: str | None = None
    kecamatan: str | None = None
    kota: str | None = None
    kabupaten: str | None = None
    provinsi: str | None = None
    category: str = "kota"
    year: int | None = None
    desa: str | None = None

    @property
    def village(self) -> str:
        """"Desa Sukamaju" or "Kelurahan Jenggot" (the word is not doubled if the name already has it)."""
        word, name = ("Desa", self.desa) if self.desa else ("Kelurahan", self.kelurahan)
        if not name:
            return ""
        return name if name.lower().startswith(word.lower() + " ") else f"{word} {name}"

    @property
    def village_name(self) -> str:
        """The desa's or kelurahan's name without the word ("Desa Contoh Dua" → "Contoh Dua")."""
        name = self.desa or self.kelurahan or ""
        for word in ("desa ", "kelurahan "):
            if name.lower().startswith(word):
                return name[len(word):]
        return name

    @property
    def head(self) -> str:
        """Who leads it: "Kepala Desa Sukamaju" or "Lurah Jenggot"."""
        if not (self.desa or self.kelurahan):
            return ""
        return f"{'Kepala Desa' if self.desa else 'Lurah'} {self.village_name}"

    def fields(self, derived: bool = False) -> dict[str, str]:
        """Placeholders usable in text: {kampung.name}, {kampung.kelurahan}, ...; with `derived`, also
        {kampung.village} ("Desa X"/"Kelurahan X"), {kampung.village_name} and {kampung.head}."""
        out: dict[str, str] = {}
        for key in ("name", "desa", "kelurahan", "kecamatan", "kota", "kabupaten", "provinsi", "category", "year"):
            value = getattr(self, key)
            if key != "desa" or value is not None:
                out[f"kampung.{key}"] = "" if value is None else str(value)
        out["kampung.region"] = self.kota or self.kabupaten or ""
        if derived:
            out["kampung.desa"] = self.desa or ""
            out["kampung.village"] = self.village
            out["kampung.village_name"] = self.village_name
            out["kampung.head"] = self.head
        return out


@dataclass(frozen=True, slots=True)
class Output:
    width: int = 1920
    height: int = 1080
    fps: Fraction = Fraction(30)
    rules: str | None = None


@dataclass(frozen=True, slots=True)
class Music:
    file: Path
    volume: float
    duck: bool
    loc: Loc


@dataclass(frozen=True, slots=True)
class ShotSpec:
    kind: str  # clip | still | card | chart
    loc: Loc
    source: Path | None = None
    source_loc: Loc | None = None
    in_point: Time | None = None
    out_point: Time | None = None
    out_loc: Loc | None = None
    duration: Time | None = None
    volume: float = 1.0
    fit: str = "contain"
    fill: str = "blur"
    motion: str = "none"
    color: str = "#0b5d3b"
    title: str | None = None
    subtitle: str | None = None
    chart: Chart | None = None


@dataclass(frozen=True, slots=True)
class TimedText:
    text: str
    loc: Loc
    at: Time | None = None  # None: spread evenly over the scene (captions)
    duration: Time | None = None
    subtext: str | None = None  # lower third role
    motion: tuple[str, int | None] | None = None  # motion: (fade|slide|none, frames or None: the kind's default)


@dataclass(frozen=True, slots=True)
class NarrationSpec:
    file: Path | None  # a recording; None: the text is spoken by the scratch voice
    loc: Loc
    at: Time = Time(seconds=Fraction(0))
    volume: float = 1.0
    text: str | None = None  # the words as said (Indonesian): spoken by the scratch voice, or aligned to the file
    rate: int | None = None  # scratch voice speed in words per minute (None: the default)


@dataclass(frozen=True, slots=True)
class TransitionSpec:
    kind: str = "cut"
    duration: Time = Time(seconds=Fraction(0))
    loc: Loc | None = None


@dataclass(frozen=True, slots=True)
class Scene:
    id: str
    topic: str
    loc: Loc
    functions: tuple[str, ...] = ()
    title: TimedText | None = None
    shots: tuple[ShotSpec, ...] = ()
    captions: tuple[TimedText, ...] = ()
    lower_thirds: tuple[TimedText, ...] = ()
    narration: NarrationSpec | None = None
    transition: TransitionSpec = TransitionSpec()
    captions_from_narration: bool = False  # `captions: from_narration`: cues split from the narration text


@dataclass(frozen=True, slots=True)
class Storyboard:
    path: Path
    project_root: Path
    kampung: Kampung
    output: Output
    scenes: tuple[Scene, ...]
    music: Music | None = None
    poster_at: Time | None = None  # poster frame's time; None: the title card (kbvideo.render picks)
    schema_version: int = 1
    warnings: tuple[Problem, ...] = field(default=(), compare=False)
    caption_files: tuple[Path, ...] = field(default=(), compare=False)  # captions: {srt: ...} files read
    text_motion: dict[str, tuple[str, int | None]] = field(default_factory=dict)  # defaults.text_motion per kind

    def media_paths(self) -> tuple[Path, ...]:
        paths: list[Path] = []
        for scene in self.scenes:
            paths += [shot.source for shot in scene.shots if shot.source is not None]
            if scene.narration and scene.narration.file:
                paths.append(scene.narration.file)
        if self.music:
            paths.append(self.music.file)
        return tuple(dict.fromkeys(paths))

    def media_refs(self) -> dict[Path, Loc]:
        """Each media path with the first place that refers to it."""
        refs: dict[Path, Loc] = {}
        for scene in self.scenes:
            for shot in scene.shots:
                if shot.source is not None:
                    refs.setdefault(shot.source, shot.source_loc or shot.loc)
            if scene.narration and scene.narration.file:
                refs.setdefault(scene.narration.file, scene.narration.loc)
        if self.music:
            refs.setdefault(self.music.file, self.music.loc)
        return refs
