"""`ftjobs sync`: archive what the fine-tuning API holds (jobs, events, checkpoints, result
files) in the store, incrementally, resumably and without losing anything already archived.

What one key can see is a source (an endpoint, an organization and a project; see
:attr:`ftjobs.remote.ApiConfig.source`), and every source is walked apart: a team syncing several
projects, and Azure, into one store has each one's jobs archived whole.

The API lists jobs newest first, with cursor pages and no "newer than" filter. A source's first
sync walks its whole list; later ones walk from the top down to the source's mark (the newest
job its last finished walk saw): below it every job is already archived. Jobs the source listed
that are not finished, or whose history is not wholly archived, are looked at again by id. Each
job is saved with the history fetched for it in one transaction, so an interrupted sync keeps
every job it finished; where an unfinished walk stopped is remembered and the next sync goes on
from there.

What the server sends is judged item by item: an event or checkpoint the models find odd is
kept as sent with a warning naming job, item and field; only an item that cannot be stored at
all (not an object, no id) is refused, and never the list around it.

Talking to the API is :mod:`ftjobs.remote`'s; storing is the store's; this module decides what
to fetch. Nothing here prints: progress and warnings go to an observer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from pydantic import ValidationError

from ftjobs.errors import FtjobsError
from ftjobs.history import (
    UNREADABLE_RESULT_FILE,
    CheckpointRecord,
    EventRecord,
    FetchedHistory,
    result_file_as_sent,
)
from ftjobs.models import (
    FineTuningJob,
    JobCheckpoint,
    JobEvent,
    describe_validation_error,
    range_problems,
)
from ftjobs.remote import ApiError, FineTuningApi, NotFoundError, Page, PermissionDenied, RawObject
from ftjobs.store import Mark, Store
from ftjobs.store.history_rows import HistoryCounts
from ftjobs.sync_resources import ResourceReport, archive_files_and_models

ModelT = TypeVar("ModelT", JobEvent, JobCheckpoint)

JOBS_PAGE = 100
HISTORY_PAGE = 100
TOP = ""  # the cursor of a walk down the list that has not finished its first page

HistoryKind = Literal["events", "checkpoints"]


class SyncObserver(Protocol):
    """Told what a sync is doing, for a progress display or log lines."""

    def fetching(self, what: str) -> None: ...

    def job_done(self, job_id: str, outcome: str) -> None: ...

    def warning(self, text: str) -> None: ...


@dataclass(frozen=True)
class ListedPage:
    """A page as a walk takes it: its items not listed before in this walk, what it refused,
    and the cursor of the page after it (None after the last)."""

    items: list[RawObject]
    refused: list[str]
    next_after: str | None


class RepeatedPage(FtjobsError):
    """The server sent a page again: the same cursor asked twice, or a page already seen."""


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
    warnings: int = 0  # records kept as sent, with a warning
    resources: ResourceReport = field(default_factory=ResourceReport)  # files and models

    @property
    def jobs(self) -> int:
        return self.new + self.updated + self.unchanged

    def count(self, outcome: Literal["new", "updated", "unchanged"]) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def covers(mark: Mark, job: RawObject) -> bool:
    """Whether the job is at or below the mark in the source's newest-first list."""
    created_at = job.value.get("created_at")
    if job.id == mark.id:
        return True
    return type(created_at) is int and created_at < mark.created_at


