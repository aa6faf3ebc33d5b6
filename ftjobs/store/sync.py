"""What `ftjobs sync` keeps between runs, per source, and its one-transaction save of a job
with its history.

A source is what one API key can see (see :attr:`ftjobs.sync.client.ApiConfig.source`). Each has its
own mark (the newest job its last finished walk saw), its own place in an unfinished walk, and
the jobs it listed: one project's jobs never end another's walk, and a sync revisits by id only
the jobs its own source listed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ftjobs.api.constants import FINAL_STATUSES
from ftjobs.jsonio.stream import compact_json
from ftjobs.jsonio.text import json_text
from ftjobs.store.base import sqlite_errors
from ftjobs.store.jobs import Jobs

# ftjobs.store.history_reads is imported by the methods that use it (see store/history.py).
if TYPE_CHECKING:
    from ftjobs.api.history import FetchedHistory
    from ftjobs.api.models import FineTuningJob
    from ftjobs.store.records import HistoryCounts


@dataclass(frozen=True)
class Mark:
    """The newest job a finished walk down a source's list saw."""

    id: str
    created_at: int


@dataclass(frozen=True)
class SourceState:
    """A source as a sync starts it: its key, mark, and where an unfinished walk stopped
    (walk_after: '' before its first page was done, None when no walk is unfinished)."""

    key: int
    mark: Mark | None
    walk_after: str | None


@dataclass(frozen=True)
class SourceSummary:
    """A source as `info` shows it."""

    label: str
    jobs: int
    first_synced_at: int | None
    last_synced_at: int | None
    walk_unfinished: bool


@dataclass(frozen=True)
class SyncedJob:
    """A stored job as sync sees it: the model, its text as last sent (None: written by a
    person, or before schema v5), and whether its history is whole."""

    job: FineTuningJob
    text: str | None
    history_complete: bool


