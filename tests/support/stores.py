"""Stores in states tests start from or check: a file schema version 2 wrote, and a search index
that matches its jobs and events."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .helpers import FIXTURES, connect


def v2_database(path: Path) -> Path:
    """A file as ftjobs with schema version 2 wrote it (fixture: an iterdump of one made by
    ftjobs at commit c070f3e, holding tests/fixtures/v2-jobs.json)."""
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.executescript((FIXTURES / "v2-database.sql").read_text(encoding="utf-8"))
        conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    return path


def index_is_current(db: Path) -> None:
    with connect(db) as conn:
        jobs = conn.execute(
            "SELECT rowid, job_key, text FROM jobs_fts WHERE rowid > 0 ORDER BY rowid"
        ).fetchall()
        assert (
            jobs
            == conn.execute(
                "SELECT job_key, job_key, text FROM jobs_fts_text ORDER BY job_key"
            ).fetchall()
        )
        events = conn.execute(
            "SELECT -rowid, job_key, text FROM jobs_fts WHERE rowid < 0 ORDER BY -rowid"
        ).fetchall()
        assert (
            events
            == conn.execute(
                "SELECT event_key, job_key, message FROM job_events"
                " WHERE type = 'message' AND message IS NOT NULL ORDER BY event_key"
            ).fetchall()
        )
