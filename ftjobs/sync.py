"""`ftjobs sync`: archive what the fine-tuning API holds (jobs, events, checkpoints, result
files) in the store, incrementally, resumably and without losing anything already archived.

The API lists jobs newest first, with cursor pages and no "newer than" filter. A sync walks the
list from the top and stops at the mark the last finished walk left (the newest job it saw):
below it every job is already archived. Jobs that are not finished, or whose history is not
wholly archived, are looked at again by id. Each job is saved with the history fetched for it
in one transaction, so an interrupted sync keeps every job it finished; where the first walk
down the whole list stopped is remembered and the next sync goes on from there.

Talking to the API is :mod:`ftjobs.remote`'s; storing is the store's; this module decides what
to fetch. Nothing here prints: progress and warnings go to an observer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

from pydantic import ValidationError

from ftjobs.errors import FtjobsError
from ftjobs.history import CheckpointRecord, EventRecord, FetchedHistory, decode_result_file
from ftjobs.models import (
    FineTuningJob,
    JobCheckpoint,
    JobEvent,
    describe_validation_error,
    range_problems,
)
from ftjobs.remote import ApiError, FineTuningApi, NotFoundError, Page, PermissionDenied, RawObject
from ftjobs.store import Store
from ftjobs.store.history_rows import HistoryCounts

ModelT = TypeVar("ModelT", JobEvent, JobCheckpoint)
RecordT = TypeVar("RecordT", EventRecord, CheckpointRecord)

JOBS_PAGE = 100
HISTORY_PAGE = 100
MARK = "jobs_mark"  # sync_state: {"id", "created_at"} of the newest job a finished walk saw
TOP = ""  # the cursor of a walk down the list that has not finished its first page


class SyncObserver(Protocol):
    """Told what a sync is doing, for a progress display or log lines."""

    def fetching(self, what: str) -> None: ...

    def job_done(self, job_id: str, outcome: str) -> None: ...

    def warning(self, text: str) -> None: ...


class RepeatedPage(FtjobsError):
    """The server sent a page again: its cursor did not move on."""


@dataclass(frozen=True)
class SyncOptions:
    full: bool = False  # walk every page and fetch every job's whole history again
    job_ids: tuple[str, ...] = ()  # only these jobs
    history: bool = True  # events, checkpoints and result files too
    jobs_page: int = JOBS_PAGE
    history_page: int = HISTORY_PAGE


@dataclass(frozen=True)
class Gap:
    """Something of a job's history the API would not give; the next sync asks again."""

    job_id: str
    what: str
    reason: str

    def __str__(self) -> str:
        return f"{self.job_id}: {self.what}: {self.reason}"


@dataclass
class SyncReport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    history: HistoryCounts = field(default_factory=HistoryCounts)
    gaps: list[Gap] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # records the archive cannot hold

    @property
    def jobs(self) -> int:
        return self.new + self.updated + self.unchanged

    def count(self, outcome: Literal["new", "updated", "unchanged"]) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass(frozen=True)
class _Mark:
    id: str
    created_at: int

    def covers(self, job: RawObject) -> bool:
        """Whether the job is at or below the mark in the newest-first list."""
        created_at = job.value.get("created_at")
        if job.id == self.id:
            return True
        return isinstance(created_at, int) and created_at < self.created_at


