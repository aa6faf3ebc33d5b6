"""What `ftjobs sync` shows: a Rich progress display on a terminal; piped, only warnings, gaps
and one summary line on stderr (stdout stays empty)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ftjobs.sync.ratelimit import Throttle
    from ftjobs.sync.report import SyncReport


class LineObserver:
    """Piped (or --quiet): warnings as lines on stderr, nothing else."""

    def __init__(self, err: IO[str]) -> None:
        self.err = err
        self.requests = 0
        self.jobs = 0
        self.known = 0  # jobs listed so far
        self.throttle: Throttle | None = None  # the API's, once there is one: its waits
        self.started = time.monotonic()
        self._lock = threading.Lock()  # requests are counted on the sync's worker threads

    def fetching(self, what: str) -> None:
        pass

    def listed(self, jobs: int) -> None:
        self.known += jobs

    def job_done(self, job_id: str, outcome: str) -> None:
        self.jobs += 1

    def warning(self, text: str) -> None:
        self.err.write(f"Warning: {text}\n")
        self.err.flush()

    def request(self, method: str, path: str) -> None:
        with self._lock:
            self.requests += 1

    def waiting(self, seconds: float, reason: str) -> None:
        self.err.write(f"Waiting {seconds:.0f} s: {reason}\n")
        self.err.flush()

    def sleep(self, seconds: float) -> None:
        _sleep_in_steps(seconds, lambda left: self._go_on())

    def _go_on(self) -> None:
        """A wait on a worker thread ends when the sync stops (Ctrl-C, an error elsewhere)."""
        if self.throttle is not None:
            self.throttle.check_open()


class ProgressObserver(LineObserver):
    """On a terminal: one live line of jobs, requests and what is being fetched, on stderr."""

    def __init__(self, progress: Any) -> None:
        super().__init__(sys.stderr)
        self.progress = progress
        self.task = progress.add_task("Syncing", total=None, detail="connecting")
        self.what = "connecting"

    def _show(self) -> None:
        elapsed = max(time.monotonic() - self.started, 0.001)
        parts = [
            f"{self.jobs:,}/{_count(self.known, 'job')}"
            if self.known
            else _count(self.jobs, "job"),
            f"{_count(self.requests, 'request')} ({self.requests / elapsed:.0f}/s)",
        ]
        throttle = self.throttle
        if throttle is not None and throttle.rate_limited:
            parts.append(f"{throttle.rate_limited:,} rate-limited, {throttle.limit} in flight")
        parts.append(self.what)
        self.progress.update(self.task, detail=" · ".join(parts))

    def fetching(self, what: str) -> None:
        self.what = what
        self._show()

    def job_done(self, job_id: str, outcome: str) -> None:
        super().job_done(job_id, outcome)
        self._show()

    def listed(self, jobs: int) -> None:
        super().listed(jobs)
        self._show()

    def request(self, method: str, path: str) -> None:
        super().request(method, path)
        self._show()

    def warning(self, text: str) -> None:
        self.progress.console.print(f"Warning: {text}", markup=False, highlight=False)

    def waiting(self, seconds: float, reason: str) -> None:
        self.progress.console.print(f"Waiting {seconds:.0f} s: {reason}", markup=False)

    def sleep(self, seconds: float) -> None:
        def show(left: float) -> None:
            self._go_on()
            self.what = f"waiting {left:.0f} s for the API (Ctrl-C stops; run sync again later)"
            self._show()

        _sleep_in_steps(seconds, show)


def _sleep_in_steps(seconds: float, tick: Any) -> None:
    """Sleep in steps of a second at most: a countdown can show, and Ctrl-C stops it at once."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        tick(left)
        time.sleep(min(1.0, left))


@contextmanager
def sync_display(*, terminal: bool) -> Iterator[LineObserver]:
    if not terminal:
        yield LineObserver(sys.stderr)
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Column

    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]Syncing[/]", table_column=Column(no_wrap=True, min_width=7)),
        # One line whatever the width: the detail is cut short rather than wrapped.
        TextColumn(
            "{task.fields[detail]}",
            markup=False,
            table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1),
        ),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        yield ProgressObserver(progress)


def write_sync_report(
    report: SyncReport, *, requests: int, seconds: float, quiet: bool, err: IO[str]
) -> None:
    """Gaps (always), then one summary line (unless quiet), on stderr."""
    for gap in report.gaps:
        err.write(f"Gap: {gap}\n")
    if quiet:
        return
    history = report.history
    added = [
        f"{count:,} {noun}{'' if count == 1 else 's'}"
        for count, noun in (
            (history.events_added, "event"),
            (history.checkpoints_added, "checkpoint"),
            (history.files_added, "result file"),
        )
    ]
    err.write(
        f"Synced {report.jobs:,} job{'' if report.jobs == 1 else 's'}: {report.new:,} new,"
        f" {report.updated:,} updated, {report.unchanged:,} unchanged;"
        f" added {', '.join(added[:-1])} and {added[-1]}"
        f" ({requests:,} request{'' if requests == 1 else 's'}, {seconds:.1f} s)"
        f"{_tail(report)}\n"
    )


def _tail(report: SyncReport) -> str:
    """What the summary adds: files and models looked up, then what did not go well
    (warnings, gaps, refusals)."""
    parts = []
    found = report.resources
    files = found.files_found + found.files_deleted
    models = found.models_found + found.models_deleted
    if files:
        deleted = f" ({found.files_deleted:,} deleted)" if found.files_deleted else ""
        parts.append(f"{_count(files, 'file object')} archived{deleted}")
    if models:
        deleted = f" ({found.models_deleted:,} deleted)" if found.models_deleted else ""
        parts.append(f"{_count(models, 'model')} checked{deleted}")
    if report.warnings:
        parts.append(f"{_count(report.warnings, 'warning')} (kept as sent)")
    if report.gaps:
        parts.append(f"{_count(len(report.gaps), 'gap')}, asked again next sync")
    if report.refused:
        parts.append(f"{_count(len(report.refused), 'record')} refused (not archived)")
    return "".join(f"; {part}" for part in parts)


def _count(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
