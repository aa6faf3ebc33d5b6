"""Every `list` and `stats` query is answered through an index (issue 10): EXPLAIN QUERY PLAN
of the statements Store.list_jobs, Store.count and stats build, for each --sort field both ways
and each filter, on a store whose statistics ANALYZE has gathered. Plans are deterministic
where timings are not (bench/reads.py times them on a million jobs)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import get_args

import pytest
from support.helpers import Cli
from support.jobdata import make_job

from ftjobs.api.constants import SortField
from ftjobs.store import JobFilter, Store
from ftjobs.store.filters import _keys_first, _list_tails
from ftjobs.store.insights import stats_sql
from ftjobs.store.rows import SELECT_JOBS

MODELS = ["gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06", "gpt-3.5-turbo-0125", "gpt-4o-mini"]
CODES = ["invalid_n_examples", "invalid_file_format", "exceeded_quota", "server_error"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """2,000 varied jobs, ANALYZEd."""
    directory = tmp_path_factory.mktemp("plans")
    lines = []
    for n in range(2000):
        changes: dict[str, object] = {
            "model": MODELS[n % len(MODELS)],
            "training_file": f"file-train{n % 200}",
            "metadata": {"team": f"team{n % 10}", "n": str(n)},
        }
        if n % 4 in (2, 3):
            changes["finished_at"] = 1_721_800_000 + n
            changes["trained_tokens"] = 1000 + (n * 7919) % 100_000
        if n % 4 == 2:
            changes["fine_tuned_model"] = f"ft:gpt-4o-mini:org::{n:08d}"
        if n % 4 == 3:
            changes["error"] = {"code": CODES[n % 4 // 3 + n % 3], "message": "m", "param": None}
        lines.append(json.dumps(make_job(n, **changes)))
    source = directory / "jobs.jsonl"
    source.write_text("\n".join(lines) + "\n")
    cli = Cli(directory / "jobs.db")
    cli.ok("import", source, "--quiet")
    opened = Store.open(cli.db)
    opened.db.conn.execute("ANALYZE")
    yield opened
    opened.close()


def plan_steps(store: Store, query: JobFilter) -> list[str]:
    """The plan steps of every statement list_jobs would run for query."""
    steps: list[str] = []
    for sql, params in Store.list_sql(query):
        rows = store.db.conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        steps += [row[3] for row in rows]
    return steps


def assert_no_table_scan(steps: list[str]) -> None:
    # "SCAN jobs USING INDEX ..." walks an index in order; a bare "SCAN jobs" reads the table.
    bare = [s for s in steps if re.fullmatch(r"SCAN (jobs|job_errors)", s)]
    assert not bare, steps
    assert any(re.search(r"\b(jobs|job_errors) USING (COVERING )?INDEX", s) for s in steps) or any(
        "INTEGER PRIMARY KEY" in s for s in steps
    ), steps


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("sort", get_args(SortField))
def test_every_sort_reads_an_index_in_order(
    store: Store, sort: SortField, descending: bool
) -> None:
    steps = plan_steps(store, JobFilter(sort=sort, descending=descending, limit=20))

    assert_no_table_scan(steps)
    assert not any("TEMP B-TREE" in step for step in steps), steps


FILTERS = {
    "status": JobFilter(statuses=("running",)),
    "statuses": JobFilter(statuses=("failed", "cancelled")),
    "model": JobFilter(model="gpt-4o-mini"),
    "model snapshot": JobFilter(model="gpt-3.5-turbo"),
    "model glob": JobFilter(model="gpt-4o*"),
    "since": JobFilter(since=1_721_766_000),
    "until": JobFilter(until=1_721_764_900),
    "fine-tuned model": JobFilter(fine_tuned_model="ft:gpt-4o-mini:org::00000002"),
    "training file": JobFilter(training_file="file-train7"),
    "error code": JobFilter(error_code="server_error"),
    "finished since": JobFilter(finished_since=1_721_801_900),
    "finished until": JobFilter(finished_until=1_721_800_050),
    # jobs_fts holds metadata values: the pair is tested on the jobs with the value's words
    "metadata": JobFilter(metadata=(("team", "team7"),)),
    "metadata with training file": JobFilter(
        training_file="file-train7", metadata=(("team", "team7"),)
    ),
}


@pytest.mark.parametrize("name", FILTERS)
@pytest.mark.parametrize("limit", [20, None])
def test_every_filter_searches_an_index(store: Store, name: str, limit: int | None) -> None:
    steps = plan_steps(store, replace(FILTERS[name], limit=limit))
    assert_no_table_scan(steps)


@pytest.mark.parametrize("name", FILTERS)
def test_the_hidden_jobs_count_of_every_filter_reads_an_index(store: Store, name: str) -> None:
    """The "Showing 20 of N" count (up to 1,000) of a limited list."""
    sql, params = Store.count_sql(store._exact_models(FILTERS[name]), at_most=1000)
    steps = [row[3] for row in store.db.conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
    assert_no_table_scan(steps)


@pytest.mark.parametrize(
    ("name", "index"),
    [
        ("model", "jobs_by_model"),
        ("model snapshot", "jobs_by_model"),
        ("model glob", "jobs_by_model"),
        ("fine-tuned model", "jobs_by_fine_tuned_model"),
        ("training file", "jobs_by_training_file"),
        ("error code", "job_errors_by_code"),
    ],
)
# Not here: --since/--until/--finished-since/--finished-until, where without STAT4 SQLite
# guesses a range keeps a quarter of the rows and walks the created_at index in order instead
# (stopping at the limit); --metadata, found through jobs_fts (test below).
def test_selective_filters_search_their_own_index(store: Store, name: str, index: str) -> None:
    steps = plan_steps(store, replace(FILTERS[name], limit=None))
    assert any(f"INDEX {index} " in step for step in steps), steps


def test_a_training_files_jobs_come_newest_first_from_its_index(store: Store) -> None:
    steps = plan_steps(store, replace(FILTERS["training file"], limit=20))
    assert any("INDEX jobs_by_training_file" in step for step in steps), steps
    assert not any("TEMP B-TREE" in step for step in steps), steps


def test_a_model_filter_resolved_to_one_name_reads_its_jobs_in_order(store: Store) -> None:
    """--model is resolved to the exact names it matches (Store._exact_models) before the list
    query: one name with a status filter and a limit reads jobs_by_model in created_at order,
    no sort of every matching job (a million-job store sorted ~43k rows to show 50)."""
    model = store.conn.execute("SELECT model FROM jobs LIMIT 1").fetchone()[0]
    base = JobFilter(statuses=("failed",), model=model, limit=50)
    resolved = store._exact_models(base)
    assert resolved.model is None and model in (resolved.models or ())
    one = replace(resolved, models=(model,))
    steps = plan_steps(store, one)
    assert_no_table_scan(steps)
    assert not any("TEMP B-TREE" in step for step in steps), steps


# -- stats ------------------------------------------------------------------------------------

STATS_FILTERS = {
    "none": JobFilter(),
    "status": JobFilter(statuses=("failed",)),
    "statuses": JobFilter(statuses=("failed", "cancelled")),
    "model": JobFilter(model="gpt-4o-mini"),
    "model glob": JobFilter(model="gpt-4o*"),
    "since": JobFilter(since=1_721_766_000),
    "until": JobFilter(until=1_721_764_900),
    "status and model": JobFilter(statuses=("failed",), model="gpt-4o-mini"),
}


@pytest.mark.parametrize("name", STATS_FILTERS)
def test_every_stats_query_reads_an_index_not_the_table(store: Store, name: str) -> None:
    """stats' statements (by status, model and tokens, months, durations) each read an index;
    models, tokens and durations read one that covers them and stats' filters, so a million
    jobs never send stats to the table (3.2 s of CPU before, bench/reads.py)."""
    query = store._exact_models(STATS_FILTERS[name])
    for part, (sql, params) in stats_sql(query).items():
        steps = [row[3] for row in store.db.conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
        assert_no_table_scan(steps)
        if part in ("model", "durations"):
            index = "jobs_by_model" if part == "model" else "jobs_by_duration"
            assert any(f"USING COVERING INDEX {index}" in step for step in steps), (part, steps)
            # grouped as the index gives them (by model, by duration): no sort of every job
            assert not any("TEMP B-TREE" in step for step in steps), (part, steps)


def test_stats_with_a_filter_it_does_not_cover_lets_that_filters_index_pick_the_rows(
    store: Store,
) -> None:
    query = JobFilter(training_file="file-train7")
    for sql, params in stats_sql(query).values():
        steps = [row[3] for row in store.db.conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
        assert_no_table_scan(steps)
        assert any("jobs_by_training_file" in step for step in steps), steps


# -- several statuses or models, newest first, with a limit -----------------------------------

MERGED = {
    "statuses": JobFilter(statuses=("failed", "cancelled", "succeeded")),
    "model snapshots": JobFilter(model="gpt-4o"),  # one snapshot here: one range
    "model glob": JobFilter(model="gpt-*"),
    "model glob and statuses": JobFilter(model="gpt-4o*", statuses=("failed", "succeeded")),
}


@pytest.mark.parametrize("name", MERGED)
@pytest.mark.parametrize("descending", [True, False])
def test_several_values_merge_their_index_ranges_in_order(
    store: Store, name: str, descending: bool
) -> None:
    """One arm per status or model, each read in created_at order off its index and merged
    up to the limit: only those rows are sorted (by job_key lookups), not every match."""
    query = store._exact_models(replace(MERGED[name], descending=descending, limit=20))
    steps = plan_steps(store, query)
    assert_no_table_scan(steps)
    if query.models is not None and len(query.models) < 2 and len(query.statuses) < 2:
        return  # one value: one range, already in order
    assert "MERGE (UNION ALL)" in steps, steps
    assert steps[0] == "SEARCH jobs USING INTEGER PRIMARY KEY (rowid=?)", steps
    arms = [s for s in steps if re.match(r"(SEARCH|SCAN) jobs USING (COVERING )?INDEX", s)]
    assert arms and all("jobs_by_model" in s or "jobs_by_status" in s for s in arms), steps
    assert steps.count("USE TEMP B-TREE FOR ORDER BY") == 1, steps  # the outer: 20 rows


@pytest.mark.parametrize("name", MERGED)
@pytest.mark.parametrize("descending", [True, False])
def test_the_merged_list_is_the_first_jobs_of_the_whole_list(
    store: Store, name: str, descending: bool
) -> None:
    query = replace(MERGED[name], descending=descending)
    whole = [job.id for job in store.list_jobs(query)]
    assert len(whole) > 30
    assert [job.id for job in store.list_jobs(replace(query, limit=30))] == whole[:30]


# -- --finished-since / --finished-until, newest or oldest first, with a limit ----------------

FINISHED = {
    "finished since": JobFilter(finished_since=1_721_801_000),
    "finished until": JobFilter(finished_until=1_721_801_000),
    "finished between, failed": JobFilter(
        finished_since=1_721_800_500, finished_until=1_721_801_500, statuses=("failed",)
    ),
}


@pytest.mark.parametrize("name", FINISHED)
def test_a_finished_range_is_read_off_the_finished_at_index(store: Store, name: str) -> None:
    """The range's keys come off jobs_by_finished_at (covering: it holds created_at), only
    they are sorted, and only the limit's rows are read whole: no walk of every job newest
    first testing finished_at (the jobs finished before a time are the last it reaches)."""
    query = replace(FINISHED[name], limit=20)
    steps: list[str] = []
    for sql, params in Store.list_sql(query, finished_range=True):
        steps += [row[3] for row in store.db.conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
    assert_no_table_scan(steps)
    assert steps[0] == "SEARCH jobs USING INTEGER PRIMARY KEY (rowid=?)", steps
    assert any("INDEX jobs_by_finished_at (finished_at" in step for step in steps), steps


@pytest.mark.parametrize("name", FINISHED)
@pytest.mark.parametrize("descending", [True, False])
def test_a_finished_range_lists_the_first_jobs_of_the_whole_list(
    store: Store, name: str, descending: bool
) -> None:
    query = replace(FINISHED[name], descending=descending)
    whole = [job.id for job in store.list_jobs(query)]
    assert len(whole) > 10
    assert store._finished_range(replace(query, limit=10))
    assert [job.id for job in store.list_jobs(replace(query, limit=10))] == whole[:10]


# -- a filter whose index does not give the sort's order, with a limit ------------------------

UNORDERED = {
    "model by trained tokens": JobFilter(model="gpt-4o-mini", sort="trained_tokens"),
    "status by finished_at": JobFilter(statuses=("failed",), sort="finished_at"),
    "error code": JobFilter(error_code="server_error"),
    "model glob by id": JobFilter(model="gpt-4o*", sort="id"),
}


@pytest.mark.parametrize("name", UNORDERED)
@pytest.mark.parametrize("descending", [True, False])
def test_a_sort_the_filters_index_does_not_give_sorts_keys_not_whole_jobs(
    store: Store, name: str, descending: bool
) -> None:
    """Either SQLite walks the sort's index testing the filter (as it may here, where ANALYZE
    told it how common each model and status is), or it would sort the matches whole:
    Queries._sorts_every_match sees that in the plan, and _keys_first sorts the keys (narrow
    rows, off a covering index where there is one) and reads only the limit's jobs whole."""
    query = store._exact_models(replace(UNORDERED[name], descending=descending, limit=20))
    tails = _list_tails(query)
    if not store._sorts_every_match(query, tails):
        steps = plan_steps(store, query)
        assert not any("TEMP B-TREE FOR ORDER BY" in step for step in steps), steps
    for tail, params in tails:
        keyed, keyed_params = _keys_first(tail, params)
        plan = store.db.conn.execute("EXPLAIN QUERY PLAN " + SELECT_JOBS + keyed, keyed_params)
        steps = [row[3] for row in plan]
        assert_no_table_scan(steps)
        assert steps[0] == "SEARCH jobs USING INTEGER PRIMARY KEY (rowid=?)", steps
    whole = [job.id for job in store.list_jobs(replace(query, limit=None))]
    assert len(whole) > 20
    assert [job.id for job in store.list_jobs(query)] == whole[:20]


def test_a_list_in_an_index_order_is_left_as_it_is(store: Store) -> None:
    for query in (JobFilter(limit=20), JobFilter(training_file="file-train7", limit=20)):
        assert not store._sorts_every_match(query, _list_tails(query))


def test_metadata_is_found_through_the_search_index_then_tested_exactly(store: Store) -> None:
    query = JobFilter(metadata=(("team", "team7"),))
    steps = plan_steps(store, query)
    assert any("jobs_fts VIRTUAL TABLE" in step for step in steps), steps
    jobs = list(store.list_jobs(query))
    assert len(jobs) == 200 and all(
        job.metadata == {"team": "team7", "n": job.metadata["n"]} for job in jobs if job.metadata
    )
    # "team7" is a word of every team7 job, and of no other pair: n=7 is not team=7
    assert store.count(JobFilter(metadata=(("n", "team7"),))) == 0
    assert store.count(JobFilter(metadata=(("team", "-"),))) == 0  # no word: JSON tested alone
