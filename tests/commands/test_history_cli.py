"""Reading a job's history from the shell: events, checkpoints, metrics, attach --content and
show's history lines, on real SQLite files, in-process (piped output) and in a real terminal."""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support import historydata as h
from support.helpers import FIXTURES, Cli, connect, dump, error_line
from support.history import add_job, colour_codes, import_checkpoints, import_events, write
from support.terminal import ESCAPE, run_in_terminal

from ftjobs.api.checkpoints import mark_checkpoints
from ftjobs.render.checkpoints import checkpoint_table
from ftjobs.render.metrics import chart_series
from ftjobs.store.records import Metrics, StoredCheckpoint

HISTORY = FIXTURES / "history"
JOB = h.JOB_ID


@pytest.fixture
def full(cli: Cli, tmp_path: Path) -> Cli:
    """The 240-step job with its events and checkpoints (no result file content yet)."""
    add_job(cli, tmp_path)
    import_events(cli, tmp_path)
    import_checkpoints(cli, tmp_path)
    return cli


@pytest.fixture
def with_file(full: Cli, tmp_path: Path) -> Cli:
    full.ok("attach", JOB, h.RESULT_FILE, "--content", write(tmp_path / "r.csv", h.result_csv()))
    return full


# -- events -----------------------------------------------------------------------------------


def test_events_piped_are_tab_separated_lines_oldest_first(full: Cli) -> None:
    lines = full.ok("events", JOB).stdout.splitlines()
    assert len(lines) == len(h.event_texts()) == 250
    assert lines[0] == f"2024-07-23T20:00:00Z\tinfo\tmessage\tCreated fine-tuning job: {JOB}"
    assert lines[-1].endswith("\tinfo\tmessage\tThe job has successfully completed")
    messages = [json.loads(text)["message"] for text in h.event_texts()]
    assert [line.split("\t")[3] for line in lines] == messages


def test_events_jsonl_and_json_give_the_stored_text_verbatim(full: Cli) -> None:
    jsonl = full.ok("events", JOB, "--jsonl").stdout
    assert jsonl == "\n".join(h.event_texts()) + "\n"
    assert f'"train_loss":{h.TINY_LOSS}' in jsonl  # not respelt 1.805623287509661e-05
    assert f'"step":{h.STEP_AS_FLOAT},' in jsonl  # not 240
    array = full.ok("events", JOB, "--json").stdout
    assert array == "[\n" + ",\n".join(h.event_texts()) + "\n]\n"
    assert json.loads(array) == [json.loads(text) for text in h.event_texts()]


def test_events_round_trip_through_import(full: Cli, tmp_path: Path) -> None:
    """`events --jsonl` piped into `import --job` of a new store gives the same output."""
    first = full.ok("events", JOB, "--jsonl").stdout
    other = Cli(tmp_path / "other.db")
    add_job(other, tmp_path)
    other.ok("import", "--job", JOB, "-", input=first)
    assert other.ok("events", JOB, "--jsonl").stdout == first
    checkpoints = full.ok("checkpoints", JOB, "--jsonl").stdout
    other.ok("import", "-", input=checkpoints)
    assert other.ok("checkpoints", JOB, "--jsonl").stdout == checkpoints
    # ... and the metrics read from them on the way in are the same too.
    assert other.ok("metrics", JOB, "--json").stdout == full.ok("metrics", JOB, "--json").stdout


def test_same_second_events_come_in_their_true_order(cli: Cli) -> None:
    cli.add("--id", "ftjob-abc123")
    cli.ok("import", "--job", "ftjob-abc123", HISTORY / "spec_events_list_response.json")
    lines = cli.ok("events", "ftjob-abc123").stdout.splitlines()
    assert [line.split("\t")[3] for line in lines] == [
        "New fine-tuned model created: ft:gpt-4o-mini:openai::7p4lURel",
        "Fine tuning job successfully completed",
    ]


