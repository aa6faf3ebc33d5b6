"""The command line as a whole: the installed `ftjobs` script and `python -m ftjobs` in real
processes (kept few: each costs a fraction of a second), and how failures are reported."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.helpers import (
    ANSI_RE,
    BOX_CHARS,
    CLEAN_ENV,
    Cli,
    describe,
    dump,
    error_line,
)
from typer.testing import CliRunner

import ftjobs
from ftjobs.cli import app

JQ = shutil.which("jq")


def ftjobs_script() -> str:
    found = shutil.which("ftjobs")
    if found:
        return found
    script = Path(sys.executable).parent / "ftjobs"
    assert script.exists(), "the ftjobs console script is not installed"
    return str(script)


def process_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in CLEAN_ENV}
    env.pop("FORCE_COLOR", None)
    env.update(overrides)
    return env


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*args],
        capture_output=True,
        text=True,
        env=env or process_env(),
        timeout=30,
        check=False,
    )


# -- real processes -------------------------------------------------------------------------


def test_version_from_the_console_script() -> None:
    done = run(ftjobs_script(), "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"ftjobs {ftjobs.__version__}\n"
    assert done.stderr == ""


def test_version_from_python_m_ftjobs() -> None:
    done = run(sys.executable, "-m", "ftjobs", "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"ftjobs {ftjobs.__version__}\n"


def test_piped_list_is_plain_tab_separated_text(cli: Cli) -> None:
    cli.add("--id", "ftjob-one", "--created-at", "2024-07-23", model="gpt-4o-mini")
    cli.add("--id", "ftjob-two", "--created-at", "2024-07-24", "--wandb-project", "p")
    cli.ok("update", "ftjob-two", "--status", "succeeded", "--finished-at", "2024-07-25",
           "--fine-tuned-model", "ft:gpt-4o-mini:org::x")  # fmt: skip

    done = run(ftjobs_script(), "--db", str(cli.db), "list",
               env=process_env(TERM="xterm-256color", COLUMNS="200"))  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert not ANSI_RE.search(done.stdout)
    assert not BOX_CHARS & set(done.stdout)
    assert [line.split("\t") for line in done.stdout.splitlines()] == [
        ["ftjob-two", "succeeded", "gpt-4o-mini", "2024-07-24T00:00:00Z", "2024-07-25T00:00:00Z",
         "ft:gpt-4o-mini:org::x"],
        ["ftjob-one", "validating_files", "gpt-4o-mini", "2024-07-23T00:00:00Z", "", ""],
    ]  # fmt: skip
    assert done.stderr == ""


@pytest.mark.skipif(JQ is None, reason="jq is not installed")
def test_list_json_piped_through_jq(cli: Cli) -> None:
    cli.add("--id", "ftjob-old", "--created-at", 100, "--n-epochs", "3")
    cli.add("--id", "ftjob-new", "--created-at", 200, "--status", "running")
    assert JQ is not None

    with subprocess.Popen(
        [ftjobs_script(), "--db", str(cli.db), "list", "--json"],
        stdout=subprocess.PIPE,
        env=process_env(),
    ) as producer:
        done = subprocess.run(
            [JQ, "-r", ".[] | [.id, .status, (.hyperparameters.n_epochs | tostring)] | @tsv"],
            stdin=producer.stdout,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert producer.stdout is not None
        producer.stdout.close()
    assert producer.returncode == 0
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ftjob-new\trunning\tauto\nftjob-old\tvalidating_files\t3\n"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["show", "ftjob-missing"], 1),
        (["add", "--model", "m", "--training-file", "f", "--n-epochs", "0"], 2),
    ],
)
def test_errors_go_to_stderr_with_an_exit_status(cli: Cli, args: list[str], code: int) -> None:
    cli.add()
    before = dump(cli.db)

    done = run(ftjobs_script(), "--db", str(cli.db), *args)

    assert done.returncode == code
    assert done.stdout == ""
    assert done.stderr.startswith("Error: ")
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert dump(cli.db) == before


def test_ftjobs_debug_shows_the_traceback(cli: Cli) -> None:
    cli.add()
    done = run(ftjobs_script(), "--db", str(cli.db), "show", "ftjob-missing",
               env=process_env(FTJOBS_DEBUG="1"))  # fmt: skip

    assert done.returncode != 0
    assert done.stdout == ""
    assert "Traceback (most recent call last)" in done.stderr
    assert "JobNotFound" in done.stderr


# -- failures in-process --------------------------------------------------------------------

EXPECTED_FAILURES = [
    (1, ["show", "ftjob-missing"]),
    (1, ["update", "ftjob-missing", "--status", "running"]),
    (1, ["attach", "ftjob-missing", "file-1"]),
    (1, ["delete", "ftjob-missing", "--yes"]),
    (1, ["add", "--id", "ftjob-exists", "--model", "m", "--training-file", "f"]),
    (2, ["add", "--model", "m", "--training-file", "f", "--batch-size", "0"]),
    (2, ["add", "--model", "m", "--training-file", "f", "--metadata", "bad"]),
    (2, ["add", "--model", "m", "--training-file", "f", "--created-at", "-5"]),
    (2, ["add", "--model", "m", "--training-file", "f", "--seed", str(2**64)]),
    (2, ["add", "--id", "", "--model", "m", "--training-file", "f"]),
    (2, ["update", "ftjob-exists"]),
    (2, ["list", "--sort", "bogus"]),
    (2, ["list", "--json", "--jsonl"]),
    (2, ["delete", "ftjob-exists"]),
    (2, ["no-such-command"]),
]


@pytest.mark.parametrize(("code", "args"), EXPECTED_FAILURES)
def test_expected_failures_are_reported_without_a_traceback(
    cli: Cli, code: int, args: list[str]
) -> None:
    cli.add("--id", "ftjob-exists")
    before = dump(cli.db)

    result = cli.fails(code, *args)

    assert result.stderr.strip()
    assert dump(cli.db) == before


def test_handled_errors_are_one_error_line(cli: Cli) -> None:
    cli.create_store()
    result = cli.fails(1, "show", "ftjob-missing")
    assert result.stderr == "Error: no job with id 'ftjob-missing'\n"


def test_ftjobs_debug_lets_the_exception_through_in_process(cli: Cli) -> None:
    cli.create_store()
    result = cli("show", "ftjob-missing", env={"FTJOBS_DEBUG": "1"})
    assert result.exit_code != 0
    assert type(result.exception).__name__ == "JobNotFound"


def test_bad_busy_timeout_is_reported(cli: Cli) -> None:
    result = cli.fails(2, "list", env={"FTJOBS_BUSY_TIMEOUT": "soon"})
    assert "FTJOBS_BUSY_TIMEOUT" in error_line(result)


def test_db_can_come_from_the_environment(tmp_path: Path) -> None:
    db = tmp_path / "from-env.db"
    runner = CliRunner()
    result = runner.invoke(
        app, ["add", "--model", "m", "--training-file", "f", "--id", "ftjob-env"],
        env={**CLEAN_ENV, "FTJOBS_DB": str(db)},
    )  # fmt: skip
    assert result.exit_code == 0, describe(result)
    assert Cli(db).show("ftjob-env")["id"] == "ftjob-env"


# -- bugs -----------------------------------------------------------------------------------


def test_every_in_process_run_prints_to_the_current_stdout(db: Path) -> None:
    """Regression: render's writers once took `out=sys.stdout` as a default, bound at import, so
    every run in a process after the first wrote to a closed stream (exit 1)."""
    # Import render afresh inside the first run, as a new process would.
    for module in ("ftjobs.render.output", "ftjobs.render.jobs"):
        sys.modules.pop(module, None)
    vars(ftjobs).pop("render", None)
    Cli(db).create_store()
    for command in (["list", "--json"], ["list", "--jsonl"], ["list"], ["list", "--json"]):
        runner = CliRunner()
        result = runner.invoke(app, ["--db", str(db), *command], env=CLEAN_ENV)
        assert result.exit_code == 0, describe(result)
        assert result.stdout == ("[]\n" if "--json" in command else "")
    job_id = Cli(db).add()
    for command in (["show", job_id, "--json"], ["show", job_id]):
        result = CliRunner().invoke(app, ["--db", str(db), *command], env=CLEAN_ENV)
        assert result.exit_code == 0, describe(result)
        assert job_id in result.stdout


@pytest.mark.parametrize("option", ["--since", "--until", "--limit"])
def test_huge_numbers_in_list_options_are_a_clean_error(cli: Cli, option: str) -> None:
    result = cli.fails(2, "list", option, str(2**64))
    assert option in result.stderr or str(2**64) in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["show", "ftjob-\udcff"],
        ["add", "--model", "gpt-\udcff", "--training-file", "f"],
    ],
)
def test_text_that_is_not_utf8_is_a_clean_error(cli: Cli, args: list[str]) -> None:
    cli.add("--id", "ftjob-ok")
    before = dump(cli.db)

    result = cli(*args)

    assert result.exit_code in (1, 2), describe(result)
    assert isinstance(result.exception, SystemExit), describe(result)
    assert error_line(result)
    assert dump(cli.db) == before


def test_a_misspelt_choice_gets_the_nearest_one(cli: Cli) -> None:
    result = cli.fails(2, "list", "--status", "succeded")
    line = error_line(result)
    assert line.endswith("(did you mean 'succeeded'?)") and "Value error" not in line


def test_the_command_line_choices_are_the_model_s_values() -> None:
    """Status (an enum, for typer) and JobStatus (a Literal, for pydantic) must not drift."""
    from ftjobs.api.constants import JOB_STATUSES, SORT_FIELDS, Status
    from ftjobs.store import SORT_COLUMNS

    assert tuple(status.value for status in Status) == JOB_STATUSES
    assert tuple(SORT_COLUMNS) == SORT_FIELDS
