"""Getting a job's history in from files: events, checkpoints, in every shape import takes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from support.helpers import FIXTURES, Cli, connect, dump, error_line

HISTORY = FIXTURES / "history"
JOB = "ftjob-abc123"


def event(number: int, created_at: int, **changes: Any) -> dict[str, Any]:
    return {
        "object": "fine_tuning.job.event",
        "id": f"ftevent-{number:024d}",
        "created_at": created_at,
        "level": "info",
        "message": f"Step {number}/10: training loss=0.5",
        "data": {"step": number, "train_loss": 0.5, "train_mean_token_accuracy": 0.75},
        "type": "metrics",
        **changes,
    }


def stored_events(db: Path) -> list[tuple[str, str]]:
    """(id, text) of the job's events, oldest first, as the store orders them."""
    with connect(db) as conn:
        return conn.execute(
            "SELECT id, raw_json FROM job_events ORDER BY job_key, created_at, seq"
        ).fetchall()


@pytest.fixture
def job_cli(cli: Cli) -> Cli:
    cli.add("--id", JOB)
    return cli


def test_an_events_list_response_goes_to_the_job_named_by_job(job_cli: Cli) -> None:
    result = job_cli.ok("import", "--job", JOB, HISTORY / "spec_events_list_response.json")
    assert "2 events: 2 added, 0 already stored" in result.stderr
    ids = [row[0] for row in stored_events(job_cli.db)]
    # The API lists newest first; the store reads oldest first. Both share one second: the
    # second in the API's list happened first.
    assert ids == ["ft-event-tyiGuB72evQncpH87xe505Sv", "ft-event-ddTJfwuMVpfLXseO0Am0Gqjm"]


def test_an_event_is_archived_as_the_text_that_came_in(job_cli: Cli) -> None:
    path = HISTORY / "guide_event_metrics_step100_train_only.json"
    job_cli.ok("import", "--job", JOB, path)
    [(_, text)] = stored_events(job_cli.db)
    assert "1.805623287509661e-5" in text  # not respelt as 1.805623287509661e-05
    assert text == json.dumps(json.loads(path.read_text()), separators=(",", ":")).replace(
        "1.805623287509661e-05", "1.805623287509661e-5"
    )


