"""Contest rules are data: a rules profile is a YAML file, built in or the user's own.

`load_profile("lomba-kampung-kb-2025")` reads the built-in profile of that name;
`load_profile("my-rules.yaml")` reads a file. Unknown keys and wrong types are SpecErrors
with line numbers, like storyboards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

from kbvideo.errors import Problem, SpecError, UsageError, excerpt
from kbvideo.i18n import _
from kbvideo.storyboard.load import load_yaml_text
from kbvideo.storyboard.nodes import to_python
from kbvideo.storyboard.read import read_text

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
    loudness_range_max: float | None = 10.0  # LU (EBU R128 LRA) of the whole programme
    master_crf: int = 18  # x264 constant quality of the final master (YouTube re-encodes: give it detail)
    master_preset: str = "veryfast"
    master_maxrate: str | None = "16M"  # peak cap (with bufsize): keeps the file sane on noisy footage
    master_bufsize: str | None = "32M"
    master_audio_bitrate: str = "320k"  # AAC-LC stereo; YouTube recommends 384k, 256k at the least
    master_fade_in: float = 0.5  # seconds up from black (picture and sound) at the start; 0 = none
    master_fade_out: float = 1.0  # seconds down to black at the end
    mix_duck_db: float = -12.0  # music bed under narration, relative to its written volume
    mix_duck_attack: float = 0.3  # seconds the bed takes to go down before narration starts
    mix_duck_release: float = 0.8  # seconds it takes to come back up after narration ends
    mix_clip_duck_db: float = -6.0  # clip (location) sound under narration
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.raw)


# section -> key -> (attribute, converter)
def _finite(value: Any) -> float:
    """A number that is one: NaN passes every range check (`not nan < 0`), so it and ±infinity are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(_("must be a number"))
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise ValueError(_("must be a number, not '{value}'").format(value=excerpt(value))) from None
    if not math.isfinite(number):
        raise ValueError(_("must be a finite number, not '{value}' (NaN and infinity are not limits)").format(
            value=excerpt(value)))
    return number


def _whole(value: Any) -> int:
    number = _finite(value)
    if number != int(number):
        raise ValueError(_("must be a whole number, not '{value}'").format(value=excerpt(value)))
    return int(number)


def _fps_list(value: Any) -> tuple[Fraction, ...]:
    if not isinstance(value, list):
        raise ValueError(_("must be a list of frame rates, e.g. [25, 30]"))
    rates = []
    for item in value:
        text = str(item)
        if len(text) > 30:
            raise ValueError(_("'{value}' is not a frame rate").format(value=excerpt(text)))
        try:
            rate = Fraction(text)
        except (ValueError, ZeroDivisionError):
            raise ValueError(_("'{value}' is not a frame rate").format(value=excerpt(text))) from None
        if rate <= 0:
            raise ValueError(_("'{value}' is not a frame rate").format(value=excerpt(text)))
        rates.append(rate)
    return tuple(rates)


def _opt_float(value: Any) -> float | None:
    return None if value is None else _finite(value)


def _loudness(value: Any) -> Loudness | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError(_("must be a mapping with target, tolerance and true_peak_max"))
    return Loudness(**{k: _finite(x) for k, x in value.items()})


def _severity(value: Any) -> str | None:
    if value in (None, False, "off"):
        return None
    if value not in ("error", "warning", "info"):
        raise ValueError(_("must be error, warning, info or null"))
    return str(value)


