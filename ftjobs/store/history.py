"""A job's history as the store serves it: events, checkpoints, metrics, result files. The SQL
is in ftjobs.store.history_reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ftjobs.errors import FtjobsError
from ftjobs.store.base import sqlite_errors
from ftjobs.store.jobs import Jobs

# ftjobs.store.history_reads and ftjobs.api.history (about 12 ms) are imported by the methods that
# use them: every command opens a Store, few read history.
if TYPE_CHECKING:
    from ftjobs.api.history import ResultFile
    from ftjobs.api.models import FineTuningJob
    from ftjobs.store.records import HistorySummary, Metrics, StoredCheckpoint, StoredEvent


class History(Jobs):
    """Reading a job's history, and attaching a result file's content."""

    def events(
        self,
        job_id: str,
        *,
        levels: Sequence[str] = (),
        types: Sequence[str] = (),
        limit: int | None = None,
        after_key: int | None = None,
        through_key: int | None = None,
    ) -> list[StoredEvent]:
        """The job's events oldest first (with limit: the newest that many; with after_key and
        through_key: those stored after the one and up to the other, see last_event_key)."""
        from ftjobs.store import history_reads

        key = self._job_key(job_id)
        with sqlite_errors(self.path):
            return history_reads.read_events(
                self.conn, key, levels=levels, types=types, limit=limit, after_key=after_key,
                through_key=through_key,
            )  # fmt: skip

    def last_event_key(self, job_id: str) -> int:
        """Where the job's stored events end now: events stored later have higher keys."""
        from ftjobs.store import history_reads

        key = self._job_key(job_id)
        with sqlite_errors(self.path):
            return history_reads.last_event_key(self.conn, key)

    def count_events(
        self, job_id: str, *, levels: Sequence[str] = (), types: Sequence[str] = ()
    ) -> int:
        """How many of the job's events pass the filters."""
        from ftjobs.store import history_reads

        key = self._job_key(job_id)
        with sqlite_errors(self.path):
            return history_reads.count_events(self.conn, key, levels=levels, types=types)

    def checkpoints(self, job_id: str) -> list[StoredCheckpoint]:
        """The job's checkpoints, oldest first by step."""
        from ftjobs.store import history_reads

        key = self._job_key(job_id)
        with sqlite_errors(self.path):
            return history_reads.read_checkpoints(self.conn, key)

    def metrics(self, job_id: str, file_id: str | None = None) -> Metrics | None:
        """Per-step metrics of a job: from its first result file with stored content (or the
        one named), else from its metrics events, else from its checkpoints; None if none."""
        from ftjobs.api.history import CHECKPOINTS_SOURCE, EVENTS_SOURCE, file_source
        from ftjobs.store import history_reads

        job = self.get(job_id)
        key = self._job_key(job_id)
        conn = self.conn
        with sqlite_errors(self.path):
            if file_id is not None:
                if history_reads.stored_result_file(conn, file_id) is None:
                    raise FtjobsError(
                        f"job {job_id}: no content stored for result file {file_id!r}"
                        f" (ftjobs attach {job_id} {file_id} --content FILE)"
                    )
                return history_reads.read_metrics(conn, key, file_source(file_id))
            stored = history_reads.stored_file_ids(conn, job.result_files or [])
            sources = [file_source(f) for f in job.result_files or [] if f in stored]
            for source in (*sources, EVENTS_SOURCE, CHECKPOINTS_SOURCE):
                found = history_reads.read_metrics(conn, key, source)
                if found is not None:
                    return found
        return None

    def result_file(self, file_id: str) -> ResultFile | None:
        from ftjobs.store import history_reads

        with sqlite_errors(self.path):
            return history_reads.stored_result_file(self.conn, file_id)

    def history_summary(self, job_id: str) -> HistorySummary:
        from ftjobs.store import history_reads

        key = self._job_key(job_id)
        with sqlite_errors(self.path):
            return history_reads.summary(self.conn, key)

    def attach_content(self, job_id: str, content: ResultFile) -> FineTuningJob:
        """Store a result file's content for a job, adding its id to the job's result_files
        when it is not there: one transaction."""
        from ftjobs.api.models import FineTuningJob
        from ftjobs.store.history_writer import HistoryWriter

        with self._transaction() as conn:
            job = self.get(job_id)
            files = list(job.result_files or ())
            if content.file_id not in files:
                changed = FineTuningJob.model_validate(
                    {**job.to_api_dict(), "result_files": [*files, content.file_id]}
                )
                self._write(conn, [(self._key_of(conn, job_id), changed)], {}, replacing=True)
            HistoryWriter(conn).add_result_file(self._key_of(conn, job_id), content)
        return self.get(job_id)