def test_same_second_events_of_a_long_job_keep_their_order(full: Cli) -> None:
    messages = [line.split("\t")[3] for line in full.ok("events", JOB).stdout.splitlines()]
    step_80 = next(n for n, m in enumerate(messages) if m.startswith("Step 80/240:"))
    assert messages[step_80 + 1].startswith("Checkpoint created at step 80")
    assert messages[step_80 + 2].startswith("Step 81/240")


def test_limit_keeps_the_newest_still_oldest_first_and_says_so(full: Cli) -> None:
    result = full.ok("events", JOB, "--limit", "3", "--jsonl")
    assert result.stdout == "\n".join(h.event_texts()[-3:]) + "\n"
    assert "Showing the newest 3 of 250 events" in result.stderr
    # A limit that hides nothing says nothing.
    assert full.ok("events", JOB, "--limit", "250").stderr == ""
    assert full.ok("events", JOB, "--level", "warn", "--limit", "5").stderr == ""


def test_level_and_type_filters_repeat(full: Cli) -> None:
    warn = full.ok("events", JOB, "--level", "warn").stdout.splitlines()
    assert warn == ["2024-07-23T20:00:02Z\twarn\tmessage\tSome examples were skipped: too long"]
    assert len(full.ok("events", JOB, "--type", "metrics").stdout.splitlines()) == 240
    both = full.ok("events", JOB, "--type", "metrics", "--type", "message", "--level", "info")
    assert len(both.stdout.splitlines()) == 249
    limited = full.ok("events", JOB, "--type", "metrics", "--limit", "2", "--json")
    assert [e["data"]["step"] for e in json.loads(limited.stdout)] == [239, 240.0]
    assert "Showing the newest 2 of 240 events" in limited.stderr


def test_no_events_is_a_note_and_exit_0(full: Cli) -> None:
    none = full.ok("events", JOB, "--level", "error")
    assert none.stdout == "" and none.stderr == f"No events for {JOB} matching the filters.\n"
    full.add("--id", "ftjob-empty")
    assert full.ok("events", "ftjob-empty").stderr == "No events for ftjob-empty.\n"
    assert full.ok("events", "ftjob-empty", "--json").stdout == "[]\n"
    assert full.ok("events", "ftjob-empty", "--jsonl").stdout == ""


def test_events_of_an_unknown_job_and_two_formats_are_errors(full: Cli) -> None:
    assert "ftjob-nope" in error_line(full.fails(1, "events", "ftjob-nope"))
    assert "--json and --jsonl" in error_line(full.fails(2, "events", JOB, "--json", "--jsonl"))
    full.fails(2, "events", JOB, "--limit", "0")


def test_events_json_through_a_real_jq(full: Cli) -> None:
    jq = shutil.which("jq")
    if jq is None:
        pytest.skip("jq is not installed")
    events = subprocess.run(
        [sys.executable, "-m", "ftjobs", "--db", str(full.db), "events", JOB, "--json"],
        capture_output=True,
        check=True,
    )
    counted = subprocess.run(
        [jq, "-r", 'map(select(.type == "metrics")) | "\\(length) \\(.[0].data.train_loss)"'],
        input=events.stdout,
        capture_output=True,
        check=True,
    )
    assert counted.stdout.decode().strip() == f"240 {h.train_loss(1)}"


# -- checkpoints ------------------------------------------------------------------------------


def test_checkpoints_piped_with_marks(full: Cli) -> None:
    lines = [line.split("\t") for line in full.ok("checkpoints", JOB).stdout.splitlines()]
    assert [line[0] for line in lines] == ["80", "160", "240"]
    assert [line[-1] for line in lines] == ["", "best valid", "final"]
    _, created, model, train, valid, train_acc, valid_acc, _ = lines[2]
    assert created == "2024-07-23T20:01:23Z" and model == h.MODEL
    assert [float(train), float(valid), float(train_acc)] == [
        h.train_loss(240),
        h.valid_loss(240),
        h.accuracy(240),
    ]
    assert valid_acc == json.dumps(h.accuracy(240) - 0.05)


