"""What the tests share besides fixtures: the real CLI run in-process, paths and checks.

Test modules import from here (`from helpers import Cli, error_line`); conftest.py holds only
the fixtures.

typer's CliRunner (typer >= 0.26 ships its own copy of click's) keeps the two streams apart:
``result.stdout`` is what went to stdout, ``result.stderr`` what went to stderr, and
``result.output`` both interleaved. CliRunner's stdin and stdout are not terminals, so the
commands take their "piped" paths (plain tab-separated text, no Rich).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from ftjobs.cli import app

TESTS = Path(__file__).resolve().parent.parent
REPO_ROOT = TESTS.parent
FIXTURES = TESTS / "fixtures"
EXAMPLES = FIXTURES / "examples"
SPEC_SCHEMAS = FIXTURES / "openapi-finetuning-schemas.json"

JOB_ID_RE = re.compile(r"ftjob-[A-Za-z0-9]{24}")
ANSI_RE = re.compile(r"\x1b\[")
BOX_CHARS = set("─│╭╮╰╯┃━┏┓┗┛┡┩└┘┌┐├┤┬┴┼═║")

# Variables ftjobs reads; a developer's own settings must not leak into the tests.
CLEAN_ENV: dict[str, str | None] = {
    "FTJOBS_DB": None,
    "FTJOBS_DEBUG": None,
    "FTJOBS_BUSY_TIMEOUT": None,
}

# Tables that hold a job's data; `delete` must leave none of its rows behind.
JOB_TABLES = ("jobs", "job_errors", "job_hyperparameters", "job_result_files", "job_integrations")


def describe(result: Result) -> str:
    return (
        f"exit {result.exit_code}, exception {result.exception!r}\n"
        f"--- stdout ---\n{result.stdout}--- stderr ---\n{result.stderr}"
    )


def error_line(result: Result) -> str:
    """The one `Error: ...` line a handled failure writes to stderr."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, describe(result)
    return lines[0]


class Cli:
    """Runs `ftjobs --db <db> ...` in-process against one SQLite file."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.runner = CliRunner()

    def __call__(
        self, *args: Any, input: str | None = None, env: dict[str, str | None] | None = None
    ) -> Result:
        return self.runner.invoke(
            app,
            ["--db", str(self.db), *(str(arg) for arg in args)],
            input=input,
            env={**CLEAN_ENV, **(env or {})},
        )

    def ok(self, *args: Any, **kwargs: Any) -> Result:
        result = self(*args, **kwargs)
        assert result.exit_code == 0, describe(result)
        assert "Traceback" not in result.stderr
        return result

    def fails(self, code: int, *args: Any, **kwargs: Any) -> Result:
        """Run a command that must be refused: the exit status, nothing on stdout, no traceback."""
        result = self(*args, **kwargs)
        assert result.exit_code == code, describe(result)
        # A handled failure ends in SystemExit; anything else escaped the error handling.
        assert isinstance(result.exception, SystemExit), describe(result)
        assert result.stdout == "", describe(result)
        assert "Traceback" not in result.stderr, describe(result)
        return result

    def json(self, *args: Any) -> Any:
        return json.loads(self.ok(*args).stdout)

    def add(
        self, *args: Any, model: str = "gpt-4o-mini", training_file: str = "file-abc123"
    ) -> str:
        """`add` a job and return its id."""
        result = self.ok("add", "--model", model, "--training-file", training_file, *args)
        return result.stdout.strip()

    def show(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self.json("show", job_id, "--json")
        return job

    def stored_ids(self) -> list[str]:
        """Ids of every stored job, newest first; none when no store was ever created."""
        if not self.db.exists():
            return []
        return self.list_ids("--all")

    def create_store(self) -> None:
        """An empty store (read commands never create one)."""
        from ftjobs.store import Store

        Store.open(self.db).close()

    def list_ids(self, *args: Any) -> list[str]:
        return [job["id"] for job in self.json("list", "--json", *args)]


@contextmanager
def connect(db: Path, *, foreign_keys: bool = True) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection to the file, closed afterwards."""
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        yield conn


def dump(db: Path) -> list[str]:
    """Every table's schema and rows, to show that a refused command changed nothing."""
    with connect(db) as conn:
        return list(conn.iterdump())


def row_counts(db: Path) -> dict[str, int]:
    with connect(db) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (*JOB_TABLES, "integrations")
        }


def load_example(name: str) -> dict[str, Any]:
    """An example payload; list_response.json holds its job in data[0]."""
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    if data.get("object") == "list":
        job: dict[str, Any] = data["data"][0]
        return job
    return data
