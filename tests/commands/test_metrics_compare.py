"""`metrics` with every series on panels as tall as the terminal, and `metrics A B [C...]`
comparing runs: real stores built through the CLI, piped output in-process, terminal views in a
pseudo-terminal at 80x24 and 160x40."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support import historydata as h
from support.helpers import Cli, error_line
from support.history import add_job, colour_codes, import_events, write
from support.terminal import ESCAPE, Screen, run_in_terminal

from ftjobs.api.diff import losses
from ftjobs.render.metrics import short_labels
from ftjobs.store.records import Metrics

# Three runs: the 240-step job (its metrics events: every supervised column, full_valid_* at
# the end), a second whose result file ends the same way as the first's id but for its tail,
# and a third with no metrics at all.
EVENTS_JOB = h.JOB_ID  # ftjob-HistoryJob240StepsAbcd
FILE_JOB = "ftjob-HistoryJob240StepsWxyz"
BARE_JOB = "ftjob-HistoryJobWithNoMetrics"
SERIES = (
    "train_loss",
    "valid_loss",
    "full_valid_loss",
    "train_mean_token_accuracy",
    "valid_mean_token_accuracy",
    "full_valid_mean_token_accuracy",
)


def second_csv() -> str:
    """A shorter run that learns more slowly: 120 steps, valid every 20, best at step 100."""
    lines = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]
    for step in range(1, 121):
        valid = f"{0.9 + ((step - 100) / 100) ** 2:.5f},0.7" if step % 20 == 0 else ","
        lines.append(f"{step},{2.5 - step / 100:.5f},{0.4 + step / 400:.5f},{valid}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def runs_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("runs")
    cli = Cli(tmp_path / "jobs.db")
    add_job(cli, tmp_path)
    import_events(cli, tmp_path)
    cli.ok("import", write(tmp_path / "b.json", json.dumps(h.job(id=FILE_JOB, seed=8))))
    cli.ok("attach", FILE_JOB, "file-Second", "--content", write(tmp_path / "b.csv", second_csv()))
    cli.ok("import", write(tmp_path / "c.json", json.dumps(h.job(id=BARE_JOB, result_files=[]))))
    return cli.db


# stderr's hint (a long command with two ids) is one line, however wide: the terminal wraps it.
HINT = "Store the result file: "


def _fits(screen: Screen, columns: int, rows: int) -> None:
    """No traceback, nothing wider than the terminal, and the whole view with the shell's
    next prompt on one screen (counting the lines the terminal wraps)."""
    assert screen.exit_code == 0, screen.text
    assert "Traceback" not in screen.text
    drawn = [line for line in screen.lines if not line.startswith(HINT)]
    assert all(len(line) <= columns for line in drawn), screen.text
    height = sum(max(1, -(-len(line) // columns)) for line in screen.lines)
    assert height <= rows - 1, f"{height} lines:\n{screen.text}"


def _legend_names(screen: Screen, start: int = 0) -> list[tuple[str, str]]:
    """(mark, name) in the legends from line `start` on: the words after a doubled mark
    (``++ train_loss``, ``oo …Abcd valid_loss``)."""
    return re.findall(r"(?:^|\s)(\S)\1 ((?:…\w+ )?\w+)", "\n".join(screen.lines[start:]))


SIZES = [(80, 24), (160, 40)]
PLAIN = [{"NO_COLOR": "1"}, {"TERM": "dumb"}]


# -- one job ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("columns", "rows"), SIZES)
@pytest.mark.parametrize("env", PLAIN, ids=["no-color", "dumb"])
def test_one_job_draws_every_series_on_panels_that_fit(
    runs_db: Path, columns: int, rows: int, env: dict[str, str]
) -> None:
    screen = run_in_terminal(runs_db, "metrics", EVENTS_JOB, columns=columns, rows=rows, env=env)
    _fits(screen, columns, rows)
    assert colour_codes(screen.text) == [] and (ESCAPE not in screen.text or "NO_COLOR" in env)
    assert [line for line in screen.lines if line in ("loss", "accuracy")] == ["loss", "accuracy"]
    x_axes = [line for line in screen.lines if re.fullmatch(r" +\d+( +\d+)+ +step", line)]
    assert len(x_axes) == 2, screen.text  # each panel's step labels, titled
    names = [name for _, name in _legend_names(screen)]
    assert sorted(names) == sorted(SERIES), screen.text  # total_steps is not a metric
    # Losses on the first panel, accuracies on the second, each with its own y axis.
    accuracy_at = screen.lines.index("accuracy")
    loss_legend = " ".join(screen.lines[:accuracy_at])
    assert "full_valid_loss" in loss_legend and "accuracy" not in loss_legend.replace("…", "")
    assert "240 steps (1-240); train_loss" in " ".join(screen.lines)


def test_the_chart_grows_with_the_terminal(runs_db: Path) -> None:
    short = run_in_terminal(runs_db, "metrics", EVENTS_JOB, columns=160, rows=24)
    tall = run_in_terminal(runs_db, "metrics", EVENTS_JOB, columns=160, rows=40)
    _fits(short, 160, 24)
    _fits(tall, 160, 40)
    assert len(tall.lines) >= len(short.lines) + 12  # the room goes to the plots
    assert len(tall.lines) >= 40 - 4


def test_one_job_piped_output_is_unchanged(runs_db: Path) -> None:
    """One id keeps the outputs scripts read: the result file byte for byte, no job column."""
    cli = Cli(runs_db)
    assert cli.ok("metrics", FILE_JOB).stdout == second_csv()
    assert cli.ok("metrics", FILE_JOB, "--csv").stdout == second_csv()
    rows = cli.json("metrics", FILE_JOB, "--json")
    assert rows[19] == {
        "step": 20,
        "train_loss": 2.3,
        "train_accuracy": 0.45,
        "valid_loss": 1.54,
        "valid_mean_token_accuracy": 0.7,
    }
    # The same id twice is one job.
    assert cli.ok("metrics", FILE_JOB, FILE_JOB).stdout == second_csv()


# -- several jobs -----------------------------------------------------------------------------


@pytest.fixture
def small(cli: Cli, tmp_path: Path) -> Cli:
    """Two tiny runs whose every value is known, with different columns."""
    for job_id, text in (
        ("ftjob-SmallRunOne", "step,train_loss,valid_loss\n1,2.5,\n2,2,2.25\n"),
        ("ftjob-SmallRunTwo", "step,train_loss,train_accuracy\n1,3.0,0.4\n"),
    ):
        cli.ok("import", write(tmp_path / f"{job_id}.json", json.dumps(h.job(id=job_id))))
        cli.ok("attach", job_id, f"file-{job_id}", "--content", write(tmp_path / job_id, text))
    return cli


def test_compare_csv_has_a_leading_job_column(small: Cli) -> None:
    expected = (
        "job,step,train_loss,valid_loss,train_accuracy\n"
        "ftjob-SmallRunOne,1,2.5,,\n"
        "ftjob-SmallRunOne,2,2,2.25,\n"
        "ftjob-SmallRunTwo,1,3.0,,0.4\n"
    )
    assert small.ok("metrics", "ftjob-SmallRunOne", "ftjob-SmallRunTwo", "--csv").stdout == expected
    assert small.ok("metrics", "ftjob-SmallRunOne", "ftjob-SmallRunTwo").stdout == expected


def test_compare_json_is_one_object_per_job_and_step(small: Cli) -> None:
    result = small.ok("metrics", "ftjob-SmallRunTwo", "ftjob-SmallRunOne", "--json")
    assert result.stdout == (
        "[\n"
        '{"job": "ftjob-SmallRunTwo", "step": 1, "train_loss": 3.0, "train_accuracy": 0.4},\n'
        '{"job": "ftjob-SmallRunOne", "step": 1, "train_loss": 2.5, "valid_loss": null},\n'
        '{"job": "ftjob-SmallRunOne", "step": 2, "train_loss": 2, "valid_loss": 2.25}\n'
        "]\n"
    )
    assert result.stderr == ""


def test_compare_a_missing_job_is_one_error_line(small: Cli) -> None:
    failed = small.fails(1, "metrics", "ftjob-SmallRunOne", "ftjob-NotStoredHere", "--json")
    assert "ftjob-NotStoredHere" in error_line(failed)
    refused = small.fails(2, "metrics", "ftjob-SmallRunOne", "ftjob-SmallRunTwo", "--file", "f")
    assert "--file" in error_line(refused)


def test_compare_leaves_out_a_job_without_metrics_and_names_it(runs_db: Path) -> None:
    cli = Cli(runs_db)
    result = cli.ok("metrics", FILE_JOB, BARE_JOB, "--json")
    assert result.stderr == f"Warning: no metrics for {BARE_JOB}; it is left out.\n"
    assert {row["job"] for row in json.loads(result.stdout)} == {FILE_JOB}
    none = cli.ok("metrics", BARE_JOB, BARE_JOB, "--csv")  # the same id twice: one job
    assert none.stdout == "" and f"No metrics for {BARE_JOB}" in none.stderr


@pytest.mark.parametrize(("columns", "rows"), SIZES)
@pytest.mark.parametrize("env", PLAIN, ids=["no-color", "dumb"])
def test_compare_on_a_terminal(runs_db: Path, columns: int, rows: int, env: dict[str, str]) -> None:
    screen = run_in_terminal(
        runs_db, "metrics", EVENTS_JOB, FILE_JOB, BARE_JOB, columns=columns, rows=rows, env=env
    )
    _fits(screen, columns, rows)
    assert colour_codes(screen.text) == []
    assert f"Warning: no metrics for {BARE_JOB}; it is left out." in screen.lines
    # The legend names each run by the tail of its id that tells them apart; each series of a
    # panel has a mark of its own.
    legend = _legend_names(screen)
    names = {name for _, name in legend}
    assert names == {
        "…Abcd train_loss",
        "…Abcd valid_loss",
        "…Wxyz train_loss",
        "…Wxyz valid_loss",
        "…Abcd train_mean_token_accuracy",
        "…Abcd valid_mean_token_accuracy",
        "…Wxyz train_accuracy",
        "…Wxyz valid_mean_token_accuracy",
    }, screen.text
    loss_marks = [mark for mark, name in legend if "loss" in name]
    assert len(set(loss_marks)) == len(loss_marks) == 4
    # Losses on the first panel, accuracies on the second.
    accuracy_at = screen.lines.index("accuracy")
    assert len(legend) == 8
    assert all("acc" in name for _, name in _legend_names(screen, accuracy_at))
    # The table: each run's id whole on one line, its final losses and its best valid loss.
    table = {line.split()[0]: line.split()[1:] for line in screen.lines if line.startswith("ftjob")}
    assert table[EVENTS_JOB] == ["0.1274", "0.8444", "0.4", "160"]
    assert table[FILE_JOB] == ["1.3", "0.94", "0.9", "100"]
    assert BARE_JOB not in table


def test_compare_in_colour_gives_each_job_its_colour(runs_db: Path) -> None:
    screen = run_in_terminal(runs_db, "metrics", EVENTS_JOB, FILE_JOB, columns=100, rows=40)
    _fits(screen, 100, 40)
    codes = set(colour_codes(screen.text))
    assert len(codes) >= 2, screen.text  # one per job
    # In colour the mark tells the metric: a job's train and valid losses differ by mark, the
    # two jobs' train losses share one.
    legend = dict((name, mark) for mark, name in _legend_names(screen))
    assert legend["…Abcd train_loss"] == legend["…Wxyz train_loss"]
    assert legend["…Abcd train_loss"] != legend["…Abcd valid_loss"]


# -- the parts --------------------------------------------------------------------------------


def test_short_labels_tell_every_job_apart() -> None:
    assert short_labels([EVENTS_JOB, FILE_JOB]) == ["…Abcd", "…Wxyz"]
    # Tails that agree take more characters until they differ.
    assert short_labels(["ftjob-AAAAxyz1234", "ftjob-BBBBxyz1234", "ftjob-C"]) == [
        "…Axyz1234",
        "…Bxyz1234",
        "ftjob-C",
    ]
    assert short_labels(["ftjob-1", "xftjob-1"]) == ["ftjob-1", "xftjob-1"]


def test_losses_final_and_best() -> None:
    metrics = Metrics(
        "events",
        ["step", "train_loss", "valid_loss"],
        [[1, 2.0, None], [2, 1.5, 1.2], [3, 1.0, 1.2], [4, 0.9, 1.3]],
    )
    found = losses(metrics)
    assert (found.final_train, found.final_valid) == (0.9, 1.3)
    assert (found.best, found.best_step, found.best_of) == (1.2, 2, "valid_loss")  # earliest
    train_only = losses(Metrics("events", ["step", "train_loss"], [[1, 2.0], [2, 1.0]]))
    assert (train_only.best, train_only.best_step, train_only.best_of) == (1.0, 2, "train_loss")
    assert losses(None).best is None