def test_checkpoints_json_and_jsonl_are_the_stored_text(full: Cli) -> None:
    texts = h.checkpoint_texts()
    assert full.ok("checkpoints", JOB, "--jsonl").stdout == "\n".join(texts) + "\n"
    assert full.ok("checkpoints", JOB, "--json").stdout == "[\n" + ",\n".join(texts) + "\n]\n"


def test_checkpoints_prefer_full_valid_loss_and_a_running_job_has_latest(cli: Cli) -> None:
    cli.add("--id", "ftjob-abc123", "--status", "running")
    cli.ok("import", HISTORY / "spec_checkpoint_list_response.json")
    lines = [line.split("\t") for line in cli.ok("checkpoints", "ftjob-abc123").stdout.splitlines()]
    assert [(line[0], line[4], line[-1]) for line in lines] == [
        ("1000", "0.167", ""),
        ("2000", "0.134", "latest,best valid"),
    ]


def _checkpoint(step: int, model: str, **metrics: Any) -> StoredCheckpoint:
    text = json.dumps({"id": f"c{step}", "step_number": step, "metrics": metrics})
    return StoredCheckpoint(step, step, model, text)


def test_marks_compare_one_valid_loss_key_and_take_the_earliest_tie() -> None:
    checkpoints = [
        _checkpoint(1, "m:1", valid_loss=0.1, full_valid_loss=0.5),
        _checkpoint(2, "m:2", valid_loss=0.9, full_valid_loss=0.3),
        _checkpoint(3, "m", valid_loss=0.2, full_valid_loss=0.3),
    ]
    marked = mark_checkpoints(checkpoints, job_status="running", fine_tuned_model="m")
    assert [row.marks for row in marked] == [[], ["best valid"], ["final"]]
    assert checkpoint_table(marked).columns[1] == ("Full valid loss", "full_valid_loss")
    no_valid = mark_checkpoints(
        [_checkpoint(5, "x", train_loss=1.0)], job_status="failed", fine_tuned_model=None
    )
    assert [row.marks for row in no_valid] == [["latest"]]
    assert checkpoint_table(no_valid).columns[1] == ("Valid loss", None)


def test_no_checkpoints(full: Cli) -> None:
    full.add("--id", "ftjob-empty")
    result = full.ok("checkpoints", "ftjob-empty")
    assert result.stdout == "" and result.stderr == "No checkpoints for ftjob-empty.\n"
    assert full.ok("checkpoints", "ftjob-empty", "--json").stdout == "[]\n"
    full.fails(1, "checkpoints", "ftjob-nope")


# -- metrics ----------------------------------------------------------------------------------


def test_metrics_from_events_say_so_and_keep_the_columns_first_seen(full: Cli) -> None:
    result = full.ok("metrics", JOB)
    assert result.stderr.startswith("Metrics from the job's events (no result file content")
    assert f"ftjobs attach {JOB} {h.RESULT_FILE} --content PATH" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "step,train_loss,train_mean_token_accuracy,total_steps,valid_loss,"
        "valid_mean_token_accuracy,full_valid_loss,full_valid_mean_token_accuracy"
    )
    assert len(lines) == 241
    assert lines[1] == f"1,{h.train_loss(1)},{h.accuracy(1)},240,,,,"
    assert lines[239].startswith("239,1.805623287509661e-05,")
    assert lines[240].startswith("240,")  # step 240.0 is step 240
    assert full.ok("metrics", JOB, "--csv").stdout == result.stdout


def test_metrics_from_a_result_file_csv_byte_for_byte(with_file: Cli) -> None:
    result = with_file.ok("metrics", JOB, "--csv")
    assert result.stdout_bytes == h.result_csv().encode()
    assert result.stderr == ""
    assert with_file.ok("metrics", JOB).stdout_bytes == h.result_csv().encode()  # piped