class Syncer:
    """One sync run of one source (the api's configuration) into a store."""

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
        self.seen: set[str] = set()  # jobs this run has handled: each is handled once
        self._source_key: int | None = None

    @property
    def source_key(self) -> int:
        """The source's row, made on the first write: a sync refused before it got anything
        (a wrong key, no network) leaves the store as it was."""
        if self._source_key is None:
            config = self.api.config
            state = self.store.open_source(config.source, config.source_label, now=self.now())
            self._source_key = state.key
        return self._source_key

    def now(self) -> int:
        return int(self.clock())

    def run(self) -> SyncReport:
        source = self.store.source_state(self.api.config.source)
        if source is not None:
            self._source_key = source.key
        if self.options.job_ids:
            for job_id in dict.fromkeys(self.options.job_ids):
                self.observer.fetching(f"job {job_id}")
                raw = self._retrieve(job_id)
                if raw is not None:
                    self._sync_jobs([raw])
            self._files_and_models(list(self.seen))
            return self.report
        mark = None if self.options.full or source is None else source.mark
        if mark is None:
            self._walk_down(after=None)
        else:
            self._walk_to(mark)
            if source is not None and source.walk_after is not None:
                self._walk_down(after=source.walk_after or None, resumed=True)
        self._revisit()
        self._files_and_models(self.store.source_job_ids(self.source_key))
        self.store.source_synced(self.source_key, now=self.now())
        return self.report

    def _files_and_models(self, job_ids: list[str]) -> None:
        """The jobs' training and validation file objects not archived yet, and whether their
        fine-tuned models still exist (each asked at most once a day; every one with --full)."""
        if not self.options.history or not job_ids:
            return
        found = archive_files_and_models(
            self.store, self.api, self.observer, job_ids, now=self.now(), full=self.options.full
        )
        self.report.resources = found
        for gap in found.gaps:
            self._add_gap(Gap(gap.job_id, gap.what, gap.reason))

    # -- walking the job list ----------------------------------------------------------------

    def _walk_to(self, mark: Mark) -> None:
        """From the top of the list down to the page that reaches the mark: the jobs created
        since the last walk (the older ones on that page come free: a finished, archived one
        costs nothing, an unfinished one is looked at without asking for it by id). The mark
        moves up only once the walk got there, so an interrupted one is redone."""
        newest: RawObject | None = None
        for page in self._job_pages(after=None):
            newest = newest or (page.items[0] if page.items else None)
            self._sync_jobs(page.items)
            if any(covers(mark, item) for item in page.items):
                break
        if newest is not None:
            self._set_mark(newest)

    def _walk_down(self, after: str | None, *, resumed: bool = False) -> None:
        """Down the whole list (from after, where an earlier walk stopped), remembering after
        each page where it got to, so that the next sync can go on from there."""
        if not resumed:
            self.observer.fetching("the job list")
            first = self.api.list_jobs(after=None, limit=self.options.jobs_page)
            # Remembered before the mark is set: a walk killed before its first page is done
            # is gone on from the top, not taken for finished.
            self.store.set_walk_after(self.source_key, TOP)
            if first.items:
                # Jobs newer than this are the next sync's to find, from the top down to it.
                self._set_mark(first.items[0])
            pages = self._job_pages(after=None, first=first)
        else:
            self.observer.fetching("the job list, from where the last sync stopped")
            pages = self._job_pages(after=after, resumed=after is not None)
        for page in pages:
            self._sync_jobs(page.items)
            self.store.set_walk_after(self.source_key, page.next_after)
        self.store.set_walk_after(self.source_key, None)

    def _job_pages(
        self, after: str | None, *, first: Page | None = None, resumed: bool = False
    ) -> Iterator[ListedPage]:
        """The pages of the job list from after, each job once (a job a later page lists
        again is skipped); a cursor asked twice or a page sent twice is a loop, an error
        (the walk cannot go on), what was saved before it stays."""
        pages = _pages(
            lambda cursor: self.api.list_jobs(after=cursor, limit=self.options.jobs_page),
            after=after,
            first=first,
            what="jobs",
            fetching=lambda cursor: self.observer.fetching(
                f"the job list (after {cursor})" if cursor else "the job list"
            ),
        )
        try:
            for page in pages:
                for refused in page.refused:
                    self._refuse(f"the job list (after {after}): {refused}; not archived")
                yield page
        except ApiError as error:
            if resumed and error.status in (400, 404):
                # The server no longer knows the saved cursor: start that walk again.
                self.observer.warning(
                    f"the server no longer knows where the last sync stopped ({after});"
                    " walking the job list from the top"
                )
                self.store.set_walk_after(self.source_key, None)
                yield from self._job_pages(after=None)
                return
            raise

    def _revisit(self) -> None:
        """The source's stored jobs that are not finished, or whose history is not wholly
        archived, and that the walk did not list: fetched by id."""
        for job_id in self.store.jobs_to_revisit(self.source_key):
            if job_id in self.seen:
                continue
            self.observer.fetching(f"job {job_id}")
            try:
                raw = self._retrieve(job_id)
            except (NotFoundError, PermissionDenied) as error:
                self._gap(job_id, "job", error)
                continue
            if raw is not None:
                self._sync_jobs([raw])

    def _retrieve(self, job_id: str) -> RawObject | None:
        """GET /fine_tuning/jobs/{id}, checked: an answer about another job is a gap, and
        neither job is stored from it."""
        raw = self.api.retrieve_job(job_id)
        if raw.id != job_id:
            self._add_gap(
                Gap(
                    job_id,
                    "job",
                    f"GET /fine_tuning/jobs/{job_id} answered with job {raw.id}; not stored"
                    " (asked again next sync)",
                )
            )
            return None
        return raw

    # -- one job -------------------------------------------------------------------------------

    def _sync_jobs(self, items: list[RawObject]) -> None:
        fresh = [raw for raw in items if raw.id not in self.seen]
        self.seen.update(raw.id for raw in fresh if raw.id is not None)
        jobs = [(raw, job) for raw in fresh if (job := self._job(raw)) is not None]
        stored = self.store.sync_states([job.id for _, job in jobs])
        unchanged: list[str] = []
        for raw, job in jobs:
            before = stored.get(job.id)
            same_job = before is not None and before.job.to_json() == job.to_json()
            complete = before is not None and before.history_complete
            wants_history = self.options.history and (
                self.options.full or not same_job or not job.is_final or not complete
            )
            if not wants_history and before is not None and same_job and before.text == raw.text:
                unchanged.append(job.id)
                self.report.count("unchanged")
                self.observer.job_done(job.id, "unchanged")
                continue
            history, gaps = self._history(job, complete) if wants_history else (None, [])
            outcome, counts = self.store.save_synced(
                job, history, text=raw.text, source_key=self.source_key, complete=not gaps,
                gaps=[str(gap) for gap in gaps], now=self.now(),
            )  # fmt: skip
            self.report.count(outcome)
            self.report.history += counts
            self.observer.job_done(job.id, outcome)
        if unchanged:
            self.store.note_seen(self.source_key, unchanged, now=self.now())

    def _job(self, raw: RawObject) -> FineTuningJob | None:
        """The job as sent; one the archive cannot hold (a type error) is reported, not saved."""
        try:
            job = FineTuningJob.model_validate_json(raw.text)
        except ValidationError as error:
            self._refuse(f"job {raw.id}: {describe_validation_error(error, limit=3)}; not archived")
            return None
        for problem in range_problems(job):
            self._warn(f"job {job.id}: {problem} (kept as sent)")
        return job

    def _history(self, job: FineTuningJob, complete: bool) -> tuple[FetchedHistory, list[Gap]]:
        """What the API has of the job's history that the store has not: events and
        checkpoints down to the first one already stored when the stored history is whole
        (all of them with --full, or after a gap), and result files whose content is not
        stored. A part the API refuses (404, 403) or sends in a loop is a gap: what was fetched
        of it is kept, and the next sync walks that part whole again."""
        known_events, known_checkpoints = self.store.known_history(job.id)
        stop_at_known = complete and not self.options.full
        history = FetchedHistory(events_whole=not complete)
        gaps: list[Gap] = []
        history.events = [
            EventRecord(event, text)
            for event, text in self._part(
                job.id, "events", JobEvent, known_events, stop_at_known, gaps
            )
        ]
        history.checkpoints = [
            CheckpointRecord(checkpoint, text)
            for checkpoint, text in self._part(
                job.id, "checkpoints", JobCheckpoint, known_checkpoints, stop_at_known, gaps
            )
        ]
        files = list(job.result_files or ())
        stored = set() if self.options.full else self.store.stored_files(files)
        for file_id in files:
            if file_id in stored:
                continue
            self.observer.fetching(f"result file {file_id} of {job.id}")
            try:
                raw = self.api.file_content(file_id)
            except (NotFoundError, PermissionDenied) as error:
                gaps.append(self._gap(job.id, f"result file {file_id}", error))
                continue
            content = result_file_as_sent(file_id, raw)
            if content.csv is None:
                self._warn(
                    f"job {job.id}: result file {file_id}: {UNREADABLE_RESULT_FILE}; kept as"
                    " sent (metrics cannot read it)"
                )
            history.files.append(content)
        return history, gaps

    def _part(
        self,
        job_id: str,
        kind: HistoryKind,
        model: type[ModelT],
        known: set[str],
        stop_at_known: bool,
        gaps: list[Gap],
    ) -> list[tuple[ModelT, str]]:
        """A job's new events or checkpoints, each judged alone: kept as sent, with a warning
        for what the model finds odd. A refusal (404, 403) or a loop ends the part as a gap,
        keeping what came before it."""
        fetch = self.api.list_events if kind == "events" else self.api.list_checkpoints
        kept: list[tuple[ModelT, str]] = []
        pages = _pages(
            lambda after: fetch(job_id, after=after, limit=self.options.history_page),
            after=None,
            what=f"{kind} of {job_id}",
            fetching=lambda _: self.observer.fetching(f"{kind} of {job_id}"),
        )
        try:
            for page in pages:
                for refused in page.refused:
                    self._refuse(f"job {job_id}: {kind}: {refused}; not archived")
                for item in page.items:
                    if stop_at_known and item.id in known:
                        return kept
                    kept.append((self._item(job_id, kind, model, item), item.text))
        except (NotFoundError, PermissionDenied) as error:
            gaps.append(self._gap(job_id, kind, error))
        except RepeatedPage as error:
            gaps.append(self._add_gap(Gap(job_id, kind, f"{error} (asked again next sync)")))
        return kept

    def _item(self, job_id: str, kind: HistoryKind, model: type[ModelT], item: RawObject) -> ModelT:
        """The item as the model reads it, or, where the model refuses a field, as close as
        the columns can hold (the text is kept as sent either way), with a warning."""
        try:
            return model.model_validate_json(item.text)
        except ValidationError as error:
            what = "event" if kind == "events" else "checkpoint"
            self._warn(
                f"job {job_id}: {what} {item.id}: {describe_validation_error(error, limit=3)}"
                " (kept as sent)"
            )
            return model.model_construct(**_loose_fields(model, item.value))

    # -- what is said ----------------------------------------------------------------------

    def _warn(self, text: str) -> None:
        self.report.warnings += 1
        self.observer.warning(text)

    def _refuse(self, text: str) -> None:
        self.report.refused.append(text)
        self.observer.warning(text)

    def _gap(self, job_id: str, what: str, error: ApiError) -> Gap:
        reason = f"HTTP {error.status}" + (f" {error.code}" if error.code else "")
        return self._add_gap(Gap(job_id, what, f"{reason} (asked again next sync)"))

    def _add_gap(self, gap: Gap) -> Gap:
        self.report.gaps.append(gap)
        return gap

    # -- the mark ----------------------------------------------------------------------------

    def _set_mark(self, newest: RawObject) -> None:
        created_at = newest.value.get("created_at")
        if newest.id is None or type(created_at) is not int:
            return
        self.store.set_mark(self.source_key, Mark(newest.id, created_at))


