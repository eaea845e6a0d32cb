"""`kbvideo render --watch`: render, then render again each time a file the storyboard uses changes.

Files are watched with `watchdog` (inotify on Linux, FSEvents on macOS: no polling loop): the
storyboard, the templates it extends, a rules file it names, every asset and subtitle file. The
folders holding them are watched, so an editor that saves by writing a new file and renaming it
over the old one is seen too. A storyboard with mistakes is reported and watched on; Ctrl-C stops
(a render it interrupts removes its temporary files: nothing half-written is left).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import click

from kbvideo.errors import KbError
from kbvideo.i18n import _
from kbvideo.storyboard.template import template_chain

DEBOUNCE_MS = 400  # one save often writes a file several times


def watched_paths(storyboard: Path, plan=None) -> set[Path]:
    paths = {storyboard.resolve()}
    try:
        paths |= {Path(p).resolve() for p in template_chain(storyboard)}
    except KbError:
        pass
    if plan is not None:
        paths |= {Path(p).resolve() for p in plan.board.media_paths()}
        paths |= {Path(p).resolve() for p in plan.board.caption_files}
        rules = plan.board.output.rules
        if rules and rules.endswith((".yaml", ".yml")):
            paths.add((plan.board.path.parent / rules).resolve())
    return paths


def snapshot(paths: set[Path]) -> dict[Path, tuple | None]:
    out: dict[Path, tuple | None] = {}
    for path in paths:
        try:
            st = path.stat()
            out[path] = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            out[path] = None
    return out


def wait_for_change(paths: set[Path], before: dict[Path, tuple | None], ready: Callable[[], None]) -> set[Path]:
    """Block until one of `paths` is written, created, replaced or removed; the changed ones.

    `before` is the state the last render read: a file changed while it rendered counts at once.
    `ready()` is called once the watches are in place (so nothing written after it can be missed)."""
    import queue

    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    wanted = {str(p) for p in paths}
    events: queue.Queue = queue.Queue()

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event) -> None:
            for name in (event.src_path, getattr(event, "dest_path", "")):
                if name and (name in wanted or str(Path(name).resolve()) in wanted):
                    events.put(Path(name))

    observer = Observer()
    handler = Handler()
    for folder in sorted({p.parent for p in paths if p.parent.is_dir()}):
        observer.schedule(handler, str(folder), recursive=False)
    observer.start()  # the watches exist when this returns
    try:
        now = snapshot(paths)
        changed = {p for p in paths if p in before and before[p] != now[p]}
        if changed:
            return changed
        ready()
        changed = {events.get()}
        while True:  # one save often writes a file several times: wait until it is quiet
            try:
                changed.add(events.get(timeout=DEBOUNCE_MS / 1000))
            except queue.Empty:
                return changed
    finally:
        observer.stop()
        observer.join()


def watch_and_render(storyboard: Path, render_once: Callable[[], tuple[str, object]]) -> int:
    """Render, wait for a change, render again ... until Ctrl-C. Returns the exit code (0 when stopped)."""
    plan = None
    while True:
        before = snapshot(watched_paths(storyboard, plan))
        try:
            _verdict, plan = render_once()
        except KeyboardInterrupt:
            click.echo(_("stopped during a render: its temporary files were removed"), err=True)
            return 130
        except KbError as exc:  # a half-edited storyboard: say what is wrong, keep watching
            click.echo(exc.format(), err=True)
        paths = watched_paths(storyboard, plan)
        try:
            changed = wait_for_change(paths, before, lambda: click.echo(
                _("watching {count} files for changes (Ctrl-C to stop)").format(count=len(paths))))
        except KeyboardInterrupt:
            click.echo(_("stopped watching"))
            return 0
        names = ", ".join(sorted(p.name for p in changed))
        click.echo(_("changed: {names} — rendering again").format(names=names))