def test_step_240_point_0_and_unknown_keys_and_types_are_kept(job_cli: Cli, tmp_path: Path) -> None:
    lines = [
        '{"object":"fine_tuning.job.event","id":"ftevent-a","created_at":2,"level":"info",'
        '"message":"m","data":{"step":240.0,"train_loss":1},"type":"metrics","extra":[1,{}]}',
        '{"object":"fine_tuning.job.event","id":"ftevent-b","created_at":1,"level":"warn",'
        '"message":"flagged","data":{},"type":"moderation_checks"}',
        '{"object":"fine_tuning.job.event","id":"ftevent-c","created_at":0,"level":"info",'
        '"message":"created","data":null,"type":"message"}',
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    job_cli.ok("import", "--job", JOB, path)
    assert [text for _, text in stored_events(job_cli.db)] == list(reversed(lines))


def test_events_without_job_are_refused_and_nothing_is_written(job_cli: Cli) -> None:
    before = dump(job_cli.db)
    result = job_cli.fails(2, "import", HISTORY / "spec_events_list_response.json")
    assert "--job" in error_line(result)
    assert dump(job_cli.db) == before


def test_events_for_a_job_not_in_the_store_are_refused(job_cli: Cli) -> None:
    before = dump(job_cli.db)
    path = HISTORY / "spec_events_list_response.json"
    result = job_cli.fails(1, "import", "--job", "ftjob-nope", path)
    assert "ftjob-nope" in error_line(result)
    assert dump(job_cli.db) == before


def test_the_same_event_twice_is_stored_once(job_cli: Cli) -> None:
    path = HISTORY / "spec_events_list_response.json"
    job_cli.ok("import", "--job", JOB, path)
    result = job_cli.ok("import", "--job", JOB, path, path)
    assert "0 of 4 events: 0 added, 4 already stored" in result.stderr
    assert "Warning:" not in result.stderr  # stored before this import: known, not repeated
    assert len(stored_events(job_cli.db)) == 2


def test_a_file_running_forward_in_time_keeps_its_order(job_cli: Cli, tmp_path: Path) -> None:
    forward = [event(n, 1_700_000_000 + n // 3) for n in range(1, 10)]  # 3 a second
    path = tmp_path / "forward.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in forward))
    job_cli.ok("import", "--job", JOB, path)
    assert [row[0] for row in stored_events(job_cli.db)] == [e["id"] for e in forward]


def test_pages_in_the_api_order_across_files_end_oldest_first(job_cli: Cli, tmp_path: Path) -> None:
    oldest_first = [event(n, 1_700_000_000 + n // 3) for n in range(1, 10)]
    newest_first = list(reversed(oldest_first))
    pages = []
    for number, start in enumerate(range(0, 9, 4)):
        page = {"object": "list", "data": newest_first[start : start + 4], "has_more": start < 8}
        pages.append(tmp_path / f"page{number}.json")
        pages[-1].write_text(json.dumps(page, indent=2))
    job_cli.ok("import", "--job", JOB, *pages)
    assert [row[0] for row in stored_events(job_cli.db)] == [e["id"] for e in oldest_first]


def test_checkpoints_name_their_job(job_cli: Cli) -> None:
    job_cli.ok("import", HISTORY / "spec_checkpoint_list_response.json")
    with connect(job_cli.db) as conn:
        rows = conn.execute("SELECT id, step_number FROM job_checkpoints ORDER BY 2").fetchall()
    assert rows == [
        ("ftckpt_enQCFmOTGj3syEpYVhBRLTSy", 1000),
        ("ftckpt_zc4Q7MP6XxulcVzj4MZdwsAB", 2000),
    ]


def test_a_checkpoint_of_an_unknown_job_is_one_clear_error(cli: Cli) -> None:
    cli.create_store()
    before = dump(cli.db)
    result = cli.fails(1, "import", HISTORY / "spec_checkpoint_object.json")
    assert "ftjob-fpbNQ3H1GrMehXRf8cO97xTN" in error_line(result)
    assert dump(cli.db) == before


def test_mixed_lines_gzip_and_stdin(cli: Cli, tmp_path: Path) -> None:
    """One JSON Lines file holding a job and then its checkpoints, gzipped, read from stdin."""
    job = json.loads((HISTORY / "sft_guide_job_succeeded_2025.json").read_text())
    checkpoint = json.loads((HISTORY / "spec_checkpoint_object.json").read_text())
    checkpoint["fine_tuning_job_id"] = job["id"]
    text = json.dumps(job) + "\n" + json.dumps(checkpoint) + "\n"
    path = tmp_path / "mixed.jsonl.gz"
    path.write_bytes(gzip.compress(text.encode()))
    result = cli.ok("import", path)
    assert "1 job: 1 inserted" in result.stderr and "1 checkpoint: 1 added" in result.stderr
    events = {"object": "list", "data": [event(1, 5)], "has_more": False}
    cli.ok("import", "--job", job["id"], "-", input=json.dumps(events))
    assert len(stored_events(cli.db)) == 1


def test_a_bad_event_is_reported_with_file_line_id_and_field(job_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(event(1, 5)) + "\n" + json.dumps(event(2, "late")) + "\n")
    before = dump(job_cli.db)
    result = job_cli.fails(1, "import", "--job", JOB, path)
    assert result.stderr.splitlines()[0].startswith(f"Error: {path}:2: ftevent-")
    assert "created_at" in result.stderr.splitlines()[0]
    assert dump(job_cli.db) == before


def test_delete_takes_the_jobs_history_and_nothing_else(job_cli: Cli) -> None:
    job_cli.add("--id", "ftjob-other")
    job_cli.ok("import", "--job", JOB, HISTORY / "spec_events_list_response.json")
    job_cli.ok("import", "--job", "ftjob-other", HISTORY / "spec_events_list_response.json")
    job_cli.ok("import", HISTORY / "spec_checkpoint_list_response.json")
    job_cli.ok("delete", JOB, "--yes")
    with connect(job_cli.db) as conn:
        assert conn.execute("SELECT count(*) FROM job_events").fetchone() == (2,)
        assert conn.execute("SELECT count(*) FROM job_checkpoints").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM job_metric_values").fetchone() == (0,)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_update_keeps_the_history(job_cli: Cli) -> None:
    job_cli.ok("import", "--job", JOB, HISTORY / "spec_events_list_response.json")
    job_cli.ok("update", JOB, "--status", "running")
    job_cli.ok("attach", JOB, "file-x")
    assert len(stored_events(job_cli.db)) == 2


# -- history of a job not in the store ------------------------------------------------------


def checkpoint(checkpoint_id: str, step: int, job: str = JOB) -> dict[str, Any]:
    data = json.loads((HISTORY / "spec_checkpoint_object.json").read_text())
    return {
        **data,
        "id": checkpoint_id,
        "fine_tuning_job_id": job,
        "step_number": step,
        "metrics": {**data["metrics"], "step": step},
    }


@pytest.mark.parametrize("layout", ["jsonl", "json"])
def test_the_checkpoint_whose_job_is_missing_is_the_one_named(
    job_cli: Cli, tmp_path: Path, layout: str
) -> None:
    checkpoints = [
        checkpoint("ftckpt_ours", 10),
        checkpoint("ftckpt_stray", 20, job="ftjob-missing"),
    ]
    path = tmp_path / f"checkpoints.{layout}"
    if layout == "jsonl":
        path.write_text("".join(json.dumps(c) + "\n" for c in checkpoints))
        where = f"{path}:2"
    else:
        path.write_text(json.dumps(checkpoints, indent=2))
        where = f"{path}:[1]"
    before = dump(job_cli.db)
    line = error_line(job_cli.fails(1, "import", path))
    assert line.startswith(f"Error: {where}: checkpoint ftckpt_stray:"), line
    assert "'ftjob-missing'" in line and "ftckpt_ours" not in line
    assert dump(job_cli.db) == before


def test_events_for_a_missing_job_name_the_job_and_where_they_start(
    job_cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("\n" + json.dumps(event(1, 5)) + "\n")
    before = dump(job_cli.db)
    line = error_line(job_cli.fails(1, "import", "--job", "ftjob-nope", path))
    assert line.startswith(f"Error: {path}:2: events: no job with id 'ftjob-nope'"), line
    assert dump(job_cli.db) == before


# -- the same id twice in one import ---------------------------------------------------------

STEP100 = HISTORY / "guide_event_metrics_step100_train_only.json"
STEP300 = HISTORY / "guide_event_metrics_step300_with_full_valid.json"  # the same event id


def warnings(result: Any) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Warning:")]


def metric_steps(cli: Cli, job: str = JOB) -> list[Any]:
    return [row["step"] for row in cli.json("metrics", job, "--json")]


def event_steps(cli: Cli, job: str = JOB) -> list[Any]:
    """The steps of the job's stored metrics events, as `events` gives them."""
    lines = cli.ok("events", job, "--type", "metrics", "--jsonl").stdout.splitlines()
    return sorted(json.loads(line)["data"]["step"] for line in lines)


def test_an_event_id_twice_in_one_import_is_named_and_metrics_agree_with_events(
    job_cli: Cli,
) -> None:
    """The guide's two metrics examples share an id: the first is kept, the second is named
    with its file and place, and `metrics` shows only the step `events` shows."""
    result = job_cli.ok("import", "--job", JOB, STEP100, STEP300)
    assert warnings(result) == [
        f"Warning: {STEP300}:1: {JOB}: event ftevent-abc-123 came earlier in this import"
        " with different content; the first is kept, this one is not stored"
    ]
    assert "1 of 2 events: 1 added, 0 already stored, 1 repeated in the input" in result.stderr
    assert event_steps(job_cli) == [100]
    assert metric_steps(job_cli) == [100]


def test_an_event_stored_by_an_earlier_import_is_known_not_a_warning(job_cli: Cli) -> None:
    job_cli.ok("import", "--job", JOB, STEP100)
    result = job_cli.ok("import", "--job", JOB, STEP300)
    assert warnings(result) == []
    assert "0 of 1 event: 0 added, 1 already stored" in result.stderr
    # The stored event is the one `metrics` reads, not the newcomer that was not stored.
    assert event_steps(job_cli) == metric_steps(job_cli) == [100]


def test_repeats_are_found_across_batches_and_an_identical_one_is_said_so(
    job_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ftjobs.store.bulk.IMPORT_BATCH_SIZE", 2)  # lines 1-2, 3-4, 5-6, 7-8
    records = [event(n, 1_700_000_000 + n) for n in range(1, 6)]
    records.append({**records[0], "data": {"step": 99, "train_loss": 9.0}})  # line 6: differs
    records.append(records[1])  # line 7: the same as line 2, two batches back
    records.append({**records[1], "level": "warn"})  # line 8: line 2's id again, in 7's batch
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in records))
    result = job_cli.ok("import", "--job", JOB, path)
    assert warnings(result) == [
        f"Warning: {path}:6: {JOB}: event ftevent-{1:024d} came earlier in this import"
        " with different content; the first is kept, this one is not stored",
        f"Warning: {path}:7: {JOB}: event ftevent-{2:024d} came earlier in this import;"
        " it is stored once",
        f"Warning: {path}:8: {JOB}: event ftevent-{2:024d} came earlier in this import"
        " with different content; the first is kept, this one is not stored",
    ]
    assert "5 of 8 events: 5 added, 0 already stored, 3 repeated in the input" in result.stderr
    assert [row[0] for row in stored_events(job_cli.db)] == [e["id"] for e in records[:5]]
    assert event_steps(job_cli) == metric_steps(job_cli) == [1, 2, 3, 4, 5]


def test_a_checkpoint_id_twice_in_one_import_is_named_and_metrics_agree(
    job_cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "checkpoints.json"
    checkpoints = [checkpoint("ftckpt_a", 10), checkpoint("ftckpt_b", 20)]
    checkpoints.append(checkpoint("ftckpt_a", 30))
    path.write_text(json.dumps(checkpoints, indent=2))
    result = job_cli.ok("import", path)
    assert warnings(result) == [
        f"Warning: {path}:[2]: {JOB}: checkpoint ftckpt_a came earlier in this import"
        " with different content; the first is kept, this one is not stored"
    ]
    assert "2 of 3 checkpoints: 2 added, 0 already stored, 1 repeated" in result.stderr
    stored = [c["step_number"] for c in job_cli.json("checkpoints", JOB, "--json")]
    assert stored == metric_steps(job_cli) == [10, 20]
    # A later import of the same id is known, not a warning, and changes no metric.
    again = tmp_path / "again.json"
    again.write_text(json.dumps(checkpoint("ftckpt_b", 40)))
    result = job_cli.ok("import", again)
    assert warnings(result) == []
    assert "0 of 1 checkpoint: 0 added, 1 already stored" in result.stderr
    assert metric_steps(job_cli) == [10, 20]
