"""A job keeps its key for life: update, attach and re-import write in place, so export keeps
the order jobs were first recorded in and nothing that points at a job (its history) is lost.
And within one import the last record of an id wins, whatever was cached."""

from __future__ import annotations

import json
from pathlib import Path

from support.helpers import Cli, connect
from support.jobdata import make_job, write_jsonl


def keys(db: Path) -> dict[str, int]:
    with connect(db) as conn:
        return dict(conn.execute("SELECT id, job_key FROM jobs").fetchall())


def exported_ids(cli: Cli) -> list[str]:
    return [json.loads(line)["id"] for line in cli.ok("export").stdout.splitlines()]


def test_update_attach_and_reimport_keep_the_key_and_the_export_order(
    cli: Cli, tmp_path: Path
) -> None:
    for name in "abc":
        cli.add("--id", f"ftjob-{name}")
    before = keys(cli.db)
    cli.ok("update", "ftjob-a", "--status", "running")
    cli.ok("attach", "ftjob-b", "file-1")
    changed = {**cli.show("ftjob-a"), "trained_tokens": 99}
    cli.ok("import", write_jsonl(tmp_path / "a.jsonl", [changed]))
    assert keys(cli.db) == before
    assert exported_ids(cli) == ["ftjob-a", "ftjob-b", "ftjob-c"]
    assert cli.show("ftjob-a")["trained_tokens"] == 99


def test_the_last_record_of_an_id_wins_within_one_import(cli: Cli, tmp_path: Path) -> None:
    """X stored with wandb project P1; one file holding X with P2, then X with P1: X ends at
    P1, and the summary counts two updates (the integration id freed by the first update was
    reused by the second, and a stale cache made the second look unchanged)."""

    def with_project(project: str) -> dict[str, object]:
        return make_job(1, integrations=[{"type": "wandb", "wandb": {"project": project}}])

    cli.ok("import", write_jsonl(tmp_path / "first.jsonl", [with_project("P1")]))
    result = cli.ok(
        "import", write_jsonl(tmp_path / "both.jsonl", [with_project("P2"), with_project("P1")])
    )
    assert "0 inserted, 2 updated, 0 unchanged" in result.stderr
    job = cli.show(make_job(1)["id"])
    assert job["integrations"] == [{"type": "wandb", "wandb": {"project": "P1"}}]
    with connect(cli.db) as conn:
        assert conn.execute("SELECT wandb_project FROM integrations").fetchall() == [("P1",)]
