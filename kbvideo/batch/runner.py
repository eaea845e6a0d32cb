"""`kbvideo batch`: validate every village, skip the up-to-date ones, render the rest in parallel.

    villages = villages_from_roster("storyboards/templates/standar.yaml", "storyboards/roster.csv")
    report = run_batch(villages, BatchOptions(outdir=Path("out"), draft=True, jobs=2))
    report.return_code   # 0 when every village rendered (or was up to date) and passed its check

Stages: plan each village (load → parse → probe → resolve → rules; invalid ones are reported and
skipped) → cache key (resume) → one child process per village (`kbvideo.batch.worker`), run by
local threads or by Dask workers → result per village. One village failing, whatever the cause,
never stops the others.

Files in OUTDIR: `<id>.mp4` (`<id>.draft.mp4` with --draft) with the renderer's sidecars and
`<id>.mp4.key.json`; `logs/<id>.log`; `.kbvideo-batch/<id>/` while the village renders (removed after).
"""

from __future__ import annotations

import hashlib
import queue
import shutil
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence, TextIO

from kbvideo import proc as processes
from kbvideo.batch.cachekey import FileHasher, changed_parts, combine, key_components, key_path, read_key
from kbvideo.batch.distributed import DaskExecutor
from kbvideo.batch.report import BatchReport, LiveDisplay, VillageResult
from kbvideo.batch.roster import RosterRow, TemplateCache, load_roster, parse_row
from kbvideo.batch.worker import read_progress, run_job
from kbvideo.errors import KbError, SpecError, UsageError
from kbvideo.fsutil import InputGuard
from kbvideo.i18n import _, ngettext
from kbvideo.pipeline import cache_dir, find_project_root, plan_board, plan_storyboard, storyboard_rules
from kbvideo.render.files import output_paths
from kbvideo.storyboard.template import template_chain
from kbvideo.timeline.io import to_dict

WORK_DIR_NAME = ".kbvideo-batch"
LOG_DIR_NAME = "logs"
# Measured with benchmarks/bench_batch.py on the 2-core reference machine (drafts of short storyboards):
# see docs/batch.md. Two villages at once, each rendering its segments one at a time, beat one
# village with two segment threads because a village's serial parts (probe, audio mix, join,
# check) leave a core idle.
DEFAULT_MAX_JOBS = 2


def default_jobs() -> int:
    cpus = processes.usable_cores()
    return max(1, min(DEFAULT_MAX_JOBS, cpus)) if cpus <= 2 else max(1, cpus // 2)


@dataclass(slots=True)
class Village:
    slug: str  # output file name
    name: str  # for the table (the kampung's name once known)
    storyboard: Path  # the storyboard file, or the template a roster row fills
    row: RosterRow | None = None

    @property
    def source(self) -> str:
        return self.row.where if self.row else str(self.storyboard)


@dataclass(slots=True)
class BatchOptions:
    outdir: Path
    draft: bool = False
    jobs: int | None = None  # villages at once (local); None: default_jobs()
    scheduler: str | None = None  # tcp://host:8786 → Dask distributed
    force: bool = False
    rules: str | None = None
    root: Path | None = None
    allow_outside: bool = False
    renderer: str | None = None  # "module:function" with render_timeline's signature (tests, other backends)
    render_jobs: int | None = None  # segment threads inside one village (None: cpus // jobs)


# ---------------------------------------------------------------------------------------------- villages


def villages_from_storyboards(paths: Sequence[str | Path]) -> list[Village]:
    villages: dict[str, Village] = {}
    for raw in paths:
        path = Path(raw)
        slug = path.stem
        if slug in villages:
            raise UsageError(_("two storyboards would write the same output '{slug}': {storyboard} and {path}").format(slug=slug, storyboard=villages[slug].storyboard, path=path), _("rename one of them (the file name becomes the output name)"))
        villages[slug] = Village(slug, slug, path)
    return list(villages.values())


def villages_from_roster(template: str | Path, roster: str | Path) -> list[Village]:
    template = Path(template)
    if not template.is_file():
        raise UsageError(_("template not found: {template}").format(template=template), _("give the template storyboard before --roster"))
    return [Village(row.slug, row.name, template, row) for row in load_roster(roster)]


# ---------------------------------------------------------------------------------------------- planning


@dataclass(slots=True)
class _Prepared:
    village: Village
    result: VillageResult
    job: dict[str, Any] | None = None


def _plan(village: Village, options: BatchOptions, templates: TemplateCache):
    if village.row is None:
        return plan_storyboard(village.storyboard, rules=options.rules, root=options.root,
                               allow_outside=options.allow_outside)
    path = village.storyboard
    project_root = Path(options.root).resolve() if options.root else find_project_root(path)
    board = parse_row(path, village.row, project_root, templates=templates, allow_outside=options.allow_outside)
    return plan_board(board, rules=options.rules)


def _texts(village: Village, options: BatchOptions) -> dict[str, str]:
    chain = template_chain(village.storyboard, project_root=options.root, allow_outside=options.allow_outside)
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in chain}


