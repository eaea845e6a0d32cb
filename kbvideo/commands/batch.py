"""`kbvideo batch` (many villages at once) and `kbvideo init` (a new village from a template)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kbvideo.errors import UsageError, printable
from kbvideo.i18n import _


@click.command("batch")
@click.argument("storyboards", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path),
              help=_("CSV or YAML roster: one row per village filling the template given as STORYBOARD."))
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help=_("Folder for the videos, their key files and logs/."))
@click.option("--draft", is_flag=True, help=_("Draft renders (480p, fastest settings, DRAFT mark)."))
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help=_("Villages rendered at once on this machine (default: 2 on a 2-core machine, cores/2 above)."))
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help=_("Render on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs kbvideo[distributed] and a shared filesystem)."))
@click.option("--force", is_flag=True, help=_("Render every village, even those whose output is up to date."))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=_("Also write the report as JSON to this file ('-' for stdout)."))
@click.option("--rules", default=None, help=_("Rules profile name or YAML file (default: each storyboard's)."))
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=_("Project root (default: the folder above the storyboard holding storyboards/ and assets/)."))
@click.option("--allow-outside", is_flag=True, help=_("Allow asset paths outside the project folder."))
@click.option("--quiet", "-q", is_flag=True, help=_("No live progress on stderr."))
@click.pass_context
def batch(ctx: click.Context, storyboards: tuple[Path, ...], roster: Path | None, outdir: Path, draft: bool,
          jobs: int | None, scheduler: str | None, force: bool, json_path: Path | None, rules: str | None,
          root: Path | None, allow_outside: bool, quiet: bool) -> None:
    """Render many villages: several STORYBOARDs, or one template with --roster.

    Every village is validated first (invalid ones are listed with their problems and skipped);
    villages whose output is up to date are skipped (resume); the others render in parallel and
    each output is checked. Exit 0 when every village rendered (or was up to date) and passed its
    check, 1 otherwise.

    \b
    Examples:
      kbvideo batch storyboards/templates/standar.yaml --roster storyboards/roster.csv -o out --draft
      kbvideo batch storyboards/*.yaml -o out --jobs 2 --json out/report.json
      kbvideo batch storyboards/templates/standar.yaml --roster roster.csv -o /shared/out --scheduler tcp://10.0.0.5:8786
    """
    from kbvideo.batch.runner import BatchOptions, run_batch, villages_from_roster, villages_from_storyboards

    if roster is not None:
        if len(storyboards) != 1:
            raise UsageError(_("with --roster, give exactly one template storyboard"),
                             _("kbvideo batch TEMPLATE.yaml --roster ROSTER.csv -o OUTDIR"))
        villages = villages_from_roster(storyboards[0], roster)
    else:
        villages = villages_from_storyboards(storyboards)
    if rules:
        from kbvideo.rules.profile import load_profile

        load_profile(rules)  # a wrong --rules is a usage error before any village is read
    options = BatchOptions(outdir=outdir, draft=draft, jobs=jobs, scheduler=scheduler, force=force, rules=rules,
                           root=root, allow_outside=allow_outside)
    from kbvideo import proc as processes
    from kbvideo.fsutil import InputGuard

    if json_path is not None and str(json_path) != "-":
        InputGuard([*storyboards, roster]).check(json_path)  # before the work, not after it

    try:
        with processes.on_signals():  # SIGTERM / SIGHUP stop every village (workers and their ffmpeg) cleanly
            report = run_batch(villages, options, stream=None if quiet else sys.stderr, tty=sys.stderr.isatty())
    except processes.Terminated as exc:
        click.echo(_("batch stopped by signal {number}: the villages still rendering were stopped, "
                     "finished ones are kept").format(number=exc.signum), err=True)
        ctx.exit(128 + exc.signum)
    for result in report.results:
        if result.status == "invalid":
            click.echo(_("{source}: {village}: INVALID (skipped)").format(source=result.source, village=printable(result.village, 80)), err=True)
            for problem in result.problems:
                click.echo(problem.format(), err=True)
            if not result.problems and result.error:
                click.echo(result.error, err=True)
        elif result.status == "failed":
            click.echo(_("{source}: {village}: FAILED: {error}").format(source=result.source, village=printable(result.village, 80), error=printable(result.error or "", 400)), err=True)
            if result.log:
                click.echo(_("  log: {log}").format(log=result.log), err=True)
        elif result.verdict == "fail":
            click.echo(_("{output}: check FAILED").format(output=result.output), err=True)
            for finding in result.findings:
                if finding.get("severity") == "error":
                    where = f" ({finding['where']})" if finding.get("where") else ""
                    click.echo(_("  error: {rule}: {message}").format(rule=finding['rule'], message=finding['message'])
                               + where, err=True)
    click.echo(report.table(), err=str(json_path) == "-")  # stdout stays pure JSON with --json -
    if json_path is not None:
        text = json.dumps(report.to_dict(), ensure_ascii=False, indent=2)
        if str(json_path) == "-":
            click.echo(text)
        else:
            from kbvideo.fsutil import InputGuard, write_atomic

            json_path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(json_path, text + "\n", guard=InputGuard([*storyboards, roster]))
    ctx.exit(report.return_code)


@click.command("init")
@click.option("--kampung", "name", required=True, help=_("The kampung's name, e.g. \"Kampung KB Mekar Sari\"."))
@click.option("--from", "template", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=_("Template storyboard to build on (default: storyboards/templates/standar.yaml, created from kbvideo's own if missing)."))
@click.option("--dir", "project", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help=_("Project folder (default: the current folder)."))
@click.option("--id", "slug", default=None, help=_("File name for the storyboard and asset folder (default: from the name)."))
@click.option("--force", is_flag=True, help=_("Overwrite an existing storyboard of that name."))
def init(name: str, template: Path | None, project: Path, slug: str | None, force: bool) -> None:
    """Start a new village: storyboards/<id>.yaml (building on a template) and assets/<id>/ with
    placeholder media, so it validates and renders at once. Replace the placeholders with real footage.

    \b
    Example:  kbvideo init --kampung "Kampung KB Mekar Sari" --dir .
              kbvideo validate storyboards/mekar-sari.yaml
    """
    from kbvideo.batch.scaffold import init_village

    made = init_village(name, project, template=template, slug=slug, force=force)
    click.echo(_("wrote {storyboard}").format(storyboard=made.storyboard))
    click.echo(_("      {assets}/ ({count} placeholder files: replace them with the real media)").format(assets=made.assets, count=len(made.placeholders)))
    click.echo(_("next:  kbvideo validate {storyboard}").format(storyboard=made.storyboard))
    click.echo(_("       kbvideo render {storyboard} --draft").format(storyboard=made.storyboard))


COMMANDS = [batch, init]
