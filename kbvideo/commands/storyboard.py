"""`kbvideo validate`, `plan`, `schema` and `rules`: everything that works on the storyboard before rendering."""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path

import click

from kbvideo.errors import MESSAGE_CHARS, KbError, SpecError, printable, source_excerpt
from kbvideo.i18n import _
from kbvideo.pipeline import Plan, plan_storyboard
from kbvideo.rules.contest import caption_cps, caption_too_fast, caption_too_short, length_verdict
from kbvideo.rules.findings import Finding
from kbvideo.rules.profile import builtin_profiles, load_profile, read_profile_text
from kbvideo.storyboard.schema import storyboard_schema
from kbvideo.timecode import format_fps, format_seconds
from kbvideo.timeline.io import to_dict

SEVERITY_MARK = {"error": "✗", "warning": "!", "info": "·"}

rules_option = click.option("--rules", "rules", metavar="NAME|PATH",
                            help=_("Rules profile: a built-in name or a YAML file (default: the storyboard's, else lomba-kampung-kb-2025)."))
root_option = click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path),
                           help=_("Project folder that asset paths must stay inside (default: the folder holding storyboards/ and assets/)."))
outside_option = click.option("--allow-outside", is_flag=True,
                              help=_("Allow asset paths outside the project folder (absolute paths, symlinks)."))


def echo_findings(findings: list[Finding], err: bool = False, severities=("error", "warning", "info")) -> None:
    for finding in findings:
        if finding.severity not in severities:
            continue
        where = f" ({printable(finding.where, MESSAGE_CHARS)})" if finding.where else ""
        message = printable(finding.message, MESSAGE_CHARS)
        click.echo(f"  {SEVERITY_MARK[finding.severity]} {severity_word(finding.severity)}: {finding.rule}: "
                   f"{message}{where}", err=err)
        if finding.loc is not None and finding.loc.source_line is not None:
            for line in source_excerpt(finding.loc.source_line, finding.loc.col, "      "):
                click.echo(line, err=err)
        hint = finding.values.get("hint") if isinstance(finding.values, dict) else None
        if hint:
            click.echo("      " + _("hint: {hint}").format(hint=printable(str(hint), MESSAGE_CHARS)), err=err)


def verdict_word(verdict: str) -> str:
    """pass / warn / fail, in the chosen language (JSON keeps the English codes)."""
    return {"pass": _("pass"), "warn": _("warn"), "fail": _("fail")}.get(verdict, verdict)


def severity_word(severity: str) -> str:
    return {"error": _("error"), "warning": _("warning"), "info": _("info")}.get(severity, severity)


def _scene_rows(plan: Plan) -> list[list[str]]:
    timeline = plan.timeline
    fps = timeline.fps
    rows = []
    for index, scene in enumerate(timeline.scenes, 1):
        captions = timeline.texts_in(scene.id, "caption")
        cps = max((caption_cps(c, fps) for c in captions), default=0.0)
        flag = ""
        if any(caption_too_fast(c, fps, plan.profile) for c in captions):
            flag += " FAST"
        if any(caption_too_short(c, fps, plan.profile) for c in captions):
            flag += " SHORT"
        rows.append([
            str(index), scene.id, scene.topic,
            format_seconds(Fraction(scene.start) / fps), format_seconds(Fraction(scene.end) / fps),
            format_seconds(Fraction(scene.duration) / fps),
            str(len(timeline.shots_in(scene.id))), str(len(captions)),
            (f"{cps:.1f}" if captions else "-") + flag, _narration_cell(timeline, scene.id),
        ])
    return rows


def _narration_cell(timeline, scene_id: str) -> str:
    """'0:24.5' for a recording, '0:24.5 SCRATCH' for the scratch voice, '-' for none."""
    items = [a for a in timeline.audio if a.kind == "narration" and a.scene == scene_id]
    if not items:
        return "-"
    length = format_seconds(Fraction(sum(a.duration for a in items)) / timeline.fps)
    return length + (" SCRATCH" if any(a.voice for a in items) else "")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def _header(plan: Plan) -> str:
    k = plan.board.kampung
    place = ", ".join(p for p in (k.desa or k.kelurahan, k.kecamatan, k.kota or k.kabupaten, k.provinsi) if p)
    t = plan.timeline
    return (f"{k.name} — {place} ({k.category}{', ' + str(k.year) if k.year else ''})\n"
            + _("{width}x{height} @ {fps} fps · rules: {rules}").format(width=t.width, height=t.height,
                                                                         fps=format_fps(t.fps), rules=plan.profile.name))


