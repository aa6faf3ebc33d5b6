"""The shape of the ftjobs.cli package: what it exports, that every command is reachable, and
that importing it stays light (the heavy modules load inside the commands that need them)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from support.helpers import CLEAN_ENV, REPO_ROOT, describe
from support.jobdata import make_job
from typer.testing import CliRunner

from ftjobs.cli import coercion
from ftjobs.cli.app import COMMAND_MODULES

HEAVY_MODULES = ("pydantic", "sqlite_utils", "rich.table", "ftjobs.store", "ftjobs.api.models")


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


def test_json_reads_build_no_models_and_skip_sqlite_utils(cli: Any, tmp_path: Path) -> None:
    """list --json, --jsonl, show --json and search --json go from SQLite rows straight to JSON
    text, and list's and search's plain output from the rows' data: neither ftjobs.api.models
    (pydantic's models) nor sqlite_utils is imported on those paths, nor pydantic and
    pydantic-core where typer's conversion of option values is replaced (ftjobs.cli.coercion;
    bench/startup.py has the start-up they cost). Only the command run is imported. Both kinds
    of stored job: one a person added (its JSON built from the columns) and one imported (its
    text as sent, re-indented for show --json)."""
    job_id = cli.add()
    imported = make_job(1)
    path = tmp_path / "job.json"
    path.write_text(json.dumps(imported, indent=4))
    cli.ok("import", path)
    unwanted = ["ftjobs.api.models", "sqlite_utils", "ftjobs.cli.history", "ftjobs.cli.sync"]
    if coercion.hooked():
        unwanted += ["pydantic", "pydantic_core"]
    code = (
        "import json, sys\n"
        "from ftjobs.cli import main\n"
        "sys.argv[0] = 'ftjobs'\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps([m for m in {unwanted!r} if m in sys.modules]), file=sys.stderr)\n"
    )
    for args in (
        ["list", "--json"],
        ["list", "--jsonl"],
        ["show", job_id, "--json"],
        ["show", imported["id"], "--json"],
        ["list"],
        ["list", "--csv", "--fields", "id,hyperparameters,error.code,metadata.team"],
        ["search", job_id],
        ["search", job_id, "--json"],
    ):
        result = subprocess.run(
            [sys.executable, "-c", code, "--db", str(cli.db), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert (imported["id"] if imported["id"] in args else job_id) in result.stdout
        assert json.loads(result.stderr.splitlines()[-1]) == [], args


def test_each_command_is_registered_by_the_module_the_group_loads_it_from() -> None:
    """The group imports a command's module only when the command is run (COMMAND_MODULES):
    each module must register exactly the commands the table gives it."""
    code = (
        "import importlib, json, sys\n"
        "from ftjobs.cli.app import app\n"
        "registered = {}\n"
        "for module in sys.argv[1:]:\n"
        "    before = len(app.registered_commands)\n"
        "    importlib.import_module('ftjobs.cli.' + module)\n"
        "    for info in app.registered_commands[before:]:\n"
        "        registered[info.name or info.callback.__name__] = module\n"
        "print(json.dumps(registered))\n"
    )
    modules = sorted(set(COMMAND_MODULES.values()))
    result = subprocess.run(
        [sys.executable, "-c", code, *modules],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(result.stdout) == COMMAND_MODULES


def test_typer_029_converts_option_values_without_pydantic() -> None:
    """Where typer converts values with pydantic (0.29), ftjobs.cli.coercion takes over; if a
    typer release changes that hook, this says so (and start-up grows by ~180 ms)."""
    version = tuple(int(part) for part in typer.__version__.split(".")[:2])
    if version == (0, 29):
        assert coercion.hooked()
    elif version < (0, 29):
        assert not coercion.hooked()
    else:  # pyproject.toml pins typer below 0.30 for this reason
        pytest.fail(
            f"typer {typer.__version__}: ftjobs.cli.coercion hooks typer 0.29's private"
            " converter (typer._coercion, typer._param_types); check that it still applies and"
            " start-up still imports no pydantic, then widen the pin in pyproject.toml"
        )


def test_the_typer_pin_stops_below_the_next_minor() -> None:
    """The hook's pin: typer's next minor may move the private modules it uses."""
    import re

    text = (REPO_ROOT / "pyproject.toml").read_text()  # (tomllib: Python 3.11+ only)
    [typer_requirement] = re.findall(r'^\s*"(typer[^"]*)"', text, flags=re.MULTILINE)
    assert "<0.30" in typer_requirement.replace(" ", ""), typer_requirement


def test_help_reads_cleanly_at_80_columns() -> None:
    """Every command's help at 80 columns: no option name cut off, no `<bool>` after a flag, no
    Python type (`<str>`, `<int range>`, `<list[...]>`) where an option's value is named, no
    2**62 limit spelled out."""
    import re

    from ftjobs.cli import app

    runner = CliRunner()
    for name in ["", *COMMAND_MODULES]:
        args = [name, "--help"] if name else ["--help"]
        result = runner.invoke(app, args, env={**CLEAN_ENV, "COLUMNS": "80", "NO_COLOR": "1"})
        assert result.exit_code == 0, describe(result)
        text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
        options = [line for line in text.splitlines() if re.match(r"│ [ *]*--", line)]
        assert options, name
        assert max(len(line) for line in text.splitlines()) <= 80, name
        assert "<bool>" not in text and "4611686018427387904" not in text, name
        for line in options:
            assert not re.search(r"--[a-z-]+…", line), (name, line)
            assert not re.search(r"<(str|int|float|list\[|path)", line), (name, line)


def test_list_stats_and_export_declare_the_same_filters() -> None:
    """The three commands that filter take list's ten options, declared once
    (cli.options.with_job_filters) and handed to them as one JobFilters."""
    from ftjobs.cli.app import _build_command

    filters = {
        "status", "model", "since", "until", "fine_tuned_model", "training_file", "error_code",
        "metadata", "finished_since", "finished_until",
    }  # fmt: skip
    for name in ("list", "stats", "export"):
        assert filters <= {param.name for param in _build_command(name).params}, name
