"""`diff A B`: only the fields that differ, piped, as JSON and on a terminal at 80x24 and 160x40;
stores built through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import historydata as h
from support.helpers import Cli, error_line
from support.history import write
from support.terminal import ESCAPE, run_in_terminal

from ftjobs.api.diff import duration_text

A = h.JOB_ID  # supervised (the old top-level hyperparameters), succeeded, with a result file
B = "ftjob-DiffOtherJobAbcdefghijkl"  # DPO on another model, failed
MESSAGE = (
    "The training file has 3 examples that are too long for the model's context window;"
    " remove them and try again."
)


def _jobs() -> list[dict[str, object]]:
    a = h.job(metadata={"team": "ads", "run": "baseline"})
    b = h.job(
        id=B,
        model="gpt-4o-2024-08-06",
        fine_tuned_model=None,
        status="failed",
        finished_at=h.START + 3725,
        trained_tokens=None,
        result_files=[],
        error={"code": "invalid_training_file", "message": MESSAGE, "param": "training_file"},
        hyperparameters=None,
        method={
            "type": "dpo",
            "dpo": {
                "hyperparameters": {
                    "beta": 0.1,
                    "n_epochs": 2,
                    "batch_size": 1,
                    "learning_rate_multiplier": 1.8,
                }
            },
        },
        metadata={"team": "search", "run": "baseline"},
    )
    return [a, b]


@pytest.fixture(scope="module")
def diff_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("diff")
    cli = Cli(tmp_path / "jobs.db")
    cli.ok("import", write(tmp_path / "jobs.json", json.dumps(_jobs())))
    cli.ok("attach", A, h.RESULT_FILE, "--content", write(tmp_path / "r.csv", h.result_csv()))
    return cli.db


# Only these differ: the same training and validation files, seed, batch size, learning rate
# and metadata.run are left out, and so are the times (the duration stands for them) and ids.
EXPECTED = [
    ("model", "gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06"),
    ("method.type", None, "dpo"),
    ("hyperparameters.n_epochs", 3, 2),
    ("hyperparameters.beta", None, 0.1),
    ("metadata.team", "ads", "search"),
    ("status", "succeeded", "failed"),
    ("error.code", None, "invalid_training_file"),
    ("error.message", None, MESSAGE),
    ("error.param", None, "training_file"),
    ("fine_tuned_model", h.MODEL, None),
    ("trained_tokens", 123456, None),
    ("duration", 200, 3725),
    ("final_train_loss", h.train_loss(240), None),
    ("final_valid_loss", h.valid_loss(240), None),
    ("best_loss_of", "valid_loss", None),
    ("best_loss", 0.4, None),
    ("best_loss_step", 160, None),
]


def test_diff_json_lists_only_what_differs(diff_db: Path) -> None:
    result = Cli(diff_db).ok("diff", A, B, "--json")
    assert json.loads(result.stdout) == {
        "a": A,
        "b": B,
        "differences": [{"field": f, "a": a, "b": b} for f, a, b in EXPECTED],
    }
    assert result.stderr == ""


def test_diff_piped_is_tab_separated_lines(diff_db: Path) -> None:
    lines = Cli(diff_db).ok("diff", A, B).stdout.splitlines()

    def spelt(value: object) -> str:
        return "" if value is None else value if isinstance(value, str) else json.dumps(value)

    assert lines == [f"{field}\t{spelt(a)}\t{spelt(b)}" for field, a, b in EXPECTED]
    assert lines[1] == "method.type\t\tdpo"
    # The other way round: A's and B's values swap.
    swapped = Cli(diff_db).ok("diff", B, A).stdout.splitlines()
    assert swapped[0] == "model\tgpt-4o-2024-08-06\tgpt-4o-mini-2024-07-18"


def test_identical_jobs_say_so(diff_db: Path) -> None:
    cli = Cli(diff_db)
    result = cli.ok("diff", A, A)
    assert result.stdout == ""
    assert result.stderr == f"{A} and {A} do not differ in any field diff compares.\n"
    assert json.loads(cli.ok("diff", B, B, "--json").stdout) == {"a": B, "b": B, "differences": []}


def test_diff_of_a_missing_job_is_one_error_line(diff_db: Path) -> None:
    cli = Cli(diff_db)
    assert "ftjob-NotStoredHere" in error_line(cli.fails(1, "diff", A, "ftjob-NotStoredHere"))
    assert "ftjob-NotStoredHere" in error_line(cli.fails(1, "diff", "ftjob-NotStoredHere", B))
    cli.fails(2, "diff", A)


def test_methods_of_different_kinds_compare_their_settings(cli: Cli, tmp_path: Path) -> None:
    """Supervised and DPO epochs are compared by name; a reinforcement grader's settings and
    a metadata key one job lacks show, and a job without metrics has no losses."""
    supervised = h.job(
        id="ftjob-Supervised",
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 4}}},
    )
    reinforcement = h.job(
        id="ftjob-Reinforced",
        method={
            "type": "reinforcement",
            "reinforcement": {
                "hyperparameters": {"n_epochs": 4, "reasoning_effort": "low"},
                "grader": {"type": "string_check", "name": "exact", "operation": "eq"},
            },
        },
        metadata={"team": "ads"},
    )
    cli.ok("import", write(tmp_path / "two.json", json.dumps([supervised, reinforcement])))
    found = cli.json("diff", "ftjob-Supervised", "ftjob-Reinforced", "--json")["differences"]
    assert [(d["field"], d["a"], d["b"]) for d in found] == [
        ("method.type", "supervised", "reinforcement"),
        ("hyperparameters.reasoning_effort", None, "low"),
        ("method.grader.type", None, "string_check"),
        ("method.grader.name", None, "exact"),
        ("method.grader.operation", None, "eq"),
        ("metadata.team", None, "ads"),
    ]


def test_duration_text() -> None:
    assert [duration_text(s) for s in (12, 200, 3725, 90_000)] == [
        "12s",
        "3m 20s",
        "1h 02m",
        "1d 01h",
    ]


@pytest.mark.parametrize(("columns", "rows"), [(80, 24), (160, 40)])
@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}], ids=["no-color", "dumb"])
def test_diff_on_a_terminal(diff_db: Path, columns: int, rows: int, env: dict[str, str]) -> None:
    screen = run_in_terminal(diff_db, "diff", A, B, columns=columns, rows=rows, env=env)
    assert screen.exit_code == 0, screen.text
    assert "Traceback" not in screen.text
    if env.get("TERM") == "dumb":
        assert ESCAPE not in screen.text
    assert all(len(line) <= columns for line in screen.lines), screen.text
    # Ids and model names whole on a line; the error message wraps between words only.
    for whole in (A, B, h.MODEL, "gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06"):
        assert any(whole in line for line in screen.lines), (whole, screen.text)
    assert MESSAGE in " ".join(line.strip() for line in screen.lines)
    text = " ".join(screen.lines)
    first_words = {line.split()[0] for line in screen.lines if line.strip()}
    assert {field for field, _, _ in EXPECTED} <= first_words
    for same in ("training_file", "seed", "hyperparameters.batch_size", "metadata.run"):
        assert same not in first_words
    assert "created_at" not in text and "finished_at" not in text
    assert "3m 20s" in text and "1h 02m" in text and "123,456" in text
    if columns == 160:  # side by side: the field, A's value and B's value on one line
        assert any(line.split() == ["model", "gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06"]
                   for line in screen.lines)  # fmt: skip
