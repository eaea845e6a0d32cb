"""`kbvideo preview STORYBOARD`: the review page (and contact sheet) of a storyboard and its draft."""

from __future__ import annotations

from pathlib import Path

import click

from kbvideo.i18n import _


@click.command("preview")
@click.argument("storyboard", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help=_("Folder for the page (default: <project>/out, beside the draft)."))
@click.option("--sheet", is_flag=True, help=_("Also a contact sheet JPEG of the whole programme, small enough for chat."))
@click.option("--video", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=_("The render to show (default: <project>/out/<storyboard>.draft.mp4 when it exists)."))
@click.option("--rules", default=None, help=_("Rules profile name or YAML file (default: the storyboard's)."))
def preview(storyboard: Path, out_dir: Path | None, sheet: bool, video: Path | None, rules: str | None) -> None:
    """Write a review page: the programme to scale, each scene's shots and captions, the rules' findings,
    and the draft video with scene chapters. It works offline: send it with the draft beside it.

    \b
    Example:  kbvideo render storyboards/jenggot.yaml --draft
              kbvideo preview storyboards/jenggot.yaml --sheet
    """
    from kbvideo.pipeline import cache_dir, plan_storyboard
    from kbvideo.review import write_review

    plan = plan_storyboard(storyboard, rules=rules)
    out_dir = out_dir or plan.project_root / "out"
    draft = video or plan.project_root / "out" / f"{storyboard.stem}.draft.mp4"
    files = write_review(plan, out_dir, draft=draft if draft.exists() else None, sheet=sheet,
                         cache=cache_dir(plan.project_root) / "thumbs")
    click.echo(_("wrote {path}").format(path=files.page))
    if files.review.draft is None:
        click.echo("  " + _("no draft video yet: run `kbvideo render {storyboard} --draft` and this again to see it "
                            "in the page").format(storyboard=storyboard))
    elif files.review.draft_note:
        click.echo("  " + files.review.draft_note, err=True)
    if files.sheet:
        click.echo(_("wrote {path} ({kb} kB)").format(path=files.sheet, kb=round(files.sheet_bytes / 1000)))


COMMANDS = [preview]