def test_metrics_csv_keeps_crlf_and_a_bom(full: Cli, tmp_path: Path) -> None:
    text = "\ufeff" + h.result_csv().replace("\n", "\r\n")
    full.ok("attach", JOB, "file-crlf", "--content", write(tmp_path / "crlf.csv", text.encode()))
    result = full.ok("metrics", JOB, "--file", "file-crlf", "--csv")
    assert result.stdout_bytes == text.encode()


def test_metrics_json_types_and_nulls(with_file: Cli) -> None:
    rows = with_file.json("metrics", JOB, "--json")
    assert len(rows) == 240
    assert rows[0] == {
        "step": 1,
        "train_loss": 3.63265,
        "train_accuracy": 0.5,
        "valid_loss": None,
        "valid_mean_token_accuracy": None,
    }
    assert isinstance(rows[0]["step"], int) and isinstance(rows[0]["train_loss"], float)
    assert rows[199]["train_loss"] == 6e-05
    assert rows[9]["valid_loss"] == h.valid_loss(10)
    assert list(rows[9]) == ["step", "train_loss", "train_accuracy", "valid_loss",
                             "valid_mean_token_accuracy"]  # fmt: skip


def test_metrics_from_checkpoints_say_so(cli: Cli, tmp_path: Path) -> None:
    add_job(cli, tmp_path, result_files=[])
    import_checkpoints(cli, tmp_path)
    result = cli.ok("metrics", JOB, "--json")
    assert result.stderr == (
        "Metrics from the job's checkpoints (no result file content or metrics events).\n"
    )
    assert [row["step"] for row in json.loads(result.stdout)] == [80, 160, 240]


def test_metrics_file_picks_another_result_file(with_file: Cli, tmp_path: Path) -> None:
    other = "step,train_loss\n1,2.5\n2,\n"
    with_file.ok("attach", JOB, "file-second", "--content", write(tmp_path / "o.csv", other))
    assert with_file.ok("metrics", JOB, "--csv").stdout == h.result_csv()  # still the first
    assert with_file.ok("metrics", JOB, "--file", "file-second", "--csv").stdout == other
    rows = with_file.json("metrics", JOB, "--file", "file-second", "--json")
    assert rows == [{"step": 1, "train_loss": 2.5}, {"step": 2, "train_loss": None}]
    error = error_line(with_file.fails(1, "metrics", JOB, "--file", "file-none"))
    assert "file-none" in error and "--content" in error


def test_no_metrics_says_how_to_get_them(cli: Cli) -> None:
    cli.add("--id", "ftjob-bare")
    result = cli.ok("metrics", "ftjob-bare")
    assert result.stdout == ""
    for hint in ("ftjobs attach ftjob-bare", "ftjobs import --job ftjob-bare", "ftjobs sync"):
        assert hint in result.stderr
    assert cli.ok("metrics", "ftjob-bare", "--json").stdout == "[]\n"
    assert cli.ok("metrics", "ftjob-bare", "--csv").stdout == ""
    assert "--csv and --json" in error_line(
        cli.fails(2, "metrics", "ftjob-bare", "--csv", "--json")
    )
    cli.fails(1, "metrics", "ftjob-nope")


def _metrics(columns: list[str], *rows: list[Any]) -> Metrics:
    return Metrics("events", columns, [list(row) for row in rows])


def test_chart_columns_are_picked_by_name_and_gaps_are_dropped() -> None:
    supervised = _metrics(
        ["step", "train_loss", "full_valid_loss", "valid_loss", "train_accuracy", "total_steps"],
        [1, 2.0, None, 2.1, 0.5, 3],
        [2, math.nan, None, None, 0.6, 3],
        [3, 1.0, 1.2, 1.1, math.inf, 3],
    )
    picked = chart_series(supervised)
    assert [s.name for s in picked] == ["train_loss", "valid_loss", "train_accuracy"]
    assert (picked[0].steps, picked[0].values) == ([1.0, 3.0], [2.0, 1.0])
    assert picked[2].values == [0.5, 0.6]
    reinforcement = _metrics(
        ["step", "completion_tokens_mean", "train_mean_reward", "full_valid_mean_reward"],
        [1, 100, 0.2, 0.3],
    )
    picked = chart_series(reinforcement)
    assert [s.name for s in picked] == ["train_mean_reward", "full_valid_mean_reward"]
    other = _metrics(["step", "text", "foo", "bar", "baz"], [1, "x", 1, 2, 3])
    assert [s.name for s in chart_series(other)] == ["foo", "bar"]
    assert chart_series(_metrics(["step", "text"], [1, "x"])) == []