_FIELDS: dict[str, dict[str, tuple[str, Any]]] = {
    "duration": {
        "max": ("duration_max", _opt_float),
        "min": ("duration_min", _opt_float),
        "min_severity": ("duration_min_severity", _severity),
    },
    "video": {
        "width": ("width", _whole),
        "height": ("height", _whole),
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
        "sample_rate": ("sample_rate", _whole),
        "channels": ("channels", _whole),
        "loudness": ("loudness", _loudness),
        "loudness_range_max": ("loudness_range_max", _opt_float),
    },
    "topics": {
        "required": ("topics_required", tuple),
        "recommended": ("topics_recommended", tuple),
    },
    "family_functions": {"all_eight": ("family_functions_all", _severity)},
    "captions": {
        "max_cps": ("caption_max_cps", _finite),
        "min_duration": ("caption_min_duration", _finite),
        "max_duration": ("caption_max_duration", _finite),
        "max_lines": ("caption_max_lines", _whole),
        "max_chars_per_line": ("caption_max_chars_per_line", _whole),
        "min_gap_frames": ("caption_min_gap_frames", _whole),
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
    "mix": {
        "duck_db": ("mix_duck_db", float),
        "duck_attack": ("mix_duck_attack", float),
        "duck_release": ("mix_duck_release", float),
        "clip_duck_db": ("mix_clip_duck_db", float),
    },
    "master": {
        "crf": ("master_crf", int),
        "preset": ("master_preset", str),
        "maxrate": ("master_maxrate", lambda v: None if v is None else str(v)),
        "bufsize": ("master_bufsize", lambda v: None if v is None else str(v)),
        "audio_bitrate": ("master_audio_bitrate", str),
        "fade_in": ("master_fade_in", float),
        "fade_out": ("master_fade_out", float),
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
    try:
        exists = path.exists()
    except (OSError, ValueError):
        exists = False
    if path.suffix.lower() in (".yaml", ".yml") or exists:
        try:
            if not path.is_file():
                raise UsageError(_("rules file not found: {name_or_path}").format(name_or_path=excerpt(name_or_path, 200)),
                                 hint=_("give a built-in profile name or a YAML file"))
        except (OSError, ValueError):
            pass  # read_text below names the reason
        return read_text(path, str(path), _("rules file")), str(path)
    known = ", ".join(builtin_profiles())
    raise UsageError(_("unknown rules profile '{name_or_path}'").format(name_or_path=excerpt(name_or_path)), hint=_("built-in profiles: {known}; or give a .yaml file").format(known=known))


def load_profile(name_or_path: str | None = None) -> RulesProfile:
    name_or_path = name_or_path or DEFAULT_PROFILE
    text, source = read_profile_text(name_or_path)
    label = source if not source.startswith("builtin:") else f"<{source}>"
    root = load_yaml_text(text, label)
    problems: list[Problem] = []
    if root.kind != "map":
        raise SpecError(root.problem(label, _("a rules profile must be a mapping")))
    kwargs: dict[str, Any] = {}
    for key, (key_node, value_node) in root.value.items():
        if key in ("name", "title"):
            kwargs[key] = str(value_node.value)
            continue
        table = _FIELDS.get(key)
        if table is None:
            problems.append(key_node.problem(label, _("unknown section '{key}'").format(key=excerpt(key)), hint="sections: name, title, " + ", ".join(_FIELDS)))
            continue
        if value_node.kind != "map":
            problems.append(value_node.problem(label, _("'{key}' must be a mapping").format(key=key)))
            continue
        for sub, (sub_key_node, sub_value_node) in value_node.value.items():
            if sub not in table:
                problems.append(sub_key_node.problem(label, _("unknown key '{key}.{sub}'").format(key=excerpt(key), sub=excerpt(sub)), hint="known: " + ", ".join(table)))
                continue
            attr, convert = table[sub]
            try:
                kwargs[attr] = convert(to_python(sub_value_node))
            except (TypeError, ValueError, AttributeError) as exc:
                problems.append(sub_value_node.problem(label, f"'{key}.{sub}': {excerpt(exc, 200)}"))
    if problems:
        raise SpecError(problems)
    kwargs.setdefault("name", Path(name_or_path).stem)
    kwargs.setdefault("title", kwargs["name"])
    return RulesProfile(source=source, raw=to_python(root), **kwargs)
