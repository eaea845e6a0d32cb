"""One village's render, in its own process: `python -m kbvideo.batch.worker JOB.json`.

The batch runner (locally, or inside a Dask worker) writes a job file and starts this module as a
child process, so a crash (segfault, out of memory, kill) takes down one village, never the batch
or the Dask worker. Output: `result.json` beside the job file, progress in `progress` (one line
"done total stage", rewritten), everything else in the village's log file (stdout/stderr).

Order of writes: the renderer moves the finished MP4 into place atomically; the check runs; only
then is the key file written (atomically), so a village is "up to date" only after all of it.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from kbvideo import proc as processes
from kbvideo.batch.cachekey import write_key
from kbvideo.check import check_output
from kbvideo.errors import KbError
from kbvideo.fsutil import write_atomic
from kbvideo.i18n import _, choose_language, language, set_language
from kbvideo.rules.findings import Finding, verdict
from kbvideo.rules.profile import load_profile
from kbvideo.timeline.io import from_dict

DEFAULT_RENDERER = "kbvideo.render:render_timeline"
# Sent by the kernel when the process that started the worker dies (kbvideo.proc lifeline). A signal
# of its own, because getppid() cannot tell: while a killed batch's threads exit one by one, the
# worker is first handed to a sibling thread of the same dying process.
PARENT_GONE = signal.SIGUSR1


def load_callable(spec: str) -> Callable[..., Any]:
    """'package.module:function' or '/path/to/file.py:function'."""
    module_name, _colon, attr = spec.rpartition(":")
    if module_name.endswith(".py"):
        loaded = importlib.util.spec_from_file_location(f"kbvideo_batch_plugin_{abs(hash(module_name))}", module_name)
        module = importlib.util.module_from_spec(loaded)
        loaded.loader.exec_module(module)
    else:
        module = importlib.import_module(module_name)
    return getattr(module, attr)


class ProgressFile:
    """The render's progress callback: rewrites a one-line file, at most every 0.25 s."""

    def __init__(self, path: Path):
        self.path = path
        self.last = 0.0

    def __call__(self, done: int, total: int, stage: str) -> None:
        now = time.monotonic()
        if now - self.last < 0.25 and done < total:
            return
        self.last = now
        self.write(done, total, stage)

    def write(self, done: int, total: int, stage: str) -> None:
        write_atomic(self.path, f"{done} {total} {stage}\n")


def read_progress(path: Path) -> tuple[int, int, str] | None:
    try:
        done, total, stage = path.read_text(encoding="utf-8").split(" ", 2)
        return int(done), int(total), stage.strip()
    except (OSError, ValueError):
        return None


def execute_job(job: dict[str, Any]) -> dict[str, Any]:
    """Render, check and record one village (in this process). Never raises for a village's failure."""
    started = time.monotonic()
    output = Path(job["output"])
    work_dir = Path(job["work_dir"])
    progress = ProgressFile(work_dir / "progress")
    try:
        progress.write(0, 0, "starting")
        timeline = from_dict(job["timeline"])
        profile = load_profile(job["rules"])
        render = load_callable(job.get("renderer") or DEFAULT_RENDERER)
        extra = {}
        if not job.get("renderer"):  # kbvideo's own renderer: guard the inputs, log its notices
            extra = {"protect": job.get("protect") or (),
                     "notice": lambda message: print(_("notice: {message}").format(message=message), file=sys.stderr,
                                                     flush=True)}
        result = render(timeline, output, profile=profile, draft=job["draft"], jobs=job.get("render_jobs"),
                        work_dir=work_dir, progress=progress, cache_dir=job.get("cache_dir"), check=False, **extra)
        progress.write(1, 1, "checking")
        report = check_output(output, profile, timeline=timeline, draft=job["draft"])
        plan_findings = [Finding(f["rule"], f["severity"], f["message"], {}, f.get("where"))
                         for f in job.get("plan_findings", [])]
        findings = plan_findings + list(getattr(result, "findings", []) or []) + list(report.findings)
        record = {
            "key": job["key"], "components": job["components"], "village": job["village"],
            "verdict": verdict(findings), "duration": report.duration,
            "findings": [f.to_dict() for f in findings if f.severity in ("error", "warning")],
            "rendered_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "render_seconds": round(time.monotonic() - started, 3),
        }
        write_key(output, record)
        return {"status": "rendered", "verdict": record["verdict"], "duration": report.duration,
                "findings": record["findings"], "seconds": record["render_seconds"]}
    except KbError as exc:
        print(exc.format(), file=sys.stderr)
        return {"status": "failed", "error": exc.format(), "seconds": round(time.monotonic() - started, 3)}
    except Exception as exc:  # noqa: BLE001 - one village's bug must be reported, not kill the batch
        traceback.print_exc()
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}",
                "seconds": round(time.monotonic() - started, 3)}


def run_job(job: dict[str, Any], register: Callable[[subprocess.Popen | None], None] | None = None) -> dict[str, Any]:
    """Run one village in a child process and return its result (also when the child crashes).

    Used by the local runner (one thread per running village) and, unchanged, inside Dask workers.
    """
    started = time.monotonic()
    work_dir = Path(job["work_dir"])
    work_dir.mkdir(parents=True, exist_ok=True)
    log = Path(job["log"])
    log.parent.mkdir(parents=True, exist_ok=True)
    job_file = work_dir / "job.json"
    result_file = work_dir / "result.json"
    result_file.unlink(missing_ok=True)
    job_file.write_text(json.dumps(job, ensure_ascii=False, default=str), encoding="utf-8")
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env["KBVIDEO_LANG"] = language()  # the render process speaks the language the command was given
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(f"== {time.strftime('%Y-%m-%d %H:%M:%S')} {job['village']} → {job['output']}\n")
        handle.flush()
        # The village dies with whoever runs it (the batch, or a Dask worker), after it has killed
        # its own ffmpeg and removed its temp files (kbvideo.proc).
        proc = processes.popen([sys.executable, "-m", "kbvideo.batch.worker", str(job_file)],
                               death_signal=PARENT_GONE, stdin=subprocess.DEVNULL, stdout=handle,
                               stderr=subprocess.STDOUT, env=env, cwd=str(work_dir))
        if register:
            register(proc)
        try:
            code = proc.wait()
        finally:
            if register:
                register(None)
    try:
        result = json.loads(result_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        how = _("killed by signal {value}").format(value=-code) if code < 0 else _("exit code {code}").format(code=code)
        result = {"status": "failed", "error": _("the render process crashed ({how}) before reporting; see {log}").format(how=how, log=log),
                  "seconds": round(time.monotonic() - started, 3)}
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def main(argv: list[str]) -> int:
    job_file = Path(argv[0])
    parent = os.getppid()
    try:
        with processes.on_signals((*processes.STOP_SIGNALS, PARENT_GONE)):  # the batch stops us, or died
            job = json.loads(job_file.read_text(encoding="utf-8"))
            set_language(choose_language())
            result = execute_job(job)
    except processes.Terminated as exc:
        stopped = _("stopped by signal {number}").format(number=exc.signum)
        print(stopped, file=sys.stderr)
        if exc.signum == PARENT_GONE or os.getppid() != parent:  # nobody will read a result or remove our folder
            work_dir = job_file.parent
            shutil.rmtree(work_dir, ignore_errors=True)
            try:
                work_dir.parent.rmdir()  # .kbvideo-batch, when it was the last village
            except OSError:
                pass
            return 128 + exc.signum
        result = {"status": "failed", "error": stopped}
    write_atomic(job_file.with_name("result.json"), json.dumps(result, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
