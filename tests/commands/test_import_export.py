"""`ftjobs import` and `ftjobs export`: every input shape, upserts, all-or-nothing, exact round
trips, and memory that stays flat however large the input."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.helpers import EXAMPLES, Cli, connect, dump, error_line, load_example, row_counts
from support.jobdata import assert_preserved, make_job, write_jsonl
from support.strategies import jobs as job_strategy

from ftjobs.store.bulk import IMPORT_BATCH_SIZE

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))


def exported(cli: Cli, *args: str) -> list[dict[str, Any]]:
    # split on "\n" only: JSON strings may hold U+2028 or U+0085, which splitlines() splits on.
    return [json.loads(line) for line in cli.ok("export", *args).stdout.split("\n") if line]


# -- input shapes -----------------------------------------------------------------------------


def test_each_example_file_imports_and_comes_back_as_it_is(cli: Cli) -> None:
    """An imported job is kept as its text (raw_json): it comes back as the file has it, key
    order and "error": {} (create_job_epochs.json's all-null error) included, not only with
    every key (which is what a job built from the columns promises: test_json_contract.py)."""
    for path in EXAMPLE_FILES:
        cli.ok("import", path)
        job = load_example(path.name)
        assert json.dumps(cli.show(job["id"])) == json.dumps(job), path.name


@pytest.mark.parametrize("shape", ["object", "array", "envelope", "jsonl", "jsonl-of-envelopes"])
def test_every_input_shape_is_detected_without_a_flag(cli: Cli, tmp_path: Path, shape: str) -> None:
    jobs = [make_job(n) for n in range(5)]
    path = tmp_path / "input"
    if shape == "object":
        path.write_text(json.dumps(jobs[0], indent=2))
        jobs = jobs[:1]
    elif shape == "array":
        path.write_text(json.dumps(jobs, indent=2))
    elif shape == "envelope":
        path.write_text(json.dumps({"object": "list", "data": jobs, "has_more": False}, indent=2))
    elif shape == "jsonl":
        write_jsonl(path, jobs)
    else:
        pages = [{"object": "list", "data": jobs[:3], "has_more": True},
                 {"object": "list", "data": jobs[3:], "has_more": False}]  # fmt: skip
        write_jsonl(path, pages)
    result = cli.ok("import", path)
    assert f"{len(jobs):,} inserted" in result.stderr
    assert result.stdout == ""
    by_id = {job["id"]: job for job in exported(cli)}
    assert sorted(by_id) == sorted(job["id"] for job in jobs)
    for job in jobs:
        assert_preserved(job, by_id[job["id"]])


def test_envelope_with_data_before_object_and_a_large_pretty_printed_array(
    cli: Cli, tmp_path: Path
) -> None:
    jobs = [make_job(n) for n in range(1500)]  # > 1 MiB pretty-printed: streamed, not peeked
    envelope = tmp_path / "page.json"
    envelope.write_text(json.dumps({"data": jobs, "has_more": False, "object": "list"}, indent=2))
    assert envelope.stat().st_size > 1 << 20
    assert "1,500 inserted" in cli.ok("import", envelope).stderr
    assert "1,500 unchanged" in cli.ok("import", envelope).stderr


def test_gzip_by_name_and_by_magic_bytes(cli: Cli, tmp_path: Path) -> None:
    plain = write_jsonl(tmp_path / "a.jsonl", [make_job(n) for n in range(3)])
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(plain.read_bytes()))
    (tmp_path / "b.data").write_bytes(gzip.compress(json.dumps([make_job(7)]).encode()))
    result = cli.ok("import", tmp_path / "a.jsonl.gz", tmp_path / "b.data")
    assert "4 inserted" in result.stderr


def test_stdin_with_dash_and_without_any_file(cli: Cli) -> None:
    envelope = {"object": "list", "data": [make_job(1)], "has_more": False}
    assert "1 inserted" in cli.ok("import", "-", input=json.dumps(envelope)).stderr
    assert "1 inserted" in cli.ok("import", input=json.dumps(make_job(2))).stderr
    assert cli.list_ids() == [make_job(2)["id"], make_job(1)["id"]]


def test_multiple_files_blank_lines_and_forced_format(cli: Cli, tmp_path: Path) -> None:
    first = tmp_path / "one.jsonl"
    first.write_text("\n" + json.dumps(make_job(1)) + "\n\n" + json.dumps(make_job(2)) + "\n\n")
    second = tmp_path / "two.txt"
    second.write_text(json.dumps([make_job(3)]))
    assert "3 inserted" in cli.ok("import", first, second).stderr
    assert (
        "1 inserted"
        in cli.ok("import", "--format", "jsonl", write_jsonl(tmp_path / "x", [make_job(4)])).stderr
    )


def test_empty_input_is_an_error(cli: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    result = cli.fails(1, "import", empty)
    assert "empty.json:1: empty input" in result.stderr


# -- upserts ----------------------------------------------------------------------------------


def test_reimport_is_a_no_op_and_changes_update_with_links_replaced(
    cli: Cli, tmp_path: Path, db: Path
) -> None:
    jobs = [make_job(n) for n in range(10)]
    path = write_jsonl(tmp_path / "jobs.jsonl", jobs)
    cli.ok("import", path)
    before = dump(db)
    result = cli.ok("import", path)
    assert "0 inserted, 0 updated, 10 unchanged" in result.stderr
    assert dump(db) == before

    jobs[3] = make_job(3, result_files=["file-new"], integrations=[], status="cancelled")
    result = cli.ok("import", write_jsonl(path, jobs))
    assert "0 inserted, 1 updated, 9 unchanged" in result.stderr
    job = cli.show(jobs[3]["id"])
    assert job["result_files"] == ["file-new"]
    assert job["integrations"] == []
    counts = row_counts(db)
    assert counts["job_integrations"] == 9  # job 3's link is gone, no orphan


def test_on_conflict_skip_and_fail(cli: Cli, tmp_path: Path, db: Path) -> None:
    cli.ok("import", write_jsonl(tmp_path / "a.jsonl", [make_job(1), make_job(2)]))
    changed = [make_job(2, status="cancelled"), make_job(3)]
    path = write_jsonl(tmp_path / "b.jsonl", changed)
    result = cli.ok("import", "--on-conflict", "skip", path)
    assert "1 inserted, 0 updated, 0 unchanged, 1 skipped" in result.stderr
    assert cli.show(make_job(2)["id"])["status"] == make_job(2)["status"]  # left alone

    before = dump(db)
    result = cli.fails(1, "import", "--on-conflict", "fail", path)
    assert make_job(2)["id"] in error_line(result)
    assert dump(db) == before


def test_the_same_id_twice_in_one_input_ends_as_the_last_record(cli: Cli, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "j.jsonl", [make_job(1), make_job(1, status="cancelled")])
    result = cli.ok("import", path)
    assert "1 inserted, 1 updated" in result.stderr
    assert cli.show(make_job(1)["id"])["status"] == "cancelled"


# -- all or nothing ---------------------------------------------------------------------------


def test_a_bad_record_in_the_middle_leaves_the_store_byte_for_byte_unchanged(
    cli: Cli, tmp_path: Path, db: Path
) -> None:
    cli.ok("import", write_jsonl(tmp_path / "seed.jsonl", [make_job(5000)]))
    before = db.read_bytes(), dump(db)
    jobs = [make_job(n) for n in range(1000)]
    jobs[500]["hyperparameters"]["n_epochs"] = "3"  # a type error: a string, not a number
    path = write_jsonl(tmp_path / "batch.jsonl", jobs)
    result = cli.fails(1, "import", path)
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"Error: {path}:501: {jobs[500]['id']}: hyperparameters.n_epochs:"
        ' must be "auto" or an integer, got "3"'
    )
    assert "nothing was imported" in lines[-1]
    assert (db.read_bytes(), dump(db)) == before


def test_error_report_lists_twenty_then_counts(cli: Cli, tmp_path: Path, db: Path) -> None:
    jobs = [make_job(n, created_at="yesterday") for n in range(25)]
    array = tmp_path / "bad.json"
    array.write_text(json.dumps(jobs))
    result = cli.fails(1, "import", array)
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"Error: {array}:[0]: {jobs[0]['id']}: created_at: ")
    assert 'got "yesterday"' in lines[0]
    assert sum(1 for line in lines if line.startswith(f"Error: {array}:[")) == 20
    assert "... and 5 more invalid records" in result.stderr
    assert not db.exists()  # a first import that kept nothing leaves no store (issue 16)


def test_skip_invalid_writes_the_valid_ones_and_still_exits_1(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        json.dumps(make_job(1)) + "\n{not json\n" + json.dumps({"id": "ftjob-x"}) + "\n"
        + json.dumps(make_job(2)) + "\n"
    )  # fmt: skip
    result = cli(*["import", "--skip-invalid", path])
    assert result.exit_code == 1
    assert f"{path}:2: invalid JSON" in result.stderr
    assert f"{path}:3: ftjob-x: " in result.stderr
    assert "2 inserted" in result.stderr
    assert sorted(cli.list_ids()) == [make_job(1)["id"], make_job(2)["id"]]


def test_dry_run_reports_and_writes_nothing(cli: Cli, tmp_path: Path, db: Path) -> None:
    cli.ok("import", write_jsonl(tmp_path / "a.jsonl", [make_job(1)]))
    before = dump(db)
    path = write_jsonl(tmp_path / "b.jsonl", [make_job(1, status="cancelled"), make_job(2)])
    result = cli.ok("import", "--dry-run", path)
    assert "Would import 2 jobs: 1 inserted, 1 updated" in result.stderr
    assert dump(db) == before


def test_truncated_array_is_reported_and_nothing_written(
    cli: Cli, tmp_path: Path, db: Path
) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps([make_job(1), make_job(2)])[:-40])
    result = cli.fails(1, "import", path)
    assert "the text ends in the middle of a record" in result.stderr
    assert not db.exists() or row_counts(db)["jobs"] == 0


# -- export -----------------------------------------------------------------------------------


def test_export_formats_and_filters(cli: Cli, tmp_path: Path) -> None:
    cli.ok("import", write_jsonl(tmp_path / "a.jsonl", [make_job(n) for n in range(8)]))
    lines = exported(cli)
    # In the order recorded: here, the order of the file.
    assert [job["id"] for job in lines] == [make_job(n)["id"] for n in range(8)]
    array = json.loads(cli.ok("export", "--format", "json").stdout)
    assert array == lines
    envelope = json.loads(cli.ok("export", "--format", "list").stdout)
    assert envelope == {"object": "list", "data": lines, "has_more": False}
    failed = exported(cli, "--status", "failed")
    assert {job["status"] for job in failed} == {"failed"} and len(failed) == 2
    assert json.loads(cli.ok("export", "--format", "json", "--model", "none").stdout) == []
    assert cli.ok("export", "--model", "none").stdout == ""


def test_export_to_a_file_and_to_gzip(cli: Cli, tmp_path: Path) -> None:
    cli.ok("import", write_jsonl(tmp_path / "a.jsonl", [make_job(n) for n in range(3)]))
    result = cli.ok("export", "-o", tmp_path / "out.jsonl")
    assert result.stdout == "" and "Exported 3 jobs" in result.stderr
    cli.ok("export", "-o", tmp_path / "out.jsonl.gz")
    assert (
        gzip.decompress((tmp_path / "out.jsonl.gz").read_bytes())
        == (tmp_path / "out.jsonl").read_bytes()
    )
    assert not list(tmp_path.glob(".*partial"))


def test_round_trip_is_byte_exact(cli: Cli, tmp_path: Path) -> None:
    for path in EXAMPLE_FILES:
        cli.ok("import", path)
    cli.ok("import", write_jsonl(tmp_path / "a.jsonl", [make_job(n) for n in range(50)]))
    first = cli.ok("export").stdout
    (tmp_path / "first.jsonl").write_text(first)
    second_store = Cli(tmp_path / "second.db")
    second_store.ok("import", tmp_path / "first.jsonl")
    assert second_store.ok("export").stdout == first
    for fmt in ("json", "list"):
        (tmp_path / f"first.{fmt}").write_text(cli.ok("export", "--format", fmt).stdout)
        third = Cli(tmp_path / f"{fmt}.db")
        third.ok("import", tmp_path / f"first.{fmt}")
        assert third.ok("export").stdout == first


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(batch=st.lists(job_strategy, min_size=1, max_size=5, unique_by=lambda job: job["id"]))
def test_generated_jobs_keep_every_key_and_type(
    tmp_path: Path, batch: list[dict[str, Any]]
) -> None:
    store = Cli(tmp_path / f"h{os.getpid()}-{id(batch)}.db")
    path = tmp_path / f"in-{id(batch)}.jsonl"
    write_jsonl(path, batch)
    store.ok("import", path)
    out = {job["id"]: job for job in exported(store)}
    for job in batch:
        # Kept as sent (raw_json): the same keys in the same order, no "no error" form
        # normalised, every JSON type; before raw_json, only every key (assert_preserved).
        assert json.dumps(out[job["id"]]) == json.dumps(job)
    # ... and the exported bytes survive another round trip unchanged.
    text = store.ok("export").stdout
    again = Cli(tmp_path / f"again-{id(batch)}.db")
    (path.with_suffix(".out")).write_text(text)
    again.ok("import", path.with_suffix(".out"))
    assert again.ok("export").stdout == text


# -- streaming: memory stays flat -------------------------------------------------------------


# Runs ftjobs and reports its own high-water mark: VmHWM belongs to the process's own memory
# map, unlike ru_maxrss, which on Linux carries over the forking parent's peak.
_REPORT_PEAK = (
    "import atexit, sys\n"
    "def report():\n"
    "    status = open('/proc/self/status').read()\n"
    "    sys.stderr.write('VmHWM ' + status.split('VmHWM:')[1].split()[0] + '\\n')\n"
    "atexit.register(report)\n"
    "from ftjobs.cli import main\n"
    "sys.argv[0] = 'ftjobs'\n"
    "main()\n"
)


def _peak_rss_mib(args: list[str]) -> float:
    """Run ftjobs in a child process and return its peak resident memory."""
    result = subprocess.run(
        [sys.executable, "-c", _REPORT_PEAK, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "FTJOBS_DB": ""},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stderr.rsplit("VmHWM ", 1)[1].split()[0]) / 1024


def _write_array(path: Path, count: int) -> None:
    """A JSON array of count jobs (make_job's, each with its own id), written one at a time."""
    template = json.dumps(make_job(0))
    first_id = make_job(0)["id"]
    with path.open("w") as out:
        out.write("[")
        for number in range(count):
            job_id = f"{first_id[: -len(str(number))]}{number}" if number else first_id
            out.write(("," if number else "") + template.replace(first_id, job_id))
        out.write("]")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_memory_stays_flat_for_large_arrays_and_exports(tmp_path: Path) -> None:
    """40,000 jobs are 34 MB of JSON and 113 MiB as parsed dicts (more as models): held in
    memory, they and the process itself (~50 MiB) would break the 150 MiB budget that import (up
    to 64 MiB of it page cache) and export keep."""
    array = tmp_path / "large.json"
    _write_array(array, 40_000)
    db = tmp_path / "large.db"
    import_peak = _peak_rss_mib(["--db", str(db), "import", "-q", str(array)])
    export_peak = _peak_rss_mib(["--db", str(db), "export", "-o", str(tmp_path / "out.jsonl")])
    print(f"peak RSS MiB: import {import_peak:.0f}, export {export_peak:.0f}")
    assert import_peak < 150
    assert export_peak < 150
    assert len((tmp_path / "out.jsonl").read_bytes().splitlines()) == 40_000


def test_a_missing_file_or_a_folder_is_a_usage_error_before_anything_is_read(
    cli: Cli, tmp_path: Path
) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", [make_job(1)])
    for bad, what in ((tmp_path / "nope.json", "does not exist"), (tmp_path, "is a directory")):
        result = cli.fails(2, "import", good, bad)
        assert error_line(result) == f"Error: {bad} {what}: nothing was imported"
    assert not cli.db.exists()


def test_a_record_cut_short_says_so(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps([make_job(1)], indent=2)[:-200])
    result = cli.fails(1, "import", path)
    assert f"{path}:[0]: invalid JSON: the text ends in the middle of a record" in result.stderr


def test_a_record_with_several_wrong_fields_names_them(cli: Cli, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [make_job(1, created_at="x", status=7, seed="-1")])
    first = cli.fails(1, "import", path).stderr.splitlines()[0]
    assert all(field in first for field in ("created_at", "status", "seed")), first


def test_a_last_page_that_says_has_more_gets_a_note(cli: Cli, tmp_path: Path) -> None:
    first = {"object": "list", "data": [make_job(1)], "has_more": True}
    last = {"object": "list", "data": [make_job(2)], "has_more": False}
    partial = tmp_path / "page1.json"
    partial.write_text(json.dumps(first, indent=2))
    assert f"Note: {partial} ends with a page of a list that says has_more: true" in (
        cli.ok("import", partial).stderr
    )
    whole = write_jsonl(tmp_path / "pages.jsonl", [first, last])
    assert "Note:" not in cli.ok("import", whole).stderr


def _indexes(db: Path) -> list[tuple[str, str]]:
    with connect(db) as conn:
        return sorted(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))


def test_a_bulk_load_into_an_empty_store_ends_with_every_index(cli: Cli, tmp_path: Path) -> None:
    """Into an empty store, import drops the list indexes and builds them at the end."""
    cli.create_store()
    fresh = _indexes(cli.db)
    jobs = [make_job(n) for n in range(50)]
    broken = tmp_path / "broken.jsonl"
    # a type error (a string): a negative time is kept, with a warning
    write_jsonl(broken, [*jobs, make_job(99, created_at="-1")])
    cli.fails(1, "import", broken)
    assert _indexes(cli.db) == fresh  # the failed import's drop was rolled back
    cli.ok("import", write_jsonl(tmp_path / "good.jsonl", jobs))
    assert _indexes(cli.db) == fresh
    with connect(cli.db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    # ... and serve the list queries: failed jobs (every 4th), newest first.
    expected = [make_job(n)["id"] for n in range(47, 0, -4)]
    assert cli.list_ids("--status", "failed", "--all") == expected


def _search_triggers(db: Path) -> list[tuple[str, str]]:
    with connect(db) as conn:
        return sorted(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))


def test_a_bulk_load_fills_the_search_index_once_with_the_same_rows(
    cli: Cli, tmp_path: Path
) -> None:
    """Into an empty store, import drops the triggers that keep jobs_fts current and fills it
    at the end: the same rows the triggers write, and the triggers are back afterwards."""
    from support.stores import index_is_current

    cli.create_store()
    fresh = _search_triggers(cli.db)
    error = {"code": "invalid_file", "message": "Bad file narwhal", "param": None}
    jobs = [
        make_job(n, metadata={"team": f"team{n}"} if n % 3 == 0 else None,
                 error=error if n % 4 == 0 else None,
                 status="failed" if n % 4 == 0 else "succeeded",
                 user_provided_suffix=f"suffix{n}")
        for n in range(40)
    ]  # fmt: skip
    # The same id twice: the second record replaces the first, and drops its error.
    jobs.append(make_job(4, status="cancelled", error=None, user_provided_suffix="walrus"))
    # a type error (a string): a negative time is kept, with a warning
    broken = write_jsonl(tmp_path / "broken.jsonl", [*jobs, make_job(99, created_at="-1")])
    cli.fails(1, "import", broken)
    assert _search_triggers(cli.db) == fresh  # the failed import's drop was rolled back
    cli.ok("import", write_jsonl(tmp_path / "good.jsonl", jobs))
    assert _search_triggers(cli.db) == fresh
    index_is_current(cli.db)
    with connect(cli.db) as conn:
        assert conn.execute("INSERT INTO jobs_fts(jobs_fts) VALUES ('integrity-check')")
    # The same jobs written one at a time into a store that is never empty, by the triggers:
    # the same search rows.
    from ftjobs.api.models import FineTuningJob
    from ftjobs.store import Store

    other = Cli(tmp_path / "one-by-one.db")
    with Store.open(other.db) as store:
        store.add(FineTuningJob.model_validate(jobs[0]))
        for job in jobs[1:]:
            store.import_jobs([FineTuningJob.model_validate(job)])
    query = "SELECT rowid, job_key, text FROM jobs_fts ORDER BY rowid"
    with connect(cli.db) as bulk, connect(other.db) as one_by_one:
        assert bulk.execute(query).fetchall() == one_by_one.execute(query).fetchall()
    assert ids_found(cli, "narwhal") == ids_found(other, "narwhal") != []
    assert ids_found(cli, "walrus") == [make_job(4)["id"]]
    # ... and the triggers work again on the next write.
    cli.ok("update", make_job(1)["id"], "--metadata", "team=quokka")
    index_is_current(cli.db)


def test_hostile_jobs_bulk_loaded_match_the_same_jobs_written_one_by_one(
    cli: Cli, tmp_path: Path
) -> None:
    """Unknown keys at every depth, nulls, huge ints, unicode and a repeated id: the bulk load's
    search rows, tables and export are those of the same jobs written by the triggers."""
    from ftjobs.api.models import FineTuningJob, JobRecord
    from ftjobs.jsonio.stream import compact_json
    from ftjobs.store import Store

    wandb = {
        "project": "p\u00e9",
        "name": None,
        "entity": None,
        "tags": ["\U0001f600"],
        "x": {"y": [1]},
    }
    jobs = [
        make_job(1, metadata={"team": "caf\u00e9 \u65e5\u672c", "k": "\u0000nul"},
                 user_provided_suffix="\U0001f680 rocket", brand_new={"deep": [None, 2**70]}),
        make_job(2, error={"code": "e\u00e9", "message": None, "param": None, "extra": {"a": 1}},
                 status="failed", seed=2**63 - 1, integrations=[{"type": "wandb", "wandb": wandb,
                 "also": None}]),
        make_job(3, metadata=None, error=None, finished_at=None, hyperparameters=None,
                 result_files=None, integrations=None, status="a_status_not_yet_documented"),
        make_job(4, error={}, user_provided_suffix=None, usage_metrics={"n": 1.5e300}),
        make_job(1, status="cancelled", metadata={"team": "second \u00fc"}),
    ]  # fmt: skip
    path = write_jsonl(tmp_path / "hostile.jsonl", jobs)
    cli.ok("import", path)  # into a new store: the bulk load
    other = Cli(tmp_path / "one-by-one.db")
    with Store.open(other.db) as store:
        # (the first job is added, raw_json NULL, and replaced by its second record, with text)
        store.add(FineTuningJob.model_validate(jobs[0]))
        for job in jobs[1:]:
            text = compact_json(json.dumps(job))
            store.import_jobs([JobRecord(FineTuningJob.model_validate(job), text)])
    _index_is_current_in(cli.db)
    with connect(cli.db) as bulk, connect(other.db) as one_by_one:
        for query in (
            "SELECT rowid, job_key, text FROM jobs_fts ORDER BY rowid",
            *(f"SELECT * FROM {table} ORDER BY 1, 2" for table in (
                "jobs", "job_errors", "job_hyperparameters", "job_result_files", "integrations",
                "job_integrations")),
        ):  # fmt: skip
            assert bulk.execute(query).fetchall() == one_by_one.execute(query).fetchall(), query
    assert cli.ok("export").stdout == other.ok("export").stdout
    assert ids_found(cli, "second") == [make_job(1)["id"]]


def test_a_type_error_after_a_few_batches_of_a_bulk_load_leaves_the_new_store_unchanged(
    cli: Cli, tmp_path: Path
) -> None:
    """Batches written, indexes and search triggers dropped, then a bad record: the store is
    as it was, byte for byte, triggers and indexes included."""
    cli.create_store()
    before = cli.db.read_bytes(), dump(cli.db), _search_triggers(cli.db), _indexes(cli.db)
    bad = 3 * IMPORT_BATCH_SIZE  # three whole batches are written before it
    jobs = [make_job(n) for n in range(bad + 1)]
    jobs[bad]["seed"] = "7"  # a type error: a string, not a number
    path = write_jsonl(tmp_path / "big.jsonl", jobs)
    result = cli.fails(1, "import", path)
    first_line = result.stderr.splitlines()[0]
    assert first_line.startswith(f"Error: {path}:{bad + 1}: {jobs[bad]['id']}: seed")
    after = cli.db.read_bytes(), dump(cli.db), _search_triggers(cli.db), _indexes(cli.db)
    assert after == before


def _index_is_current_in(db: Path) -> None:
    from support.stores import index_is_current

    index_is_current(db)


def ids_found(cli: Cli, *words: str) -> list[str]:
    return [line.split("\t")[0] for line in cli.ok("search", *words).stdout.splitlines()]


def test_values_out_of_range_from_a_provider_are_kept_with_a_warning(
    cli: Cli, tmp_path: Path
) -> None:
    """Azure sends status "pending", batch_size -1 and result_files null: archived as sent,
    each odd value named on stderr; a person typing the same into add is refused."""
    job = make_job(1, status="pending", result_files=None)
    job["hyperparameters"] = {"n_epochs": 2, "batch_size": -1, "learning_rate_multiplier": 1}
    result = cli.ok("import", write_jsonl(tmp_path / "azure.jsonl", [job]))
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 2, result.stderr
    assert f"{job['id']}: status: not one of" in warnings[0]
    assert "hyperparameters.batch_size" in warnings[1] and "got -1 (kept as sent)" in warnings[1]
    assert cli.show(job["id"]) == job
    assert cli.json("list", "--json")[0]["result_files"] is None
    cli.fails(2, "add", "--model", "m", "--training-file", "f", "--batch-size", "-1")


def test_export_to_dash_writes_stdout(cli: Cli) -> None:
    cli.add("--id", "ftjob-a")
    result = cli.ok("export", "-o", "-")
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["ftjob-a"]
    assert result.stdout == cli.ok("export").stdout
    assert result.stderr == ""
    assert not Path("-").exists()
