"""The SQL of `info`, `stats` and `search`: what the store holds, summed up, and found.

Functions over an open connection, called by :class:`ftjobs.store.Store` (thin methods there);
nothing here prints or commits. Every aggregate is one GROUP BY in SQLite, so a summary of a
million jobs reads indexes, not Python objects.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ftjobs.api.constants import FINAL_STATUSES, MAX_TIMESTAMP, MIN_DATE_TIME
from ftjobs.store.base import sqlite_errors
from ftjobs.store.filters import JobFilter, Queries, where_clause
from ftjobs.store.rows import ListedJob
from ftjobs.store.sync import source_summaries

if TYPE_CHECKING:
    pass

# -- info -------------------------------------------------------------------------------------


@dataclass
class StoreInfo:
    """What `ftjobs info` shows."""

    path: str
    size_bytes: int  # the file and its write-ahead log
    schema_version: int
    jobs: int
    jobs_by_status: dict[str, int]
    events: int
    checkpoints: int
    result_files: int  # ids listed by jobs
    result_file_contents: int  # contents stored
    last_sync_at: int | None  # when sync last fetched a job's history
    # each source synced into the store (label, jobs, first/last synced, walk unfinished)
    sources: list[dict[str, Any]] = field(default_factory=list)
    # with `info --tables`: every table in the file, and its rows
    tables: dict[str, int] | None = None

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        if self.tables is None:
            del data["tables"]
        return data


def _count(conn: sqlite3.Connection, table: str) -> int:
    # table: one of this module's fixed names, never user text
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


def store_info(conn: sqlite3.Connection, path: Path) -> StoreInfo:
    by_status = {
        status: count
        for status, count in conn.execute(
            "SELECT status, count(*) FROM jobs GROUP BY status ORDER BY count(*) DESC, status"
        )
    }
    size = sum(
        candidate.stat().st_size
        for candidate in (path, path.with_name(path.name + "-wal"))
        if candidate.exists()
    )
    last_sync = conn.execute("SELECT max(history_synced_at) FROM job_sync").fetchone()[0]
    return StoreInfo(
        path=str(path.resolve()),
        size_bytes=size,
        schema_version=int(conn.execute("PRAGMA user_version").fetchone()[0]),
        jobs=sum(by_status.values()),
        jobs_by_status=by_status,
        events=_count(conn, "job_events"),
        checkpoints=_count(conn, "job_checkpoints"),
        result_files=_count(conn, "job_result_files"),
        result_file_contents=_count(conn, "result_file_contents"),
        last_sync_at=last_sync,
        sources=[summary.__dict__ for summary in source_summaries(conn)],
    )


# -- stats ------------------------------------------------------------------------------------


@dataclass
class Stats:
    """What `ftjobs stats` shows; dicts are ordered largest first (months oldest first)."""

    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_model: dict[str, int] = field(default_factory=dict)
    by_month: dict[str, int] = field(default_factory=dict)  # "YYYY-MM" (UTC) -> jobs created
    trained_tokens: int = 0
    trained_tokens_by_model: dict[str, int] = field(default_factory=dict)
    finished: int = 0  # jobs in a final status (succeeded, failed, cancelled)
    success_rate: float | None = None  # succeeded / finished
    duration_median: int | None = None  # seconds from created_at to finished_at (nearest rank)
    duration_p90: int | None = None
    durations_counted: int = 0  # finished jobs with a finished_at

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_status": self.by_status,
            "by_model": self.by_model,
            "by_month": self.by_month,
            "trained_tokens": self.trained_tokens,
            "trained_tokens_by_model": self.trained_tokens_by_model,
            "finished": self.finished,
            "success_rate": self.success_rate,
            "duration_seconds": {
                "median": self.duration_median,
                "p90": self.duration_p90,
                "jobs": self.durations_counted,
            },
        }


def _and(where: str, condition: str) -> str:
    return f"{where} AND {condition}" if where else f"WHERE {condition}"


def _largest_first(rows: Any) -> dict[str, int]:
    return dict(sorted(((str(k), int(v)) for k, v in rows), key=lambda kv: (-kv[1], kv[0])))


def nearest_rank(counts: list[tuple[int, int]], total: int, percent: int) -> int | None:
    """The nearest-rank percentile of values given as sorted (value, how many) pairs: the
    smallest value with at least ceil(percent / 100 * total) values at or below it."""
    if total == 0:
        return None
    rank = max(1, -(-percent * total // 100))  # ceil in integers (0.9 * 10 is not 9.0)
    seen = 0
    for value, count in counts:
        seen += count
        if seen >= rank:
            return value
    return counts[-1][0]


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _month_of(timestamp: int) -> tuple[int, int]:
    """(year, month) of a time from MIN_DATE_TIME to MAX_TIMESTAMP, in UTC. Counted from the
    epoch: fromtimestamp refuses negative times on some systems."""
    moment = _EPOCH + timedelta(seconds=timestamp)
    return moment.year, moment.month


def _month_start(year: int, month: int) -> int:
    """The Unix time a UTC month starts; the "month" after 9999-12 starts one second after
    MAX_TIMESTAMP (no date can show it)."""
    if year > 9999:
        return MAX_TIMESTAMP + 1
    return int((datetime(year, month, 1, tzinfo=timezone.utc) - _EPOCH).total_seconds())


def _by_month(
    conn: sqlite3.Connection, statements: dict[str, tuple[str, list[Any]]]
) -> dict[str, int]:
    """Jobs created per UTC month ("YYYY-MM", oldest first; months without jobs left out),
    whatever the local zone. One range count per month on an index holding created_at: each
    walks only its own entries, with no expression per row and no temporary B-tree (strftime
    on every row and GROUP BY took 3x the time on 1M jobs). After a month without jobs, the
    next job's month is looked up: a provider's job from 1970 (or the year 1) beside this
    year's is not a walk through every month between. A time no date can show (before the
    year 1 or after 9999, which an archive keeps as sent) is in no month."""
    # Two queries: SQLite answers a lone min() or max() from the index's ends, both at once
    # by scanning it.
    first = conn.execute(*statements["first"]).fetchone()[0]
    last = conn.execute(*statements["last"]).fetchone()[0]
    if first is None:
        return {}
    first, last = max(first, MIN_DATE_TIME), min(last, MAX_TIMESTAMP)
    count_in, params = statements["month"]
    next_in, next_params = statements["next"]
    months: dict[str, int] = {}
    if first > last:
        return months
    year, month = _month_of(first)
    start = _month_start(year, month)
    while start <= last:
        after = (year + 1, 1) if month == 12 else (year, month + 1)
        end = _month_start(*after)
        count = conn.execute(count_in, [*params[:-2], start, end]).fetchone()[0]
        if count:
            months[f"{year:04d}-{month:02d}"] = count
            year, month = after
        else:
            found = conn.execute(next_in, [*next_params[:-1], end]).fetchone()[0]
            if found is None or found > last:
                break
            year, month = _month_of(found)
        start = _month_start(year, month)
    return months


# The filters whose columns jobs_by_model holds (model, created_at, id, status, finished_at,
# trained_tokens): with no other, stats reads that index alone, never the table. A filter on
# another column (training file, error code, metadata...) lets its own index pick the rows.
def _covered(query: JobFilter) -> bool:
    return not query.metadata and (
        query.fine_tuned_model is None and query.training_file is None and query.error_code is None
    )


def stats_sql(query: JobFilter) -> dict[str, tuple[str, list[Any]]]:
    """The statements job_stats runs for a filter (its --model already resolved to exact
    names), by name, with their parameters; "month" is the per-month count (its last two
    parameters a month's bounds, here 0 and 1). For EXPLAIN QUERY PLAN in the tests.

    On 1M jobs each reads one index, never the table: statuses off jobs_by_status (or the
    filter's), models and tokens in one walk of jobs_by_model, durations in one of
    jobs_by_duration; both hold every column the stats filters test. 3.2 s of CPU before
    (two table scans and row lookups), 0.7 s after.
    """
    where, params = where_clause(query)
    # INDEXED BY: the planner would rather take a --status or --since range off another index
    # and look up each row in the table (0.9 s for 140k failed jobs); the whole of
    # jobs_by_model read in order and grouped as it goes is a fifth of that.
    covered = _covered(query)
    source = "jobs INDEXED BY jobs_by_model" if covered else "jobs"
    # Only jobs with a duration are in jobs_by_duration (the partial index's WHERE is the
    # second half of `finished`), in order of it.
    by_duration = "jobs INDEXED BY jobs_by_duration" if covered else "jobs"
    group = "model" if covered else "+model"
    final = ", ".join(f"'{status}'" for status in sorted(FINAL_STATUSES))
    finished = f"+status IN ({final}) AND finished_at >= created_at"
    # All statements: `where` is where_clause's fixed text, every value is bound.
    return {
        "status": (f"SELECT status, count(*) FROM jobs {where} GROUP BY status", params),  # noqa: S608
        "model": (
            f"SELECT model, count(*), sum(trained_tokens), count(trained_tokens)"  # noqa: S608
            f" FROM {source} {where} GROUP BY {group}",
            params,
        ),
        "first": (f"SELECT min(created_at) FROM jobs {where}", params),  # noqa: S608
        "last": (f"SELECT max(created_at) FROM jobs {where}", params),  # noqa: S608
        "month": (
            f"SELECT count(*) FROM jobs {_and(where, 'created_at >= ? AND created_at < ?')}",  # noqa: S608
            [*params, 0, 1],
        ),
        # The first job created from a time on (its last parameter): where the months go on
        # after one without jobs.
        "next": (
            f"SELECT min(created_at) FROM jobs {_and(where, 'created_at >= ?')}",  # noqa: S608
            [*params, 0],
        ),
        # Grouped by their value: a few thousand distinct seconds, not every finished job.
        "durations": (
            f"SELECT finished_at - created_at AS seconds, count(*) FROM {by_duration}"  # noqa: S608
            f" {_and(where, finished)} GROUP BY seconds ORDER BY seconds",
            params,
        ),
    }


def job_stats(conn: sqlite3.Connection, query: JobFilter) -> Stats:
    """The summary of the jobs a filter picks (its --model resolved to exact names).

    Statuses, models with their tokens, months and durations: one indexed read each (see
    stats_sql). Durations are grouped by their value and the percentiles read off the
    cumulative counts.
    """
    statements = stats_sql(query)
    stats = Stats()
    stats.by_status = _largest_first(conn.execute(*statements["status"]))
    stats.total = sum(stats.by_status.values())
    if not stats.total:
        return stats
    models = conn.execute(*statements["model"]).fetchall()
    stats.by_model = _largest_first((model, count) for model, count, _, _ in models)
    stats.trained_tokens_by_model = _largest_first(
        (model, tokens) for model, _, tokens, with_tokens in models if with_tokens
    )
    stats.trained_tokens = sum(stats.trained_tokens_by_model.values())
    stats.by_month = _by_month(conn, statements)
    stats.finished = sum(stats.by_status.get(status, 0) for status in FINAL_STATUSES)
    if stats.finished:
        stats.success_rate = stats.by_status.get("succeeded", 0) / stats.finished
    # int(): a duration past 64 bits (a provider's -2**63 to 2**63 - 1) comes as SQLite's REAL
    durations = [(int(seconds), count) for seconds, count in conn.execute(*statements["durations"])]
    stats.durations_counted = sum(count for _, count in durations)
    stats.duration_median = nearest_rank(durations, stats.durations_counted, 50)
    stats.duration_p90 = nearest_rank(durations, stats.durations_counted, 90)
    return stats


# -- search -----------------------------------------------------------------------------------

# Appended to store._SELECT_JOBS: the jobs with a hit, best first. jobs_fts holds a row per job
# and one per event message, each with its job_key; a job ranks by its best row (bm25, lower is
# better), ties newest first. sqlite-utils' Table.search() cannot do this: it ranks rows of one
# table's own _fts table joined back by rowid (see schema.sql).
SEARCH_TAIL = """
JOIN (
    SELECT job_key AS hit_key, min(rank) AS score FROM jobs_fts
    WHERE jobs_fts MATCH ? GROUP BY job_key
) AS hits ON hits.hit_key = jobs.job_key
ORDER BY hits.score, jobs.created_at DESC, jobs.id DESC
"""
COUNT_HITS = "SELECT count(DISTINCT job_key) FROM jobs_fts WHERE jobs_fts MATCH ?"


def fts_query(text: str) -> str | None:
    """What a person typed as an FTS5 query: every word must match, each a quoted phrase (so
    "ftjob-abc123" or "ft:gpt-4o-mini:org::x1" match as written, and no word is FTS5 syntax),
    the last one also as a prefix (a partial id finds the job). None: no word to search for."""
    words = [word for word in text.split() if any(char.isalnum() for char in word)]
    if not words:
        return None
    phrases = ['"' + word.replace('"', '""') + '"' for word in words]
    phrases[-1] += " *"
    return " AND ".join(phrases)


class Insights(Queries):
    """info, stats and search over the store."""

    def info(self, *, tables: bool = False) -> StoreInfo:
        """What the store holds; with tables, also every table's rows."""
        with sqlite_errors(self.path):
            summary = store_info(self.conn, self.path)
            if tables:
                summary.tables = self._table_rows()
        return summary

    def _table_rows(self) -> dict[str, int]:
        """Rows of every table, for people who query the file itself (sqlite3,
        Datasette). sqlite-utils' introspection does this in a few lines where hand-written
        SQL needs sqlite_master and quoting rules; an FTS5 table's shadow tables (its index's
        storage) are left out, the FTS table itself kept. Only `info --tables` imports it."""
        db = self.db
        virtual = [table.name for table in db.tables if table.virtual_table_using]
        rows = {
            table.name: table.count
            for table in db.tables
            if not any(table.name.startswith(f"{name}_") for name in virtual)
        }
        return rows

    def stats(self, query: JobFilter) -> Stats:
        with sqlite_errors(self.path):
            return job_stats(self.conn, self._exact_models(query))

    def search_json(self, match: str, limit: int | None = None) -> Iterator[str]:
        """Jobs whose text or event messages match (an FTS5 query, see fts_query), best
        first, as their compact JSON text (no models)."""
        return self._select_json(*_search_tail(match, limit))

    def search_listed(self, match: str, limit: int | None = None) -> Iterator[ListedJob]:
        """search_json's jobs as their data (no models): for tables and tab-separated text."""
        return self._select_listed(*_search_tail(match, limit))

    def count_search(self, match: str) -> int:
        with sqlite_errors(self.path):
            return int(self.conn.execute(COUNT_HITS, [match]).fetchone()[0])


def _search_tail(match: str, limit: int | None) -> tuple[str, list[Any]]:
    """What follows SELECT_JOBS for a search: the hits, best first, up to limit."""
    if limit is None:
        return SEARCH_TAIL, [match]
    return SEARCH_TAIL + "LIMIT ?", [match, limit]
