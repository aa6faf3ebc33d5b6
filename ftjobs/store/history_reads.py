"""Reading a job's history back: events, checkpoints, metrics, result files, and what sync
remembers of it. Functions over an open connection, called by :class:`ftjobs.store.Store`.
Nothing here prints; nothing here commits (mark_history writes inside sync's transaction)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from ftjobs.api.history import ResultFile
from ftjobs.jsonio.text import json_text
from ftjobs.store.records import HistorySummary, Metrics, StoredCheckpoint, StoredEvent


def read_events(
    conn: sqlite3.Connection,
    job_key: int,
    *,
    levels: Sequence[str] = (),
    types: Sequence[str] = (),
    limit: int | None = None,
    after_key: int | None = None,
    through_key: int | None = None,
) -> list[StoredEvent]:
    """A job's events oldest first; with limit, the newest `limit` of them (still oldest
    first), as `tail` would; with after_key and through_key, only the rows stored after the
    one and up to the other (events --follow: what came since it last read)."""
    where, params = _event_filter(job_key, levels, types)
    for bound, value in (("event_key > ?", after_key), ("event_key <= ?", through_key)):
        if value is not None:
            where += f" AND {bound}"
            params.append(value)
    # Newest first with a limit, then turned around: an indexed read of just the rows shown.
    order = "DESC" if limit is not None else "ASC"
    sql = (
        "SELECT created_at, level, type, message, raw_json, event_key FROM job_events"  # noqa: S608
        f" WHERE {where} ORDER BY created_at {order}, seq {order}"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    events = [StoredEvent(*row) for row in conn.execute(sql, params)]
    if limit is not None:
        events.reverse()
    return events


def last_event_key(conn: sqlite3.Connection, job_key: int) -> int:
    """The highest event_key of the job's events (0: none): rows stored later are above it."""
    key: int = conn.execute(
        "SELECT coalesce(max(event_key), 0) FROM job_events WHERE job_key = ?", [job_key]
    ).fetchone()[0]
    return key


def count_events(
    conn: sqlite3.Connection, job_key: int, *, levels: Sequence[str] = (), types: Sequence[str] = ()
) -> int:
    """How many of a job's events pass the filters (to tell what a limit left out)."""
    where, params = _event_filter(job_key, levels, types)
    sql = f"SELECT count(*) FROM job_events WHERE {where}"  # noqa: S608
    count: int = conn.execute(sql, params).fetchone()[0]
    return count


def _event_filter(
    job_key: int, levels: Sequence[str], types: Sequence[str]
) -> tuple[str, list[Any]]:
    """The WHERE clause (placeholders only) and parameters for a job's events by level/type."""
    conditions = ["job_key = ?"]
    params: list[Any] = [job_key]
    for column, values in (("level", levels), ("type", types)):
        if values:
            conditions.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    return " AND ".join(conditions), params


def read_checkpoints(conn: sqlite3.Connection, job_key: int) -> list[StoredCheckpoint]:
    """A job's checkpoints, oldest first by step."""
    return [
        StoredCheckpoint(*row)
        for row in conn.execute(
            "SELECT created_at, step_number, fine_tuned_model_checkpoint, raw_json"
            " FROM job_checkpoints WHERE job_key = ? ORDER BY step_number, created_at, id",
            [job_key],
        )
    ]


def read_metrics(conn: sqlite3.Connection, job_key: int, source: str) -> Metrics | None:
    columns = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM job_metric_columns WHERE job_key = ? AND source = ?"
            " ORDER BY position",
            [job_key, source],
        )
    ]
    if not columns:
        return None
    rows: list[list[Any]] = []
    current_step: Any = object()
    for step, position, value in conn.execute(
        "SELECT step, position, value FROM job_metric_values WHERE job_key = ? AND source = ?"
        " ORDER BY step, position",
        [job_key, source],
    ):
        if step != current_step:
            rows.append([None] * len(columns))
            current_step = step
        rows[-1][position] = value
    return Metrics(source, columns, rows)


def metric_sources(conn: sqlite3.Connection, job_key: int) -> list[str]:
    """Which sources hold metrics for the job."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT DISTINCT source FROM job_metric_columns WHERE job_key = ?", [job_key]
        )
    ]


def stored_result_file(conn: sqlite3.Connection, file_id: str) -> ResultFile | None:
    row = conn.execute(
        "SELECT file_id, encoding, raw, csv FROM result_file_contents WHERE file_id = ?",
        [file_id],
    ).fetchone()
    return None if row is None else ResultFile(row[0], row[1], bytes(row[2]), row[3])


def stored_file_ids(conn: sqlite3.Connection, file_ids: Sequence[str]) -> set[str]:
    """Which of these file ids have their content stored."""
    return {
        row[0]
        for row in conn.execute(
            "SELECT file_id FROM result_file_contents"
            " WHERE file_id IN (SELECT value FROM json_each(?))",
            [json_text(list(file_ids))],
        )
    }


def summary(conn: sqlite3.Connection, job_key: int) -> HistorySummary:
    events = conn.execute(
        "SELECT count(*) FROM job_events WHERE job_key = ?", [job_key]
    ).fetchone()[0]
    last = read_events(conn, job_key, limit=1)
    checkpoints = conn.execute(
        "SELECT count(*) FROM job_checkpoints WHERE job_key = ?", [job_key]
    ).fetchone()[0]
    return HistorySummary(
        events, last[0] if last else None, checkpoints, metric_sources(conn, job_key)
    )


# -- what sync remembers ----------------------------------------------------------------------


def mark_history(
    conn: sqlite3.Connection, job_key: int, *, complete: bool, gaps: Sequence[str], now: int
) -> None:
    conn.execute(
        "INSERT INTO job_sync (job_key, history_complete, history_synced_at, gaps_json)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (job_key) DO UPDATE SET"
        " history_complete = excluded.history_complete,"
        " history_synced_at = excluded.history_synced_at, gaps_json = excluded.gaps_json",
        [job_key, 1 if complete else 0, now, json_text(list(gaps)) if gaps else None],
    )


def known_ids(conn: sqlite3.Connection, table: str, job_key: int) -> set[str]:
    """Ids of a job's events or checkpoints already stored."""
    if table not in ("job_events", "job_checkpoints"):
        raise ValueError(table)
    return {
        row[0]
        for row in conn.execute(f"SELECT id FROM {table} WHERE job_key = ?", [job_key])  # noqa: S608
    }