def _pages(
    fetch: Callable[[str | None], Page],
    *,
    after: str | None,
    what: str,
    fetching: Callable[[str | None], None],
    first: Page | None = None,
) -> Iterator[ListedPage]:
    """A list endpoint's pages from after, each item once: an id a later page lists again is
    left out of it (servers do that when items are added while one pages). What really loops
    is an error: the same cursor asked for twice, or a page identical to one already seen."""
    asked: set[str | None] = set()
    seen_pages: set[tuple[str | None, ...]] = set()
    listed: set[str | None] = set()
    page = first
    while True:
        if page is None:
            if after in asked:
                raise RepeatedPage(
                    f"the API was asked for the {what} after {after} twice: its cursor does not"
                    " move on; stopping rather than loop. What was synced so far is kept"
                )
            fetching(after)
            page = fetch(after)
        asked.add(after)
        ids = tuple(item.id for item in page.items)
        if ids and ids in seen_pages:
            raise RepeatedPage(
                f"the API sent a page of {what} it had sent before (after {after}): its cursor"
                " does not move on; stopping rather than loop. What was synced so far is kept"
            )
        seen_pages.add(ids)
        fresh = [item for item in page.items if item.id not in listed]
        listed.update(ids)
        next_after = ids[-1] if page.has_more and ids else None
        yield ListedPage(fresh, page.refused, next_after)
        if next_after is None:
            return
        after = next_after
        page = None


