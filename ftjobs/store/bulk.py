"""`import`: many jobs, events and checkpoints in one transaction, written in batches."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from ftjobs.errors import BadInput, FtjobsError, JobExists
from ftjobs.jsonio.text import json_text
from ftjobs.store.base import RollBack
from ftjobs.store.jobs import Jobs

# ftjobs.api.history and ftjobs.store.history_reads are imported when an import runs (see
# store/history.py): every command opens a Store, and only import needs them here.
if TYPE_CHECKING:
    from ftjobs.api.archive import ArchiveRecord, OwnedCheckpoint, OwnedEvent
    from ftjobs.api.history import CheckpointRecord, EventRecord, Repeated
    from ftjobs.api.models import FineTuningJob, JobRecord
    from ftjobs.store.export import RestoreCounts
    from ftjobs.store.history_writer import HistoryWriter
    from ftjobs.store.records import HistoryCounts


def _no_history_yet() -> HistoryCounts:
    from ftjobs.store.records import HistoryCounts

    return HistoryCounts()


def _nothing_restored_yet() -> RestoreCounts:
    from ftjobs.store.export import RestoreCounts

    return RestoreCounts()


@dataclass
class ImportCounts:
    """What an import did (or, rolled back, would have done)."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    committed: bool = False
    history: HistoryCounts = field(default_factory=_no_history_yet)
    # what a full export's other lines restored (ftjobs.api.archive)
    restored: RestoreCounts = field(default_factory=_nothing_restored_yet)

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.skipped


OnConflict = Literal["update", "skip", "fail"]
# A job with its text as sent (JobRecord), or a model alone (its JSON then built from columns).
ImportRecord: TypeAlias = (
    "JobRecord | FineTuningJob | EventRecord | CheckpointRecord | ArchiveRecord"
)
IMPORT_BATCH_SIZE = 2000
IMPORT_CACHE_KIB = 64 * 1024
BULK_LOAD_CACHE_KIB = 32 * 1024
REBUILD_CACHE_KIB = 8 * 1024


# Every job's search row, as the trigger jobs_fts_job_added (schema.sql) writes one job's: for
# a bulk load into an empty store, which drops that trigger and its siblings meanwhile.
FILL_JOBS_SEARCH = (
    "INSERT INTO jobs_fts (rowid, job_key, text) SELECT job_key, job_key, text FROM jobs_fts_text"
)


