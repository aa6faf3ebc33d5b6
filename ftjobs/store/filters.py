"""Which jobs `list`, `export` and `stats` want: the filter, its WHERE clause and its order, each
answered from an index (tests/guarantees/test_query_plans.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from ftjobs.api.constants import SortField
from ftjobs.jsonio.text import json_text
from ftjobs.store.base import sqlite_errors
from ftjobs.store.jobs import Jobs
from ftjobs.store.rows import SELECT_JOBS, ListedJob

if TYPE_CHECKING:
    from ftjobs.api.models import FineTuningJob

T = TypeVar("T")


# The sort orders `list` offers: user text never becomes SQL, it only picks a key here.
SORT_COLUMNS: dict[SortField, str] = {
    "created_at": "jobs.created_at",
    "finished_at": "jobs.finished_at",
    "status": "jobs.status",
    "model": "jobs.model",
    "id": "jobs.id",
    "trained_tokens": "jobs.trained_tokens",
}


NULLABLE_SORT_FIELDS = frozenset({"finished_at", "trained_tokens"})

# A --finished-since range with more jobs than this is walked newest first (Queries._finished_range)
FINISHED_RANGE_CAP = 20_000


@dataclass(frozen=True)
class JobFilter:
    """Which jobs `list` and `export` want, in which order."""

    statuses: Sequence[str] = ()
    # a base model: the name and its dated snapshots (name-YYYY-MM-DD, name-MMDD), or a GLOB
    model: str | None = None
    since: int | None = None  # created_at >= since
    until: int | None = None  # created_at < until
    fine_tuned_model: str | None = None
    training_file: str | None = None
    error_code: str | None = None
    metadata: Sequence[tuple[str, str]] = ()  # every pair must match
    finished_since: int | None = None  # finished_at >= finished_since
    finished_until: int | None = None  # finished_at < finished_until
    # the exact model names --model matched in the store (Store._exact_models), when known
    models: Sequence[str] | None = None
    sort: SortField | None = "created_at"  # None: the order the jobs were recorded in
    descending: bool = True
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.sort is not None and self.sort not in SORT_COLUMNS:
            raise ValueError(f"cannot sort by {self.sort!r}")


class Queries(Jobs):
    """Jobs picked by a filter, and how many."""

    def list_jobs(self, query: JobFilter) -> Iterator[FineTuningJob]:
        """The jobs the filter picks, in its order: one statement, or two for a nullable
        field smallest first (the rows with a value, then those without)."""
        return self._listed(query, self._select)

    def _exact_models(self, query: JobFilter) -> JobFilter:
        """--model as the exact names it matches in the store. A name and its dated snapshots
        (or a glob) are several model values, so the model index cannot give their jobs in
        created_at order, and a million-job store sorted every match to show 50 (2.2x a small
        store's time, bench/reads.py); one exact name reads its jobs in order straight off
        jobs_by_model. The distinct names are found with one index seek each."""
        if query.model is None:
            return query
        condition, values = model_condition(query.model)
        low, high = (
            (values[0], values[1]) if condition.startswith("jobs.model >= ?") else ("", None)
        )
        names: list[str] = []
        with sqlite_errors(self.path):
            after, first = low, True
            while True:
                # Fixed text: the comparison and the upper bound are chosen, not typed.
                compare = ">=" if first else ">"
                bound = "" if high is None else " AND model < ?"
                sql = (
                    f"SELECT model FROM jobs WHERE model {compare} ?{bound} ORDER BY model LIMIT 1"  # noqa: S608
                )
                row = self.conn.execute(sql, [after] if high is None else [after, high]).fetchone()
                if row is None:
                    break
                after, first = row[0], False
                names.append(row[0])
            matching = condition.replace("jobs.model", "value")
            found = [
                row[0]
                for row in self.conn.execute(
                    f"SELECT value FROM json_each(?) WHERE {matching}",  # noqa: S608 (fixed text)
                    [json_text(names), *values],
                )
            ]
        return replace(query, model=None, models=tuple(found))

    def _listed(
        self, query: JobFilter, select: Callable[[str, list[Any]], Iterator[T]]
    ) -> Iterator[T]:
        query = self._exact_models(query)
        remaining = query.limit
        tails = _list_tails(query, finished_range=self._finished_range(query))
        if self._sorts_every_match(query, tails):
            tails = [_keys_first(tail, params) for tail, params in tails]
        for tail, params in tails:
            if remaining is not None:
                if remaining <= 0:
                    return
                params[-1] = remaining
            for item in select(tail, params):
                yield item
                if remaining is not None:
                    remaining -= 1

    @staticmethod
    def list_sql(query: JobFilter, *, finished_range: bool = False) -> list[tuple[str, list[Any]]]:
        """The statements list_jobs runs for a filter, with their parameters (for EXPLAIN);
        finished_range: as when _finished_range says so."""
        return [
            (SELECT_JOBS + tail, params)
            for tail, params in _list_tails(query, finished_range=finished_range)
        ]

    def _sorts_every_match(self, query: JobFilter, tails: list[tuple[str, list[Any]]]) -> bool:
        """Whether SQLite would sort every job the filter picks, whole, to show a limit's worth
        (its plan says USE TEMP B-TREE FOR ORDER BY at the top): a filter whose index does not
        give the sort's order (--model M --sort trained_tokens sorted 305k whole rows, 7.5x on
        1M jobs, bench/reads.py). Then _keys_first sorts the keys alone, often off a covering
        index (jobs_by_model holds trained_tokens, finished_at and status)."""
        if query.limit is None or query.sort is None or not where_clause(query)[0]:
            return False
        with sqlite_errors(self.path):
            for tail, params in tails:
                plan = self.conn.execute("EXPLAIN QUERY PLAN " + SELECT_JOBS + tail, params)
                if any(row[1] == 0 and row[3] == "USE TEMP B-TREE FOR ORDER BY" for row in plan):
                    return True
        return False

    def _finished_range(self, query: JobFilter) -> bool:
        """Whether list should take a --finished-since/--finished-until filter's jobs off the
        finished_at index and sort them by created_at (_finished_tail), rather than walk every
        job newest first testing finished_at. Jobs finished before a time are the oldest ones:
        the walk reached them last (5 s for --finished-until a month in, on 1M jobs). A range
        of --finished-since alone with more than FINISHED_RANGE_CAP jobs is walked instead (its
        jobs are the newest ones, found first); counting that far reads at most that many
        index entries."""
        if not _finished_tail_fits(query):
            return False
        if query.finished_until is not None:
            return True
        with sqlite_errors(self.path):
            (count,) = self.conn.execute(
                "SELECT count(*) FROM (SELECT 1 FROM jobs INDEXED BY jobs_by_finished_at"
                " WHERE finished_at >= ? LIMIT ?)",
                [query.finished_since, FINISHED_RANGE_CAP + 1],
            ).fetchone()
        return bool(count <= FINISHED_RANGE_CAP)

    def count(self, query: JobFilter | None = None, *, at_most: int | None = None) -> int:
        """How many jobs the filter picks (all of them without one), limit aside; with at_most,
        counting stops there (at_most + 1 means "more"): a notice that a limit hid jobs need
        not walk every match of a million-job store (1.5 s for 43k of them, bench/reads.py)."""
        sql, params = self.count_sql(self._exact_models(query or JobFilter()), at_most=at_most)
        with sqlite_errors(self.path):
            return int(self.conn.execute(sql, params).fetchone()[0])

    @staticmethod
    def count_sql(query: JobFilter, *, at_most: int | None = None) -> tuple[str, list[Any]]:
        """The statement count runs for a filter (--model resolved), with its parameters."""
        where, params = where_clause(query)
        # where: where_clause's fixed text, its values bound
        sql = f"SELECT 1 FROM jobs {where}"  # noqa: S608
        if at_most is not None:
            sql += " LIMIT ?"
            params.append(at_most + 1)
        return f"SELECT count(*) FROM ({sql})", params  # noqa: S608

    def list_json(self, query: JobFilter) -> Iterator[str]:
        """list_jobs, as the jobs' compact JSON text."""
        return self._listed(query, lambda tail, params: self._select_json(tail, params))

    def list_listed(self, query: JobFilter) -> Iterator[ListedJob]:
        """list_jobs, as the jobs' data (ListedJob): for tables and delimited text."""
        return self._listed(query, self._select_listed)