def _loose_fields(
    model: type[JobEvent] | type[JobCheckpoint], value: dict[str, Any]
) -> dict[str, Any]:
    """What of an item the store's columns can hold when the model refuses one of its fields:
    text where text belongs, whole numbers where they do (0 for a time that is none), the rest
    None. The item's text is archived as sent beside them."""

    def text(name: str) -> str | None:
        found = value.get(name)
        return found if isinstance(found, str) else None

    def integer(name: str) -> int | None:
        found = value.get(name)
        return found if type(found) is int and -(2**63) <= found < 2**63 else None

    fields: dict[str, Any] = {
        "object": value.get("object"),
        "id": value.get("id"),
        "created_at": integer("created_at") or 0,
    }
    if model is JobEvent:
        fields.update(level=text("level"), message=text("message"), type=text("type"))
        fields["data"] = value.get("data")
    else:
        metrics = value.get("metrics")
        fields.update(
            fine_tuning_job_id=text("fine_tuning_job_id"),
            fine_tuned_model_checkpoint=text("fine_tuned_model_checkpoint"),
            step_number=integer("step_number"),
            metrics=metrics if isinstance(metrics, dict) else None,
        )
    return fields


def sync(
    store: Store, api: FineTuningApi, options: SyncOptions, observer: SyncObserver
) -> SyncReport:
    """Run one sync; see the module's docstring."""
    return Syncer(store, api, options, observer).run()