class BulkImport(Jobs):
    """Upserting jobs, and adding history, in bulk."""

    def import_jobs(
        self,
        records: Iterable[ImportRecord],
        *,
        on_conflict: OnConflict = "update",
        keep: Callable[[], bool] = lambda: True,
        events_job: str | None = None,
        on_repeat: Callable[[Repeated], None] | None = None,
    ) -> ImportCounts:
        """Upsert many jobs, and add events and checkpoints to jobs' histories, in one
        transaction, written in batches.

        A job whose id exists is replaced by the incoming record (on_conflict "update"; counted
        as unchanged when it is the same: the same text, see Jobs._unchanged), left alone
        ("skip"), or ends the import with JobExists ("fail"). A job's text (JobRecord.text) is
        kept as its raw_json, what show --json and export give back. Events belong to
        events_job (they do not name their job); checkpoints to the job they name; either must
        be stored, or come earlier in the same import. An event or checkpoint already stored is
        kept once: one stored before is counted as known; one whose id came earlier in this
        import is counted as repeated, not stored, and on_repeat is told (the importer warns).
        Once every record is written, keep() decides: False rolls everything back (a dry run,
        or an all-or-nothing import that met a bad record).

        A full export's records (ftjobs.api.archive) name the job they are kept under; with "skip",
        the history of a job stored before this import is left as it is, as the job is.
        """
        from ftjobs.api.history import CheckpointRecord, EventRecord
        from ftjobs.api.models import JobRecord
        from ftjobs.store.history_writer import HistoryWriter

        counts = ImportCounts()
        try:
            with self._transaction() as conn:
                bulk_load = self._is_empty(conn)
                rebuild = self._drop_list_indexes(conn) if bulk_load else []
                search_triggers = self._drop_search_triggers(conn) if bulk_load else []
                # A bigger page cache keeps the indexes' hot pages in memory through a long
                # import (-20-28% time on a million jobs); a bulk load has fewer indexes to keep
                # and needs less. It lasts for this connection only.
                cache_kib = BULK_LOAD_CACHE_KIB if rebuild else IMPORT_CACHE_KIB
                conn.execute(f"PRAGMA cache_size = -{cache_kib}")
                fingerprints: dict[tuple[Any, ...], str] = {}
                history = HistoryWriter(conn, counts.history, on_repeat=on_repeat)
                # Keys above this are jobs this import made (keys only grow: Jobs._new_keys).
                stored_before = conn.execute("SELECT coalesce(max(job_key), 0) FROM jobs")
                last_stored: int = stored_before.fetchone()[0]
                for kind, batch in _batches(records, IMPORT_BATCH_SIZE):
                    if kind is JobRecord:
                        self._import_batch(conn, batch, on_conflict, counts, fingerprints)
                    elif kind is EventRecord:
                        if events_job is None:
                            raise BadInput(
                                "events do not name their job: pass --job JOB_ID to import them"
                            )
                        owner = self._history_owner(conn, events_job, _named(batch[0], "events"))
                        history.add_events(owner, batch)
                    elif kind is CheckpointRecord:
                        for job_id, records_of_job in _by_job(batch):
                            # The job's first checkpoint in the batch: the one that named it.
                            first = records_of_job[0]
                            what = _named(first, f"checkpoint {first.checkpoint.id}")
                            key = self._history_owner(conn, job_id, what)
                            history.add_checkpoints(key, records_of_job)
                    else:
                        self._restore_batch(
                            conn, kind, batch, history, on_conflict, counts, last_stored
                        )
                history.finish()
                if not keep():
                    raise RollBack
                if rebuild:
                    # The index builds sort in memory up to the page cache's size: give the
                    # cache's memory to them rather than hold both.
                    conn.execute(f"PRAGMA cache_size = -{REBUILD_CACHE_KIB}")
                    for create_index in rebuild:
                        conn.execute(create_index)
                if search_triggers:
                    conn.execute(FILL_JOBS_SEARCH)
                    for create_trigger in search_triggers:
                        conn.execute(create_trigger)
        except RollBack:
            return counts
        counts.committed = True
        return counts

    def _restore_batch(
        self,
        conn: sqlite3.Connection,
        kind: type,
        batch: list[Any],
        history: HistoryWriter,
        on_conflict: OnConflict,
        counts: ImportCounts,
        last_stored: int,
    ) -> None:
        """A run of one kind of a full export's records (ftjobs.api.archive) into the store;
        last_stored: the highest job key before this import."""
        from ftjobs.api.archive import (
            FileObjectRecord,
            ModelStateRecord,
            OwnedEvent,
            ResultFileRecord,
        )
        from ftjobs.store import export

        restored = counts.restored
        if kind is FileObjectRecord:
            for record in batch:
                export.restore_file_object(conn, record, on_conflict, restored)
            return
        if kind is ModelStateRecord:
            for record in batch:
                export.restore_model_state(conn, record, on_conflict, restored)
            return
        for job_id, records in _by_owner(batch):
            first = records[0]
            if isinstance(first, ResultFileRecord):
                what = f"{first.where}: result file {first.content.file_id}"
            else:
                item = first.record
                noun = "event" if isinstance(first, OwnedEvent) else "checkpoint"
                what = _named(item, f"{noun} {getattr(item, noun).id}")
            key = self._history_owner(conn, job_id, what)
            if on_conflict == "skip" and key <= last_stored:
                restored.history_skipped += len(records)
            elif kind is OwnedEvent:
                if key not in history.runs:
                    # A full export gives a job's events together: settle the jobs' before
                    # it now, so that their metrics are not all held to the end.
                    history.finish()
                # A full export lists events newest first, as the API does.
                history.add_events(key, [r.record for r in records], newest_first=True)
            elif kind is ResultFileRecord:
                for record in records:
                    export.restore_result_file(conn, history, key, record, on_conflict, restored)
            else:
                history.add_checkpoints(key, [r.record for r in records])

    @staticmethod
    def _history_owner(conn: sqlite3.Connection, job_id: str, what: str) -> int:
        """The key of the job that history records belong to; it must be stored."""
        row = conn.execute("SELECT job_key FROM jobs WHERE id = ?", [job_id]).fetchone()
        if row is None:
            raise FtjobsError(
                f"{what}: no job with id {job_id!r} in the store; import or sync the job first"
                " (history is kept with its job); nothing was imported"
            )
        return int(row[0])

    @staticmethod
    def _is_empty(conn: sqlite3.Connection) -> bool:
        return conn.execute("SELECT 1 FROM jobs LIMIT 1").fetchone() is None

    @staticmethod
    def _drop_list_indexes(conn: sqlite3.Connection) -> list[str]:
        """Drop the jobs table's list indexes, returning the SQL that makes them again.

        Filling an empty store (a first import, a restore) is a bulk load: jobs arrive in no
        order of created_at, status or model, so keeping those indexes up to date writes all
        over their B-trees; building them once at the end sorts instead. It all happens inside
        the import's transaction, so a failed or killed import leaves them as they were.
        """
        return _drop_schema_objects(conn, "index", "tbl_name = 'jobs'")

    @staticmethod
    def _drop_search_triggers(conn: sqlite3.Connection) -> list[str]:
        """Drop the triggers that keep jobs' search rows (jobs_fts) current as jobs and their
        errors are written, returning the SQL that makes them again.

        Into an empty store they are the bulk of an import's time: each job's insert runs the
        jobs_fts_text view and an FTS5 insert, and a job with an error deletes that row and
        inserts it again. Filling jobs_fts once at the end (FILL_JOBS_SEARCH, what the insert
        trigger does, for every job at once) gives the same rows. 20,000 jobs, floor.py's
        rows, same run: 13.2 and 22.8 s with the triggers, 7.0 and 9.2 s without them, the
        list indexes and the search rows built at the end (0.8-1.2 s of it the search rows).
        In CPU seconds, ftjobs import against bench/floor.py (which keeps the triggers): 0.45x
        at 100k jobs (0.76-0.79x before), 0.36x at 1M (bench/README.md).
        Like the list indexes, it happens inside the import's transaction. The triggers of
        events stay: their rows are one plain FTS5 insert each.
        """
        return _drop_schema_objects(
            conn,
            "trigger",
            "tbl_name IN ('jobs', 'job_errors') AND name LIKE 'jobs\\_fts\\_%' ESCAPE '\\'",
        )

    def _import_batch(
        self,
        conn: sqlite3.Connection,
        batch: list[JobRecord],
        on_conflict: OnConflict,
        counts: ImportCounts,
        fingerprints: dict[tuple[Any, ...], str],
    ) -> None:
        """Write one batch (no id twice in it): new jobs inserted, stored ones per on_conflict."""
        ids_json = json_text([record.job.id for record in batch])
        existing: dict[str, int] = dict(
            conn.execute(
                "SELECT id, job_key FROM jobs WHERE id IN (SELECT value FROM json_each(?))",
                [ids_json],
            ).fetchall()
        )
        if existing:
            if on_conflict == "fail":
                raise JobExists(next(r.job.id for r in batch if r.job.id in existing))
            if on_conflict == "skip":
                counts.skipped += len(existing)
            else:
                stored = [record for record in batch if record.job.id in existing]
                same = self._unchanged(conn, stored, ids_json)
                changed = [record for record in stored if record.job.id not in same]
                counts.unchanged += len(existing) - len(changed)
                counts.updated += len(changed)
                self._write(
                    conn,
                    [(existing[record.job.id], record.job) for record in changed],
                    fingerprints,
                    replacing=True,
                    texts=[record.text for record in changed],
                )
        new = [r for r in batch if r.job.id not in existing] if existing else batch
        counts.inserted += len(new)
        keyed = self._new_keys(conn, [record.job for record in new])
        self._write(conn, keyed, fingerprints, texts=[record.text for record in new])


