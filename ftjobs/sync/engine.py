"""`ftjobs sync`: archive what the fine-tuning API holds (jobs, events, checkpoints, result
files, file objects, model states) in the store, incrementally, resumably and without losing
anything already archived.

What one key can see is a source (an endpoint, an organization and a project; see
:attr:`ftjobs.sync.client.ApiConfig.source`), and every source is walked apart: a team
syncing several projects, and Azure, into one store has each one's jobs archived whole.

The API lists jobs newest first, with cursor pages and no "newer than" filter. A source's first
sync walks its whole list; later ones walk from the top down to the source's mark (the newest
job its last finished walk saw): below it every job is already archived. Jobs the source listed
that are not finished, or whose history is not wholly archived, are looked at again by id. Each
job is saved with the history fetched for it in one transaction, so an interrupted sync keeps
every job it finished; where an unfinished walk stopped is remembered and the next sync goes on
from there.

Histories are fetched on up to ``concurrency`` worker threads (ftjobs.sync.fetch, which never
touches the store) while this thread walks the list and is the store's one writer. What the
workers return is saved in the order the jobs were listed, and the walk's cursor and the mark
move only once every job they cover is saved: a sync killed at any moment is gone on from a
place whose jobs are all archived. Nothing here prints: progress and warnings go to an observer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial

from ftjobs.api.models import FineTuningJob as Job
from ftjobs.store import Mark, Store, SyncedJob
from ftjobs.sync.client import FineTuningApi
from ftjobs.sync.config import ApiError, NotFoundError, PermissionDenied
from ftjobs.sync.fetch import (
    FetchedJobHistory,
    Gap,
    HistoryFetcher,
    HistoryTask,
    ListedPage,
    Notes,
    RepeatedPage,
    api_gap,
    pages,
    read_job,
)
from ftjobs.sync.ordered import InOrder
from ftjobs.sync.pages import Page, RawObject
from ftjobs.sync.report import SyncObserver, SyncOptions, SyncReport
from ftjobs.sync.resources import archive_files_and_models

TOP = ""  # the cursor of a walk down the list that has not finished its first page

__all__ = ["Gap", "RepeatedPage", "SyncObserver", "SyncOptions", "SyncReport", "Syncer"]


@dataclass
class Revisited:
    """A stored job fetched again by id (on a worker thread), and what to save of it."""

    job_id: str
    raw: RawObject | None = None
    job: Job | None = None
    history: FetchedJobHistory | None = None
    gaps: list[Gap] = field(default_factory=list)
    notes: Notes = field(default_factory=Notes)
    unchanged: bool = False


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
        self.fetcher = HistoryFetcher(
            api, page_size=options.history_page, full=options.full, fetching=observer.fetching
        )
        self._source_key: int | None = None
        # Fetches on worker threads, their saves here in the order handed out, and the cursor
        # and mark moves that must come after them.
        self.work = InOrder(options.concurrency)

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
        try:
            self._run()
        except BaseException as error:
            # What was fetched is saved (on Ctrl-C only what has already come); the walk's
            # place stays where its saved jobs end. Then no new request starts, and the ones
            # in flight end with the client.
            self.work.salvage(wait=not isinstance(error, KeyboardInterrupt))
            self.api.throttle.close()
            raise
        finally:
            self.work.shutdown()
        return self.report

    def _run(self) -> None:
        source = self.store.source_state(self.api.config.source)
        if source is not None:
            self._source_key = source.key
        if self.options.job_ids:
            for job_id in dict.fromkeys(self.options.job_ids):
                self.observer.fetching(f"job {job_id}")
                raw = self._retrieve(job_id, self.report.gaps)
                if raw is not None:
                    self._sync_jobs([raw])
            self.work.drain()
            self._files_and_models(list(self.seen))
            return
        mark = None if self.options.full or source is None else source.mark
        if mark is None:
            self._walk_down(after=None)
        else:
            self._walk_to(mark)
            if source is not None and source.walk_after is not None:
                self._walk_down(after=source.walk_after or None, resumed=True)
        self._revisit()
        self.work.drain()
        self._files_and_models(self.store.source_job_ids(self.source_key))
        self.store.source_synced(self.source_key, now=self.now())

    # -- walking the job list ----------------------------------------------------------------

    def _walk_to(self, mark: Mark) -> None:
        """From the top of the list down to the page that reaches the mark: the jobs created
        since the last walk (the older ones on that page come free: a finished, archived one
        costs nothing, an unfinished one is looked at without asking for it by id). The mark
        moves up only once the walk got there and its jobs are saved, so an interrupted one is
        redone."""
        newest: RawObject | None = None
        for page in self._job_pages(after=None):
            newest = newest or (page.items[0] if page.items else None)
            self._sync_jobs(page.items)
            if any(covers(mark, item) for item in page.items):
                break
        if newest is not None:
            self.work.after_saves(partial(self._set_mark, newest), moves_place=True)

    def _walk_down(self, after: str | None, *, resumed: bool = False) -> None:
        """Down the whole list (from after, where an earlier walk stopped), remembering, once
        each page's jobs are saved, where it got to, so that the next sync can go on from
        there."""
        if not resumed:
            self.observer.fetching("the job list")
            first = self.api.list_jobs(after=None, limit=self.options.jobs_page)
            # Remembered before the mark is set: a walk killed before its first page is done
            # is gone on from the top, not taken for finished.
            self.store.set_walk_after(self.source_key, TOP)
            if first.items:
                # Jobs newer than this are the next sync's to find, from the top down to it.
                self._set_mark(first.items[0])
            listed = self._job_pages(after=None, first=first)
        else:
            self.observer.fetching("the job list, from where the last sync stopped")
            listed = self._job_pages(after=after, resumed=after is not None)
        key = self.source_key
        for page in listed:
            self._sync_jobs(page.items)
            self.work.after_saves(
                partial(self.store.set_walk_after, key, page.next_after), moves_place=True
            )
        self.work.after_saves(partial(self.store.set_walk_after, key, None), moves_place=True)

    def _job_pages(
        self, after: str | None, *, first: Page | None = None, resumed: bool = False
    ) -> Iterator[ListedPage]:
        """The pages of the job list from after, each job once (a job a later page lists
        again is skipped); a cursor asked twice or a page sent twice is a loop, an error
        (the walk cannot go on), what was saved before it stays."""
        listed = pages(
            lambda cursor: self.api.list_jobs(after=cursor, limit=self.options.jobs_page),
            after=after,
            first=first,
            what="jobs",
            fetching=lambda cursor: self.observer.fetching(
                f"the job list (after {cursor})" if cursor else "the job list"
            ),
        )
        try:
            for page in listed:
                for refused in page.refused:
                    self._refuse(f"the job list (after {after}): {refused}; not archived")
                self.observer.listed(len(page.items))
                yield page
        except ApiError as error:
            if resumed and error.status in (400, 404):
                # The server no longer knows the saved cursor: start that walk again.
                self.observer.warning(
                    f"the server no longer knows where the last sync stopped ({after});"
                    " walking the job list from the top"
                )
                # Unfinished, from the top ('' not None: a walk taken for finished would
                # never list again the jobs below the old cursor that are not archived).
                self.store.set_walk_after(self.source_key, TOP)
                yield from self._job_pages(after=None)
                return
            raise

    # -- jobs ------------------------------------------------------------------------------------

    def _sync_jobs(self, items: list[RawObject]) -> None:
        """Listed jobs: the unchanged ones noted at once, the others saved (after their
        history is fetched, if they want one)."""
        fresh = [raw for raw in items if raw.id not in self.seen]
        self.seen.update(raw.id for raw in fresh if raw.id is not None)
        notes = Notes()
        jobs = [(raw, job) for raw in fresh if (job := read_job(raw, notes)) is not None]
        self._say(notes)
        stored = self.store.sync_states([job.id for _, job in jobs])
        unchanged: list[str] = []
        for raw, job in jobs:
            before = stored.get(job.id)
            wants_history = self._wants_history(job, before)
            if not wants_history and _same(job, raw, before):
                unchanged.append(job.id)
                self.report.count("unchanged")
                self.observer.job_done(job.id, "unchanged")
                continue
            if wants_history:
                task = self._task(job, before)
                self.work.hand_out(partial(self.fetcher.fetch, task), partial(self._save, job, raw))
            else:
                self.work.after_saves(partial(self._save, job, raw, None))
        if unchanged:
            key = self.source_key
            self.work.after_saves(lambda: self.store.note_seen(key, unchanged, now=self.now()))

    def _wants_history(self, job: Job, before: SyncedJob | None) -> bool:
        if not self.options.history:
            return False
        same_job = before is not None and before.job.to_json() == job.to_json()
        complete = before is not None and before.history_complete
        return self.options.full or not same_job or not job.is_final or not complete

    def _task(self, job: Job, before: SyncedJob | None) -> HistoryTask:
        """What the store has of the job's history, read here (the writer's thread)."""
        known_events, known_checkpoints = self.store.known_history(job.id)
        return HistoryTask(
            job,
            complete=before is not None and before.history_complete,
            known_events=frozenset(known_events),
            known_checkpoints=frozenset(known_checkpoints),
            stored_files=frozenset(self.store.stored_files(list(job.result_files or ()))),
        )

    def _save(self, job: Job, raw: RawObject, fetched: FetchedJobHistory | None) -> None:
        gaps = fetched.gaps if fetched is not None else []
        if fetched is not None:
            self._say(fetched.notes)
            self.report.gaps.extend(gaps)
        outcome, counts = self.store.save_synced(
            job,
            fetched.history if fetched is not None else None,
            text=raw.text,
            source_key=self.source_key,
            complete=not gaps,
            gaps=[str(gap) for gap in gaps],
            now=self.now(),
        )
        self.report.count(outcome)
        self.report.history += counts
        self.observer.job_done(job.id, outcome)

    # -- jobs fetched by id ----------------------------------------------------------------------

    def _revisit(self) -> None:
        """The source's stored jobs that are not finished, or whose history is not wholly
        archived, and that the walk did not list: fetched by id (on the workers)."""
        job_ids = [i for i in self.store.jobs_to_revisit(self.source_key) if i not in self.seen]
        self.seen.update(job_ids)
        states = self.store.sync_states(job_ids)
        for job_id in job_ids:
            before = states.get(job_id)
            task = self._task(before.job, before) if before is not None else None
            self.work.hand_out(partial(self._fetch_again, job_id, before, task), self._save_again)

    def _fetch_again(
        self, job_id: str, before: SyncedJob | None, task: HistoryTask | None
    ) -> Revisited:
        """On a worker: the job by id, and its history if it wants one."""
        self.observer.fetching(f"job {job_id}")
        found = Revisited(job_id)
        try:
            found.raw = self._retrieve(job_id, found.gaps)
        except (NotFoundError, PermissionDenied) as error:
            found.gaps.append(api_gap(job_id, "job", error))
        if found.raw is None:
            return found
        found.job = read_job(found.raw, found.notes)
        if found.job is None:
            return found
        if not self._wants_history(found.job, before):
            found.unchanged = _same(found.job, found.raw, before)
            return found
        if task is not None:  # (read for the stored job; the job as sent now is fetched)
            found.history = self.fetcher.fetch(replace(task, job=found.job))
        return found

    def _save_again(self, found: Revisited) -> None:
        self._say(found.notes)
        self.report.gaps.extend(found.gaps)
        if found.job is None or found.raw is None:
            return
        if found.unchanged:
            self.report.count("unchanged")
            self.observer.job_done(found.job_id, "unchanged")
            self.store.note_seen(self.source_key, [found.job_id], now=self.now())
            return
        self._save(found.job, found.raw, found.history)

    def _retrieve(self, job_id: str, gaps: list[Gap]) -> RawObject | None:
        """GET /fine_tuning/jobs/{id}, checked: an answer about another job is a gap, and
        neither job is stored from it."""
        raw = self.api.retrieve_job(job_id)
        if raw.id != job_id:
            gaps.append(
                Gap(
                    job_id,
                    "job",
                    f"GET /fine_tuning/jobs/{job_id} answered with job {raw.id}; not stored"
                    " (asked again next sync)",
                )
            )
            return None
        return raw

    # -- files and models ------------------------------------------------------------------------

    def _files_and_models(self, job_ids: list[str]) -> None:
        """The jobs' training and validation file objects not archived yet, and whether their
        fine-tuned models still exist (each asked at most once a day; every one with --full)."""
        if not self.options.history or not job_ids:
            return
        found = archive_files_and_models(
            self.store,
            self.api,
            self.observer,
            job_ids,
            now=self.now(),
            full=self.options.full,
            map_requests=self.work.map,
        )
        self.report.resources = found
        self.report.gaps.extend(Gap(gap.job_id, gap.what, gap.reason) for gap in found.gaps)

    # -- what is said ----------------------------------------------------------------------

    def _say(self, notes: Notes) -> None:
        for text in notes.warnings:
            self.report.warnings += 1
            self.observer.warning(text)
        for text in notes.refused:
            self._refuse(text)

    def _refuse(self, text: str) -> None:
        self.report.refused.append(text)
        self.observer.warning(text)

    # -- the mark ----------------------------------------------------------------------------

    def _set_mark(self, newest: RawObject) -> None:
        created_at = newest.value.get("created_at")
        if newest.id is None or type(created_at) is not int:
            return
        self.store.set_mark(self.source_key, Mark(newest.id, created_at))


def _same(job: Job, raw: RawObject, before: SyncedJob | None) -> bool:
    """Whether the stored job is this one, as sent (its text too)."""
    return before is not None and before.text == raw.text and before.job.to_json() == job.to_json()


def sync(
    store: Store, api: FineTuningApi, options: SyncOptions, observer: SyncObserver
) -> SyncReport:
    """Run one sync; see the module's docstring."""
    return Syncer(store, api, options, observer).run()
