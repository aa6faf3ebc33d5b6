"""A job's history is read by index, whatever else the store holds: the statements Store.events
and Store.metrics run must search job_events_in_order and the metric tables' primary keys,
never scan a table or sort in a temporary B-tree. Plans are deterministic (timings are not:
bench/run.py --events measures those)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.helpers import Cli

from ftjobs.store import Store

JOB = "ftjob-abc123"
OTHER = "ftjob-other456"


def event(number: int, created_at: int, data: Any) -> str:
    return json.dumps(
        {
            "object": "fine_tuning.job.event",
            "id": f"ftevent-{number:024d}",
            "created_at": created_at,
            "level": "info",
            "message": f"Step {number}",
            "data": data,
            "type": "metrics" if data else "message",
        }
    )


@pytest.fixture
def store(cli: Cli, tmp_path: Path) -> Store:
    """Two jobs with events (newest first, as the API lists them) and metrics from them."""
    for job_id in (JOB, OTHER):
        cli.add("--id", job_id)
        lines = [event(0, 100, None)] + [
            event(step, 100 + step, {"step": step, "train_loss": 1 / step}) for step in range(1, 6)
        ]
        path = tmp_path / f"{job_id}.jsonl"
        path.write_text("\n".join(reversed(lines)) + "\n")
        cli.ok("import", "--job", job_id, path)
    return Store.open(cli.db)


def plans(store: Store, run: Callable[[], Any]) -> dict[str, list[str]]:
    """The SELECTs run() executes, each with its EXPLAIN QUERY PLAN details."""
    conn = store.db.conn
    statements: list[str] = []
    conn.set_trace_callback(statements.append)  # the SQL with its values bound
    try:
        run()
    finally:
        conn.set_trace_callback(None)
    return {
        sql: [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
        for sql in statements
        if sql.lstrip().upper().startswith("SELECT")
    }


def stored_tables(store: Store) -> set[str]:
    return {
        row[0]
        for row in store.db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }


def assert_no_scan_or_sort(store: Store, found: dict[str, list[str]]) -> None:
    tables = stored_tables(store)
    for sql, plan in found.items():
        for step in plan:
            assert not any(step.startswith(f"SCAN {table}") for table in tables), (sql, plan)
            assert "TEMP B-TREE" not in step, (sql, plan)


def plan_of(found: dict[str, list[str]], table: str) -> list[str]:
    [plan] = [plan for sql, plan in found.items() if f"FROM {table} " in sql]
    return plan


@pytest.mark.parametrize("limit", [None, 20])
@pytest.mark.parametrize("levels", [(), ("info",)])
def test_events_read_the_job_events_in_order_index(
    store: Store, limit: int | None, levels: tuple[str, ...]
) -> None:
    found = plans(store, lambda: store.events(JOB, levels=levels, limit=limit))
    assert plan_of(found, "job_events") == [
        "SEARCH job_events USING INDEX job_events_in_order (job_key=?)"
    ]
    assert_no_scan_or_sort(store, found)
    assert [e.created_at for e in store.events(JOB, levels=levels, limit=limit)] == list(
        range(100, 106)
    )


def test_metrics_read_the_metric_tables_by_primary_key(store: Store) -> None:
    found = plans(store, lambda: store.metrics(JOB))
    assert plan_of(found, "job_metric_columns") == [
        "SEARCH job_metric_columns USING PRIMARY KEY (job_key=? AND source=?)"
    ]
    assert plan_of(found, "job_metric_values") == [
        "SEARCH job_metric_values USING PRIMARY KEY (job_key=? AND source=?)"
    ]
    assert_no_scan_or_sort(store, found)
    metrics = store.metrics(JOB)
    assert metrics is not None
    assert metrics.columns == ["step", "train_loss"]
    assert [row[0] for row in metrics.rows] == [1, 2, 3, 4, 5]


def test_the_plan_check_would_see_a_scan(store: Store) -> None:
    """The check itself: a read without the job's key scans job_events, and is caught."""
    found = plans(store, lambda: store.db.conn.execute("SELECT * FROM job_events").fetchall())
    with pytest.raises(AssertionError):
        assert_no_scan_or_sort(store, found)


def test_history_plans_hold_with_statistics(store: Store) -> None:
    """ANALYZE (sqlite_stat1; ftjobs never runs it, a user may) must not talk the planner out
    of the history indexes. (On a two-job store it rightly scans jobs: not checked here.)"""
    conn: sqlite3.Connection = store.db.conn
    conn.execute("ANALYZE")
    events = plans(store, lambda: store.events(JOB))
    metrics = plans(store, lambda: store.metrics(JOB))
    assert plan_of(events, "job_events") == [
        "SEARCH job_events USING INDEX job_events_in_order (job_key=?)"
    ]
    for table in ("job_metric_columns", "job_metric_values"):
        assert plan_of(metrics, table) == [
            f"SEARCH {table} USING PRIMARY KEY (job_key=? AND source=?)"
        ]
