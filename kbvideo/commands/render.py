"""`kbvideo render STORYBOARD`: plan the storyboard, render it, print where it went and the verdict."""

from __future__ import annotations

import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

import click

from kbvideo.commands.storyboard import echo_findings, verdict_word
from kbvideo.i18n import _
from kbvideo.rules.findings import verdict
from kbvideo.timecode import format_seconds, parse_time


class ProgressPrinter:
    """A bar with ETA on a terminal, a plain line every 10 % otherwise, nothing when quiet."""

    def __init__(self, stream, *, tty: bool, quiet: bool):
        self.stream, self.tty, self.quiet = stream, tty, quiet
        self.started = time.monotonic()
        self.last_step = -1
        self.last_draw = 0.0
        self.lock = threading.Lock()
        self.drawn = False

    def __call__(self, done: int, total: int, stage: str) -> None:
        if self.quiet or total <= 0:
            return
        with self.lock:
            fraction = min(1.0, done / total)
            if self.tty:
                now = time.monotonic()
                if now - self.last_draw < 0.2 and done < total:
                    return
                self.last_draw = now
                elapsed = now - self.started
                eta = "--:--" if done == 0 else format_seconds(max(0.0, elapsed / fraction - elapsed), 0)
                bar = "#" * int(fraction * 30)
                self.stream.write("\r  " + _("rendering [{bar}] {fraction:4.0%}  {done}/{total} frames  ETA {eta}").format(
                    bar=f"{bar:<30}", fraction=fraction, done=done, total=total, eta=eta) + " ")
                self.drawn = True
            else:
                step = int(fraction * 10)
                if step == self.last_step:
                    return
                self.last_step = step
                self.stream.write(_("rendering: {fraction:.0%} ({done}/{total} frames)").format(
                    fraction=fraction, done=done, total=total) + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.drawn and not self.quiet:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False  # the next bar starts on a fresh line


def _time_summary(stages: dict) -> str | None:
    """One short line on where the render's time went (the full figures are in .render.json "stages");
    None when no segment was encoded."""
    segments = stages.get("segments")
    if not segments or not segments.get("wall"):
        return None
    sound = sum(stages.get(step, {}).get("wall", 0.0) for step in ("sound_mix", "sound_limit", "sound_encode"))
    return _("  time: segments {wall:.1f} s of encoding ({fps:.0f} frames/s, {cpu:.1f} s CPU), sound {sound:.1f} s, "
             "joining {join:.1f} s").format(wall=segments["wall"], fps=segments.get("frames", 0) / segments["wall"],
                                            cpu=segments.get("cpu", 0.0), sound=sound,
                                            join=stages.get("join", {}).get("wall", 0.0))


def _seconds_option(ctx, param, value):
    """--from/--to in any storyboard time spelling (seconds, "1:30", "00:01:30.500"); frames are not allowed."""
    if value is None:
        return None
    try:
        parsed = parse_time(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if parsed.seconds is None:
        raise click.BadParameter(_("write seconds or a clock time, e.g. 20, 1:05 or 00:01:05.5"))
    return parsed.seconds


@click.command("render")
@click.argument("storyboard", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help=_("Output MP4 (default: <project>/out/<storyboard>.mp4, .draft.mp4 with --draft)."))
@click.option("--draft", is_flag=True, help=_("854x480, fastest settings, DRAFT mark, same timing to the frame."))
@click.option("--jobs", type=click.IntRange(1, 32), default=None, help=_("Segments rendered at once (default 2)."))
@click.option("--quiet", "-q", is_flag=True, help=_("No progress output."))
@click.option("--rules", default=None, help=_("Rules profile name or YAML file (default: the storyboard's)."))
@click.option("--no-proxies", is_flag=True, help=_("Drafts decode the original sources instead of low-res proxies."))
@click.option("--allow-outside", is_flag=True, help=_("Allow asset paths outside the project folder."))
@click.option("--allow-long", is_flag=True,
              help=_("Render even a timeline far longer than the rules allow (by default render refuses anything over twice the profile's maximum, or the maximum + 5 minutes)."))
@click.option("--scene", "scenes", multiple=True, metavar="ID",
              help=_("Render only this scene (with its transitions); repeat for more scenes."))
@click.option("--from", "start", callback=_seconds_option, metavar="TIME",
              help=_("Render the programme from this time (e.g. 1:05); a transition it falls in is drawn whole."))
@click.option("--to", "end", callback=_seconds_option, metavar="TIME", help=_("... up to this time."))
@click.option("--watch", is_flag=True, help=_("Render again each time the storyboard or one of its files changes."))
@click.pass_context
def render(ctx: click.Context, storyboard: Path, output: Path | None, draft: bool, jobs: int | None, quiet: bool,
           rules: str | None, no_proxies: bool, allow_outside: bool, allow_long: bool, scenes: tuple[str, ...], start,
           end, watch: bool) -> None:
    """Render STORYBOARD to a contest-ready MP4 with captions, poster and a JSON report beside it.

    No file it writes (video, poster, .srt, .vtt, .render.json) may be one of the storyboard's inputs.

    \b
    Example:  kbvideo render storyboards/jenggot.yaml --draft
              kbvideo render storyboards/jenggot.yaml --draft --scene dashat
              kbvideo render storyboards/jenggot.yaml --draft --from 1:00 --to 1:30
              kbvideo render storyboards/jenggot.yaml --draft --watch
    """
    if scenes and (start is not None or end is not None):
        raise click.UsageError(_("give --scene or --from/--to, not both"))
    options = dict(output=output, draft=draft, jobs=jobs, quiet=quiet, rules=rules, no_proxies=no_proxies,
                   allow_outside=allow_outside, allow_long=allow_long, scenes=scenes, start=start, end=end)
    if watch:
        from kbvideo.commands.watch import watch_and_render

        ctx.exit(watch_and_render(storyboard, lambda: _render_once(storyboard, **options)))
    result_verdict, _plan = _render_once(storyboard, **options)
    if result_verdict == "fail":
        raise SystemExit(1)


def _render_once(storyboard: Path, *, output, draft, jobs, quiet, rules, no_proxies, allow_outside, allow_long,
                 scenes, start, end):
    """Plan, render (all or a part) and print; returns (the verdict "pass" | "warn" | "fail", the plan)."""
    from kbvideo.fsutil import prepare_cache_dir
    from kbvideo.pipeline import cache_dir, plan_storyboard, storyboard_rules
    from kbvideo.proc import Terminated
    from kbvideo.render import partial, render_timeline
    from kbvideo.render.segments import plan_segments
    from kbvideo.storyboard.template import template_chain

    plan = plan_storyboard(storyboard, rules=rules, allow_outside=allow_outside)
    part = None
    name = storyboard.stem
    if scenes or start is not None or end is not None:
        segments = plan_segments(plan.timeline)
        part = (partial.part_for_scenes(plan.timeline, segments, list(scenes)) if scenes
                else partial.part_for_times(plan.timeline, segments, start, end))
        fps = plan.timeline.fps
        name += "." + ("+".join(dict.fromkeys(scenes)) if scenes else
                       f"{float(part.pieces[0].start / fps):g}s-{float(part.pieces[-1].end / fps):g}s")
    out = output or plan.project_root / "out" / f"{name}{'.draft' if draft else ''}.mp4"
    protect = [*template_chain(storyboard), rules, storyboard_rules(plan.board)]
    protect = [p for p in protect if p and Path(p).is_file()]
    render_cache = prepare_cache_dir(cache_dir(plan.project_root) / "render")
    printer = ProgressPrinter(sys.stderr, tty=sys.stderr.isatty(), quiet=quiet)

    def notice(message: str) -> None:
        printer.close()
        click.echo(_("notice: {message}").format(message=message), err=True)

    try:
        result = render_timeline(plan.timeline, out, profile=plan.profile, draft=draft, jobs=jobs, progress=printer,
                                 cache_dir=render_cache, media=plan.media,
                                 proxies=not no_proxies, protect=protect, allow_long=allow_long, notice=notice,
                                 part=part)
    except Terminated as exc:  # cleaned up already; the conventional 128 + signal number
        printer.close()
        click.echo(_("render stopped by signal {number}: nothing was written").format(number=exc.signum), err=True)
        raise SystemExit(128 + exc.signum) from None
    finally:
        printer.close()
    findings = list(plan.findings) + list(result.findings)
    result_verdict = verdict(findings)
    click.echo(_("wrote {path}").format(path=result.path))
    click.echo(_("  duration {duration:.3f} s ({frames} frames), {seconds:.1f} s to render, {encoded}/{count} segments encoded").format(duration=result.duration, frames=result.frames, seconds=result.timings.get('total', 0), encoded=result.segments_encoded, count=len(result.segments)))
    summary = _time_summary(result.stages)
    if summary:
        click.echo(summary)
    if part is not None:
        fps = plan.timeline.fps
        for piece in part.pieces:
            click.echo("  " + _("{label}: programme {start}–{end} (frames {first}–{last}), timecode {timecode}").format(
                label=part.label, start=format_seconds(Fraction(piece.start) / fps, 2),
                end=format_seconds(Fraction(piece.end) / fps, 2), first=piece.start, last=piece.end - 1,
                timecode=partial.smpte_timecode(piece.start, fps)))
    for warning in plan.warnings:
        click.echo(warning.format(), err=True)
    echo_findings(_once(findings), err=True, severities=("error", "warning"))
    click.echo(_("  rules {name}: {result_verdict}").format(name=plan.profile.name, result_verdict=verdict_word(result_verdict)))
    return result_verdict, plan


def _once(findings: list) -> list:
    """Each finding once: the output's check repeats rules the plan already reported (e.g. duration.min)."""
    seen: set = set()
    planned_rules = set()
    out = []
    for finding in findings:
        key = (finding.rule, finding.where, finding.message)
        if key in seen or (finding.where is None and (finding.rule, finding.severity) in planned_rules):
            continue
        seen.add(key)
        planned_rules.add((finding.rule, finding.severity))
        out.append(finding)
    return out


COMMANDS = [render]
