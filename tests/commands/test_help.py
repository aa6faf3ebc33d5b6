"""Help as a user reads it: every command's at 80 columns without typer's type columns or
braces, `ftjobs help [CMD]`, `ftjobs` alone, and the global options shown where users look."""

from __future__ import annotations

import re

import pytest
from support.helpers import CLEAN_ENV
from support.terminal import run_in_terminal
from typer.testing import CliRunner

from ftjobs.cli import app
from ftjobs.cli.app import COMMAND_ORDER

_ESCAPES = re.compile(r"\x1b\[[0-9;]*m")
# What typer writes where a user would type a value: a Python type or braces.
_TYPE_NOISE = re.compile(r"<(str|int|float|path|list\[|bool)|\{[A-Z_]+\}|InputFormat|Export")


def _help(*args: str, columns: int = 80) -> tuple[int, str, str]:
    env = {**CLEAN_ENV, "COLUMNS": str(columns), "NO_COLOR": "1"}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, _ESCAPES.sub("", result.stdout), result.stderr


@pytest.mark.parametrize("columns", [80, 160])
def test_every_commands_help_names_values_as_typed(columns: int) -> None:
    """Arguments as JOB_ID / DEST / [FILE]..., choices as json|jsonl, no type column, every line
    within the width, and the options that go before the command named under each one."""
    for name in COMMAND_ORDER:
        code, text, _ = _help(name, "--help", columns=columns)
        assert code == 0, name
        assert max(map(len, text.splitlines())) <= columns, name
        assert not _TYPE_NOISE.search(text), (name, _TYPE_NOISE.search(text))
        usage = next(line for line in text.splitlines() if "Usage:" in line)
        assert "{" not in usage, usage
        flat = " ".join(text.split())
        assert "--db FILE" in flat and "--busy-timeout SECONDS" in flat, name
        assert f"ftjobs --db FILE {name} ..." in flat, name
    _, delete, _ = _help("delete", "--help")
    assert "[OPTIONS] JOB_ID..." in delete and re.search(r"\* +JOB_ID +Ids", delete)
    _, imports, _ = _help("import", "--help")
    assert "[OPTIONS] [FILE]..." in imports and "update|skip|fail" in imports
    _, backup, _ = _help("backup", "--help")
    assert "[OPTIONS] DEST" in backup


def test_the_top_help_shows_the_global_options_the_readme_uses() -> None:
    code, text, _ = _help("--help")
    assert code == 0
    assert re.search(r"--db +FILE", text) and re.search(r"--busy-timeout +SECONDS", text)
    assert "FTJOBS_BUSY_TIMEOUT" in text


@pytest.mark.parametrize("name", ["list", "show", "delete", "import", "help"])
def test_help_cmd_is_cmd_dash_dash_help(name: str) -> None:
    assert _help("help", name) == _help(name, "--help")
    assert _help("help", name)[0] == 0


def test_help_alone_is_the_top_help_and_exit_0() -> None:
    code, text, err = _help("help")
    assert code == 0 and err == ""
    assert text == _help("--help")[1]
    assert all(name in text for name in COMMAND_ORDER)


def test_help_of_an_unknown_command_is_an_error_listing_the_commands() -> None:
    code, text, err = _help("help", "shw")
    assert code == 2 and text == ""
    lines = err.splitlines()
    assert lines[0] == "Error: no command 'shw' (did you mean 'show'?)"
    assert lines[1] == "Commands: " + ", ".join(COMMAND_ORDER)


def test_ftjobs_alone_prints_the_help_and_exits_2_as_typer_does() -> None:
    """No command is a usage error (click >= 8.2's NoArgsIsHelp, which typer follows): the help
    on stdout, nothing on stderr, exit 2; `ftjobs --help` and `ftjobs help` exit 0."""
    code, text, err = _help()
    assert code == 2, text
    assert err == ""
    assert text.strip() == _help("--help")[1].strip()


@pytest.mark.parametrize("columns", [80, 160])
def test_help_in_a_terminal_has_no_type_column(columns: int) -> None:
    """In a pty, as a user sees it, styles and all."""
    for args in (("help", "delete"), ("import", "--help")):
        screen = run_in_terminal(None, *args, columns=columns)
        assert screen.exit_code == 0, screen.text
        assert "Traceback" not in screen.text
        assert not _TYPE_NOISE.search("\n".join(screen.lines))
        assert max(len(line.rstrip()) for line in screen.lines) <= columns
        assert any("JOB_ID" in line or "FILE" in line for line in screen.lines)
