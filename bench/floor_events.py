#!/usr/bin/env python3
"""The speed floor for importing events: the rows `ftjobs import --job JOB FILE` writes, written
with the standard library alone, one transaction per job.

Reads a directory from generate_events.py (``jobs.txt`` and one ``<job id>.jsonl`` per job) into
a store that already holds those jobs. Per job, in one ``BEGIN IMMEDIATE`` transaction: the
job's key and where its seq numbers continue, then ``json.loads`` of each line and the rows
ftjobs writes: job_events (the text compacted as ftjobs.jsonio.stream.compact_json compacts it,
seq numbers so that (created_at, seq) reads oldest first, decided as ftjobs decides it), and
job_metric_columns / job_metric_values from the metrics events (step first, then the numeric
keys in the order first seen, nested names joined with "/"), by the same statements. The
connection is set up as Store sets up its own (foreign_keys ON, WAL, synchronous=NORMAL) with
the import's page cache. What a floor may skip, it skips: validation (no pydantic), progress
and reporting; and since it holds a job's events before writing them, it gives them their
final seq numbers at once instead of turning provisional ones around with an UPDATE.

    python -m bench floor-events bench/out/events-4000x250 store.db
    python -m bench floor-events bench/out/events-4000x250 --verify-rows 50   # == ftjobs' rows
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CACHE_KIB = 64 * 1024  # ftjobs.store.IMPORT_CACHE_KIB: a store that holds jobs is not bulk-loaded

# The statements of ftjobs.store.history_writer, so SQLite does the same work.
INSERT_EVENT = (
    "INSERT INTO job_events (job_key, id, created_at, seq, level, type, message, raw_json)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_key, id) DO NOTHING"
)
INSERT_COLUMN = (
    "INSERT INTO job_metric_columns (job_key, source, position, name) VALUES (?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)
UPSERT_VALUE = (
    "INSERT INTO job_metric_values (job_key, source, step, position, value) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (job_key, source, step, position) DO UPDATE SET value = excluded.value"
)
SOURCE = "events"
EVENT_OBJECT = "fine_tuning.job.event"

# Compacting as ftjobs.jsonio.stream.compact_json does (the fastest way found with re: findall of
# what to keep, joined; re.sub with a group template expands it in Python per string on 3.11).
_KEPT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[^ \t\n\r"]+|"', re.DOTALL)


def compact(text: str) -> str:
    return "".join(_KEPT.findall(text))


def reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# One decoder (json.loads with a keyword argument builds a new one per call).
_decode = json.JSONDecoder(parse_constant=reject_constant).decode


def flat_metrics(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from flat_metrics(value, f"{name}/")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield name, value


def as_step(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def connect(path: Path) -> sqlite3.Connection:
    """A connection to an existing store, set up as ftjobs.store.Store sets up its own."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    return conn


def job_ids(events_dir: Path) -> list[str]:
    return (events_dir / "jobs.txt").read_text(encoding="utf-8").split()