# -- attach --content -------------------------------------------------------------------------


def stored_file(db: Path, file_id: str) -> tuple[str, bytes, str] | None:
    with connect(db) as conn:
        row = conn.execute(
            "SELECT encoding, raw, csv FROM result_file_contents WHERE file_id = ?", [file_id]
        ).fetchone()
    return None if row is None else (row[0], bytes(row[1]), row[2])


def test_attach_content_plain_stores_the_bytes(full: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", h.result_csv())
    result = full.ok("attach", JOB, h.RESULT_FILE, "--content", path)
    assert result.stderr == f"{JOB}: stored {h.RESULT_FILE} (CSV, 240 rows); 1 result file\n"
    assert stored_file(full.db, h.RESULT_FILE) == ("plain", path.read_bytes(), h.result_csv())
    assert full.show(JOB)["result_files"] == [h.RESULT_FILE]  # already there: not added twice


def test_attach_content_base64_adds_the_id(full: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "r.b64", h.result_base64())
    result = full.ok("attach", JOB, "file-new", "--content", path, "--json")
    assert json.loads(result.stdout)["result_files"] == [h.RESULT_FILE, "file-new"]
    assert stored_file(full.db, "file-new") == ("base64", h.result_base64(), h.result_csv())
    # The first result file has no content stored: metrics come from this one.
    assert full.ok("metrics", JOB).stdout == h.result_csv()


def test_attach_content_wrapped_base64_from_stdin(full: Cli) -> None:
    wrapped = base64.encodebytes(h.result_csv().encode()).decode()  # 76-column lines
    full.ok("attach", JOB, h.RESULT_FILE, "--content", "-", input=wrapped)
    assert stored_file(full.db, h.RESULT_FILE) == ("base64", wrapped.encode(), h.result_csv())


@pytest.mark.parametrize(
    "content", [b"", b"\x00\xff\xfe garbage", b"not base64 and not csv", b"aGVsbG8="]
)
def test_attach_content_that_is_not_a_result_file_changes_nothing(
    full: Cli, tmp_path: Path, content: bytes
) -> None:
    before = dump(full.db)
    path = write(tmp_path / "bad", content)
    error = error_line(full.fails(2, "attach", JOB, "file-bad", "--content", path))
    assert "file-bad" in error and "neither a CSV result file" in error
    assert dump(full.db) == before


def test_attach_content_needs_exactly_one_file_and_a_readable_path(
    full: Cli, tmp_path: Path
) -> None:
    before = dump(full.db)
    path = write(tmp_path / "r.csv", h.result_csv())
    error = error_line(full.fails(2, "attach", JOB, "file-a", "file-b", "--content", path))
    assert "--content" in error and "exactly one FILE_ID" in error
    error = error_line(full.fails(2, "attach", JOB, "file-a", "--content", tmp_path / "none"))
    assert "cannot read" in error
    full.fails(1, "attach", "ftjob-nope", "file-a", "--content", path)
    assert dump(full.db) == before


# -- show and delete --------------------------------------------------------------------------


def test_show_piped_and_json_are_unchanged_by_history(cli: Cli, tmp_path: Path) -> None:
    add_job(cli, tmp_path)
    before = (cli.ok("show", JOB).stdout, cli.ok("show", JOB, "--json").stdout)
    import_events(cli, tmp_path)
    import_checkpoints(cli, tmp_path)
    assert (cli.ok("show", JOB).stdout, cli.ok("show", JOB, "--json").stdout) == before


def test_show_on_a_terminal_adds_the_history(with_file: Cli) -> None:
    screen = run_in_terminal(with_file.db, "show", JOB, columns=120)
    assert screen.exit_code == 0, screen.text
    lines = {line.split()[0]: line for line in screen.lines if line.strip()}
    assert "250 (last 2024-07-23 20:01:23: The job has successfully completed)" in lines["events"]
    assert lines["checkpoints"].split()[1] == "3"
    assert f"from result file {h.RESULT_FILE}, events, checkpoints" in lines["metrics"]
    with_file.add("--id", "ftjob-bare")
    bare = run_in_terminal(with_file.db, "show", "ftjob-bare")
    assert any(line.startswith("history") and "none stored" in line for line in bare.lines)


def test_delete_takes_the_history_and_nothing_else(with_file: Cli, tmp_path: Path) -> None:
    with_file.ok("add", "--id", "ftjob-other", "--model", "m", "--training-file", "f")
    import_events(with_file, tmp_path, "ftjob-other")
    other = "step,train_loss\n1,2.5\n"
    with_file.ok("attach", "ftjob-other", "file-other", "--content", write(tmp_path / "o", other))
    kept = with_file.ok("events", "ftjob-other", "--jsonl").stdout
    with_file.ok("delete", JOB, "--yes")
    with connect(with_file.db) as conn:
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("job_events", "job_checkpoints", "result_file_contents")
        }
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        sources = conn.execute("SELECT DISTINCT source FROM job_metric_columns").fetchall()
    assert counts == {"job_events": 250, "job_checkpoints": 0, "result_file_contents": 1}
    assert sorted(sources) == [("events",), ("file:file-other",)]
    assert with_file.ok("events", "ftjob-other", "--jsonl").stdout == kept
    assert with_file.ok("metrics", "ftjob-other", "--csv").stdout == other


