"""What a sync is asked to do, who it tells as it goes, and what it reports at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from ftjobs.store.records import HistoryCounts
from ftjobs.sync.fetch import Gap
from ftjobs.sync.resources import ResourceReport

JOBS_PAGE = 100
HISTORY_PAGE = 100
CONCURRENCY = 8


class SyncObserver(Protocol):
    """Told what a sync is doing, for a progress display or log lines. fetching may be
    called from worker threads; the others only from the thread that runs the sync."""

    def fetching(self, what: str) -> None: ...

    def listed(self, jobs: int) -> None: ...

    def job_done(self, job_id: str, outcome: str) -> None: ...

    def warning(self, text: str) -> None: ...


@dataclass(frozen=True)
class SyncOptions:
    full: bool = False  # walk every page and fetch every job's whole history again
    job_ids: tuple[str, ...] = ()  # only these jobs
    history: bool = True  # events, checkpoints and result files too
    concurrency: int = CONCURRENCY  # histories fetched at once (1: one request at a time)
    jobs_page: int = JOBS_PAGE
    history_page: int = HISTORY_PAGE


@dataclass
class SyncReport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    history: HistoryCounts = field(default_factory=HistoryCounts)
    gaps: list[Gap] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # records the archive cannot hold
    warnings: int = 0  # records kept as sent, with a warning
    resources: ResourceReport = field(default_factory=ResourceReport)  # files and models

    @property
    def jobs(self) -> int:
        return self.new + self.updated + self.unchanged

    def count(self, outcome: Literal["new", "updated", "unchanged"]) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
