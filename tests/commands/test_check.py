"""`ftjobs check` (issue 16) on a sound store, then on stores damaged in each way it detects:
each named, with a fix where ftjobs has one, exit 1; --repair mends the search index."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from support.fake_api import FakeFineTuningApi
from support.helpers import Cli
from support.sync import OPENAI_ENV
from support.syncdata import fill
from typer.testing import Result

JOB = f"ftjob-{1:024d}"


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("check") / "jobs.db"
    with FakeFineTuningApi(page_cap=5) as fake:
        fill(fake, range(1, 4), events=6)
        fake.files_meta["file-train"] = json.dumps({"id": "file-train", "filename": "t.jsonl"})
        assert Cli(db)("sync", env={**OPENAI_ENV, **fake.env()}).exit_code == 0
    return db


def copy_of(synced: Path, db: Path) -> Path:
    """The store whole (its write-ahead log folded in), in one file."""
    with sqlite3.connect(synced) as source, sqlite3.connect(db) as target:
        source.backup(target)
    source.close()
    target.close()
    return db


def failing_check(cli: Cli, *args: str) -> Result:
    """check found something: exit 1, the report on stdout (it is the command's output)."""
    result = cli("check", *args)
    assert result.exit_code == 1 and "Traceback" not in result.stderr, result.stdout
    return result


def damaged(synced: Path, tmp_path: Path, sql: str) -> Cli:
    db = copy_of(synced, tmp_path / "jobs.db")
    conn = sqlite3.connect(db, isolation_level=None)  # foreign keys off: as damage comes
    conn.executescript(sql)
    conn.close()
    return Cli(db)


def test_a_sound_store_passes_every_check(synced: Path) -> None:
    cli = Cli(synced)
    result = cli.ok("check")
    assert result.stdout.splitlines()[-1] == "The archive is sound."
    assert all(line.startswith("ok    ") for line in result.stdout.splitlines()[:-1])
    report = cli.json("check", "--json")
    assert report["ok"] is True and len(report["checks"]) == 8
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


DAMAGE: dict[str, tuple[str, str]] = {
    "job texts": (
        f"UPDATE jobs SET raw_json = json_set(raw_json, '$.status', 'failed') WHERE id = '{JOB}'",
        f"job {JOB}: raw_json says id {JOB}, model gpt-4o-mini-2024-07-18, status failed",
    ),
    "event texts": (
        "UPDATE job_events SET raw_json = '{cut short' WHERE event_key = 1",
        "raw_json is not JSON",
    ),
    "checkpoint texts": (
        "UPDATE job_checkpoints SET raw_json = json_set(raw_json, '$.id', 'ftckpt_x')"
        " WHERE checkpoint_key = 1",
        "raw_json says id ftckpt_x",
    ),
    "file, model texts": (
        'UPDATE file_objects SET raw_json = \'{"id": "file-other"}\'',
        "file file-train: raw_json does not name it",
    ),
    "metrics from events": (
        "INSERT INTO job_metric_values SELECT job_key, 'events', 999, 1, 0.5 FROM jobs LIMIT 1",
        "step 999 is in its metrics but in none of its events",
    ),
    "foreign keys": (
        "INSERT INTO job_events (job_key, id, created_at, seq, raw_json)"
        " VALUES (4242, 'ftevent-orphan', 1, 1, '{\"id\": \"ftevent-orphan\"}')",
        "job_events row",
    ),
    "search index": ("DELETE FROM jobs_fts WHERE rowid = 1", "1 jobs missing or out of date"),
}


@pytest.mark.parametrize("name", list(DAMAGE))
def test_each_kind_of_damage_is_named(synced: Path, tmp_path: Path, name: str) -> None:
    sql, said = DAMAGE[name]
    cli = damaged(synced, tmp_path, sql)
    result = failing_check(cli)
    assert f"FAIL  {name}: " in result.stdout, result.stdout
    assert said in result.stdout, result.stdout
    assert result.stdout.splitlines()[-1] == f"Problems in: {name}."
    raw = cli("check", "--json")
    assert raw.exit_code == 1
    checks = {check["name"]: check for check in json.loads(raw.stdout)["checks"]}
    assert checks[name]["ok"] is False and checks[name]["problems"] >= 1
    assert [n for n, c in checks.items() if not c["ok"]] == [name]


def test_repair_rebuilds_the_search_index(synced: Path, tmp_path: Path) -> None:
    cli = damaged(
        synced,
        tmp_path,
        "DELETE FROM jobs_fts WHERE rowid < 0; UPDATE jobs_fts SET text = 'x' WHERE rowid = 2;"
        " INSERT INTO jobs_fts (rowid, job_key, text) VALUES (777, 777, 'stray')",
    )
    result = failing_check(cli)
    assert "fix: ftjobs check --repair" in result.stdout
    assert "1 entries for nothing stored" in result.stdout
    assert cli.ok("check", "--repair").stdout.endswith("The archive is sound.\n")
    assert cli.json("search", "--json", "Event")  # messages are found again


def test_integrity_damage_is_named(synced: Path, tmp_path: Path) -> None:
    db = copy_of(synced, tmp_path / "jobs.db")
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        [root] = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'jobs_by_status'"
        ).fetchone()
    conn.close()
    data = bytearray(db.read_bytes())
    page = slice(page_size * (root - 1), page_size * root)
    # An index entry that no longer matches its row (its status respelt in place).
    data[page] = data[page].replace(b"succeeded", b"succeedeX", 1)
    db.write_bytes(bytes(data))
    result = failing_check(Cli(db))
    assert "FAIL  integrity" in result.stdout and "jobs_by_status" in result.stdout
    assert "fix: restore from a backup" in result.stdout