# -- on a terminal ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def terminal_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with three jobs: no history, one of each thing, and the 240-step job."""
    tmp_path = tmp_path_factory.mktemp("terminal")
    cli = Cli(tmp_path / "jobs.db")
    add_job(cli, tmp_path)
    import_events(cli, tmp_path)
    import_checkpoints(cli, tmp_path)
    cli.ok("attach", JOB, h.RESULT_FILE, "--content", write(tmp_path / "r", h.result_base64()))
    cli.add("--id", "ftjob-empty")
    cli.add("--id", "ftjob-one", "--status", "running")
    one_event = h.event_texts()[5]  # step 1's metrics
    cli.ok("import", "--job", "ftjob-one", write(tmp_path / "one.json", one_event))
    one_checkpoint = json.loads(h.checkpoint_texts()[0]) | {"fine_tuning_job_id": "ftjob-one"}
    cli.ok("import", write(tmp_path / "ck.json", json.dumps(one_checkpoint)))
    return cli.db


JOBS = {"empty": "ftjob-empty", "one": "ftjob-one", "many": JOB}
EXPECTED = {
    ("events", "empty"): "No events for ftjob-empty.",
    ("events", "one"): "Step 1/240: training loss=",
    ("events", "many"): "The job has successfully completed",
    ("checkpoints", "empty"): "No checkpoints for ftjob-empty.",
    ("checkpoints", "one"): "latest",
    ("checkpoints", "many"): "best valid",
    ("metrics", "empty"): "No metrics for ftjob-empty.",
    ("metrics", "one"): "1 step (1-1); train_loss",
    ("metrics", "many"): "240 steps (1-240); train_loss",
}


# Every width with many results; empty and one (short output) at the narrowest and the widest.
@pytest.mark.parametrize(
    ("count", "columns"),
    [("empty", 80), ("one", 80), ("one", 160), ("many", 80), ("many", 120), ("many", 160)],
)
@pytest.mark.parametrize("command", ["events", "checkpoints", "metrics"])
def test_on_a_terminal(terminal_db: Path, command: str, count: str, columns: int) -> None:
    screen = run_in_terminal(terminal_db, command, JOBS[count], columns=columns)
    assert screen.exit_code == 0, screen.text
    assert "Traceback" not in screen.text
    assert EXPECTED[command, count] in " ".join(screen.lines), screen.text
    too_wide = [line for line in screen.lines if len(line) > columns]
    assert not too_wide, screen.text


