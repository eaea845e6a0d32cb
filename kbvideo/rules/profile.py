"""Contest rules are data: a rules profile is a YAML file, built in or the user's own.

`load_profile("lomba-kampung-kb-2025")` reads the built-in profile of that name;
`load_profile("my-rules.yaml")` reads a file. Unknown keys and wrong types are SpecErrors
with line numbers, like storyboards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

from kbvideo.errors import Problem, SpecError, UsageError
from kbvideo.storyboard.load import load_yaml_text, to_python

DEFAULT_PROFILE = "lomba-kampung-kb-2025"


@dataclass(frozen=True, slots=True)
class Loudness:
    target: float = -14.0
    tolerance: float = 1.0
    true_peak_max: float = -1.0


@dataclass(frozen=True, slots=True)
class RulesProfile:
    name: str
    title: str
    source: str  # "builtin" or a file path
    duration_max: float | None = 180.0
    duration_min: float | None = None
    duration_min_severity: str = "warning"
    width: int | None = 1920
    height: int | None = 1080
    fps: tuple[Fraction, ...] = ()
    video_codec: str | None = "h264"
    video_profiles: tuple[str, ...] = ()
    pix_fmt: str | None = "yuv420p"
    interlaced_ok: bool = False
    sdr_only: bool = True
    audio_required: bool = True
    audio_codec: str | None = "aac"
    sample_rate: int | None = 48000
    channels: int | None = 2
    loudness: Loudness | None = field(default_factory=Loudness)
    topics_required: tuple[str, ...] = ()
    topics_recommended: tuple[str, ...] = ()
    family_functions_all: str | None = "warning"  # severity when not all eight are shown, or None
    caption_max_cps: float = 17.0
    caption_min_duration: float = 5 / 6
    caption_max_duration: float = 7.0
    caption_max_lines: int = 2
    caption_max_chars_per_line: int = 42
    caption_min_gap_frames: int = 2
    narration_scratch_final: str | None = "warning"  # severity of a final render with scratch narration
    narration_pace_cps: float = 13.0  # a normal narration pace, characters per second
    narration_mismatch_ratio: float = 1.5  # recording this many times longer/shorter than its text: warned
    max_black_start: float | None = 2.0
    max_black_end: float | None = 3.0
    max_silence_start: float | None = 3.0
    max_silence_end: float | None = 5.0
    max_freeze: float | None = 8.0
    container: str | None = "mp4"
    faststart: bool = True
    max_file_size_mb: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.raw)


# section -> key -> (attribute, converter)
def _fps_list(value: Any) -> tuple[Fraction, ...]:
    return tuple(Fraction(str(v)) for v in value)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _severity(value: Any) -> str | None:
    if value in (None, False, "off"):
        return None
    if value not in ("error", "warning", "info"):
        raise ValueError("must be error, warning, info or null")
    return str(value)


_FIELDS: dict[str, dict[str, tuple[str, Any]]] = {
    "duration": {
        "max": ("duration_max", _opt_float),
        "min": ("duration_min", _opt_float),
        "min_severity": ("duration_min_severity", _severity),
    },
    "video": {
        "width": ("width", int),
        "height": ("height", int),
        "fps": ("fps", _fps_list),
        "codec": ("video_codec", str),
        "profiles": ("video_profiles", tuple),
        "pix_fmt": ("pix_fmt", str),
        "interlaced": ("interlaced_ok", bool),
        "sdr_only": ("sdr_only", bool),
    },
    "audio": {
        "required": ("audio_required", bool),
        "codec": ("audio_codec", str),
        "sample_rate": ("sample_rate", int),
        "channels": ("channels", int),
        "loudness": ("loudness", lambda v: None if v is None else Loudness(**{k: float(x) for k, x in v.items()})),
    },
    "topics": {
        "required": ("topics_required", tuple),
        "recommended": ("topics_recommended", tuple),
    },
    "family_functions": {"all_eight": ("family_functions_all", _severity)},
    "captions": {
        "max_cps": ("caption_max_cps", float),
        "min_duration": ("caption_min_duration", float),
        "max_duration": ("caption_max_duration", float),
        "max_lines": ("caption_max_lines", int),
        "max_chars_per_line": ("caption_max_chars_per_line", int),
        "min_gap_frames": ("caption_min_gap_frames", int),
    },
    "narration": {
        "scratch_final": ("narration_scratch_final", _severity),
        "pace_cps": ("narration_pace_cps", float),
        "mismatch_ratio": ("narration_mismatch_ratio", float),
    },
    "content": {
        "max_black_start": ("max_black_start", _opt_float),
        "max_black_end": ("max_black_end", _opt_float),
        "max_silence_start": ("max_silence_start", _opt_float),
        "max_silence_end": ("max_silence_end", _opt_float),
        "max_freeze": ("max_freeze", _opt_float),
    },
    "delivery": {
        "container": ("container", str),
        "faststart": ("faststart", bool),
        "max_file_size_mb": ("max_file_size_mb", _opt_float),
    },
}


def builtin_profiles() -> list[str]:
    folder = resources.files("kbvideo.rules") / "profiles"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def read_profile_text(name_or_path: str) -> tuple[str, str]:
    """Return (text, source label) for a builtin profile name or a file path."""
    if name_or_path in builtin_profiles():
        ref = resources.files("kbvideo.rules") / "profiles" / f"{name_or_path}.yaml"
        return ref.read_text(encoding="utf-8"), f"builtin:{name_or_path}"
    path = Path(name_or_path)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise UsageError(f"rules file not found: {name_or_path}", hint="give a built-in profile name or a YAML file")
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read rules file {name_or_path}: {exc}") from exc
    known = ", ".join(builtin_profiles())
    raise UsageError(f"unknown rules profile '{name_or_path}'", hint=f"built-in profiles: {known}; or give a .yaml file")


def load_profile(name_or_path: str | None = None) -> RulesProfile:
    name_or_path = name_or_path or DEFAULT_PROFILE
    text, source = read_profile_text(name_or_path)
    label = source if not source.startswith("builtin:") else f"<{source}>"
    root = load_yaml_text(text, label)
    problems: list[Problem] = []
    if root.kind != "map":
        raise SpecError(root.problem(label, "a rules profile must be a mapping"))
    kwargs: dict[str, Any] = {}
    for key, (key_node, value_node) in root.value.items():
        if key in ("name", "title"):
            kwargs[key] = str(value_node.value)
            continue
        table = _FIELDS.get(key)
        if table is None:
            problems.append(key_node.problem(label, f"unknown section '{key}'", hint="sections: name, title, " + ", ".join(_FIELDS)))
            continue
        if value_node.kind != "map":
            problems.append(value_node.problem(label, f"'{key}' must be a mapping"))
            continue
        for sub, (sub_key_node, sub_value_node) in value_node.value.items():
            if sub not in table:
                problems.append(sub_key_node.problem(label, f"unknown key '{key}.{sub}'", hint="known: " + ", ".join(table)))
                continue
            attr, convert = table[sub]
            try:
                kwargs[attr] = convert(to_python(sub_value_node))
            except (TypeError, ValueError) as exc:
                problems.append(sub_value_node.problem(label, f"'{key}.{sub}': {exc}"))
    if problems:
        raise SpecError(problems)
    kwargs.setdefault("name", Path(name_or_path).stem)
    kwargs.setdefault("title", kwargs["name"])
    return RulesProfile(source=source, raw=to_python(root), **kwargs)
