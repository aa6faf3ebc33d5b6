#!/usr/bin/env python3
"""Time a job's history reads at the store level (Store.events, Store.metrics) and show the
query plans of the statements they run: the part of `ftjobs events JOB` / `ftjobs metrics JOB`
that depends on how many other jobs' events the store holds.

    python -m bench read-events STORE.db JOB_ID --repeat 20
    python -m bench read-events STORE.db JOB_ID --plans

Prints one JSON object: median milliseconds of each read (best of --repeat, after one warm-up),
the rows read, and with --plans each statement's EXPLAIN QUERY PLAN.
"""

from __future__ import annotations

import argparse
import io
import json
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def plans_of(conn: sqlite3.Connection, run: Callable[[], Any]) -> list[dict[str, Any]]:
    """Every statement run() executes on conn, with its EXPLAIN QUERY PLAN (details only)."""
    statements: list[str] = []
    conn.set_trace_callback(statements.append)  # the SQL with its values bound
    try:
        run()
    finally:
        conn.set_trace_callback(None)
    return [
        {"sql": sql, "plan": [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]}
        for sql in statements
        if sql.lstrip().upper().startswith("SELECT")
    ]


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    result = run()  # warm-up: the pages come into the cache once, as a second command finds them
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("job")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--plans", action="store_true", help="include EXPLAIN QUERY PLAN")
    args = parser.parse_args(argv)
    from ftjobs.store import Store

    with Store.open(args.db) as store:

        def events_jsonl() -> int:
            out = io.StringIO()
            for event in store.events(args.job):
                out.write(event.text + "\n")
            return len(out.getvalue())

        def metrics() -> int:
            found = store.metrics(args.job)
            return 0 if found is None else len(found.rows)

        def last_20() -> int:
            return len(store.events(args.job, limit=20))

        report: dict[str, Any] = {"db": str(args.db), "job": args.job}
        for name, run in (("events", events_jsonl), ("metrics", metrics), ("tail", last_20)):
            ms, size = timed(run, args.repeat)
            report[name] = {"ms": round(ms, 3), "size": size}
        if args.plans:
            conn = store.db.conn
            report["plans"] = {
                "events": plans_of(conn, lambda: store.events(args.job)),
                "tail": plans_of(conn, lambda: store.events(args.job, limit=20)),
                "metrics": plans_of(conn, lambda: store.metrics(args.job)),
            }
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