class Syncer:
    """One sync run over a store and an API client."""

    def __init__(
        self,
        store: Store,
        api: FineTuningApi,
        options: SyncOptions,
        observer: SyncObserver,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.api = api
        self.options = options
        self.observer = observer
        self.clock = clock
        self.report = SyncReport()
        self.seen: set[str] = set()

    def run(self) -> SyncReport:
        if self.options.job_ids:
            for job_id in dict.fromkeys(self.options.job_ids):
                self.observer.fetching(f"job {job_id}")
                self._sync_jobs([self.api.retrieve_job(job_id)], revisit=True)
            return self.report
        mark = None if self.options.full else self._mark()
        # Where an unfinished walk down the list stopped: "" if before its first page was done.
        resume = self.store.sync_cursor()
        if mark is None:
            self._walk_down(after=None)
        else:
            self._walk_to(mark)
            if resume is not None:
                self._walk_down(after=resume or None, resumed=True)
        self._revisit()
        return self.report

    # -- walking the job list ----------------------------------------------------------------

    def _walk_to(self, mark: _Mark) -> None:
        """From the top of the list down to the page that reaches the mark: the jobs created
        since the last walk (the older ones on that page come free: a finished, archived one
        costs nothing, an unfinished one is looked at without asking for it by id). The mark
        moves up only once the walk got there, so an interrupted one is redone."""
        newest: RawObject | None = None
        for page in self._job_pages(after=None):
            newest = newest or (page.items[0] if page.items else None)
            self._sync_jobs(page.items)
            if any(mark.covers(item) for item in page.items):
                break
        if newest is not None:
            self._set_mark(newest)

    def _walk_down(self, after: str | None, *, resumed: bool = False) -> None:
        """Down the whole list (from after, where an earlier walk stopped), remembering after
        each page where it got to, so that the next sync can go on from there."""
        if not resumed:
            # Remembered before the mark is set: a walk killed before its first page is done
            # is gone on from the top, not taken for finished.
            self.store.set_sync_cursor(TOP)
            first = self._first_page(after=None)
            if first is None:
                self.store.set_sync_cursor(None)
                return
            if first.items:
                # Jobs newer than this are the next sync's to find, from the top down to it.
                self._set_mark(first.items[0])
            pages: Iterator[Page] = self._job_pages(after=None, first=first)
        else:
            self.observer.fetching("the job list, from where the last sync stopped")
            pages = self._job_pages(after=after, resumed=after is not None)
        for page in pages:
            self._sync_jobs(page.items)
            self.store.set_sync_cursor(page.items[-1].id if page.has_more and page.items else None)
        self.store.set_sync_cursor(None)

    def _first_page(self, after: str | None) -> Page | None:
        self.observer.fetching("the job list")
        return self.api.list_jobs(after=after, limit=self.options.jobs_page)

    def _job_pages(
        self, after: str | None, *, first: Page | None = None, resumed: bool = False
    ) -> Iterator[Page]:
        """The pages of the job list from after; a page that repeats ids already listed is an
        error (a cursor that does not move on would otherwise loop for ever)."""
        listed: set[str] = set()
        page = first
        while True:
            if page is None:
                self.observer.fetching(f"the job list (after {after})" if after else "the job list")
                try:
                    page = self.api.list_jobs(after=after, limit=self.options.jobs_page)
                except ApiError as error:
                    if resumed and error.status in (400, 404):
                        # The server no longer knows the saved cursor: start that walk again.
                        self.observer.warning(
                            f"the server no longer knows where the last sync stopped ({after});"
                            " walking the job list from the top"
                        )
                        self.store.set_sync_cursor(None)
                        yield from self._job_pages(after=None)
                        return
                    raise
            ids = [item.id or "" for item in page.items]
            if listed.intersection(ids):
                raise RepeatedPage(
                    f"the API sent the same jobs again for GET /fine_tuning/jobs?after={after}"
                    " (its cursor does not move on); stopping rather than loop. What was"
                    " synced so far is kept"
                )
            listed.update(ids)
            yield page
            if not page.has_more or not page.items:
                return
            after = ids[-1]
            page = None

    def _revisit(self) -> None:
        """Stored jobs that are not finished, or whose history is not wholly archived, and that
        the walk did not list: fetched by id."""
        for job_id in self.store.jobs_to_revisit():
            if job_id in self.seen:
                continue
            self.observer.fetching(f"job {job_id}")
            try:
                raw = self.api.retrieve_job(job_id)
            except (NotFoundError, PermissionDenied) as error:
                self._gap(job_id, "job", error)
                continue
            self._sync_jobs([raw], revisit=True)

    # -- one job -------------------------------------------------------------------------------

    def _sync_jobs(self, items: list[RawObject], *, revisit: bool = False) -> None:
        jobs = [job for job in map(self._job, items) if job is not None]
        stored = self.store.sync_states([job.id for job in jobs])
        for job in jobs:
            self.seen.add(job.id)
            before = stored.get(job.id)
            changed = before is None or before.job.to_json() != job.to_json()
            complete = before is not None and before.history_complete
            wants_history = self.options.history and (
                self.options.full or changed or not job.is_final or not complete
            )
            if not wants_history and not changed:
                self.report.count("unchanged")
                self.observer.job_done(job.id, "unchanged")
                continue
            history, gaps = self._history(job) if wants_history else (None, [])
            outcome, counts = self.store.save_synced(
                job, history, complete=not gaps, gaps=[str(gap) for gap in gaps],
                now=int(self.clock()),
            )  # fmt: skip
            self.report.count(outcome)
            self.report.history += counts
            self.observer.job_done(job.id, outcome)

    def _job(self, raw: RawObject) -> FineTuningJob | None:
        """The job as sent; one the archive cannot hold (a type error) is reported, not saved."""
        try:
            job = FineTuningJob.model_validate_json(raw.text)
        except ValidationError as error:
            problem = f"job {raw.id}: {describe_validation_error(error, limit=3)}; not archived"
            self.report.refused.append(problem)
            self.observer.warning(problem)
            return None
        for problem in range_problems(job):
            self.observer.warning(f"job {job.id}: {problem} (kept as sent)")
        return job

    def _history(self, job: FineTuningJob) -> tuple[FetchedHistory, list[Gap]]:
        """What the API has of the job's history that the store has not: events and
        checkpoints down to the first one already stored (all with --full), and result files
        whose content is not stored. A part the API refuses (404, 403) is a gap; what was
        fetched of that part is dropped, so the next sync fetches it whole."""
        known_events, known_checkpoints = self.store.known_history(job.id)
        history = FetchedHistory()
        gaps: list[Gap] = []
        history.events = self._part(job.id, "events", known_events, JobEvent, EventRecord, gaps)
        history.checkpoints = self._part(
            job.id, "checkpoints", known_checkpoints, JobCheckpoint, CheckpointRecord, gaps
        )
        files = list(job.result_files or ())
        stored = set() if self.options.full else self.store.stored_files(files)
        for file_id in files:
            if file_id in stored:
                continue
            self.observer.fetching(f"result file {file_id} of {job.id}")
            try:
                raw = self.api.file_content(file_id)
                history.files.append(decode_result_file(file_id, raw))
            except (NotFoundError, PermissionDenied) as error:
                gaps.append(self._gap(job.id, f"result file {file_id}", error))
            except FtjobsError as error:  # neither CSV nor base64 of one
                gap = Gap(job.id, f"result file {file_id}", str(error).removeprefix(f"{file_id}: "))
                self.report.gaps.append(gap)
                gaps.append(gap)
        return history, gaps

    def _part(
        self,
        job_id: str,
        kind: str,
        known: set[str],
        model: type[ModelT],
        record: Callable[[ModelT, str], RecordT],
        gaps: list[Gap],
    ) -> list[RecordT]:
        """A job's new events or checkpoints as records; all of them or, when the API refuses
        the part or sends one the archive cannot hold, none and a gap."""
        try:
            return [
                record(model.model_validate_json(item.text), item.text)
                for item in self._items(kind, job_id, known)
            ]
        except (NotFoundError, PermissionDenied) as error:
            gaps.append(self._gap(job_id, kind, error))
        except ValidationError as error:
            gaps.append(self._refused(job_id, kind, error))
        return []

    def _items(self, kind: str, job_id: str, known: set[str]) -> Iterator[RawObject]:
        """A job's events or checkpoints, newest first, down to the first one stored."""
        fetch = self.api.list_events if kind == "events" else self.api.list_checkpoints
        listed: set[str] = set()
        after: str | None = None
        while True:
            self.observer.fetching(f"{kind} of {job_id}")
            page = fetch(job_id, after=after, limit=self.options.history_page)
            ids = [item.id or "" for item in page.items]
            if listed.intersection(ids):
                raise RepeatedPage(
                    f"the API sent the same {kind} of {job_id} again (after={after}): its cursor"
                    " does not move on"
                )
            listed.update(ids)
            for item in page.items:
                if item.id in known and not self.options.full:
                    return
                yield item
            if not page.has_more or not page.items:
                return
            after = ids[-1]

    def _gap(self, job_id: str, what: str, error: ApiError) -> Gap:
        reason = f"HTTP {error.status}" + (f" {error.code}" if error.code else "")
        gap = Gap(job_id, what, f"{reason} (asked again next sync)")
        self.report.gaps.append(gap)
        return gap

    def _refused(self, job_id: str, what: str, error: ValidationError) -> Gap:
        gap = Gap(job_id, what, f"{describe_validation_error(error)}; not archived")
        self.report.gaps.append(gap)
        return gap

    # -- the mark ----------------------------------------------------------------------------

    def _mark(self) -> _Mark | None:
        text = self.store.sync_value(MARK)
        if text is None:
            return None
        value = json.loads(text)
        return _Mark(value["id"], value["created_at"])

    def _set_mark(self, newest: RawObject) -> None:
        created_at = newest.value.get("created_at")
        if newest.id is None or not isinstance(created_at, int):
            return
        self.store.set_sync_value(MARK, json.dumps({"id": newest.id, "created_at": created_at}))


def sync(
    store: Store, api: FineTuningApi, options: SyncOptions, observer: SyncObserver
) -> SyncReport:
    """Run one sync; see the module's docstring."""
    return Syncer(store, api, options, observer).run()
