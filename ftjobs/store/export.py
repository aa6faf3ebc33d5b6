"""The SQL of the full export (`export --full`) and of its restore by `import`: a store's jobs
with their events, checkpoints, result-file contents, file objects and model states, read as
streams of rows (flat memory at any size) and written back into an import's transaction.

What does not travel: what `sync` remembers (sync_state, sync_sources, job_sources, job_sync)
belongs to the machine and the API keys that synced; a store that imports the export syncs as
one that never synced them (README: "Back up and move an archive"). The per-step metrics tables
are read again from the events, checkpoints and result files as they are restored.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from ftjobs.errors import FtjobsError
from ftjobs.store.base import SCHEMA_VERSION, sqlite_errors
from ftjobs.store.filters import JobFilter, Queries, where_clause

if TYPE_CHECKING:
    from ftjobs.api.archive import FileObjectRecord, ModelStateRecord, ResultFileRecord
    from ftjobs.api.history import ResultFile
    from ftjobs.store.history_writer import HistoryWriter

Conflict = Literal["update", "skip", "fail"]


class FullExport(Queries):
    """A store's jobs and everything kept beside them, as rows for ftjobs.api.archive."""

    def export_full(self, query: JobFilter) -> Iterator[tuple[Any, ...]]:
        """("header", schema), then ("job", text) per job the filter picks (every job without
        one) in the order recorded, then per job ("event", job_id, text) newest first,
        ("checkpoint", job_id, text) as archived, ("result_file", job_id, file_id, encoding, raw)
        in the job's order; then ("file_object", ...) and ("model_state", ...) rows by id:
        every row without a filter, with one those the picked jobs name.

        One read transaction: a sync writing meanwhile is not seen half-way."""
        query = self._exact_models(replace(query, sort=None, limit=None))
        where, params = where_clause(query)
        conn = self.conn
        with sqlite_errors(self.path):
            conn.execute("BEGIN")
            try:
                yield ("header", SCHEMA_VERSION)
                order = f"{where} ORDER BY jobs.job_key"
                for text in self._select_json(order, params):
                    yield ("job", text)
                keys = conn.execute(
                    f"SELECT jobs.job_key, jobs.id FROM jobs {order}",  # noqa: S608 (fixed text)
                    params,
                )
                for key, job_id in keys:
                    yield from _history(conn, key, job_id)
                yield from _resources(conn, where, params)
            finally:
                conn.execute("COMMIT")


def _history(conn: sqlite3.Connection, key: int, job_id: str) -> Iterator[tuple[Any, ...]]:
    # Events newest first, as the API lists them and sync stores them: the import writes them
    # in that order, so that the metrics read from them come out as sync's did (a step two
    # events give: the later written wins).
    for (text,) in conn.execute(
        "SELECT raw_json FROM job_events WHERE job_key = ? ORDER BY created_at DESC, seq DESC",
        [key],
    ):
        yield ("event", job_id, text)
    # Checkpoints in the order they were archived, for the same reason.
    for (text,) in conn.execute(
        "SELECT raw_json FROM job_checkpoints WHERE job_key = ? ORDER BY checkpoint_key", [key]
    ):
        yield ("checkpoint", job_id, text)
    # A file two jobs list comes with each (the import stores it once).
    for file_id, encoding, raw in conn.execute(
        "SELECT file_id, encoding, raw FROM job_result_files"
        " JOIN result_file_contents USING (file_id) WHERE job_key = ? ORDER BY position",
        [key],
    ):
        yield ("result_file", job_id, file_id, encoding, raw)


def _resources(
    conn: sqlite3.Connection, where: str, params: list[Any]
) -> Iterator[tuple[Any, ...]]:
    """File objects and model states: all of them, or (with a filter) the picked jobs'."""
    files, models, both = "", "", params
    if where:  # where: where_clause's fixed text, its values bound
        files = (
            f" WHERE file_id IN (SELECT jobs.training_file FROM jobs {where}"  # noqa: S608
            f" UNION SELECT jobs.validation_file FROM jobs {where})"
        )
        models = f" WHERE model_id IN (SELECT jobs.fine_tuned_model FROM jobs {where})"  # noqa: S608
        both = [*params, *params]
    for row in conn.execute(
        "SELECT file_id, found, fetched_at, raw_json FROM file_objects"  # noqa: S608
        f"{files} ORDER BY file_id",
        both if where else [],
    ):
        yield ("file_object", *row)
    for row in conn.execute(
        "SELECT model_id, found, last_seen_at, checked_at, raw_json FROM model_states"  # noqa: S608
        f"{models} ORDER BY model_id",
        params if where else [],
    ):
        yield ("model_state", *row)


