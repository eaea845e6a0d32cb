"""`kbvideo check PATH...`: verify finished video files against a rules profile and delivery norms.

Exit 0 when every file passes (warnings allowed), 1 when any file fails, 2 on misuse.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import click

from kbvideo.check import FileReport, check_output, find_videos
from kbvideo.commands.storyboard import verdict_word
from kbvideo.errors import UsageError, excerpt, printable
from kbvideo.fsutil import write_atomic
from kbvideo.i18n import _, ngettext
from kbvideo.rules.drafts import draft_profile
from kbvideo.rules.profile import load_profile
from kbvideo.timecode import format_seconds

SEVERITY_MARK = {"error": "✗", "warning": "!", "info": "·"}
CSV_FIELDS = ("path", "verdict", "duration", "size_bytes", "errors", "warnings", "rules", "reasons")


def _size(size: int | None) -> str:
    if size is None:
        return "-"
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"


def _duration(seconds: float | None) -> str:
    return "-" if seconds is None else format_seconds(seconds, 3)


class _Progress:
    """A one-line progress display on stderr, only when stderr is a terminal."""

    def __init__(self, total_files: int, enabled: bool):
        self.total_files = total_files
        self.enabled = enabled
        self.index = 0
        self.name = ""

    def start(self, index: int, path: Path) -> None:
        self.index, self.name = index, printable(path.name, 60)
        self._show("")

    def update(self, done: float, total: float | None) -> None:
        self._show(f" {min(100.0, 100 * done / total):3.0f}%" if total else f" {format_seconds(done)}")

    def _show(self, tail: str) -> None:
        if self.enabled:
            line = f"[{self.index}/{self.total_files}] {self.name}{tail}"
            click.echo(f"\r\033[K{line[:100]}", err=True, nl=False)

    def clear(self) -> None:
        if self.enabled:
            click.echo("\r\033[K", err=True, nl=False)


def _loudness_line(analysis) -> str | None:
    """'sound: -14.1 LUFS integrated, loudness range 7.2 LU, true peak -1.6 dBTP' when measured."""
    if analysis is None or getattr(analysis, "loudness_lufs", None) is None:
        return None
    parts = [_("{value:.1f} LUFS integrated").format(value=analysis.loudness_lufs)]
    if analysis.loudness_range_lu is not None:
        parts.append(_("loudness range {value:.1f} LU").format(value=analysis.loudness_range_lu))
    if analysis.true_peak_dbtp is not None:
        parts.append(_("true peak {value:+.1f} dBTP").format(value=analysis.true_peak_dbtp))
    return _("sound: {parts}").format(parts=", ".join(parts))


def _print_table(reports: list[FileReport]) -> None:
    rows = [(printable(r.path), verdict_word(r.verdict).upper(), _duration(r.duration), _size(r.size_bytes))
            for r in reports]
    heads = (_("FILE"), _("VERDICT"), _("DURATION"), _("SIZE"))
    width = max([len(heads[0]), *(len(row[0]) for row in rows)])
    click.echo(f"{heads[0]:<{width}}  {heads[1]:<7}  {heads[2]:>9}  {heads[3]:>9}")
    for report, row in zip(reports, rows):
        click.echo(f"{row[0]:<{width}}  {row[1]:<7}  {row[2]:>9}  {row[3]:>9}")
        loud = _loudness_line(report.analysis)
        if loud:
            click.echo(f"    {loud}")
        for finding in report.findings:
            click.echo(f"    {SEVERITY_MARK[finding.severity]} {finding.rule}: {printable(finding.message)}")


def _csv_row(report: FileReport) -> dict:
    return {
        "path": report.path,
        "verdict": report.verdict,
        "duration": "" if report.duration is None else f"{report.duration:.3f}",
        "size_bytes": "" if report.size_bytes is None else report.size_bytes,
        "errors": sum(f.severity == "error" for f in report.findings),
        "warnings": sum(f.severity == "warning" for f in report.findings),
        "rules": ";".join(report.rules),
        "reasons": " | ".join(f"{f.rule}: {f.message}" for f in report.findings if f.severity != "info"),
    }


def _writable(path: Path, mode: int) -> bool:
    return os.access(path, mode)


def _csv_target(csv_path: Path, files: list[Path]) -> Path:
    """Refuse a --csv destination that cannot be written, before any file is scanned (a long scan must
    not end in a lost report), and one that is a file being checked."""
    shown = excerpt(csv_path, 200)
    folder = csv_path.parent
    try:
        if csv_path.is_dir():
            raise UsageError(_("--csv {path} is a folder").format(path=shown), hint=_("give a file name, e.g. report.csv"))
        if not folder.is_dir():
            raise UsageError(_("--csv {path}: the folder {folder} does not exist").format(
                path=shown, folder=excerpt(folder, 200)), hint=_("create the folder first, or write the report elsewhere"))
        if not _writable(folder, os.W_OK | os.X_OK) or (csv_path.exists() and not _writable(csv_path, os.W_OK)):
            raise UsageError(_("--csv {path}: cannot write there (permission denied)").format(path=shown),
                             hint=_("write the report to a folder you own"))
        target = csv_path.resolve()
    except OSError as exc:
        raise UsageError(_("--csv {path}: {reason}").format(path=shown, reason=exc.strerror or exc)) from None
    for path in files:
        try:
            same = target == path.resolve() or (target.exists() and os.path.samefile(target, path))
        except OSError:
            same = False
        if same:
            raise UsageError(_("--csv {path} is one of the files being checked").format(path=shown),
                             hint=_("name the report differently, e.g. report.csv"))
    return csv_path


def _write_csv(csv_path: Path, reports: list[FileReport]) -> None:
    """All rows or nothing: a temporary file beside the target, then rename."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(_csv_row(r) for r in reports)
    try:
        write_atomic(csv_path, buffer.getvalue(), errors="backslashreplace", newline="")
    except OSError as exc:
        raise UsageError(_("cannot write --csv {path}: {reason}").format(
            path=excerpt(csv_path, 200), reason=exc.strerror or exc),
            hint=_("the table above has every result; write the report to another folder")) from None