def where_clause(query: JobFilter) -> tuple[str, list[Any]]:
    """The WHERE clause of a filter, with its parameters (values are always bound)."""
    conditions: list[str] = []
    params: list[Any] = []
    if query.statuses:
        conditions.append(f"jobs.status IN ({', '.join('?' * len(query.statuses))})")
        params.extend(query.statuses)
    if query.model is not None:
        condition, values = model_condition(query.model)
        conditions.append(condition)
        params.extend(values)
    if query.models is not None:
        conditions.append(f"jobs.model IN ({', '.join('?' * len(query.models))})")
        params.extend(query.models)
    for condition, value in (
        ("jobs.created_at >= ?", query.since),
        ("jobs.created_at < ?", query.until),
        ("jobs.finished_at >= ?", query.finished_since),
        ("jobs.finished_at < ?", query.finished_until),
        ("jobs.fine_tuned_model = ?", query.fine_tuned_model),
        ("jobs.training_file = ?", query.training_file),
        ("jobs.job_key IN (SELECT job_key FROM job_errors WHERE code = ?)", query.error_code),
    ):
        if value is not None:
            conditions.append(condition)
            params.append(value)
    for key, value in query.metadata:
        # metadata is JSON text, which no index of jobs holds; but jobs_fts holds every job's
        # metadata values (schema.sql), so the jobs whose text has the value's words are found
        # there (a few, not a walk of a million jobs testing JSON: 11x on 1M jobs) and the
        # pair itself is tested on those. A value without a letter or digit has no words to
        # find: the JSON of the rows the other conditions leave is tested alone.
        if any(char.isalnum() for char in value):
            conditions.append(
                "jobs.job_key IN (SELECT job_key FROM jobs_fts WHERE jobs_fts MATCH ?)"
            )
            params.append('"' + value.replace('"', '""') + '"')
        conditions.append(
            "EXISTS (SELECT 1 FROM json_each(jobs.metadata_json)"
            " WHERE json_each.key = ? AND json_each.value = ?)"
        )
        params.extend((key, value))
    return (f"WHERE {' AND '.join(conditions)}" if conditions else ""), params


