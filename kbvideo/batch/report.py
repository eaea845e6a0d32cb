"""What a batch did: one VillageResult per village, the final table, the JSON report, the exit code,
and the live display (a line per running village plus the overall count) on stderr."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from kbvideo.errors import Problem, printable
from kbvideo.i18n import _, ngettext
from kbvideo.timecode import format_seconds

STATUSES = ("rendered", "up to date", "invalid", "failed")


@dataclass(slots=True)
class VillageResult:
    village: str  # display name
    slug: str
    source: str  # storyboard path, or roster:line
    status: str = "pending"  # rendered | up to date | invalid | failed (pending/running while in flight)
    output: str | None = None
    duration: float | None = None  # seconds of video (as checked)
    verdict: str | None = None  # pass | warn | fail (the check of the output and the plan's rules)
    seconds: float = 0.0  # time this batch spent on the village
    log: str | None = None
    reason: str | None = None  # why it was rendered again (changed parts) or skipped
    error: str | None = None
    problems: list[Problem] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("rendered", "up to date") and self.verdict != "fail"

    def to_dict(self) -> dict[str, Any]:
        return {
            "village": self.village, "id": self.slug, "source": self.source, "status": self.status,
            "duration": None if self.duration is None else round(self.duration, 3), "verdict": self.verdict,
            "output": self.output, "seconds": round(self.seconds, 3), "log": self.log, "reason": self.reason,
            "error": self.error, "problems": [p.to_dict() for p in self.problems], "findings": self.findings,
        }


@dataclass(slots=True)
class BatchReport:
    results: list[VillageResult]
    outdir: str
    draft: bool
    jobs: int
    scheduler: str | None = None
    seconds: float = 0.0

    @property
    def return_code(self) -> int:
        """0 when every village rendered (or was up to date) and passed its check; 1 otherwise."""
        return 0 if self.results and all(r.ok for r in self.results) else 1

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        out["check failed"] = sum(1 for r in self.results if r.verdict == "fail")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "kbvideo.batch-report", "version": 1, "outdir": self.outdir, "draft": self.draft,
            "jobs": self.jobs, "scheduler": self.scheduler, "seconds": round(self.seconds, 3),
            "summary": self.counts(), "exit_code": self.return_code,
            "villages": [r.to_dict() for r in self.results],
        }

    def table(self) -> str:
        headers = [_("village"), _("status"), _("duration"), _("check"), _("output"), _("time")]
        statuses = {"rendered": _("rendered"), "up to date": _("up to date"), "invalid": _("invalid"),
                    "failed": _("failed")}
        verdicts = {"pass": _("pass"), "warn": _("warn"), "fail": _("fail")}
        rows = []
        for r in self.results:
            rows.append([printable(r.village, 40), statuses.get(r.status, r.status), "-" if r.duration is None else format_seconds(r.duration, 3),
                         verdicts.get(r.verdict, r.verdict or "-"), r.output or "-", f"{r.seconds:.1f}s"])
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
                 "  ".join("-" * w for w in widths)]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        c = self.counts()
        lines.append("")
        lines.append(ngettext("{count} village: {rendered} rendered, {current} up to date, {invalid} invalid, "
                              "{failed} failed, {check_failed} failed the check ({seconds:.1f}s)",
                              "{count} villages: {rendered} rendered, {current} up to date, {invalid} invalid, "
                              "{failed} failed, {check_failed} failed the check ({seconds:.1f}s)", len(self.results))
                     .format(count=len(self.results), rendered=c["rendered"], current=c["up to date"],
                             invalid=c["invalid"], failed=c["failed"], check_failed=c["check failed"],
                             seconds=self.seconds))
        return "\n".join(lines)


class LiveDisplay:
    """Progress on stderr: redrawn lines on a terminal, one plain line per event otherwise."""

    def __init__(self, stream: TextIO | None, *, tty: bool, total: int):
        self.stream, self.tty, self.total = stream, tty, total
        self.drawn = 0
        self.done = 0
        self.running: dict[str, tuple[float, str]] = {}  # slug → (fraction, stage)
        self.started: dict[str, float] = {}

    def event(self, text: str) -> None:
        if self.stream is None:
            return
        self._clear()
        self.stream.write(text + "\n")
        self._draw()

    def start(self, slug: str) -> None:
        self.running[slug] = (0.0, "queued")
        self.started[slug] = time.monotonic()
        if not self.tty:
            self.event(f"[{self.done}/{self.total}] started {slug}")
        else:
            self._redraw()

    def update(self, slug: str, fraction: float, stage: str) -> None:
        if slug in self.running:
            self.running[slug] = (fraction, stage)
            if self.tty:
                self._redraw()

    def finish(self, result: VillageResult) -> None:
        self.running.pop(result.slug, None)
        self.done += 1
        extra = f", check {result.verdict}" if result.verdict else ""
        if result.error:
            extra += f": {result.error.splitlines()[0]}"
        self.event(f"[{self.done}/{self.total}] {result.slug}: {result.status}{extra} ({result.seconds:.1f}s)")

    def close(self) -> None:
        self._clear()

    def _clear(self) -> None:
        if self.tty and self.drawn and self.stream is not None:
            self.stream.write("\x1b[1A\x1b[2K" * self.drawn + "\r")
            self.drawn = 0

    def _draw(self) -> None:
        if not self.tty or self.stream is None:
            if self.stream is not None:
                self.stream.flush()
            return
        lines = []
        for slug, (fraction, stage) in self.running.items():
            bar = "#" * int(fraction * 20)
            elapsed = time.monotonic() - self.started.get(slug, time.monotonic())
            lines.append(f"  {slug[:28]:<28} [{bar:<20}] {fraction:4.0%} {stage[:12]:<12} {elapsed:5.0f}s")
        lines.append("  " + _("{done}/{total} villages done, {running} running").format(
            done=self.done, total=self.total, running=len(self.running)))
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        self.drawn = len(lines)

    def _redraw(self) -> None:
        self._clear()
        self._draw()