def _looks_like_a_draft(report: FileReport) -> bool:
    return report.path.endswith(".draft.mp4") and any(f.rule == "video.resolution" for f in report.findings)


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--rules", "rules", metavar="NAME|PATH",
              help=_("Rules profile: a built-in name or a YAML file (default: lomba-kampung-kb-2025)."))
@click.option("--json", "as_json", is_flag=True, help=_("Print one JSON object instead of the table."))
@click.option("--csv", "csv_path", type=click.Path(path_type=Path),
              metavar="REPORT.csv", help=_("Also write one row per file to this CSV file."))
@click.option("--quick", is_flag=True, help=_("Header and audio only: no video decode (no black, freeze or truncation check of the picture)."))
@click.option("--draft", is_flag=True,
              help=_("The files are drafts (kbvideo render --draft): judge their small frame size as a draft's, as render --draft does."))
@click.pass_context
def check(ctx: click.Context, paths: tuple[Path, ...], rules: str | None, as_json: bool, csv_path: Path | None,
          quick: bool, draft: bool) -> None:
    """Check video files (or folders of them) against the contest rules and delivery norms.

    Exit 0 when all pass (warnings allowed), 1 when any file fails, 2 on misuse.
    """
    profile = load_profile(rules)
    if draft and profile.width and profile.height:
        profile = draft_profile(profile, profile.width, profile.height)
    files = list(find_videos(paths))
    if not files:
        raise UsageError(_("no video files found in {paths}").format(paths=", ".join(str(p) for p in paths)),
                         hint=_("video files end in .mp4, .mov, .mkv, ..."))
    if csv_path is not None:
        _csv_target(csv_path, files)
    progress = _Progress(len(files), enabled=sys.stderr.isatty() and (len(files) > 1 or not quick))
    reports: list[FileReport] = []
    try:
        for index, path in enumerate(files, 1):
            progress.start(index, path)
            reports.append(check_output(path, profile, quick=quick, progress=progress.update))
    finally:
        progress.clear()

    if as_json:
        click.echo(json.dumps({"rules": profile.name, "quick": quick, "files": [r.to_dict() for r in reports]},
                              ensure_ascii=False, indent=2))
    else:
        _print_table(reports)
        if not draft and any(_looks_like_a_draft(r) for r in reports):
            click.echo(_("hint: a file named .draft.mp4 is a draft (kbvideo render --draft): check it with --draft, "
                         "as render --draft does"), err=True)
    if csv_path is not None:
        _write_csv(csv_path, reports)
    counts = {v: sum(r.verdict == v for r in reports) for v in ("pass", "warn", "fail")}
    click.echo(ngettext("{count} file checked against {rules}: {passed} pass, {warned} warn, {failed} fail",
                        "{count} files checked against {rules}: {passed} pass, {warned} warn, {failed} fail",
                        len(reports)).format(count=len(reports), rules=profile.name, passed=counts["pass"],
                                             warned=counts["warn"], failed=counts["fail"]), err=True)
    ctx.exit(1 if counts["fail"] else 0)


COMMANDS = [check]