def _rules_argument(options: BatchOptions, plan) -> str:
    """The profile for the worker: a name, or an absolute path (workers may run in another folder)."""
    name = options.rules
    if name and (name.endswith((".yaml", ".yml")) or "/" in name) and Path(name).exists():
        return str(Path(name).resolve())
    if name:
        return name
    return storyboard_rules(plan.board) or plan.profile.name


def prepare(village: Village, options: BatchOptions, outdir: Path, hasher: FileHasher,
            templates: TemplateCache) -> _Prepared:
    started = time.monotonic()
    result = VillageResult(village.name, village.slug, village.source)
    prepared = _Prepared(village, result)
    try:
        plan = _plan(village, options, templates)
        texts = _texts(village, options)
    except SpecError as exc:
        result.status, result.problems = "invalid", list(exc.problems)
        result.error = ngettext("{count} problem in the storyboard", "{count} problems in the storyboard", len(exc.problems)).format(count=len(exc.problems))
        result.seconds = time.monotonic() - started
        return prepared
    except KbError as exc:
        result.status, result.error = "invalid", exc.format()
        result.seconds = time.monotonic() - started
        return prepared
    result.village = plan.board.kampung.name if plan.board.kampung else village.name
    output = outdir / f"{village.slug}{'.draft' if options.draft else ''}.mp4"
    result.output = str(output)
    result.log = str(outdir / LOG_DIR_NAME / f"{village.slug}.log")
    protect = [str(p) for p in texts] + ([str(Path(options.rules).resolve())] if options.rules and
                                        Path(options.rules).is_file() else [])
    try:  # the renderer guards the video and its sidecars; the key file and the log are written here
        InputGuard([*plan.timeline.media_paths(), *protect]).check_all(
            [*output_paths(output).values(), key_path(output), Path(result.log)])
    except UsageError as exc:
        result.status, result.error = "invalid", exc.format()
        result.seconds = time.monotonic() - started
        return prepared
    try:
        assets = {path: hasher.hash(path) for path in plan.timeline.media_paths()}
    except OSError as exc:
        result.status, result.error = "invalid", _("cannot read an asset: {reason}").format(reason=exc)
        return prepared
    timeline = to_dict(plan.timeline)
    settings = {"draft": options.draft, "container": "mp4", "renderer": options.renderer or "ffmpeg"}
    components = key_components(texts=texts, row=village.row.values() if village.row else None, timeline=timeline,
                                assets=assets, profile=plan.profile, settings=settings)
    key = combine(components)
    stored = read_key(output)
    if not options.force and stored and stored.get("key") == key and output.is_file() and output.stat().st_size:
        result.status = "up to date"
        result.verdict, result.duration = stored.get("verdict"), stored.get("duration")
        result.findings = stored.get("findings", [])
        result.reason = _("inputs unchanged since {when}").format(when=stored.get("rendered_at", _("the last run")))
        result.seconds = time.monotonic() - started
        return prepared
    result.reason = "--force" if options.force else ("new" if not output.exists() else
                                                     _("changed: {parts}").format(parts=", ".join(changed_parts(stored, components))))
    work_dir = outdir / WORK_DIR_NAME / village.slug
    prepared.job = {
        "village": result.village, "slug": village.slug, "timeline": timeline, "rules": _rules_argument(options, plan),
        "output": str(output), "draft": options.draft, "work_dir": str(work_dir), "log": result.log,
        "cache_dir": str(cache_dir(plan.project_root) / "render"), "renderer": options.renderer,
        "render_jobs": options.render_jobs, "key": key, "components": components, "protect": protect,
        "plan_findings": [f.to_dict() for f in plan.findings if f.severity in ("error", "warning")],
    }
    result.seconds = time.monotonic() - started
    return prepared


# ---------------------------------------------------------------------------------------------- executors


