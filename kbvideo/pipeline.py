"""The stages in order: load → parse → probe → resolve → check. Each stage is its own module;
this file only strings them together for the commands (plan, validate, render, batch)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from kbvideo.errors import MediaError, Problem, SpecError, UsageError, excerpt
from kbvideo.i18n import _
from kbvideo.media.cache import ProbeCache
from kbvideo.media.probe import MediaInfo, probe_all
from kbvideo.render.painters import check_motion_shot
from kbvideo.rules.contest import check_timeline
from kbvideo.rules.findings import Finding
from kbvideo.rules.narration import check_narration
from kbvideo.rules.profile import RulesProfile, load_profile
from kbvideo.speech.cues import CueLimits
from kbvideo.speech.model import Speech
from kbvideo.speech.narration import narration_speech
from kbvideo.storyboard.model import Storyboard
from kbvideo.storyboard.template import find_project_root, load_storyboard_node
from kbvideo.storyboard.validate import parse_storyboard
from kbvideo.timeline.model import Timeline
from kbvideo.timeline.resolve import resolve_timeline

CACHE_DIR_NAME = ".kbvideo-cache"


@dataclass(slots=True)
class Plan:
    storyboard_path: Path
    project_root: Path
    board: Storyboard
    media: dict[str, MediaInfo]
    timeline: Timeline
    profile: RulesProfile
    findings: list[Finding] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    speech: dict[str, Speech] = field(default_factory=dict)  # scene id → narration speech (text narrations)


def cache_dir(project_root: Path) -> Path:
    configured = os.environ.get("KBVIDEO_CACHE_DIR")
    return Path(configured) if configured else project_root / CACHE_DIR_NAME


def probe_storyboard_media(board: Storyboard, cache: ProbeCache | None) -> dict[str, MediaInfo]:
    """Probe every referenced file once; every broken file is reported at the line that uses it."""
    refs = {str(path): loc for path, loc in board.media_refs().items()}
    errors: dict[str, MediaError] = {}
    media = probe_all(refs, cache=cache, errors=errors)
    if errors:
        raise SpecError([refs[path].problem(exc.message, exc.hint) for path, exc in errors.items()])
    return media


def storyboard_rules(board: Storyboard) -> str | None:
    """A rules file named in a storyboard is relative to the storyboard's folder, like its assets."""
    name = board.output.rules
    if name and (name.endswith((".yaml", ".yml")) or "/" in name):
        return str((board.path.parent / name).resolve())
    return name


def _sound_seconds(info: MediaInfo | None) -> float | None:
    if info is None or not info.audio:
        return None
    return info.audio[0].duration or info.duration


def cue_limits(profile: RulesProfile) -> CueLimits:
    return CueLimits(profile.caption_max_chars_per_line, profile.caption_max_lines, profile.caption_max_cps,
                     profile.caption_min_duration, profile.caption_max_duration, profile.caption_min_gap_frames)


def prepare_speech(board: Storyboard, media: dict[str, MediaInfo], cache: ProbeCache | None) -> dict[str, Speech]:
    """Speak text narrations with the scratch voice and align recordings to their text; the scratch
    WAVs are probed into `media` like any other source."""
    speech = narration_speech(board, lambda path: _sound_seconds(media.get(path)),
                              cache_dir(board.project_root) / "speech")
    scratch = [s.source for s in speech.values() if s.scratch]
    if scratch:
        media.update(probe_all(scratch, cache=cache))
    return speech


def plan_board(board: Storyboard, *, rules: str | None = None, use_cache: bool = True) -> Plan:
    """Probe, resolve and check a parsed storyboard (from a file, or a template filled by a roster row)."""
    cache = ProbeCache(cache_dir(board.project_root) / "probe") if use_cache else None
    media = probe_storyboard_media(board, cache)
    speech = prepare_speech(board, media, cache)
    profile = load_profile(rules or storyboard_rules(board))
    timeline = resolve_timeline(board, media, speech, cue_limits(profile),
                                max_caption_seconds=profile.caption_max_duration)
    findings = (check_timeline(timeline, profile, painted=check_motion_shot)
                + check_narration(board, speech, timeline, profile))
    return Plan(board.path, board.project_root, board, media, timeline, profile, findings, list(board.warnings),
                speech)


def _project_folder(root: str | Path) -> Path:
    """--root as an absolute folder; a symlink loop or an impossible name is a usage error, not a traceback."""
    try:
        folder = Path(root).resolve()
        usable = folder.is_dir()
    except (OSError, RuntimeError, ValueError):
        usable = False
    if not usable:
        raise UsageError(_("--root {path} is not a folder").format(path=excerpt(root, 200)),
                         hint=_("give the project folder, the one holding storyboards/ and assets/"))
    return folder


def plan_storyboard(path: str | Path, *, rules: str | None = None, root: str | Path | None = None,
                    allow_outside: bool = False, use_cache: bool = True,
                    variables: dict[str, str] | None = None) -> Plan:
    """Load, parse, probe, resolve and check one storyboard. Raises SpecError on any input problem.

    `extends:` templates are merged in first; `variables` fill {vars.NAME} (and win over `vars:`)."""
    path = Path(path)
    project_root = _project_folder(root) if root else find_project_root(path)
    node = load_storyboard_node(path, project_root=project_root, allow_outside=allow_outside)
    board = parse_storyboard(node, path, project_root, label=str(path), allow_outside=allow_outside,
                             variables=variables)
    plan = plan_board(board, rules=rules, use_cache=use_cache)
    plan.storyboard_path = path
    return plan
