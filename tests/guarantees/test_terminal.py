"""What a person sees on a real terminal (a pty): no tracebacks, at 80 and 160 columns, with no
jobs, one job and many, with and without colour."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.helpers import Cli
from support.terminal import ESCAPE, run_in_terminal


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


@pytest.fixture
def snapshots(db: Path, cli: Cli) -> Path:
    """Two jobs whose models differ only in their snapshot date, one finished."""
    cli.add("--id", "ftjob-" + "a" * 24, "--created-at", 1_700_000_000, model="gpt-4o-2024-05-13")
    cli.add("--id", "ftjob-" + "b" * 24, "--created-at", 1_700_000_100, model="gpt-4o-2024-08-06")
    cli.ok(
        "update", "ftjob-" + "a" * 24, "--status", "succeeded", "--finished-at", 1_700_003_600,
        "--fine-tuned-model", "ft:gpt-4o-2024-05-13:my-org::abc123",
    )  # fmt: skip
    return db


@pytest.mark.parametrize("columns", [80, 120, 160])
@pytest.mark.parametrize("env", [{}, {"NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_the_table_uses_the_width(snapshots: Path, columns: int, env: dict[str, str]) -> None:
    screen = run_in_terminal(snapshots, "list", columns=columns, env=env)

    assert screen.exit_code == 0, screen.text
    assert all(len(line) <= columns for line in screen.lines), screen.text
    text = "\n".join(screen.lines)
    # The snapshot dates tell the two models apart, whole or with the middle cut out.
    assert "05-13" in text and "08-06" in text, text
    if columns >= 160:
        assert "Finished (UTC)" in text and "2023-11-14 23:13" in text
        assert "ft:gpt-4o-2024-05-13:my-org::abc123" in text
        assert "gpt-4o-2024-05-13" in text
        assert "Not shown" not in text
    elif columns >= 120:  # the fine-tuned model whole (never cut); the finish time gives way
        assert "ft:gpt-4o-2024-05-13:my-org::abc123" in text
        assert "Finished" not in text
        assert f"Not shown at {columns} columns: finished (widen, or use --fields)" in text
    else:
        assert "Finished" not in text and "ft:gpt" not in text
        assert f"Not shown at {columns} columns: finished, fine-tuned model" in text
        assert "--fields" in text
    if env.get("TERM") == "dumb":
        assert ESCAPE not in screen.text, screen.text
    if env.get("NO_COLOR"):
        assert "\x1b[32m" not in screen.text  # succeeded's green


def test_fields_pick_the_table_columns(snapshots: Path) -> None:
    screen = run_in_terminal(snapshots, "list", "--fields", "id,fine_tuned_model", columns=80)

    assert screen.exit_code == 0, screen.text
    text = "\n".join(screen.lines)
    assert "fine_tuned_model" in text and "ft:gpt-4o-2024-05-13:my-org::abc123" in text
    assert "hidden" not in text and "Status" not in text
