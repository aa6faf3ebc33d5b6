"""Writing a job's history: events, checkpoints, result-file contents, and the per-step metrics
read from them, inside a transaction :class:`ftjobs.store.Store` holds (import, sync, attach).
Nothing here prints; nothing here commits. Reading them back: ftjobs.store.history_reads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from ftjobs.api.history import (
    CHECKPOINTS_SOURCE,
    EVENTS_SOURCE,
    CheckpointRecord,
    EventRecord,
    MetricTable,
    Repeated,
    ResultFile,
    checkpoint_metrics,
    event_metrics,
    file_source,
    metrics_from_csv,
)
from ftjobs.jsonio.text import json_text
from ftjobs.store.records import (
    HistoryCounts,
)

HistoryRecord = TypeVar("HistoryRecord", EventRecord, CheckpointRecord)

# Hand-written, not sqlite-utils' insert_all(ignore=True): 2.7x slower for the same rows
# (bench/sqlite_utils_paths.py: 50,000 events, half already stored, 0.66 s against 1.78 s).
_INSERT_EVENT = (
    "INSERT INTO job_events (job_key, id, created_at, seq, level, type, message, raw_json)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_key, id) DO NOTHING"
)
_INSERT_CHECKPOINT = (
    "INSERT INTO job_checkpoints (job_key, id, created_at, step_number,"
    " fine_tuned_model_checkpoint, raw_json) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (job_key, id) DO NOTHING"
)
# Per kind of history record: its table, that table's row key (new rows get higher keys), and
# the insert of its rows.
_TABLES = {
    "event": ("job_events", "event_key", _INSERT_EVENT),
    "checkpoint": ("job_checkpoints", "checkpoint_key", _INSERT_CHECKPOINT),
}
_UPSERT_METRIC_VALUE = (
    "INSERT INTO job_metric_values (job_key, source, step, position, value) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (job_key, source, step, position) DO UPDATE SET value = excluded.value"
)


@dataclass
class EventRun:
    """Events written for one job in one command, in the order they came: their provisional
    seq numbers run from first_seq up. The API lists newest first, `events --jsonl` oldest
    first; which one this was is known only at the end (see finish_event_runs)."""

    job_key: int
    first_seq: int
    next_seq: int
    first_created_at: int | None = None
    rises: bool = False  # a later record is newer: the input runs forward in time
    falls: bool = False  # a later record is older: the API's newest-first order
    last_created_at: int | None = None
    metrics: MetricTable | None = None
    known_order: bool | None = None  # True: newest first, as the API lists them


@dataclass
class HistoryWriter:
    """Writes history records inside one transaction, remembering per job where its events
    started, so that their order can be settled at the end.

    A record whose id the job already has is not written: stored before this command, it is
    known; stored earlier in this one, it is repeated, and on_repeat is told (the first is
    kept, as ON CONFLICT DO NOTHING would keep it). Only the records written feed the job's
    metrics, so that `metrics` shows the steps `events` and `checkpoints` show.
    """

    conn: sqlite3.Connection
    counts: HistoryCounts = field(default_factory=HistoryCounts)
    runs: dict[int, EventRun] = field(default_factory=dict)
    on_repeat: Callable[[Repeated], None] | None = None
    # Per table, its highest row key before this writer wrote: rows above it are this command's
    # (SQLite gives a new row the highest key + 1; nothing deletes history during a write).
    keys_before: dict[str, int] = field(default_factory=dict)

    def add_events(
        self,
        job_key: int,
        records: Sequence[EventRecord],
        *,
        newest_first: bool | None = None,
        whole: bool = False,
    ) -> None:
        """Add events in the order given; newest_first says what that order is (as the API
        lists them), None: find out from their times (see finish). whole: the records are the
        job's whole list, and the ones already stored take their place in its order."""
        run = self.runs.get(job_key)
        if run is None:
            first = self.conn.execute(
                "SELECT coalesce(max(seq), 0) + 1 FROM job_events WHERE job_key = ?", [job_key]
            ).fetchone()[0]
            run = self.runs[job_key] = EventRun(job_key, first, first, known_order=newest_first)
        for record in records:  # the order of the input, all of it: is it newest first?
            created_at = record.event.created_at
            if run.last_created_at is not None:
                run.rises = run.rises or created_at > run.last_created_at
                run.falls = run.falls or created_at < run.last_created_at
            else:
                run.first_created_at = created_at
            run.last_created_at = created_at

        seqs: dict[str, int] = {}

        def row(record: EventRecord) -> tuple[Any, ...]:
            event = record.event
            seqs[event.id] = run.next_seq
            run.next_seq += 1
            return (
                job_key, event.id, event.created_at, run.next_seq - 1, event.level, event.type,
                event.message, record.text,
            )  # fmt: skip

        stored = self._insert_new("event", job_key, records, [r.event.id for r in records], row)
        for record, is_stored in zip(records, stored, strict=True):
            found = event_metrics(record.event) if is_stored else None
            if found is not None:
                if run.metrics is None:
                    run.metrics = _stored_metric_columns(self.conn, job_key, EVENTS_SOURCE)
                run.metrics.add(*found)
        if whole:  # the events stored before take their place in this list's order
            self.conn.executemany(
                "UPDATE job_events SET seq = ? WHERE job_key = ? AND id = ?",
                [
                    (seqs[record.event.id], job_key, record.event.id)
                    for record, is_stored in zip(records, stored, strict=True)
                    if not is_stored and record.event.id in seqs
                ],
            )

    def finish(self) -> None:
        """Settle the order of the events written: input in the API's order (newest first,
        or all in one second) has its seq numbers turned around, so that (created_at, seq)
        reads oldest first with same-second events in their true order. Then write the
        metrics read from them."""
        for run in self.runs.values():
            last_seq = run.next_seq - 1
            newest_first = run.falls and not run.rises
            if not run.rises and not run.falls:
                newest_first = True  # one second, or one event: the API's order
            if run.rises and run.falls:  # jumbled: go by the ends
                newest_first = (run.first_created_at or 0) > (run.last_created_at or 0)
            if run.known_order is not None:
                newest_first = run.known_order
            if newest_first and last_seq > run.first_seq:
                self.conn.execute(
                    "UPDATE job_events SET seq = ? - seq WHERE job_key = ? AND seq BETWEEN ? AND ?",
                    [run.first_seq + last_seq, run.job_key, run.first_seq, last_seq],
                )
            if run.metrics is not None:
                write_metrics(self.conn, run.job_key, EVENTS_SOURCE, run.metrics)
        self.runs.clear()

    def add_checkpoints(self, job_key: int, records: Sequence[CheckpointRecord]) -> None:
        def row(record: CheckpointRecord) -> tuple[Any, ...]:
            checkpoint = record.checkpoint
            return (
                job_key, checkpoint.id, checkpoint.created_at, checkpoint.step_number,
                checkpoint.fine_tuned_model_checkpoint, record.text,
            )  # fmt: skip

        ids = [record.checkpoint.id for record in records]
        stored = self._insert_new("checkpoint", job_key, records, ids, row)
        metrics: MetricTable | None = None
        for record, is_stored in zip(records, stored, strict=True):
            found = checkpoint_metrics(record.checkpoint) if is_stored else None
            if found is not None:
                if metrics is None:
                    metrics = _stored_metric_columns(self.conn, job_key, CHECKPOINTS_SOURCE)
                metrics.add(*found)
        if metrics is not None:
            write_metrics(self.conn, job_key, CHECKPOINTS_SOURCE, metrics)

    def _insert_new(
        self,
        kind: Literal["event", "checkpoint"],
        job_key: int,
        records: Sequence[HistoryRecord],
        ids: list[str],
        row: Callable[[HistoryRecord], tuple[Any, ...]],
    ) -> list[bool]:
        """Insert the first record of each id (row(record): its row) unless the job has that
        id, and say which records were stored. The others are counted: known (stored before
        this command) or repeated (earlier in it; on_repeat is told). When every row goes in,
        as on a first import, that costs a dict and a max() lookup: the ids are looked up
        only when some row was not inserted, and ids of earlier batches are never held (their
        rows' keys tell them from older rows)."""
        table, key, insert = _TABLES[kind]
        last_key = f"SELECT coalesce(max({key}), 0) FROM {table}"  # noqa: S608 (from _TABLES)
        if table not in self.keys_before:
            self.keys_before[table] = self.conn.execute(last_key).fetchone()[0]
        before_batch: int = self.conn.execute(last_key).fetchone()[0]
        first_at: dict[str, int] = {}
        for index, record_id in enumerate(ids):
            first_at.setdefault(record_id, index)
        firsts = list(first_at.values())
        # rowcount, not total_changes: the search index's trigger writes rows of its own.
        added: int = self.conn.executemany(insert, [row(records[i]) for i in firsts]).rowcount
        if kind == "event":
            self.counts.events_added += added
        else:
            self.counts.checkpoints_added += added
        if added == len(ids):
            return [True] * len(ids)
        # Per id, the text this command keeps for it (None: the job had it before), and the ids
        # this batch stored.
        kept: dict[str, str | None]
        stored_now: set[str]
        if added == len(firsts):
            kept = {ids[i]: records[i].text for i in firsts}
            stored_now = set(kept)
        else:
            kept, stored_now = {}, set()
            for record_id, is_new, text in self.conn.execute(
                f"SELECT id, {key} > ?, CASE WHEN {key} > ? THEN raw_json END"  # noqa: S608
                f" FROM {table} WHERE job_key = ? AND id IN (SELECT value FROM json_each(?))",
                [before_batch, self.keys_before[table], job_key, json_text(list(first_at))],
            ):
                kept[record_id] = text
                if is_new:
                    stored_now.add(record_id)
        stored: list[bool] = []
        known = repeated = 0
        job_id: str | None = None
        for index, record_id in enumerate(ids):
            is_stored = first_at[record_id] == index and record_id in stored_now
            stored.append(is_stored)
            if is_stored:
                continue
            text = kept[record_id]
            if text is None:
                known += 1
                continue
            repeated += 1
            if self.on_repeat is not None:
                record = records[index]
                job_id = job_id or self._job_id(job_key)
                self.on_repeat(
                    Repeated(
                        kind, record_id, job_id, record.source, record.location,
                        same=record.text == text,
                    )
                )  # fmt: skip
        if kind == "event":
            self.counts.events_known += known
            self.counts.events_repeated += repeated
        else:
            self.counts.checkpoints_known += known
            self.counts.checkpoints_repeated += repeated
        return stored

    def _job_id(self, job_key: int) -> str:
        job_id: str = self.conn.execute(
            "SELECT id FROM jobs WHERE job_key = ?", [job_key]
        ).fetchone()[0]
        return job_id

    def add_result_file(self, job_key: int, content: ResultFile) -> None:
        """Store a result file's content (replacing what was stored for that id) and the
        steps read from it, under the job. The same bytes again change and count nothing."""
        stored = self.conn.execute(
            "SELECT raw FROM result_file_contents WHERE file_id = ?", [content.file_id]
        ).fetchone()
        if stored is not None and bytes(stored[0]) == content.raw:
            return
        self.conn.execute(
            "INSERT INTO result_file_contents (file_id, encoding, raw, csv) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (file_id) DO UPDATE SET encoding = excluded.encoding,"
            " raw = excluded.raw, csv = excluded.csv",
            [content.file_id, content.encoding, content.raw, content.csv],
        )
        source = file_source(content.file_id)
        self.conn.execute(
            "DELETE FROM job_metric_values WHERE job_key = ? AND source = ?", [job_key, source]
        )
        self.conn.execute(
            "DELETE FROM job_metric_columns WHERE job_key = ? AND source = ?", [job_key, source]
        )
        if content.csv is not None:
            write_metrics(self.conn, job_key, source, metrics_from_csv(content.csv))
        self.counts.files_added += 1


def _stored_metric_columns(conn: sqlite3.Connection, job_key: int, source: str) -> MetricTable:
    """A table holding the columns already stored for a source, so new ones go after them."""
    table = MetricTable()
    table.columns = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM job_metric_columns WHERE job_key = ? AND source = ?"
            " ORDER BY position",
            [job_key, source],
        )
    ]
    return table


def write_metrics(conn: sqlite3.Connection, job_key: int, source: str, table: MetricTable) -> None:
    conn.executemany(
        "INSERT INTO job_metric_columns (job_key, source, position, name) VALUES (?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [(job_key, source, position, name) for position, name in enumerate(table.columns)],
    )
    # In key order: the API lists events newest first, and rows inserted backwards leave the
    # table's B-tree pages a third empty (job_metric_values: 141 MiB instead of about 92 for a
    # million events).
    conn.executemany(
        _UPSERT_METRIC_VALUE,
        [
            (job_key, source, step, position, value)
            for step in sorted(table.rows)
            for position, value in sorted(table.rows[step].items())
        ],
    )