def test_metrics_chart_colour_and_width(terminal_db: Path) -> None:
    screen = run_in_terminal(terminal_db, "metrics", JOB, columns=80)
    assert colour_codes(screen.text)  # braille series in colour
    top = next(line for line in screen.lines if line.startswith("┌"))
    assert 70 <= len(top) <= 80
    assert "train_loss" in screen.text and "valid_loss" in screen.text
    assert "min 0.4 at 160" in " ".join(screen.lines)


@pytest.mark.parametrize("command", ["events", "checkpoints", "metrics", "show"])
def test_no_color_and_a_dumb_terminal(terminal_db: Path, command: str) -> None:
    no_color = run_in_terminal(terminal_db, command, JOB, env={"NO_COLOR": "1"})
    assert no_color.exit_code == 0 and "Traceback" not in no_color.text
    assert colour_codes(no_color.text) == [], no_color.text
    dumb = run_in_terminal(terminal_db, command, JOB, columns=160, env={"TERM": "dumb"})
    assert dumb.exit_code == 0 and "Traceback" not in dumb.text
    assert ESCAPE not in dumb.text, dumb.text
    # COLUMNS is still honoured (Rich alone would take a dumb terminal as 80 columns).
    if command == "show":  # the events line fits whole: at 80 columns it wraps
        assert any(line.startswith("events") and "completed)" in line for line in dumb.lines)
    else:
        assert max(len(line) for line in dumb.lines) > 100
    assert all(len(line) <= 160 for line in dumb.lines)


def test_metrics_without_colour_tells_the_series_apart(terminal_db: Path) -> None:
    """Each panel's legend gives each of its series its own mark; every column of the result
    file is drawn, losses and accuracies on panels of their own."""
    screen = run_in_terminal(terminal_db, "metrics", JOB, env={"NO_COLOR": "1"})
    titles = [n for n, line in enumerate(screen.lines) if line in ("loss", "accuracy")]
    assert [screen.lines[n] for n in titles] == ["loss", "accuracy"], screen.text
    panels = [
        screen.lines[start:end] for start, end in zip(titles, [*titles[1:], None], strict=True)
    ]
    drawn = []
    for panel in panels:
        legend = panel[next(n for n, line in enumerate(panel) if line.endswith("step")) + 1 :]
        marks = re.findall(r"(?:^|\s)(\S)\1 (\w+)", "\n".join(legend))
        assert len({mark for mark, _ in marks}) == len(marks), panel
        drawn.append([name for _, name in marks])
    assert drawn == [["train_loss", "valid_loss"], ["train_accuracy", "valid_mean_token_accuracy"]]


def test_hostile_event_text_cannot_drive_the_terminal(cli: Cli, tmp_path: Path) -> None:
    cli.add("--id", "ftjob-x")
    event = json.loads(h.event_texts()[0]) | {"message": "red \x1b[31mALERT\x1b[0m\tbell\x07"}
    cli.ok("import", "--job", "ftjob-x", write(tmp_path / "e.json", json.dumps(event)))
    screen = run_in_terminal(cli.db, "events", "ftjob-x", env={"TERM": "dumb"})
    assert ESCAPE not in screen.text and "\x07" not in screen.text
    assert "ALERT" in screen.text


def test_only_the_chart_imports_numpy() -> None:
    """uniplot brings numpy (~0.3 s to import); sqlite_utils would import it whenever it is
    installed, on every command that opens the store."""
    code = (
        "import sys, ftjobs.cli, ftjobs.store, ftjobs.render.charts, ftjobs.render.metrics\n"
        "print('numpy' in sys.modules)\n"
        "import uniplot\n"
        "print('numpy' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]
