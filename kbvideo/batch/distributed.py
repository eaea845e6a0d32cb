"""Batch villages on a Dask distributed cluster: `kbvideo batch ... --scheduler tcp://host:8786`.

Optional extra: `pip install "kbvideo[distributed]"` (dask[distributed]); imported only when used.
Assumes a shared filesystem: the storyboards, templates, assets, the cache and OUTDIR are at the
same absolute paths on every worker (NFS/SMB mount). Each task is `kbvideo.batch.worker.run_job`,
which renders one village in a child process of the Dask worker, exactly as a local batch does,
so a crash fails that village only and the worker survives.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from kbvideo.batch.worker import run_job
from kbvideo.errors import UsageError
from kbvideo.i18n import _

INSTALL_HINT = 'pip install "kbvideo[distributed]"   (or: pip install "dask[distributed]")'


def _distributed():
    try:
        import distributed
    except ImportError:
        raise UsageError(_("--scheduler needs Dask distributed, which is not installed"), INSTALL_HINT) from None
    return distributed


class DaskExecutor:
    """Submits one task per village to a Dask scheduler and reports each result as it arrives."""

    def __init__(self, address: str, *, client=None, timeout: float = 20):
        distributed = _distributed()
        self.distributed = distributed
        self.own_client = client is None
        if client is None:
            try:
                client = distributed.Client(address, timeout=timeout, set_as_default=False)
            except OSError as exc:
                raise UsageError(_("cannot reach the Dask scheduler at {address}: {exc}").format(address=address, exc=exc),
                                 _("start it with `dask scheduler` and check the address (tcp://HOST:8786)")) from None
        self.client = client
        self.futures: list = []
        self.thread: threading.Thread | None = None

    def start(self, jobs: list[dict[str, Any]], events: "queue.Queue") -> None:
        by_key = {}
        for job in jobs:
            future = self.client.submit(run_job, job, key=f"kbvideo-{job['slug']}-{job['key'][:12]}", pure=False,
                                        retries=0)
            by_key[future.key] = job["slug"]
            self.futures.append(future)

        # as_completed() from a helper thread never yields with a non-default client (seen with
        # distributed 2026.8): done-callbacks (run on the client's loop) hand the futures over instead.
        finished: queue.Queue = queue.Queue()
        for future in self.futures:
            future.add_done_callback(finished.put)

        def collect() -> None:
            for _index in range(len(self.futures)):
                future = finished.get()
                slug = by_key[future.key]
                try:
                    result = future.result()
                except Exception as exc:  # noqa: BLE001 - KilledWorker, CancelledError...: this village failed
                    result = {"status": "failed", "error": _("Dask task failed: {kind}: {reason}").format(kind=type(exc).__name__, reason=exc)}
                events.put(("done", slug, result))

        self.thread = threading.Thread(target=collect, name="kbvideo-dask", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.futures:
            self.client.cancel(self.futures)

    def close(self) -> None:
        if self.thread is not None:
            self.thread.join(timeout=5)
        if self.own_client:
            self.client.close()