def load_job(conn: sqlite3.Connection, job_id: str, path: Path) -> int:
    """One job's events file in one transaction; returns the events read."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT job_key FROM jobs WHERE id = ?", [job_id]).fetchone()
        if row is None:
            raise SystemExit(f"{job_id}: not in the store")
        key = row[0]
        first = conn.execute(
            "SELECT coalesce(max(seq), 0) + 1 FROM job_events WHERE job_key = ?", [key]
        ).fetchone()[0]
        rows: list[list[Any]] = []
        columns: dict[str, int] | None = None
        steps: dict[Any, dict[int, Any]] = {}
        with path.open(encoding="utf-8", buffering=1 << 16) as lines:
            for line in lines:
                if not line.strip():
                    continue
                event = _decode(line)
                if event.get("object") != EVENT_OBJECT:
                    raise SystemExit(f"{path}: not an event: {line[:80]}")
                created_at = event["created_at"]
                kind = event.get("type")
                rows.append(
                    [key, event["id"], created_at, 0, event.get("level"), kind,
                     event.get("message"), compact(line)]
                )  # fmt: skip
                data = event.get("data")
                if kind == "metrics" and isinstance(data, dict):
                    step = as_step(data.get("step"))
                    if step is None:
                        continue
                    if columns is None:
                        columns = {
                            name: position
                            for position, name in conn.execute(
                                "SELECT position, name FROM job_metric_columns"
                                " WHERE job_key = ? AND source = ? ORDER BY position",
                                [key, SOURCE],
                            )
                        }
                        columns.setdefault("step", len(columns))
                    values = steps.get(step)
                    if values is None:
                        values = steps[step] = {columns["step"]: step}
                    for name, value in flat_metrics(data):
                        if name != "step":
                            position = columns.get(name)
                            if position is None:
                                position = columns[name] = len(columns)
                            values[position] = value
        # seq: ftjobs' rule for which way the input runs, settled with the rows in hand.
        rises = falls = False
        for before, after in itertools.pairwise(rows):
            rises = rises or after[2] > before[2]
            falls = falls or after[2] < before[2]
        newest_first = (falls and not rises) or not (rises or falls)
        if rises and falls:
            newest_first = rows[0][2] > rows[-1][2]
        last = first + len(rows) - 1
        for offset, event_row in enumerate(rows):
            event_row[3] = last - offset if newest_first else first + offset
        conn.executemany(INSERT_EVENT, rows)
        if columns is not None:
            conn.executemany(
                INSERT_COLUMN,
                [(key, SOURCE, position, name) for name, position in columns.items()],
            )
            conn.executemany(  # in key order, as ftjobs writes them
                UPSERT_VALUE,
                [
                    (key, SOURCE, step, position, value)
                    for step in sorted(steps)
                    for position, value in sorted(steps[step].items())
                ],
            )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return len(rows)


def load(events_dir: Path, db: Path, limit: int | None = None) -> int:
    conn = connect(db)
    count = 0
    for job_id in job_ids(events_dir)[:limit]:
        count += load_job(conn, job_id, events_dir / f"{job_id}.jsonl")
    conn.close()
    return count


# -- --verify-rows: the same rows as ftjobs ---------------------------------------------------

HISTORY_TABLES = {
    "job_events": "*",
    "job_metric_columns": "*",
    "job_metric_values": "*, typeof(step), typeof(value)",
}


def differing_rows(db: Path, reference: Path) -> list[str]:
    """History tables whose rows (and value types) differ between two stores."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.execute("ATTACH DATABASE ? AS ref", [f"file:{reference}?mode=ro"])
    differ = []
    for table, columns in HISTORY_TABLES.items():
        for left, right in (("main", "ref"), ("ref", "main")):
            query = (
                f"SELECT 1 FROM (SELECT {columns} FROM {left}.{table}"  # noqa: S608
                f" EXCEPT SELECT {columns} FROM {right}.{table}) LIMIT 1"
            )
            if conn.execute(query).fetchone():
                differ.append(table)
                break
    conn.close()
    return differ


def verify_rows(events_dir: Path, jobs: int) -> int:
    """Import the first `jobs` jobs' events with ftjobs and with this floor, each into a store
    holding just those jobs, and compare the history tables row for row, types included."""
    from bench.ftjobs_events import ftjobs_import
    from ftjobs.api.models import FineTuningJob
    from ftjobs.store import Store

    ids = job_ids(events_dir)[:jobs]
    with tempfile.TemporaryDirectory() as tmp:
        base, ours, theirs = (Path(tmp) / name for name in ("base.db", "floor.db", "ftjobs.db"))
        with Store.open(base) as store:
            store.import_jobs(
                FineTuningJob.model_validate(
                    {"id": job_id, "model": "gpt-4o-mini", "created_at": 0, "status": "succeeded"}
                )
                for job_id in ids
            )
        shutil.copy(base, ours)
        shutil.copy(base, theirs)
        added = ftjobs_import(events_dir, theirs, ids)
        count = load(events_dir, ours, len(ids))
        differ = differing_rows(ours, theirs)
        with sqlite3.connect(ours) as conn:
            values = conn.execute("SELECT count(*) FROM job_metric_values").fetchone()[0]
    print(
        f"checked {len(ids)} jobs, {count} events ({added} added by ftjobs), {values} metric"
        f" values: {', '.join(differ) + ' differ' if differ else 'same rows as ftjobs'}"
    )
    return 1 if differ or count != added or not count else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("events", type=Path, help="a directory from generate_events.py")
    parser.add_argument("db", type=Path, nargs="?", help="a store holding the jobs")
    parser.add_argument("--jobs", type=int, default=None, help="only the first N jobs")
    parser.add_argument(
        "--verify-rows",
        type=int,
        metavar="N",
        help="compare the rows of the first N jobs with ftjobs' and exit (needs ftjobs)",
    )
    args = parser.parse_args(argv)
    if args.verify_rows is not None:
        return verify_rows(args.events, args.verify_rows)
    if args.db is None or not args.db.exists():
        parser.error("DB (an existing store holding the jobs) is required")
    started = time.perf_counter()
    count = load(args.events, args.db, args.jobs)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{count:,} events into {args.db} in {seconds:.2f} s ({count / seconds:,.0f} events/s),"
        f" peak RSS {peak:.0f} MiB",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
