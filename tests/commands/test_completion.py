"""Shell completion: statuses, sort fields, and job ids from the store (newest first, at most
100), read with plain sqlite3 so a Tab press costs little more than `ftjobs --version`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.helpers import Cli
from support.jobdata import make_job, write_jsonl


def complete(db: Path | None, words: str, *, importtime: bool = False) -> tuple[list[str], str]:
    line = f"ftjobs {'--db ' + str(db) + ' ' if db else ''}{words}"
    env = {**os.environ, "_FTJOBS_COMPLETE": "complete_bash", "COMP_WORDS": line,
           "COMP_CWORD": str(len(line.split()) - (0 if line.endswith(" ") else 1))}  # fmt: skip
    env.pop("FTJOBS_DB", None)
    if importtime:
        env["PYTHONPROFILEIMPORTTIME"] = "1"
    # The console script: shells complete `ftjobs`, and the variable is named after it.
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ftjobs")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.stdout.split(), result.stderr


def test_job_ids_complete_newest_first_at_most_100(tmp_path: Path, cli: Cli) -> None:
    jobs = [make_job(n) for n in range(150)]
    cli.ok("import", write_jsonl(tmp_path / "jobs.jsonl", jobs))
    got, imports = complete(cli.db, "show ", importtime=True)
    assert got == [make_job(n)["id"] for n in range(149, 49, -1)]
    # (pydantic itself is loaded by typer, which validates --db's value with it)
    for heavy in ("sqlite_utils", "ftjobs.store", "ftjobs.api.models", "rich.table"):
        assert f" {heavy}\n" not in imports and f" {heavy}." not in imports, heavy
    got, _ = complete(cli.db, "events ftjob-00000000000000000000001")
    assert got == [make_job(n)["id"] for n in range(19, 9, -1)]
    got, _ = complete(cli.db, "checkpoints ftjob-%")  # LIKE's wildcards are text here
    assert got == []


def test_completing_never_creates_a_store(tmp_path: Path) -> None:
    db = tmp_path / "none.db"
    got, _ = complete(db, "show ")
    assert got == [] and not db.exists()


def test_statuses_and_sort_fields_complete(tmp_path: Path) -> None:
    assert complete(None, "list --status f")[0] == ["failed"]
    assert complete(None, "list --sort tr")[0] == ["trained_tokens"]
    assert "succeeded" in complete(None, "stats --status ")[0]
