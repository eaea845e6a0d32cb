"""`kbvideo export STORYBOARD -o FILE`: the planned timeline for an editor (OTIO, FCP 7 XML, Kdenlive)."""

from __future__ import annotations

from pathlib import Path

import click

from kbvideo.i18n import _


@click.command("export")
@click.argument("storyboard", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help=_("FILE.otio (OpenTimelineIO), FILE.xml (Final Cut Pro 7 XML, for DaVinci Resolve and Premiere) or FILE.kdenlive."))
@click.option("--rules", default=None, help=_("Rules profile name or YAML file (default: the storyboard's)."))
def export(storyboard: Path, output: Path, rules: str | None) -> None:
    """Hand the planned timeline to an editor: every shot referencing its original file, the transitions,
    sound on its own tracks with its gain, and titles, lower thirds and captions as markers.

    \b
    Example:  kbvideo export storyboards/jenggot.yaml -o out/jenggot.otio
              kbvideo export storyboards/jenggot.yaml -o out/jenggot.xml        # Resolve, Premiere
              kbvideo export storyboards/jenggot.yaml -o out/jenggot.kdenlive
    """
    from kbvideo.export.otio import write_export
    from kbvideo.pipeline import plan_storyboard

    plan = plan_storyboard(storyboard, rules=rules)
    path = write_export(plan.timeline, plan.media, output)
    t = plan.timeline
    click.echo(_("wrote {path}").format(path=path))
    click.echo("  " + _("{shots} shots, {transitions} transitions, {sounds} sound clips, {texts} text markers").format(
        shots=len(t.shots), transitions=sum(1 for x in t.transitions if x.duration > 0), sounds=len(t.audio),
        texts=len(t.texts)))


COMMANDS = [export]