def _batches(records: Iterable[ImportRecord], size: int) -> Iterator[tuple[type, list[Any]]]:
    """Runs of records of one kind (jobs as JobRecord, events, checkpoints) in input order, at
    most size long. A run of jobs never holds an id twice: a later record of the same id lands
    in a later batch, so it updates the earlier one as it would one at a time."""
    from ftjobs.api.models import FineTuningJob, JobRecord

    kind: type | None = None
    batch: list[Any] = []
    ids: set[str] = set()
    for record in records:
        if isinstance(record, FineTuningJob):
            record = JobRecord(record)  # a model alone: no text
        record_kind = type(record)
        job_id = record.job.id if isinstance(record, JobRecord) else None
        if batch and (record_kind is not kind or len(batch) >= size or job_id in ids):
            yield kind or JobRecord, batch
            batch, ids = [], set()
        kind = record_kind
        batch.append(record)
        if job_id is not None:
            ids.add(job_id)
    if batch:
        yield kind or JobRecord, batch


def _named(record: EventRecord | CheckpointRecord, what: str) -> str:
    """What a message is about, after where it is (file:line: checkpoint ID), so that a
    refused import points at the record that needs a job, as a bad record's error does."""
    return f"{record.where}: {what}" if record.where else what


def _by_job(records: list[CheckpointRecord]) -> Iterator[tuple[str, list[CheckpointRecord]]]:
    """Checkpoints grouped by the job they name, in order of first appearance."""
    groups: dict[str, list[CheckpointRecord]] = {}
    for record in records:
        groups.setdefault(record.checkpoint.fine_tuning_job_id, []).append(record)
    yield from groups.items()


def _by_owner(
    records: list[OwnedEvent | OwnedCheckpoint | Any],
) -> Iterator[tuple[str, list[Any]]]:
    """A full export's history records grouped by the job they name, in order of first
    appearance (each group keeps its records' order)."""
    groups: dict[str, list[Any]] = {}
    for record in records:
        groups.setdefault(record.job_id, []).append(record)
    yield from groups.items()


def _drop_schema_objects(
    conn: sqlite3.Connection, kind: Literal["index", "trigger"], condition: str
) -> list[str]:
    """Drop the indexes or triggers that condition (fixed text) picks from sqlite_master,
    returning the SQL that makes them again."""
    found = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = ? AND sql IS NOT NULL AND {condition}",  # noqa: S608
        [kind],
    ).fetchall()
    for name, _ in found:
        conn.execute(f'DROP {kind.upper()} "{name}"')  # a name from sqlite_master, not user text
    return [sql for _, sql in found]