# -- restoring (inside import's transaction: store/bulk.py) -------------------------------------


@dataclass
class RestoreCounts:
    """What an import of a full export wrote beside jobs, events and checkpoints (or would
    have), and what it left as stored (skip)."""

    result_files: int = 0
    file_objects: int = 0
    model_states: int = 0
    unchanged: int = 0
    kept: int = 0
    history_skipped: int = 0


def restore_result_file(
    conn: sqlite3.Connection,
    writer: HistoryWriter,
    job_key: int,
    record: ResultFileRecord,
    on_conflict: Conflict,
    counts: RestoreCounts,
) -> None:
    """A result file's content under a job that lists it. Stored with other bytes: replaced
    (update), kept (skip) or refused (fail). The same bytes again only give this job the steps
    read from them if it has none (a file two jobs list)."""
    content = record.content
    listed = conn.execute(
        "SELECT 1 FROM job_result_files WHERE job_key = ? AND file_id = ?",
        [job_key, content.file_id],
    ).fetchone()
    if listed is None:
        raise FtjobsError(
            f"{record.where}: result file {content.file_id} is not one of job"
            f" {record.job_id}'s result_files; nothing was imported"
        )
    stored = conn.execute(
        "SELECT raw FROM result_file_contents WHERE file_id = ?", [content.file_id]
    ).fetchone()
    if stored is not None and bytes(stored[0]) == content.raw:
        counts.unchanged += 1
        _give_steps(conn, job_key, content)
        return
    if stored is not None and on_conflict != "update":
        _differs(on_conflict, record.where, f"result file {content.file_id}", counts)
        return
    writer.add_result_file(job_key, content)
    counts.result_files += 1


def _give_steps(conn: sqlite3.Connection, job_key: int, content: ResultFile) -> None:
    from ftjobs.api.history import file_source, metrics_from_csv
    from ftjobs.store.history_writer import write_metrics

    source = file_source(content.file_id)
    has = conn.execute(
        "SELECT 1 FROM job_metric_columns WHERE job_key = ? AND source = ? LIMIT 1",
        [job_key, source],
    ).fetchone()
    if has is None and content.csv is not None:
        write_metrics(conn, job_key, source, metrics_from_csv(content.csv))


def restore_file_object(
    conn: sqlite3.Connection, record: FileObjectRecord, on_conflict: Conflict, counts: RestoreCounts
) -> None:
    """A file_objects row as exported; one stored otherwise is replaced, kept or refused."""
    from ftjobs.store.resources import file_columns

    row = (record.file_id, int(record.found), record.fetched_at, record.text)
    stored = conn.execute(
        "SELECT file_id, found, fetched_at, raw_json FROM file_objects WHERE file_id = ?",
        [record.file_id],
    ).fetchone()
    if stored is not None and tuple(stored) == row:
        counts.unchanged += 1
        return
    if stored is not None and on_conflict != "update":
        _differs(on_conflict, record.where, f"file object {record.file_id}", counts)
        return
    columns = file_columns(record.text) if record.text is not None else (None,) * 4
    conn.execute(
        "INSERT OR REPLACE INTO file_objects (file_id, found, filename, bytes, purpose,"
        " created_at, raw_json, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [record.file_id, int(record.found), *columns, record.text, record.fetched_at],
    )
    counts.file_objects += 1


def restore_model_state(
    conn: sqlite3.Connection,
    record: ModelStateRecord,
    on_conflict: Conflict,
    counts: RestoreCounts,
) -> None:
    """A model_states row as exported; one stored otherwise is replaced, kept or refused."""
    row = (
        record.model_id, int(record.found), record.text, record.last_seen_at, record.checked_at
    )  # fmt: skip
    stored = conn.execute(
        "SELECT model_id, found, raw_json, last_seen_at, checked_at FROM model_states"
        " WHERE model_id = ?",
        [record.model_id],
    ).fetchone()
    if stored is not None and tuple(stored) == row:
        counts.unchanged += 1
        return
    if stored is not None and on_conflict != "update":
        _differs(on_conflict, record.where, f"model state {record.model_id}", counts)
        return
    conn.execute(
        "INSERT OR REPLACE INTO model_states (model_id, found, raw_json, last_seen_at,"
        " checked_at) VALUES (?, ?, ?, ?, ?)",
        row,
    )
    counts.model_states += 1


def _differs(on_conflict: Conflict, where: str, what: str, counts: RestoreCounts) -> None:
    if on_conflict == "fail":
        raise FtjobsError(
            f"{where}: {what} is already stored, and differs (--on-conflict fail);"
            " nothing was imported"
        )
    counts.kept += 1
