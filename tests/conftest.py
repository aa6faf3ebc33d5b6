"""Shared fixtures: a real SQLite file per test and the real CLI run in-process.

Helpers (Cli, error_line, dump, ...) live in helpers.py; test modules import them from there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
from support.helpers import Cli

from ftjobs.cli import app

# The tests' subprocesses run ftjobs as an installed copy runs, from compiled modules: where the
# shell sets PYTHONDONTWRITEBYTECODE (this machine's does), every `python -m ftjobs` a test starts
# would compile the whole package first (~0.3 s, over hundreds of runs).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


@pytest.fixture(autouse=True, scope="session")
def _build_the_command_once() -> Iterator[None]:
    """typer turns the app into a click command on every CliRunner.invoke, which is most of
    the time of an in-process run; the app does not change during the tests, so build it once."""
    command = typer.main.get_command(app)

    def get_command(typer_app: typer.Typer) -> Any:
        return command if typer_app is app else typer.main.get_command(typer_app)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", get_command)
        yield


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "jobs.db"


@pytest.fixture
def cli(db: Path) -> Cli:
    return Cli(db)
