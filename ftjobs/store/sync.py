"""What `ftjobs sync` keeps between runs, and its one-transaction save of a job with its
history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ftjobs.constants import FINAL_STATUSES
from ftjobs.jsonstream import compact_json
from ftjobs.jsontext import json_text
from ftjobs.store.base import sqlite_errors
from ftjobs.store.jobs import Jobs

# ftjobs.store.history_rows is imported by the methods that use it (see store/history.py).
if TYPE_CHECKING:
    from ftjobs.history import FetchedHistory
    from ftjobs.models import FineTuningJob
    from ftjobs.store.history_rows import HistoryCounts

SYNC_CURSOR = "jobs_after"  # sync_state: the walk of the job list to go on from


@dataclass(frozen=True)
class SyncedJob:
    """A stored job as sync sees it."""

    job: FineTuningJob
    history_complete: bool


class Sync(Jobs):
    """sync's state, and its writes."""

    def sync_value(self, name: str) -> str | None:
        """What sync remembered under name (None: nothing)."""
        from ftjobs.store import history_rows

        with sqlite_errors(self.path):
            return history_rows.sync_value(self.conn, name)

    def set_sync_value(self, name: str, value: str | None) -> None:
        from ftjobs.store import history_rows

        with self._transaction() as conn:
            history_rows.set_sync_value(conn, name, value)

    def sync_cursor(self) -> str | None:
        """Where an interrupted walk of the job list stopped (the `after` to go on from)."""
        return self.sync_value(SYNC_CURSOR)

    def set_sync_cursor(self, after: str | None) -> None:
        self.set_sync_value(SYNC_CURSOR, after)

    def sync_states(self, job_ids: Sequence[str]) -> dict[str, SyncedJob]:
        """For the stored ones of these jobs: their JSON, and whether their history is whole."""
        ids_json = json_text(list(job_ids))
        with sqlite_errors(self.path):
            complete = dict(
                self.conn.execute(
                    "SELECT jobs.id, coalesce(job_sync.history_complete, 0) FROM jobs"
                    " LEFT JOIN job_sync USING (job_key)"
                    " WHERE jobs.id IN (SELECT value FROM json_each(?))",
                    [ids_json],
                ).fetchall()
            )
            return {
                job.id: SyncedJob(job, bool(complete[job.id]))
                for job in self._select(
                    "WHERE jobs.id IN (SELECT value FROM json_each(?))", [ids_json]
                )
            }

    def jobs_to_revisit(self) -> list[str]:
        """Stored jobs a sync must look at again even when the list does not show them
        changed: not finished yet, or with history not (wholly) fetched. Newest first."""
        with sqlite_errors(self.path):
            return [
                row[0]
                for row in self.conn.execute(
                    "SELECT jobs.id FROM jobs LEFT JOIN job_sync USING (job_key)"
                    " WHERE jobs.status NOT IN (SELECT value FROM json_each(?))"
                    " OR coalesce(job_sync.history_complete, 0) = 0"
                    " ORDER BY jobs.created_at DESC, jobs.id DESC",
                    [json_text(sorted(FINAL_STATUSES))],
                )
            ]

    def known_history(self, job_id: str) -> tuple[set[str], set[str]]:
        """Ids of the job's stored events and checkpoints (empty for a job not stored)."""
        from ftjobs.store import history_rows

        with sqlite_errors(self.path):
            row = self.conn.execute("SELECT job_key FROM jobs WHERE id = ?", [job_id]).fetchone()
            if row is None:
                return set(), set()
            conn = self.conn
            return (
                history_rows.known_ids(conn, "job_events", row[0]),
                history_rows.known_ids(conn, "job_checkpoints", row[0]),
            )

    def stored_files(self, file_ids: Sequence[str]) -> set[str]:
        from ftjobs.store import history_rows

        with sqlite_errors(self.path):
            return history_rows.stored_file_ids(self.conn, file_ids)

    def save_synced(
        self,
        job: FineTuningJob,
        history: FetchedHistory | None,
        *,
        complete: bool,
        gaps: Sequence[str] = (),
        now: int,
        text: str | None = None,
    ) -> tuple[Literal["new", "updated", "unchanged"], HistoryCounts]:
        """Write one synced job and what was fetched of its history in one transaction, so an
        interrupted sync keeps every job it finished, whole. complete says the history is all
        there (else the next sync fetches it again); gaps name what could not be fetched. text
        is the job as the server sent it, kept (compacted) as its raw_json: a job whose text
        changed, if only in key order, is updated."""
        from ftjobs.models import JobRecord
        from ftjobs.store import history_rows
        from ftjobs.store.history_rows import HistoryCounts, HistoryWriter

        text = None if text is None else compact_json(text)
        counts = HistoryCounts()
        with self._transaction() as conn:
            row = conn.execute("SELECT job_key FROM jobs WHERE id = ?", [job.id]).fetchone()
            outcome: Literal["new", "updated", "unchanged"]
            if row is None:
                [(key, _)] = keyed = self._new_keys(conn, [job])
                self._write(conn, keyed, {}, texts=[text])
                outcome = "new"
            else:
                key = int(row[0])
                if self._unchanged(conn, [JobRecord(job, text)], json_text([job.id])):
                    outcome = "unchanged"
                else:
                    self._write(conn, [(key, job)], {}, replacing=True, texts=[text])
                    outcome = "updated"
            if history is not None:
                writer = HistoryWriter(conn, counts)
                if history.events:
                    writer.add_events(key, history.events, newest_first=True)
                writer.finish()
                if history.checkpoints:
                    writer.add_checkpoints(key, history.checkpoints)
                for content in history.files:
                    writer.add_result_file(key, content)
                history_rows.mark_history(conn, key, complete=complete, gaps=gaps, now=now)
        return outcome, counts
