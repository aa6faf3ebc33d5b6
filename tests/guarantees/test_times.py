"""Times a provider sent outside what a date can show from 1970 on (issue 14): the spec gives
created_at, finished_at and estimated_finish (and an event's or checkpoint's created_at) no
minimum, so an archive keeps a negative or huge one, with a warning naming the job, the item
and the field; a person typing one is refused by the range checks. Every command that reads
times shows such a store without a traceback: plain, JSON, and at a terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.helpers import Cli, dump, error_line
from support.jobdata import make_job, write_jsonl
from support.terminal import run_in_terminal

from ftjobs.api.constants import MAX_TIMESTAMP

MIN_INT64, MAX_INT64 = -(2**63), 2**63 - 1
RULE = f"must be a Unix time from 0 to {MAX_TIMESTAMP}"

JOB = make_job(1, status="succeeded", created_at=1_721_764_800, finished_at=-5)
ODD_TIMES = {
    "negative finish": make_job(2, status="failed", finished_at=-5, estimated_finish=-1),
    "before 1970": make_job(3, created_at=-86_400 * 400, status="queued"),
    "smallest": make_job(4, created_at=MIN_INT64, finished_at=MAX_INT64, status="succeeded"),
    "largest": make_job(5, created_at=MAX_INT64, estimated_finish=MIN_INT64),
    "year 1": make_job(6, created_at=-62_135_596_800, finished_at=0, status="cancelled"),
    "past 9999": make_job(7, created_at=MAX_TIMESTAMP + 1, status="running"),
}
EVENT_ID = "ftevent-negative-time"
CHECKPOINT_ID = "ftckpt_negative_time"


def event(**changes: Any) -> dict[str, Any]:
    return {
        "object": "fine_tuning.job.event", "id": EVENT_ID, "created_at": -7, "level": "warn",
        "message": "Step 1/2: training loss=1.00", "type": "metrics",
        "data": {"step": 1, "train_loss": 1.0}, **changes,
    }  # fmt: skip


def checkpoint(**changes: Any) -> dict[str, Any]:
    return {
        "object": "fine_tuning.job.checkpoint", "id": CHECKPOINT_ID, "created_at": MAX_INT64,
        "fine_tuned_model_checkpoint": "ft:m:ckpt-1", "fine_tuning_job_id": JOB["id"],
        "step_number": 1, "metrics": {"step": 1, "train_loss": 1.0, "valid_loss": 0.5},
        **changes,
    }  # fmt: skip


def warnings_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Warning:")]


@pytest.fixture
def odd_store(cli: Cli, tmp_path: Path) -> Cli:
    """A store holding every odd time: jobs, an event and a checkpoint."""
    cli.ok("import", write_jsonl(tmp_path / "jobs.jsonl", [JOB, *ODD_TIMES.values()]))
    cli.ok("import", "--job", JOB["id"], write_jsonl(tmp_path / "events.jsonl", [event()]))
    cli.ok("import", write_jsonl(tmp_path / "checkpoints.jsonl", [checkpoint()]))
    return cli


# -- import keeps them, and says so -----------------------------------------------------------


def test_a_job_with_a_negative_finished_at_is_archived_with_a_warning(
    cli: Cli, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "jobs.jsonl", [make_job(0), JOB])
    result = cli.ok("import", path)
    assert warnings_of(result.stderr) == [
        f"Warning: {path}:2: {JOB['id']}: finished_at: {RULE}, got -5 (kept as sent)"
    ]
    assert "Imported 2 jobs" in result.stderr
    assert cli.show(JOB["id"]) == JOB


def test_each_odd_time_of_a_job_is_named(cli: Cli, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "jobs.jsonl", [ODD_TIMES["negative finish"]])
    job_id = ODD_TIMES["negative finish"]["id"]
    warnings = warnings_of(cli.ok("import", path).stderr)
    assert warnings == [
        f"Warning: {path}:1: {job_id}: finished_at: {RULE}, got -5 (kept as sent)",
        f"Warning: {path}:1: {job_id}: estimated_finish: {RULE}, got -1 (kept as sent)",
    ]


def test_a_job_in_an_array_is_named_by_its_place(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "page.json"
    page = {"object": "list", "data": [make_job(0), JOB], "has_more": False}
    path.write_text(json.dumps(page, indent=2))
    warnings = warnings_of(cli.ok("import", path).stderr)
    assert warnings == [
        f"Warning: {path}:data[1]: {JOB['id']}: finished_at: {RULE}, got -5 (kept as sent)"
    ]


def test_events_and_checkpoints_with_odd_times_are_kept_with_a_warning(
    cli: Cli, tmp_path: Path
) -> None:
    cli.ok("import", write_jsonl(tmp_path / "job.jsonl", [make_job(0, id=JOB["id"])]))
    events = write_jsonl(tmp_path / "events.jsonl", [event(id="ftevent-ok", created_at=5), event()])
    result = cli.ok("import", "--job", JOB["id"], events)
    assert warnings_of(result.stderr) == [
        f"Warning: {events}:2: {JOB['id']}: event {EVENT_ID}: created_at: {RULE}, got -7"
        " (kept as sent)"
    ]
    assert "2 events: 2 added" in result.stderr
    page = tmp_path / "checkpoints.json"
    page.write_text(json.dumps({"object": "list", "data": [checkpoint()]}, indent=2))
    result = cli.ok("import", page)
    assert warnings_of(result.stderr) == [
        f"Warning: {page}:data[0]: {JOB['id']}: checkpoint {CHECKPOINT_ID}: created_at: {RULE},"
        f" got {MAX_INT64} (kept as sent)"
    ]
    lines = cli.ok("events", JOB["id"], "--jsonl").stdout.splitlines()
    texts = [json.loads(line) for line in lines]
    assert texts == [event(), event(id="ftevent-ok", created_at=5)]  # oldest first: -7, then 5
    assert cli.json("checkpoints", JOB["id"], "--json") == [checkpoint()]


def test_a_type_error_in_a_time_is_still_refused(cli: Cli, tmp_path: Path) -> None:
    for value in ("-5", 1.5, True, 2**63, MIN_INT64 - 1):
        path = write_jsonl(tmp_path / "bad.jsonl", [make_job(1, finished_at=value)])
        result = cli.fails(1, "import", path)
        assert result.stderr.startswith(f"Error: {path}:1: {make_job(1)['id']}: finished_at: ")
    events = write_jsonl(tmp_path / "events.jsonl", [event(created_at="yesterday")])
    cli.ok("import", write_jsonl(tmp_path / "job.jsonl", [make_job(0, id=JOB["id"])]))
    result = cli.fails(1, "import", "--job", JOB["id"], events)
    assert "created_at: must be a Unix time in seconds" in result.stderr


# -- a person is held to the ranges ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--created-at", "-5"], f"created_at: {RULE}, got -5"),
        (["--created-at=-5"], f"created_at: {RULE}, got -5"),
        (["--created-at", "1969-12-31"], f"created_at: {RULE}, got -86400"),
        (["--finished-at", "-5", "--status", "succeeded"], f"finished_at: {RULE}, got -5"),
        (["--created-at", "-10", "--finished-at", "-5"], f"created_at: {RULE}, got -10"),
    ],
)
def test_add_refuses_a_time_out_of_range(cli: Cli, args: list[str], message: str) -> None:
    cli.add("--id", "ftjob-there")
    before = dump(cli.db)
    result = cli.fails(2, "add", "--model", "m", "--training-file", "f", *args)
    assert error_line(result) == f"Error: invalid job: {message}"
    assert dump(cli.db) == before


def test_update_refuses_a_time_out_of_range_but_keeps_a_providers(cli: Cli, tmp_path: Path) -> None:
    provider = make_job(9, created_at=-100, finished_at=-5, status="succeeded")
    cli.ok("import", write_jsonl(tmp_path / "jobs.jsonl", [provider]))
    job_id = cli.add()
    before = dump(cli.db)
    for target, args, message in (
        (job_id, ["--finished-at", "-5"], f"finished_at: {RULE}, got -5"),
        (job_id, ["--estimated-finish", "-1"], f"estimated_finish: {RULE}, got -1"),
        (job_id, ["--estimated-finish", "1900-01-01"], f"estimated_finish: {RULE}, got"),
        # the provider's -100 and -5 stand; a new -50 is the person's
        (provider["id"], ["--finished-at", "-50"], f"finished_at: {RULE}, got -50"),
    ):
        result = cli.fails(2, "update", target, *args)
        assert error_line(result).startswith(f"Error: invalid job: {message}"), result.stderr
        assert dump(cli.db) == before
    # A change that leaves the provider's times alone is the person's to make.
    cli.ok("update", provider["id"], "--metadata", "team=x", "--status", "failed", "--force")
    shown = cli.show(provider["id"])
    assert (shown["created_at"], shown["status"]) == (-100, "failed")
    assert shown["metadata"]["team"] == "x"
    cli.ok("update", job_id, "--estimated-finish", "0")


# -- every reader copes ------------------------------------------------------------------------


def test_show_list_export_and_search_give_the_times_as_stored(odd_store: Cli) -> None:
    cli = odd_store
    jobs = [JOB, *ODD_TIMES.values()]
    for job in jobs:
        assert cli.show(job["id"]) == job
        plain = dict(line.split("\t", 1) for line in cli.ok("show", job["id"]).stdout.splitlines())
        assert plain["id"] == job["id"]
    plain = dict(line.split("\t", 1) for line in cli.ok("show", JOB["id"]).stdout.splitlines())
    assert plain["finished_at"] == "1969-12-31T23:59:55Z"
    smallest = ODD_TIMES["smallest"]["id"]
    plain = dict(line.split("\t", 1) for line in cli.ok("show", smallest).stdout.splitlines())
    # No date shows these: the number as stored.
    assert (plain["created_at"], plain["finished_at"]) == (str(MIN_INT64), str(MAX_INT64))
    year_1 = dict(
        line.split("\t", 1)
        for line in cli.ok("show", ODD_TIMES["year 1"]["id"]).stdout.splitlines()
    )
    assert year_1["created_at"] == "0001-01-01T00:00:00Z"
    exported = [json.loads(line) for line in cli.ok("export").stdout.splitlines()]
    assert exported == jobs
    assert sorted(j["id"] for j in cli.json("list", "--all", "--json")) == sorted(
        j["id"] for j in jobs
    )
    for sort in ("created_at", "finished_at"):
        for order in ([], ["--reverse"]):
            listed = cli.ok("list", "--all", "--sort", sort, *order).stdout.splitlines()
            assert len(listed) == len(jobs)
    ordered = [line.split("\t")[0] for line in cli.ok("list", "--all").stdout.splitlines()]
    assert ordered[0] == ODD_TIMES["largest"]["id"] and ordered[-1] == smallest
    csv = cli.ok("list", "--all", "--csv", "--fields", "id,created_at,estimated_finish").stdout
    assert f"{ODD_TIMES['largest']['id']},{MAX_INT64},{MIN_INT64}" in csv.splitlines()
    assert cli.list_ids("--since", "1968-01-01", "--until", "1970-01-01") == [
        ODD_TIMES["before 1970"]["id"]
    ]
    assert cli.list_ids("--finished-until", "1970-01-01") == [
        ODD_TIMES["negative finish"]["id"], JOB["id"]
    ]  # fmt: skip
    assert [j["id"] for j in cli.json("search", JOB["id"], "--json")] == [JOB["id"]]


def test_events_checkpoints_and_metrics_read_odd_times(odd_store: Cli) -> None:
    cli = odd_store
    [line] = cli.ok("events", JOB["id"]).stdout.splitlines()
    assert line.startswith("1969-12-31T23:59:53Z\twarn\tmetrics\t")
    [line] = cli.ok("checkpoints", JOB["id"]).stdout.splitlines()
    assert line.split("\t")[:3] == ["1", str(MAX_INT64), "ft:m:ckpt-1"]
    assert cli.ok("metrics", JOB["id"], "--csv").stdout.startswith("step,train_loss")


def test_stats_and_info_read_odd_times(odd_store: Cli) -> None:
    cli = odd_store
    stats = cli.json("stats", "--json")
    assert stats["total"] == 7
    # Months a date can show, oldest first; the three jobs whose times no date shows are in
    # none (created at -2**63, 2**63 - 1 and after 9999-12-31).
    assert stats["by_month"] == {"0001-01": 1, "1968-11": 1, "2024-07": 2}
    # Durations: finished at or after created (the partial index's rule); -2**63 to 2**63 - 1
    # does not fit 64 bits, and is still a whole number of seconds.
    durations = stats["duration_seconds"]
    assert durations["jobs"] == 2
    assert durations["median"] == 62_135_596_800
    assert durations["p90"] >= 2**63 and isinstance(durations["p90"], int)
    plain = cli.ok("stats").stdout
    assert "month\t0001-01\t1" in plain.splitlines()
    assert cli.ok("stats", "--since", "1969-01-01", "--until", "2000-01-01").stdout
    cli.ok("info")


def test_stats_skip_the_empty_months_between_far_apart_jobs(cli: Cli, tmp_path: Path) -> None:
    """One job in the year 1 and one in 9999: two months, not 120,000 counted one by one."""
    jobs = [make_job(1, created_at=-62_135_596_800), make_job(2, created_at=MAX_TIMESTAMP)]
    cli.ok("import", write_jsonl(tmp_path / "jobs.jsonl", jobs))
    assert cli.json("stats", "--json")["by_month"] == {"0001-01": 1, "9999-12": 1}
    plain = cli.ok("stats").stdout.splitlines()
    assert [line for line in plain if line.startswith("month")] == [
        "month\t0001-01\t1",
        "month\t9999-12\t1",
    ]


# -- at a terminal -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--all"],
        ["list", "--all", "--fields", "id,created_at,finished_at,estimated_finish"],
        ["show", JOB["id"]],
        ["show", ODD_TIMES["smallest"]["id"]],
        ["events", JOB["id"]],
        ["checkpoints", JOB["id"]],
        ["stats"],
    ],
    ids=lambda args: " ".join(args[:2]) if args[0] != "list" else " ".join(args[:3]),
)
def test_each_reader_shows_odd_times_at_a_terminal(odd_store: Cli, args: list[str]) -> None:
    screen = run_in_terminal(odd_store.db, *args, columns=160)
    assert screen.exit_code == 0, screen.text
    assert "Traceback" not in screen.text
    text = "\n".join(screen.lines)
    if args[0] == "list":
        assert str(MAX_INT64) in text  # whole, not cut to the width of a date
        assert ("1969-12-31T23:59:55Z" if "--fields" in args else "1969-12-31 23:59") in text
    if args[:2] == ["show", JOB["id"]]:
        assert "1969-12-31T23:59:55Z" in text
    if args[0] == "events":
        assert "1969-12-31 23:59:53" in text