@click.command("plan")
@click.argument("storyboard", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help=_("Print the resolved timeline as JSON."))
@rules_option
@root_option
@outside_option
def plan_command(storyboard: Path, as_json: bool, rules: str | None, root: Path | None, allow_outside: bool) -> None:
    """Show the planned timeline: scenes, times, captions' reading speed, total against the limit.

    \b
    Example:  kbvideo plan storyboards/jenggot.yaml
              kbvideo plan storyboards/jenggot.yaml --json > jenggot.timeline.json
    """
    plan = plan_storyboard(storyboard, rules=rules, root=root, allow_outside=allow_outside)
    if as_json:
        data = to_dict(plan.timeline)
        data["rules"] = plan.profile.name
        data["findings"] = [f.to_dict() for f in plan.findings]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for warning in plan.warnings:
        click.echo(warning.format(), err=True)
    click.echo(_header(plan))
    click.echo()
    headers = ["#", _("scene"), _("topic"), _("start"), _("end"), _("length"), _("shots"), _("captions"), _("max cps"),
               _("narration")]
    click.echo(_table(headers, _scene_rows(plan)))
    click.echo()
    t = plan.timeline
    click.echo(_("total {length_verdict}  ({duration} frames)").format(length_verdict=length_verdict(t.duration, t.fps, plan.profile.duration_max), duration=t.duration))
    voices = sorted({a.voice for a in t.audio if a.voice})
    if voices:
        click.echo(_("SCRATCH: narration spoken by the scratch voice ({voices}) until it is recorded").format(
            voices="; ".join(voices)))
    if plan.findings:
        click.echo()
        echo_findings(plan.findings)


def _validate_one(path: Path, rules, root, allow_outside) -> dict:
    try:
        plan = plan_storyboard(path, rules=rules, root=root, allow_outside=allow_outside)
    except SpecError as exc:
        return {"path": str(path), "status": "invalid", "problems": exc.problems, "findings": []}
    except KbError as exc:
        return {"path": str(path), "status": "invalid", "error": exc, "problems": [], "findings": []}
    errors = [f for f in plan.findings if f.severity == "error"]
    return {"path": str(path), "status": "fail" if errors else "ok", "plan": plan, "problems": plan.warnings,
            "findings": plan.findings}


@click.command("validate")
@click.argument("storyboards", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help=_("Print one JSON object with every storyboard's result."))
@rules_option
@root_option
@outside_option
@click.pass_context
def validate_command(ctx: click.Context, storyboards: tuple[Path, ...], as_json: bool, rules: str | None,
                     root: Path | None, allow_outside: bool) -> None:
    """Check storyboards: format, assets, and the contest rules on the planned timeline.

    Exit 0 when nothing is wrong (warnings allowed), 1 when a contest rule is violated,
    2 when a storyboard itself is wrong.

    \b
    Example:  kbvideo validate storyboards/*.yaml
              kbvideo validate storyboards/jenggot.yaml --rules my-rules.yaml --json
    """
    if rules:
        load_profile(rules)  # a wrong --rules is a usage error before any storyboard is read
    results = [_validate_one(path, rules, root, allow_outside) for path in storyboards]
    code = 0
    if any(r["status"] == "invalid" for r in results):
        code = 2
    elif any(r["status"] == "fail" for r in results):
        code = 1
    if as_json:
        out = []
        for r in results:
            item = {"path": r["path"], "status": r["status"],
                    "problems": [p.to_dict() for p in r["problems"]],
                    "findings": [f.to_dict() for f in r["findings"]]}
            if "error" in r:
                item["problems"].append({"message": r["error"].message, "hint": r["error"].hint, "severity": "error"})
            if "plan" in r:
                item["duration"] = round(r["plan"].timeline.duration_seconds, 3)
                item["rules"] = r["plan"].profile.name
            out.append(item)
        click.echo(json.dumps({"storyboards": out, "exit_code": code}, ensure_ascii=False, indent=2))
        ctx.exit(code)
    for r in results:
        if r["status"] == "invalid":
            click.echo(_("{path}: INVALID").format(path=printable(r['path'], 200)), err=True)
            for problem in r["problems"]:
                click.echo(problem.format(), err=True)
            if "error" in r:
                click.echo(r["error"].format(), err=True)
            continue
        plan: Plan = r["plan"]
        t = plan.timeline
        verdict = _("FAIL") if r["status"] == "fail" else _("ok")
        click.echo(_("{path}: {verdict} — {length_verdict} · rules {name}").format(
            path=printable(r['path'], 200), verdict=verdict,
            length_verdict=length_verdict(t.duration, t.fps, plan.profile.duration_max), name=plan.profile.name))
        for problem in r["problems"]:
            click.echo(problem.format(), err=True)
        echo_findings(r["findings"])
    ctx.exit(code)


@click.command("schema")
def schema_command() -> None:
    """Print the storyboard JSON Schema (for editor autocompletion and checks).

    \b
    Example:  kbvideo schema > storyboard.schema.json
    """
    click.echo(json.dumps(storyboard_schema(), ensure_ascii=False, indent=2))


@click.group("rules")
def rules_group() -> None:
    """List and show contest rules profiles."""


@rules_group.command("list")
def rules_list() -> None:
    """List the built-in rules profiles.

    \b
    Example:  kbvideo rules list
    """
    for name in builtin_profiles():
        click.echo(f"{name}\t{load_profile(name).title}")


@rules_group.command("show")
@click.argument("name", default="lomba-kampung-kb-2025")
def rules_show(name: str) -> None:
    """Print a profile (built-in name or file) as YAML, to copy and adapt.

    \b
    Example:  kbvideo rules show lomba-kampung-kb-2025 > my-rules.yaml
    """
    load_profile(name)  # validates it
    text, _ = read_profile_text(name)
    sys.stdout.write(text)


COMMANDS = [validate_command, plan_command, schema_command, rules_group]