class LocalExecutor:
    """N villages at once, each in its own child process (a crash is that village's failure only)."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="kbvideo-batch")
        self.procs: dict[str, subprocess.Popen] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def start(self, jobs: list[dict[str, Any]], events: "queue.Queue") -> None:
        for job in jobs:
            self.pool.submit(self._one, job, events)

    def _one(self, job: dict[str, Any], events: "queue.Queue") -> None:
        slug = job["slug"]
        if self.stopping.is_set():
            events.put(("done", slug, {"status": "failed", "error": _("interrupted before it started")}))
            return
        events.put(("start", slug, None))

        def register(proc):
            with self.lock:
                if proc is None:
                    self.procs.pop(slug, None)
                else:
                    self.procs[slug] = proc

        try:
            result = run_job(job, register)
        except Exception as exc:  # noqa: BLE001 - reported as this village's failure
            result = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
        events.put(("done", slug, result))

    def stop(self) -> None:
        self.stopping.set()
        with self.lock:
            procs = list(self.procs.values())
        for proc in procs:
            processes.kill_group(proc, signal.SIGTERM)  # the renderer kills its ffmpeg, removes its temp files
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                processes.kill_group(proc)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------------------------------------- the batch


def run_batch(villages: Sequence[Village], options: BatchOptions, *, stream: TextIO | None = None,
              tty: bool = False, executor=None) -> BatchReport:
    """Validate, skip up-to-date, render the rest; returns the report (never raises for one village)."""
    started = time.monotonic()
    outdir = Path(options.outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    jobs = options.jobs or default_jobs()
    display = LiveDisplay(stream, tty=tty, total=len(villages))

    # 1. validate and key every village (in this process: probing is cached)
    hasher_root = Path(options.root).resolve() if options.root else None
    first = villages[0].storyboard if villages else outdir
    hasher = FileHasher(cache_dir(hasher_root or find_project_root(Path(first))) / "hashes.json")
    templates = TemplateCache()
    prepared: list[_Prepared] = []
    for village in villages:
        item = prepare(village, options, outdir, hasher, templates)
        prepared.append(item)
        if item.job is None:
            display.finish(item.result)
    hasher.save()

    # 2. render what needs it
    todo = {item.village.slug: item for item in prepared if item.job is not None}
    if options.render_jobs is None and not options.scheduler:
        cpus = processes.usable_cores()
        for item in todo.values():
            item.job["render_jobs"] = max(1, cpus // min(jobs, max(1, len(todo))))
    if todo:
        if executor is None:
            if options.scheduler:
                executor = DaskExecutor(options.scheduler)
            else:
                executor = LocalExecutor(min(jobs, len(todo)))
        for item in todo.values():
            work_dir = Path(item.job["work_dir"])
            shutil.rmtree(work_dir, ignore_errors=True)
            work_dir.mkdir(parents=True, exist_ok=True)
        try:
            _execute(todo, executor, display)
        finally:  # also when stopped (Ctrl-C, SIGTERM, SIGHUP): no village's temp folder stays
            for item in todo.values():
                shutil.rmtree(item.job["work_dir"], ignore_errors=True)
            try:
                (outdir / WORK_DIR_NAME).rmdir()
            except OSError:
                pass

    display.close()
    report = BatchReport([item.result for item in prepared], str(outdir), options.draft, jobs, options.scheduler,
                         time.monotonic() - started)
    try:
        (outdir / WORK_DIR_NAME).rmdir()  # only when every village's temp folder is gone
    except OSError:
        pass
    return report


def _execute(todo: dict[str, _Prepared], executor, display: LiveDisplay) -> None:
    events: queue.Queue = queue.Queue()
    pending = set(todo)
    started: set[str] = set()
    try:
        executor.start([item.job for item in todo.values()], events)
        while pending:
            try:
                kind, slug, payload = events.get(timeout=0.3)
            except queue.Empty:
                kind = None
            if kind == "start" and slug not in started:
                started.add(slug)
                display.start(slug)
            elif kind == "done" and slug in pending:
                pending.discard(slug)
                _finish(todo[slug], payload)
                display.finish(todo[slug].result)
            for other in list(pending):  # remote workers: a progress file says the village started
                progress = read_progress(Path(todo[other].job["work_dir"]) / "progress")
                if progress is None:
                    continue
                if other not in started:
                    started.add(other)
                    display.start(other)
                done, total, stage = progress
                display.update(other, done / total if total else 0.0, stage)
    except KeyboardInterrupt:
        executor.stop()
        for slug in pending:
            todo[slug].result.status = "failed"
            todo[slug].result.error = _("interrupted")
        raise
    finally:
        executor.close()


def _finish(item: _Prepared, payload: dict[str, Any]) -> None:
    result = item.result
    result.status = payload.get("status", "failed")
    if result.status not in ("rendered", "failed"):
        result.status = "failed"
    result.verdict = payload.get("verdict")
    result.duration = payload.get("duration")
    result.findings = payload.get("findings", [])
    result.error = payload.get("error")
    result.seconds += payload.get("seconds", 0.0)
    shutil.rmtree(item.job["work_dir"], ignore_errors=True)
