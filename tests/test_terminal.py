"""What a person sees on a real terminal (a pty): no tracebacks, at 80 and 160 columns, with no
jobs, one job and many, with and without colour."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import Cli
from terminal import ESCAPE, run_in_terminal


@pytest.mark.parametrize("columns", [80, 160])
def test_list_on_a_terminal_with_no_jobs_says_so(db: Path, cli: Cli, columns: int) -> None:
    cli.create_store()
    screen = run_in_terminal(db, "list", columns=columns)
    assert screen.exit_code == 0, screen.text
    assert "Traceback" not in screen.text
    assert "No jobs." in screen.text


@pytest.mark.parametrize("columns", [80, 160])
@pytest.mark.parametrize("count", [1, 25])
def test_list_on_a_terminal_shows_the_jobs(db: Path, cli: Cli, columns: int, count: int) -> None:
    for n in range(count):
        cli.add("--id", f"ftjob-{n:024d}", "--created-at", 1_700_000_000 + n)
    screen = run_in_terminal(db, "list", columns=columns)
    assert screen.exit_code == 0, screen.text
    assert "Traceback" not in screen.text
    assert f"ftjob-{count - 1:024d}" in screen.text
    assert all(len(line) <= columns for line in screen.lines), screen.text


def test_no_color_and_dumb_terminal(db: Path, cli: Cli) -> None:
    cli.add("--id", "ftjob-one", "--status", "failed")
    plain = run_in_terminal(db, "list", env={"TERM": "dumb"})
    assert ESCAPE not in plain.text, plain.text
    assert "ftjob-one" in plain.text
    no_color = run_in_terminal(db, "list", env={"NO_COLOR": "1"})
    assert "\x1b[31m" not in no_color.text and "\x1b[1;31m" not in no_color.text
    assert "ftjob-one" in no_color.text
