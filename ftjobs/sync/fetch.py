"""The fetch half of `ftjobs sync` (github-to-sqlite's fetch/save split): what the API has of one
job, as data, with what was odd about it. Nothing here touches the store or prints, so these
run on a sync's worker threads; the engine (ftjobs.sync.engine) saves what they return on its one
writer thread.

What the server sends is judged item by item: an event or checkpoint the models find odd is
kept as sent with a note naming job, item and field; only an item that cannot be stored at all
(not an object, no id) is refused, and never the list around it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from pydantic import ValidationError

from ftjobs.api.history import (
    UNREADABLE_RESULT_FILE,
    CheckpointRecord,
    EventRecord,
    FetchedHistory,
    loose_fields,
    result_file_as_sent,
)
from ftjobs.api.models import (
    FineTuningJob,
    JobCheckpoint,
    JobEvent,
    describe_validation_error,
    item_range_problems,
    range_problems,
)
from ftjobs.errors import FtjobsError
from ftjobs.sync.client import FineTuningApi
from ftjobs.sync.config import ApiError, NotFoundError, PermissionDenied
from ftjobs.sync.pages import Page, RawObject

ModelT = TypeVar("ModelT", JobEvent, JobCheckpoint)
HistoryKind = Literal["events", "checkpoints"]


class RepeatedPage(FtjobsError):
    """The server sent a page again: the same cursor asked twice, or a page already seen."""


@dataclass(frozen=True)
class Gap:
    """Something of a job's history the API would not give; the next sync asks again."""

    job_id: str
    what: str
    reason: str

    def __str__(self) -> str:
        return f"{self.job_id}: {self.what}: {self.reason}"


def api_gap(job_id: str, what: str, error: ApiError) -> Gap:
    reason = f"HTTP {error.status}" + (f" {error.code}" if error.code else "")
    return Gap(job_id, what, f"{reason} (asked again next sync)")


@dataclass(frozen=True)
class ListedPage:
    """A page as a walk takes it: its items not listed before in this walk, what it refused,
    and the cursor of the page after it (None after the last)."""

    items: list[RawObject]
    refused: list[str]
    next_after: str | None


@dataclass
class Notes:
    """What a fetch found odd: kept with a warning, or refused (not archived)."""

    warnings: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryTask:
    """One job's history to fetch: what the store already has of it (read by the writer
    thread before the task is handed out)."""

    job: FineTuningJob
    complete: bool  # the stored history is whole: stop at the first item already stored
    known_events: frozenset[str]
    known_checkpoints: frozenset[str]
    stored_files: frozenset[str]


@dataclass
class FetchedJobHistory:
    history: FetchedHistory
    gaps: list[Gap]
    notes: Notes


def pages(
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


def read_job(raw: RawObject, notes: Notes) -> FineTuningJob | None:
    """The job as sent; one the archive cannot hold (a type error) is refused, not saved."""
    try:
        job = FineTuningJob.model_validate_json(raw.text)
    except ValidationError as error:
        notes.refused.append(
            f"job {raw.id}: {describe_validation_error(error, limit=3)}; not archived"
        )
        return None
    for problem in range_problems(job):
        notes.warnings.append(f"job {job.id}: {problem} (kept as sent)")
    return job


class HistoryFetcher:
    """Fetches jobs' histories over one API client; safe to call from several threads."""

    def __init__(
        self,
        api: FineTuningApi,
        *,
        page_size: int,
        full: bool,
        fetching: Callable[[str], None],
    ) -> None:
        self.api = api
        self.page_size = page_size
        self.full = full
        self.fetching = fetching

    def fetch(self, task: HistoryTask) -> FetchedJobHistory:
        """What the API has of the job's history that the store has not: events and
        checkpoints down to the first one already stored when the stored history is whole
        (all of them with --full, or after a gap), and result files whose content is not
        stored. A part the API refuses (404, 403) or sends in a loop is a gap: what was fetched
        of it is kept, and the next sync walks that part whole again."""
        job = task.job
        stop_at_known = task.complete and not self.full
        result = FetchedJobHistory(FetchedHistory(events_whole=not task.complete), [], Notes())
        result.history.events = [
            EventRecord(event, text)
            for event, text in self._part(
                job.id, "events", JobEvent, task.known_events, stop_at_known, result
            )
        ]
        result.history.checkpoints = [
            CheckpointRecord(checkpoint, text)
            for checkpoint, text in self._part(
                job.id,
                "checkpoints",
                JobCheckpoint,
                task.known_checkpoints,
                stop_at_known,
                result,
            )
        ]
        stored = frozenset() if self.full else task.stored_files
        for file_id in job.result_files or ():
            if file_id in stored:
                continue
            self.fetching(f"result file {file_id} of {job.id}")
            try:
                raw = self.api.file_content(file_id)
            except (NotFoundError, PermissionDenied) as error:
                result.gaps.append(api_gap(job.id, f"result file {file_id}", error))
                continue
            content = result_file_as_sent(file_id, raw)
            if content.csv is None:
                result.notes.warnings.append(
                    f"job {job.id}: result file {file_id}: {UNREADABLE_RESULT_FILE}; kept as"
                    " sent (metrics cannot read it)"
                )
            result.history.files.append(content)
        return result

    def _part(
        self,
        job_id: str,
        kind: HistoryKind,
        model: type[ModelT],
        known: frozenset[str],
        stop_at_known: bool,
        result: FetchedJobHistory,
    ) -> list[tuple[ModelT, str]]:
        """A job's new events or checkpoints, each judged alone: kept as sent, with a warning
        for what the model finds odd. A refusal (404, 403) or a loop ends the part as a gap,
        keeping what came before it."""
        fetch = self.api.list_events if kind == "events" else self.api.list_checkpoints
        kept: list[tuple[ModelT, str]] = []
        listed = pages(
            lambda after: fetch(job_id, after=after, limit=self.page_size),
            after=None,
            what=f"{kind} of {job_id}",
            fetching=lambda _: self.fetching(f"{kind} of {job_id}"),
        )
        try:
            for page in listed:
                for refused in page.refused:
                    result.notes.refused.append(f"job {job_id}: {kind}: {refused}; not archived")
                for item in page.items:
                    if stop_at_known and item.id in known:
                        return kept
                    kept.append((_item(job_id, kind, model, item, result.notes), item.text))
        except (NotFoundError, PermissionDenied) as error:
            result.gaps.append(api_gap(job_id, kind, error))
        except RepeatedPage as error:
            result.gaps.append(Gap(job_id, kind, f"{error} (asked again next sync)"))
        return kept


def _item(
    job_id: str, kind: HistoryKind, model: type[ModelT], item: RawObject, notes: Notes
) -> ModelT:
    """The item as the model reads it, or, where the model refuses a field, as close as the
    columns can hold (the text is kept as sent either way), with a warning."""
    what: Literal["event", "checkpoint"] = "event" if kind == "events" else "checkpoint"
    try:
        parsed = model.model_validate_json(item.text)
    except ValidationError as error:
        notes.warnings.append(
            f"job {job_id}: {what} {item.id}: {describe_validation_error(error, limit=3)}"
            " (kept as sent)"
        )
        return model.model_construct(**loose_fields(what, item.value))
    for problem in item_range_problems(parsed):
        notes.warnings.append(f"job {job_id}: {what} {item.id}: {problem} (kept as sent)")
    return parsed