class Sync(Jobs):
    """sync's state, and its writes."""

    # -- sources -------------------------------------------------------------------------------

    def source_state(self, source: str) -> SourceState | None:
        """The source's state; None before its first sync wrote anything."""
        with sqlite_errors(self.path):
            row = self.conn.execute(
                "SELECT source_key, mark_json, walk_after FROM sync_sources WHERE source = ?",
                [source],
            ).fetchone()
        return None if row is None else _source_state(*row)

    def open_source(self, source: str, label: str, *, now: int) -> SourceState:
        """The source's state, made on its first write (the label is kept current)."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO sync_sources (source, label, first_synced_at) VALUES (?, ?, ?)"
                " ON CONFLICT (source) DO UPDATE SET label = excluded.label",
                [source, label, now],
            )
            row = conn.execute(
                "SELECT source_key, mark_json, walk_after FROM sync_sources WHERE source = ?",
                [source],
            ).fetchone()
        return _source_state(*row)

    def set_mark(self, source_key: int, mark: Mark) -> None:
        self._set_source(source_key, "mark_json", json_text(mark.__dict__))

    def set_walk_after(self, source_key: int, after: str | None) -> None:
        """Where the source's walk down the list got to ('' before its first page was done;
        None: the walk is finished)."""
        self._set_source(source_key, "walk_after", after)

    def _set_source(self, source_key: int, column: str, value: str | None) -> None:
        if column not in ("mark_json", "walk_after"):
            raise ValueError(column)
        with self._transaction() as conn:
            conn.execute(
                f"UPDATE sync_sources SET {column} = ? WHERE source_key = ?",  # noqa: S608
                [value, source_key],
            )

    def source_synced(self, source_key: int, *, now: int) -> None:
        """A sync of the source ran to its end."""
        with self._transaction() as conn:
            conn.execute(
                "UPDATE sync_sources SET last_synced_at = ?, jobs_seen ="
                " (SELECT count(*) FROM job_sources WHERE source_key = ?) WHERE source_key = ?",
                [now, source_key, source_key],
            )

    def note_seen(self, source_key: int, job_ids: Sequence[str], *, now: int) -> None:
        """The source listed these stored jobs (saved or found unchanged)."""
        with self._transaction() as conn:
            _note_seen(conn, source_key, job_ids, now)

    # -- jobs ----------------------------------------------------------------------------------

    def sync_states(self, job_ids: Sequence[str]) -> dict[str, SyncedJob]:
        """For the stored ones of these jobs: the job, its text, whether its history is whole."""
        ids_json = json_text(list(job_ids))
        with sqlite_errors(self.path):
            stored = {
                job_id: (text, bool(complete))
                for job_id, text, complete in self.conn.execute(
                    "SELECT jobs.id, jobs.raw_json, coalesce(job_sync.history_complete, 0)"
                    " FROM jobs LEFT JOIN job_sync USING (job_key)"
                    " WHERE jobs.id IN (SELECT value FROM json_each(?))",
                    [ids_json],
                )
            }
            return {
                job.id: SyncedJob(job, *stored[job.id])
                for job in self._select(
                    "WHERE jobs.id IN (SELECT value FROM json_each(?))", [ids_json]
                )
            }

    def jobs_to_revisit(self, source_key: int) -> list[str]:
        """The source's stored jobs a sync must look at again even when the list does not show
        them changed: not finished yet, or with history not (wholly) fetched. Newest first."""
        with sqlite_errors(self.path):
            return [
                row[0]
                for row in self.conn.execute(
                    "SELECT jobs.id FROM job_sources JOIN jobs USING (job_key)"
                    " LEFT JOIN job_sync USING (job_key)"
                    " WHERE job_sources.source_key = ?"
                    " AND (jobs.status NOT IN (SELECT value FROM json_each(?))"
                    " OR coalesce(job_sync.history_complete, 0) = 0)"
                    " ORDER BY jobs.created_at DESC, jobs.id DESC",
                    [source_key, json_text(sorted(FINAL_STATUSES))],
                )
            ]

    def source_job_ids(self, source_key: int) -> list[str]:
        """Every job the source listed, newest first."""
        with sqlite_errors(self.path):
            return [
                row[0]
                for row in self.conn.execute(
                    "SELECT jobs.id FROM job_sources JOIN jobs USING (job_key)"
                    " WHERE job_sources.source_key = ? ORDER BY jobs.created_at DESC, jobs.id DESC",
                    [source_key],
                )
            ]

    def known_history(self, job_id: str) -> tuple[set[str], set[str]]:
        """Ids of the job's stored events and checkpoints (empty for a job not stored)."""
        from ftjobs.store import history_reads

        with sqlite_errors(self.path):
            row = self.conn.execute("SELECT job_key FROM jobs WHERE id = ?", [job_id]).fetchone()
            if row is None:
                return set(), set()
            conn = self.conn
            return (
                history_reads.known_ids(conn, "job_events", row[0]),
                history_reads.known_ids(conn, "job_checkpoints", row[0]),
            )

    def stored_files(self, file_ids: Sequence[str]) -> set[str]:
        from ftjobs.store import history_reads

        with sqlite_errors(self.path):
            return history_reads.stored_file_ids(self.conn, file_ids)

    def save_synced(
        self,
        job: FineTuningJob,
        history: FetchedHistory | None,
        *,
        text: str | None = None,
        source_key: int | None = None,
        complete: bool,
        gaps: Sequence[str] = (),
        now: int,
    ) -> tuple[Literal["new", "updated", "unchanged"], HistoryCounts]:
        """Write one synced job, the source that listed it, and what was fetched of its history
        in one transaction, so an interrupted sync keeps every job it finished, whole. complete
        says the history is all there (else the next sync fetches it again); gaps name what
        could not be fetched. text is the job as the server sent it, kept (compacted) as its
        raw_json: a job whose text changed, if only in key order, is updated."""
        from ftjobs.api.models import JobRecord
        from ftjobs.store import history_reads
        from ftjobs.store.history_writer import HistoryWriter
        from ftjobs.store.records import HistoryCounts

        text = None if text is None else compact_json(text)
        counts = HistoryCounts()
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT job_key, raw_json FROM jobs WHERE id = ?", [job.id]
            ).fetchone()
            outcome: Literal["new", "updated", "unchanged"]
            if row is None:
                [(key, _)] = keyed = self._new_keys(conn, [job])
                self._write(conn, keyed, {}, texts=[text])
                outcome = "new"
            else:
                key = int(row[0])
                if self._unchanged(conn, [JobRecord(job, text)], json_text([job.id])):
                    outcome = "unchanged"  # (a text kept for the first time is no change)
                else:
                    self._write(conn, [(key, job)], {}, replacing=True, texts=[text])
                    outcome = "updated"
            if source_key is not None:
                _note_seen(conn, source_key, [job.id], now)
            if history is not None:
                writer = HistoryWriter(conn, counts)
                if history.events:
                    writer.add_events(
                        key, history.events, newest_first=True, whole=history.events_whole
                    )
                writer.finish()
                if history.checkpoints:
                    writer.add_checkpoints(key, history.checkpoints)
                for content in history.files:
                    writer.add_result_file(key, content)
                history_reads.mark_history(conn, key, complete=complete, gaps=gaps, now=now)
        return outcome, counts


def source_summaries(conn: sqlite3.Connection) -> list[SourceSummary]:
    """Every source synced into the store, the most recently synced first."""
    return [
        SourceSummary(label, jobs, first, last, walk_after is not None)
        for label, jobs, first, last, walk_after in conn.execute(
            "SELECT label, (SELECT count(*) FROM job_sources"
            " WHERE job_sources.source_key = sync_sources.source_key),"
            " first_synced_at, last_synced_at, walk_after FROM sync_sources"
            " ORDER BY last_synced_at IS NULL, last_synced_at DESC, source_key"
        )
    ]


def _source_state(key: int, mark_json: str | None, walk_after: str | None) -> SourceState:
    mark = None
    if mark_json is not None:
        value = json.loads(mark_json)
        mark = Mark(value["id"], value["created_at"])
    return SourceState(int(key), mark, walk_after)


def _note_seen(conn: sqlite3.Connection, source_key: int, job_ids: Sequence[str], now: int) -> None:
    conn.execute(
        "INSERT INTO job_sources (source_key, job_key, first_seen_at, last_seen_at)"
        " SELECT ?, job_key, ?, ? FROM jobs WHERE id IN (SELECT value FROM json_each(?))"
        " ON CONFLICT (source_key, job_key) DO UPDATE SET last_seen_at = excluded.last_seen_at",
        [source_key, now, now, json_text(list(job_ids))],
    )
