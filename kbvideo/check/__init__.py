"""Check finished video files against a rules profile and the delivery norms.

    report = check_output("out/jenggot.mp4", load_profile())
    report.verdict            # "pass" | "warn" | "fail"
    report.findings           # [Finding("duration.max", "error", "3:00.040 is 0.040 s (1 frame) over ...")]
    report.to_dict()          # the shape `kbvideo check --json` prints per file

`check_output` is the check-output stage: `render` (at the end of a render), `batch` (in each
village's worker) and `kbvideo check` all judge a finished file through it, so their verdicts agree.

Stages: probe (header) -> analyze (one ffmpeg decoding pass; audio only with quick=True) -> check_media
(pure rules). A broken file never raises: it becomes a FAIL report with a `file.readable` finding.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from kbvideo.check.analyze import Analysis, AnalysisSettings, Progress, analyze_file, settings_for
from kbvideo.check.rules import RULE_IDS, check_media, playing_duration
from kbvideo.errors import MediaError
from kbvideo.media.probe import MediaInfo, probe
from kbvideo.rules.drafts import profile_for_output
from kbvideo.rules.findings import Finding, verdict
from kbvideo.rules.profile import RulesProfile
from kbvideo.i18n import _

__all__ = ["FileReport", "check_file", "check_output", "find_videos", "VIDEO_SUFFIXES", "RULE_IDS", "Analysis", "analyze_file",
           "check_media"]

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".3gp", ".mts", ".m2ts", ".ts",
                            ".mpg", ".mpeg", ".wmv", ".flv"})


@dataclass(frozen=True, slots=True)
class FileReport:
    path: str
    verdict: str  # "pass" | "warn" | "fail"
    duration: float | None  # seconds as played (decoded), or from the header with quick=True
    size_bytes: int | None
    findings: tuple[Finding, ...]
    quick: bool = False
    info: MediaInfo | None = field(default=None, compare=False, repr=False)
    analysis: Analysis | None = field(default=None, compare=False, repr=False)

    @property
    def rules(self) -> list[str]:
        """Ids of the rules that found something (errors and warnings)."""
        return [f.rule for f in self.findings if f.severity in ("error", "warning")]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "verdict": self.verdict,
            "duration": None if self.duration is None else round(self.duration, 3),
            "size_bytes": self.size_bytes,
            "quick": self.quick,
            "findings": [f.to_dict() for f in self.findings],
        }


def check_output(path: str | Path, profile: RulesProfile, *, timeline=None, draft: bool = False,
                 quick: bool | None = None, progress: Progress | None = None,
                 settings: AnalysisSettings | None = None) -> FileReport:
    """Judge a finished file by `profile`. For a render of `timeline`, a draft is judged at its own
    (small) frame size and, unless `quick` says otherwise, decoded audio only; the scratch narration
    its file is marked with is left to the render, which reports it from the timeline."""
    if timeline is None:
        return check_file(path, profile, quick=quick or False, progress=progress, settings=settings)
    profile = profile_for_output(profile, timeline, draft)
    report = check_file(path, profile, quick=draft if quick is None else quick, progress=progress, settings=settings)
    # the render reports scratch narration from its timeline, with the storyboard's places: not twice
    findings = tuple(f for f in report.findings if f.rule != "narration.scratch")
    return dataclasses.replace(report, findings=findings, verdict=verdict(findings))


def check_file(path: str | Path, profile: RulesProfile, *, quick: bool = False,
               progress: Progress | None = None, settings: AnalysisSettings | None = None) -> FileReport:
    """Probe, decode once (audio only when quick) and apply the rules. Never raises for a broken file."""
    label = str(path)
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        return _unreadable(label, None, _("cannot open: {value}").format(value=exc.strerror or exc), quick)
    if os.path.isdir(path):
        return _unreadable(label, None, _("is a folder, not a file"), quick)
    if size == 0:
        return _unreadable(label, 0, _("empty file (0 bytes)"), quick)
    try:
        info = probe(path)
    except MediaError as exc:
        rule = "file.truncated" if exc.reason == "truncated" else "file.readable"
        return _unreadable(label, size, _reason(exc), quick, rule=rule)
    except Exception as exc:  # noqa: BLE001 - a broken file must not stop the scan
        return _unreadable(label, size, _("cannot read: {kind}: {exc}").format(kind=type(exc).__name__, exc=exc), quick)
    analysis = None
    if info.main_video is not None:
        try:
            analysis = analyze_file(path, info, settings or settings_for(profile), quick=quick, progress=progress)
        except MediaError as exc:
            return _unreadable(label, size, _reason(exc), quick, info)
    findings = tuple(check_media(info, analysis, profile))
    return FileReport(label, verdict(findings), playing_duration(info, analysis), size, findings, quick, info, analysis)


def _reason(exc: MediaError) -> str:
    message = exc.message
    prefix = f"{exc.path}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def _unreadable(label: str, size: int | None, reason: str, quick: bool, info: MediaInfo | None = None, *,
                rule: str = "file.readable") -> FileReport:
    """A FAIL report with one finding. The probe's truncation verdicts keep their own rule id."""
    finding = Finding(rule, "error", reason, {"measured": "unreadable", "limit": "readable"})
    return FileReport(label, "fail", None, size, (finding,), quick, info)


def find_videos(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files as given; folders walked recursively for video files (by suffix), sorted, each path once."""
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
        else:
            found = [path]
        for item in found:
            key = os.path.abspath(item)
            if key not in seen:
                seen.add(key)
                yield item
