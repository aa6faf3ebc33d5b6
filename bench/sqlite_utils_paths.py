#!/usr/bin/env python3
"""Where sqlite-utils could do the store's work: measured against the hand-written SQL ftjobs runs.

Three jobs issue 10 names: adding history rows (events) that may already be stored, counting what
each table holds (introspection, for `info --tables`), and the import cost itself. Every case runs
on a fresh copy of schema.sql in a temp directory, in one process, taking turns --repeat times;
the table gives the median seconds and the ratio to ftjobs' own way.

    python -m bench sqlite-utils-paths                 # 100,000 events, 5 runs each
    python -m bench sqlite-utils-paths --events 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSERT_EVENT = (  # ftjobs.store.history_writer._INSERT_EVENT
    "INSERT INTO job_events (job_key, id, created_at, seq, level, type, message, raw_json)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_key, id) DO NOTHING"
)
COLUMNS = ("job_key", "id", "created_at", "seq", "level", "type", "message", "raw_json")


def new_store(directory: Path, name: str) -> sqlite3.Connection:
    path = directory / f"{name}.db"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript((ROOT / "schema.sql").read_text())
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "INSERT INTO jobs (job_key, id, object, model, created_at, status, method_json,"
        " integrations_is_null, result_files_is_null)"
        " VALUES (1, 'ftjob-1', 'fine_tuning.job', 'gpt-4o-mini', 0, 'running', NULL, 0, 0)"
    )
    return conn


def event_rows(count: int) -> list[tuple[object, ...]]:
    rows = []
    for n in range(count):
        event = {
            "object": "fine_tuning.job.event",
            "id": f"ftevent-{n:024d}",
            "created_at": 1_700_000_000 + n // 10,
            "level": "info",
            "message": f"Step {n}/100000: training loss={1 / (n + 1):.4f}",
            "type": "metrics",
            "data": {"step": n, "train_loss": 1 / (n + 1)},
        }
        raw = json.dumps(event, separators=(",", ":"))
        rows.append(
            (1, event["id"], event["created_at"], n, "info", "metrics", event["message"], raw)
        )
    return rows


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import sqlite_utils

    rows = event_rows(args.events)
    half = rows[: len(rows) // 2]
    dicts = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    times: dict[str, list[float]] = {}

    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)

        def executemany() -> None:
            conn = new_store(directory, "sql")
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(INSERT_EVENT, half)  # some already stored, as in an incremental sync
            conn.execute("COMMIT")
            seconds = timed(
                lambda: _in_transaction(conn, lambda: conn.executemany(INSERT_EVENT, rows))
            )
            times.setdefault("events: executemany ... ON CONFLICT DO NOTHING (ftjobs)", []).append(
                seconds
            )
            conn.close()

        def insert_all() -> None:
            conn = new_store(directory, "su")
            db = sqlite_utils.Database(conn, recursive_triggers=False)
            table = db.table("job_events")
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(INSERT_EVENT, half)
            conn.execute("COMMIT")
            seconds = timed(
                lambda: _in_transaction(
                    conn, lambda: table.insert_all(dicts, ignore=True, batch_size=2000)
                )
            )
            times.setdefault("events: sqlite-utils insert_all(ignore=True)", []).append(seconds)
            conn.close()

        def counts_sql() -> None:
            conn = sqlite3.connect(directory / "sql.db")

            def run() -> dict[str, int]:
                names = [
                    name
                    for (name,) in conn.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table'"
                        " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'jobs_fts_%'"
                    )
                ]
                # n: a table name from sqlite_master, not user text
                return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}  # noqa: S608

            times.setdefault("table rows: sqlite_master + count(*)", []).append(timed(run))
            conn.close()

        def counts_su() -> None:
            conn = sqlite3.connect(directory / "sql.db")
            db = sqlite_utils.Database(conn, recursive_triggers=False)

            def run() -> dict[str, int]:
                virtual = [t.name for t in db.tables if t.virtual_table_using]
                return {
                    t.name: t.count
                    for t in db.tables
                    if not any(t.name.startswith(f"{v}_") for v in virtual)
                }

            times.setdefault(
                "table rows: sqlite-utils db.tables / .count (ftjobs info --tables)", []
            ).append(timed(run))
            conn.close()

        def import_cost() -> None:
            for label, code in (
                ("python -c 'import sqlite3' (whole process)", "import sqlite3"),
                ("python -c 'import sqlite_utils' (whole process)", "import sqlite_utils"),
            ):
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", code], check=True)
                times.setdefault(label, []).append(time.perf_counter() - start)

        for _ in range(args.repeat):
            for case in (executemany, insert_all, counts_sql, counts_su, import_cost):
                case()

    print(f"{args.events:,} events, half of them already stored; {args.repeat} runs, median")
    print()
    print("| case | seconds | ratio |")
    print("|---|---:|---:|")
    pairs = list(times.items())
    for index, (name, values) in enumerate(pairs):
        base = statistics.median(pairs[index - index % 2][1])
        median = statistics.median(values)
        print(f"| {name} | {median:.4f} | {median / base:.2f} |")


def _in_transaction(conn: sqlite3.Connection, action: Callable[[], object]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    action()
    conn.execute("COMMIT")


if __name__ == "__main__":
    main()
