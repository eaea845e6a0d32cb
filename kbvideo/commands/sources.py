"""`kbvideo sources DIR|FILES`: contact sheets and probe listings of source clips, to pick in/out points."""

from __future__ import annotations

from pathlib import Path

import click

from kbvideo.i18n import _


@click.command("sources")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--every", type=click.FloatRange(0.1, 3600), default=2.0, show_default=True,
              help=_("Seconds between pictures on a clip's sheet."))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help=_("Folder for the sheets (default: <project>/out/sources)."))
def sources(paths: tuple[Path, ...], every: float, out_dir: Path | None) -> None:
    """For each clip, a contact sheet with the time of every picture, and what the file holds
    (size, rotation, frame rate, sound): choose a storyboard's `in:` and `out:` from it.

    \b
    Example:  kbvideo sources assets/clips/
              kbvideo sources assets/clips/dashat-masak.mp4 --every 1
    """
    from kbvideo.media.cache import ProbeCache
    from kbvideo.pipeline import cache_dir, find_project_root
    from kbvideo.review.sources import write_source_sheets

    first = paths[0] if paths[0].is_dir() else paths[0].parent
    root = find_project_root(first / "x")
    out_dir = out_dir or root / "out" / "sources"
    results = write_source_sheets(list(paths), out_dir, every=every, probe_cache=ProbeCache(cache_dir(root) / "probe"))
    if not results:
        raise click.UsageError(_("no media files found in {paths}").format(paths=", ".join(map(str, paths))))
    failed = 0
    for result in results:
        click.echo(result.listing)
        for sheet in result.sheets:
            click.echo("  " + _("sheet: {path}").format(path=sheet))
        if result.error is not None:
            failed += 1
        click.echo()
    if failed:
        raise SystemExit(2)


COMMANDS = [sources]