_GLOB_CHARS = frozenset("*?[")


# What follows a base model's name in its dated snapshots (gpt-4o-mini-2024-07-18,
# gpt-3.5-turbo-0125).
_SNAPSHOT_SUFFIXES = ("-[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]", "-[0-9][0-9][0-9][0-9]")


def model_condition(model: str) -> tuple[str, list[Any]]:
    """--model: a GLOB if it has * ? or [, else the name and its dated snapshots. Both start
    with a range on the model index (the name, or the pattern's literal prefix), so a million
    jobs are not scanned; the GLOB then checks the shape of what follows."""
    if _GLOB_CHARS & set(model):
        prefix = model[: min(model.index(c) for c in _GLOB_CHARS if c in model)]
        if not prefix or ord(prefix[-1]) == 0x10FFFF:
            return "jobs.model GLOB ?", [model]
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return "jobs.model >= ? AND jobs.model < ? AND jobs.model GLOB ?", [prefix, upper, model]
    # name < name-... < name. ('-' sorts just before '.'): the index range holds the name and
    # everything it starts with a dash.
    return (
        "jobs.model >= ? AND jobs.model < ?"
        " AND (jobs.model = ? OR jobs.model GLOB ? OR jobs.model GLOB ?)",
        [model, model + ".", model, *(model + suffix for suffix in _SNAPSHOT_SUFFIXES)],
    )


def _list_tails(query: JobFilter, *, finished_range: bool = False) -> list[tuple[str, list[Any]]]:
    """What follows SELECT_JOBS for list_jobs: WHERE, ORDER BY and, with a limit, LIMIT ? as
    the last parameter. A nullable field smallest first is two statements, the rows with a
    value and then those without, so its (field, id) index serves both orders: one statement
    would sort NULLs last with a temporary B-tree over every row."""
    if finished_range and _finished_tail_fits(query):
        return [_finished_tail(query)]
    merged = _merged_tail(query)
    if merged is not None:
        return [merged]
    where, params = where_clause(query)
    limit = "" if query.limit is None else " LIMIT ?"
    limit_params = [] if query.limit is None else [query.limit]
    if query.sort is None:
        return [(f"{where} ORDER BY jobs.job_key{limit}", [*params, *limit_params])]
    column = SORT_COLUMNS[query.sort]
    if query.sort in NULLABLE_SORT_FIELDS and not query.descending:
        joiner = "AND" if where else "WHERE"
        return [
            (
                f"{where} {joiner} {column} IS NOT NULL ORDER BY {column} ASC, jobs.id ASC{limit}",
                [*params, *limit_params],
            ),
            (
                f"{where} {joiner} {column} IS NULL ORDER BY jobs.id ASC{limit}",
                [*params, *limit_params],
            ),
        ]
    return [(f"{where} {_order_by(query)}{limit}", [*params, *limit_params])]


