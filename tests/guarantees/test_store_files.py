"""Issue 16: commands create or change only the files they were asked to. A read command on an
empty file leaves it empty; a first add, import or sync that fails leaves no store behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.helpers import Cli, error_line
from support.sync import OPENAI_ENV


@pytest.mark.parametrize("command", [["info"], ["list"], ["stats"], ["export"]])
def test_a_read_command_never_takes_an_empty_file_for_a_store(
    tmp_path: Path, command: list[str]
) -> None:
    empty = tmp_path / "x.db"
    empty.touch()
    result = Cli(empty).fails(1, *command)
    assert "empty file" in error_line(result)
    assert empty.read_bytes() == b"" and sorted(p.name for p in tmp_path.iterdir()) == ["x.db"]


def test_a_failed_first_sync_leaves_no_store(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    env = {**OPENAI_ENV, "OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    result = Cli(db)("sync", "--timeout", "0.5", env=env)
    assert result.exit_code == 1 and "cannot reach" in error_line(result)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_first_import_leaves_no_store(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    bad = tmp_path / "in" / "bad.json"
    bad.parent.mkdir()
    bad.write_text('{"object": "fine_tuning.job", "id": "ftjob-1", "created_at": "soon"}')
    Cli(db).fails(1, "import", bad)
    assert not db.exists() and [p.name for p in tmp_path.iterdir()] == ["in"]


def test_a_failed_command_on_an_existing_store_keeps_it(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "jobs.db")
    cli.add()
    bad = tmp_path / "bad.json"
    bad.write_text("[1]")
    cli.fails(1, "import", bad)
    assert len(cli.json("list", "--json")) == 1
