"""`ftjobs check`: is the archive sound? SQLite's own checks, then ftjobs' promises about what
it stores: every JSON text parses and names what its columns say, per-step metrics come from
stored events, the search index holds every job and message. Each check reads; only
``rebuild_search`` (what `check --repair` runs) writes."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from ftjobs.store.base import StoreBase, sqlite_errors

EXAMPLES = 5  # problems named per check; the rest are counted


@dataclass
class CheckResult:
    """One check: what it looked at, the problems found (the first EXAMPLES named), and how
    to fix them when ftjobs can."""

    name: str
    about: str
    problems: int = 0
    examples: list[str] = field(default_factory=list)
    fix: str | None = None

    @property
    def ok(self) -> bool:
        return self.problems == 0

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "ok": self.ok,
            "about": self.about,
            "problems": self.problems,
            "examples": self.examples,
            "fix": self.fix if not self.ok else None,
        }


# Each: (name, what it checks, a query of the problems as one text each, the fix if any).
_TEXT_CHECKS = (
    (
        "job texts",
        "each job's text parses and names its id, model and status",
        "SELECT 'job ' || id || ': ' || CASE WHEN NOT json_valid(raw_json)"
        " THEN 'raw_json is not JSON' ELSE 'raw_json says id ' ||"
        " coalesce(json_extract(raw_json, '$.id'), 'null') || ', model ' ||"
        " coalesce(json_extract(raw_json, '$.model'), 'null') || ', status ' ||"
        " coalesce(json_extract(raw_json, '$.status'), 'null') END FROM jobs"
        " WHERE raw_json IS NOT NULL AND (NOT json_valid(raw_json)"
        " OR json_extract(raw_json, '$.id') IS NOT id"
        " OR json_extract(raw_json, '$.model') IS NOT model"
        " OR json_extract(raw_json, '$.status') IS NOT status)",
    ),
    (
        "event texts",
        "each event's text parses and names its id",
        "SELECT 'job ' || jobs.id || ': event ' || job_events.id || ': ' ||"
        " CASE WHEN NOT json_valid(job_events.raw_json) THEN 'raw_json is not JSON'"
        " ELSE 'raw_json says id ' || coalesce(json_extract(job_events.raw_json, '$.id'),"
        " 'null') END FROM job_events JOIN jobs USING (job_key)"
        " WHERE NOT json_valid(job_events.raw_json)"
        " OR json_extract(job_events.raw_json, '$.id') IS NOT job_events.id",
    ),
    (
        "checkpoint texts",
        "each checkpoint's text parses and names its id",
        "SELECT 'job ' || jobs.id || ': checkpoint ' || job_checkpoints.id || ': ' ||"
        " CASE WHEN NOT json_valid(job_checkpoints.raw_json) THEN 'raw_json is not JSON'"
        " ELSE 'raw_json says id ' || coalesce(json_extract(job_checkpoints.raw_json,"
        " '$.id'), 'null') END FROM job_checkpoints JOIN jobs USING (job_key)"
        " WHERE NOT json_valid(job_checkpoints.raw_json)"
        " OR json_extract(job_checkpoints.raw_json, '$.id') IS NOT job_checkpoints.id",
    ),
    (
        "file, model texts",
        "file objects' and model states' texts name their ids",
        "SELECT 'file ' || file_id || ': raw_json does not name it' FROM file_objects"
        " WHERE raw_json IS NOT NULL AND (NOT json_valid(raw_json)"
        " OR json_extract(raw_json, '$.id') IS NOT file_id)"
        " UNION ALL SELECT 'model ' || model_id || ': raw_json does not name it'"
        " FROM model_states WHERE raw_json IS NOT NULL AND (NOT json_valid(raw_json)"
        " OR json_extract(raw_json, '$.id') IS NOT model_id)",
    ),
    (
        "metrics from events",
        "each step read from events is a stored event's",
        "WITH event_steps AS (SELECT DISTINCT job_key,"
        " json_extract(raw_json, '$.data.step') AS step FROM job_events"
        " WHERE type = 'metrics' AND json_valid(raw_json)),"
        " metric_steps AS (SELECT DISTINCT job_key, step FROM job_metric_values"
        " WHERE source = 'events')"
        " SELECT 'job ' || jobs.id || ': step ' || metric_steps.step ||"
        " ' is in its metrics but in none of its events'"
        " FROM metric_steps JOIN jobs USING (job_key) LEFT JOIN event_steps"
        " ON event_steps.job_key = metric_steps.job_key"
        " AND event_steps.step = metric_steps.step WHERE event_steps.job_key IS NULL",
    ),
)

SEARCH_FIX = "ftjobs check --repair (rebuilds the search index from the jobs and events)"


class Check(StoreBase):
    """The archive's soundness, checked; the search index rebuilt."""

    def check(self) -> list[CheckResult]:
        with sqlite_errors(self.path):
            conn = self.conn
            results = [_integrity(conn), _foreign_keys(conn)]
            for name, about, sql in _TEXT_CHECKS:
                results.append(_listed(conn, name, about, sql))
            results.append(_search_index(conn))
            return results

    def rebuild_search(self) -> None:
        """Fill the search index again from the jobs and their message events (what its
        triggers keep current), in one transaction."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM jobs_fts")
            conn.execute(
                "INSERT INTO jobs_fts (rowid, job_key, text)"
                " SELECT job_key, job_key, text FROM jobs_fts_text"
            )
            conn.execute(
                "INSERT INTO jobs_fts (rowid, job_key, text)"
                " SELECT -event_key, job_key, message FROM job_events"
                " WHERE type = 'message' AND message IS NOT NULL"
            )


def _listed(conn: sqlite3.Connection, name: str, about: str, sql: str) -> CheckResult:
    result = CheckResult(name, about)
    for (text,) in conn.execute(sql):
        result.problems += 1
        if len(result.examples) < EXAMPLES:
            result.examples.append(str(text))
    return result


def _integrity(conn: sqlite3.Connection) -> CheckResult:
    result = CheckResult(
        "integrity",
        "SQLite's integrity_check: pages, records, indexes",
        fix="restore from a backup (ftjobs backup), or copy out what reads with sqlite3 .recover",
    )
    rows = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if rows != ["ok"]:
        result.problems = len(rows)
        result.examples = rows[:EXAMPLES]
    return result


def _foreign_keys(conn: sqlite3.Connection) -> CheckResult:
    result = CheckResult("foreign keys", "every history row and part belongs to a job")
    for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check"):
        result.problems += 1
        if len(result.examples) < EXAMPLES:
            result.examples.append(f"{table} row {rowid}: no {parent} row it points at")
    return result


def _search_index(conn: sqlite3.Connection) -> CheckResult:
    """The index holds one row per job and per message event, each with the text it would
    get now."""
    result = CheckResult(
        "search index", "one entry per job and message event, up to date", fix=SEARCH_FIX
    )
    missing_jobs = conn.execute(
        "SELECT count(*) FROM jobs_fts_text AS wanted WHERE NOT EXISTS (SELECT 1 FROM jobs_fts"
        " WHERE jobs_fts.rowid = wanted.job_key AND jobs_fts.text = wanted.text)"
    ).fetchone()[0]
    missing_messages = conn.execute(
        "SELECT count(*) FROM job_events WHERE type = 'message' AND message IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM jobs_fts WHERE jobs_fts.rowid = -job_events.event_key)"
    ).fetchone()[0]
    stray = conn.execute(
        "SELECT count(*) FROM jobs_fts WHERE CASE WHEN rowid > 0"
        " THEN NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.job_key = jobs_fts.rowid)"
        " ELSE NOT EXISTS (SELECT 1 FROM job_events WHERE event_key = -jobs_fts.rowid"
        " AND type = 'message' AND message IS NOT NULL) END"
    ).fetchone()[0]
    for count, what in (
        (missing_jobs, "jobs missing or out of date"),
        (missing_messages, "event messages missing"),
        (stray, "entries for nothing stored"),
    ):
        if count:
            result.problems += count
            result.examples.append(f"{count:,} {what}")
    return result
