"""The shape of the ftjobs.cli package: what it exports, that every command is reachable, and
that importing it stays light (the heavy modules load inside the commands that need them)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import typer
import typer.main
from helpers import CLEAN_ENV, describe
from typer.testing import CliRunner

HEAVY_MODULES = ("pydantic", "sqlite_utils", "rich.table", "ftjobs.store", "ftjobs.models")


def test_app_and_main_are_exported() -> None:
    from ftjobs.cli import app, main

    assert isinstance(app, typer.Typer)
    assert callable(main)


def test_every_command_in_help_resolves() -> None:
    from ftjobs.cli import app
    from ftjobs.cli.app import COMMAND_ORDER

    group = typer.main.get_command(app)
    ctx = group.make_context("ftjobs", ["--help"], resilient_parsing=True)
    names = group.list_commands(ctx)  # what --help lists, in its order
    assert tuple(names[: len(COMMAND_ORDER)]) == COMMAND_ORDER
    top_help = CliRunner().invoke(app, ["--help"], env=CLEAN_ENV)
    assert top_help.exit_code == 0, describe(top_help)
    for name in names:
        assert group.get_command(ctx, name) is not None, name
        assert name in top_help.stdout
        result = CliRunner().invoke(app, [name, "--help"], env=CLEAN_ENV)
        assert result.exit_code == 0, describe(result)
        assert f"ftjobs {name}" in result.stdout


def test_importing_the_cli_leaves_the_heavy_modules_out() -> None:
    code = (
        "import json, sys\n"
        "import ftjobs.cli\n"
        f"print(json.dumps([m for m in {HEAVY_MODULES!r} if m in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert json.loads(result.stdout) == []


def test_json_reads_build_no_models_and_skip_sqlite_utils(cli: Any) -> None:
    """list --json, --jsonl and show --json go from SQLite rows straight to JSON text: neither
    ftjobs.models (pydantic's models) nor sqlite_utils is imported on that path (bench/startup.py
    has the start-up they cost)."""
    job_id = cli.add()
    code = (
        "import json, sys\n"
        "from ftjobs.cli import app\n"
        "try:\n"
        "    app(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps([m for m in ('ftjobs.models', 'sqlite_utils') if m in sys.modules]),"
        " file=sys.stderr)\n"
    )
    for args in (["list", "--json"], ["list", "--jsonl"], ["show", job_id, "--json"]):
        result = subprocess.run(
            [sys.executable, "-c", code, "--db", str(cli.db), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert job_id in result.stdout
        assert json.loads(result.stderr.splitlines()[-1]) == [], args