def _order_by(query: JobFilter) -> str:
    assert query.sort is not None
    direction = "DESC" if query.descending else "ASC"
    column = SORT_COLUMNS[query.sort]
    # Ties broken by id for a stable order, newest first within a status or a model (the order
    # of their indexes). Descending, NULLs (no finished_at yet) come last by themselves.
    ties = (
        "jobs.created_at {d}, jobs.id {d}" if query.sort in ("status", "model") else "jobs.id {d}"
    )
    return f"ORDER BY {column} {direction}, {ties.format(d=direction)}"


def _merged_tail(query: JobFilter) -> tuple[str, list[Any]] | None:
    """Several models (a name's snapshots, a glob) or statuses, newest or oldest first, with a
    limit: one arm per value, each reading its own index range already in created_at order
    (jobs_by_model, jobs_by_status), merged by SQLite (MERGE UNION ALL) up to the limit; then
    the whole rows of those keys only. As one `IN (...)` the index gives the rows value by value,
    and SQLite sorted every match to show 20 (306k jobs for --model 'gpt-4.1*', bench/reads.py).
    None: one statement does it (no limit, another sort, or at most one value of each)."""
    if query.limit is None or query.sort != "created_at":
        return None
    if query.models is not None and len(query.models) > 1:
        # jobs_by_model holds status: an arm tests the statuses in the index
        parts = [replace(query, models=(model,)) for model in query.models]
    elif len(query.statuses) > 1 and (query.models is None or len(query.models) != 1):
        parts = [replace(query, statuses=(status,)) for status in query.statuses]
    else:
        return None
    arms: list[str] = []
    params: list[Any] = []
    for part in parts:
        where, arm_params = where_clause(part)
        # where: where_clause's fixed text, its values bound
        arms.append(f"SELECT jobs.job_key, jobs.created_at, jobs.id FROM jobs {where}")  # noqa: S608
        params += arm_params
    direction = "DESC" if query.descending else "ASC"
    keys = (
        f"SELECT job_key FROM ({' UNION ALL '.join(arms)}"  # noqa: S608 (fixed text)
        f" ORDER BY created_at {direction}, id {direction} LIMIT ?)"
    )
    # The outer ORDER BY sorts at most `limit` rows, found by job_key.
    return (
        f"WHERE jobs.job_key IN ({keys}) {_order_by(query)} LIMIT ?",
        [*params, query.limit, query.limit],
    )


def _finished_tail_fits(query: JobFilter) -> bool:
    """A finished_at range, newest or oldest first with a limit, and no filter with a more
    selective index of its own."""
    return (
        (query.finished_since is not None or query.finished_until is not None)
        and query.sort == "created_at"
        and query.limit is not None
        and query.fine_tuned_model is None
        and query.training_file is None
        and query.error_code is None
    )


def _finished_tail(query: JobFilter) -> tuple[str, list[Any]]:
    """The keys of the jobs in the finished_at range, from jobs_by_finished_at (which holds
    created_at: no row lookups for the filter's own columns), sorted by created_at up to the
    limit; then the whole rows of those keys only."""
    where, params = where_clause(query)
    direction = "DESC" if query.descending else "ASC"
    keys = (
        f"SELECT jobs.job_key FROM jobs INDEXED BY jobs_by_finished_at {where}"  # noqa: S608
        f" ORDER BY jobs.created_at {direction}, jobs.id {direction} LIMIT ?"
    )
    return (
        f"WHERE jobs.job_key IN ({keys}) {_order_by(query)} LIMIT ?",
        [*params, query.limit, query.limit],
    )


def _keys_first(tail: str, params: list[Any]) -> tuple[str, list[Any]]:
    """A tail (WHERE ... ORDER BY ... LIMIT ?) as: the keys of the first `limit` jobs, sorted
    as narrow rows, then only those jobs read whole and put in order."""
    where, _, order = tail.rpartition(" ORDER BY ")
    order = order.removesuffix(" LIMIT ?")
    keys = f"SELECT jobs.job_key FROM jobs {where} ORDER BY {order} LIMIT ?"  # noqa: S608
    return f"WHERE jobs.job_key IN ({keys}) ORDER BY {order} LIMIT ?", [*params, params[-1]]
