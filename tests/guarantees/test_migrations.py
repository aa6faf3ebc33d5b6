"""Schema upgrades: a database from the first released schema opens with every record intact and
the schema current; a newer one is refused untouched; a failing migration changes nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from support.helpers import FIXTURES, Cli, connect, dump, error_line
from support.jobdata import assert_preserved, normalised
from support.stores import v2_database

from ftjobs.errors import StoreError
from ftjobs.store import SCHEMA_VERSION, Store
from ftjobs.store import base as store_module


def v1_database(path: Path) -> Path:
    """A file as ftjobs with schema version 1 wrote it (fixture: an iterdump of one)."""
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.executescript((FIXTURES / "v1-database.sql").read_text(encoding="utf-8"))
        conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    return path


def schema_of(db: Path) -> dict[str, Any]:
    """Tables, columns, keys, indexes and triggers: what the schema is, whatever its SQL text
    looks like (a migration may word a CREATE differently from schema.sql)."""
    with connect(db) as conn:
        names = conn.execute(
            "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchall()
        shape: dict[str, Any] = {"objects": sorted(names)}
        for kind, name, _ in names:
            if kind == "table":
                shape[name] = (
                    conn.execute(f"PRAGMA table_xinfo({name})").fetchall(),
                    conn.execute(f"PRAGMA foreign_key_list({name})").fetchall(),
                    sorted(
                        (
                            index[1],
                            index[2],
                            conn.execute(f"PRAGMA index_xinfo({index[1]})").fetchall(),
                        )
                        for index in conn.execute(f"PRAGMA index_list({name})").fetchall()
                        if not index[1].startswith("sqlite_autoindex")
                    ),
                    sorted(
                        (
                            index[2],
                            index[3],
                            conn.execute(f"PRAGMA index_xinfo({index[1]})").fetchall(),
                        )
                        for index in conn.execute(f"PRAGMA index_list({name})").fetchall()
                        if index[1].startswith("sqlite_autoindex")
                    ),
                )
        return shape


def user_version(db: Path) -> int:
    with connect(db) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def test_the_v1_fixture_is_what_schema_v1_creates(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh-v1.db"
    with sqlite3.connect(fresh) as conn:
        conn.executescript((FIXTURES / "schema-v1.sql").read_text(encoding="utf-8"))
    conn.close()
    assert schema_of(fresh) == schema_of(v1_database(tmp_path / "fixture.db"))
    assert user_version(fresh) == 1


def test_a_v1_database_is_upgraded_with_every_record_intact(tmp_path: Path) -> None:
    db = v1_database(tmp_path / "old.db")
    cli = Cli(db)
    jobs = {job["id"]: job for job in cli.json("list", "--all", "--json")}
    expected = json.loads((FIXTURES / "v1-jobs.json").read_text(encoding="utf-8"))
    assert sorted(jobs) == sorted(job["id"] for job in expected)
    for job in expected:
        assert_preserved(normalised(job), jobs[job["id"]])
    assert user_version(db) == SCHEMA_VERSION
    # Migrated step by step, it has exactly the schema a new database gets from schema.sql.
    new = tmp_path / "new.db"
    Cli(new).create_store()
    assert schema_of(db) == schema_of(new)
    # ... and it keeps working.
    cli.ok("attach", "ftjob-abc123", "file-after-upgrade")
    assert cli.show("ftjob-abc123")["result_files"][-1] == "file-after-upgrade"


def test_a_database_from_a_newer_ftjobs_is_refused_untouched(tmp_path: Path) -> None:
    db = v1_database(tmp_path / "future.db")
    with connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = db.read_bytes()
    result = Cli(db).fails(1, "list")
    assert "newer ftjobs" in error_line(result)
    assert db.read_bytes() == before


def test_a_migration_that_fails_midway_leaves_the_old_database_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = v1_database(tmp_path / "old.db")
    before = dump(db)
    broken = {
        **store_module.MIGRATIONS,
        SCHEMA_VERSION + 1: (
            "CREATE TABLE half_done (x INTEGER)",
            "ALTER TABLE no_such_table ADD COLUMN y INTEGER",
        ),
    }
    monkeypatch.setattr(store_module, "MIGRATIONS", broken)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match="left as it was"):
        Store.open(db)
    assert dump(db) == before  # neither migration 2 nor the first half of the broken one stayed
    assert user_version(db) == 1


def test_the_v2_fixture_is_what_schema_v2_creates(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh-v2.db"
    with sqlite3.connect(fresh) as conn:
        conn.executescript((FIXTURES / "schema-v2.sql").read_text(encoding="utf-8"))
    conn.close()
    assert schema_of(fresh) == schema_of(v2_database(tmp_path / "fixture.db"))
    assert user_version(fresh) == 2


def test_a_v2_database_is_upgraded_to_the_current_version_with_every_record_and_key_intact(
    tmp_path: Path,
) -> None:
    db = v2_database(tmp_path / "old.db")
    with connect(db) as conn:
        keys_before = conn.execute("SELECT job_key, id FROM jobs ORDER BY job_key").fetchall()
    cli = Cli(db)
    exported = [json.loads(line) for line in cli.ok("export").stdout.splitlines()]
    expected = json.loads((FIXTURES / "v2-jobs.json").read_text(encoding="utf-8"))
    assert exported == expected  # same jobs, same keys and values, same order
    assert user_version(db) == SCHEMA_VERSION == 5
    with connect(db) as conn:
        assert conn.execute("SELECT job_key, id FROM jobs ORDER BY job_key").fetchall() == (
            keys_before
        )
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        # v5 took the range CHECKs off jobs' times in place (no copy): a negative one fits.
        conn.execute(
            "INSERT INTO jobs (id, model, created_at, finished_at, estimated_finish, status)"
            " VALUES ('ftjob-negative', 'm', -1, -2, -3, 'failed')"
        )
        conn.execute("DELETE FROM jobs WHERE id = 'ftjob-negative'")
        conn.commit()
    new = tmp_path / "new.db"
    Cli(new).create_store()
    assert schema_of(db) == schema_of(new)
    # What v2 refused, v3 archives: a provider's status and hyperparameters, result_files null.
    azure = {**expected[0], "id": "ftjob-azure", "status": "pending", "result_files": None}
    azure["hyperparameters"] = {"n_epochs": 1, "batch_size": -1, "learning_rate_multiplier": 1}
    path = tmp_path / "azure.json"
    path.write_text(json.dumps(azure))
    cli.ok("import", path)
    assert cli.show("ftjob-azure") == azure


def test_a_v4_store_that_synced_upgrades_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """v4 -> v5 (issue 14): result file contents and job_sync stay; the single mark and cursor,
    whichever key left them, are dropped (each source walks its list once); negative times fit;
    jobs keep their keys and export as before (raw_json NULL: built from the columns)."""
    db = v2_database(tmp_path / "old.db")
    with monkeypatch.context() as patch:
        patch.setattr(store_module, "SCHEMA_VERSION", 4)
        Store.open(db).close()
    assert user_version(db) == 4
    with connect(db) as conn:
        key = conn.execute("SELECT min(job_key) FROM jobs").fetchone()[0]
        conn.execute(
            "INSERT INTO sync_state (name, value) VALUES ('jobs_mark', '{\"id\":\"x\"}'),"
            " ('jobs_after', 'ftjob-x'), ('other', 'kept')"
        )
        conn.execute(
            "INSERT INTO result_file_contents VALUES ('file-r', 'base64', x'633374', 'step\n')"
        )
        conn.execute("INSERT INTO job_sync VALUES (?, 1, 1700000000, NULL)", [key])
        conn.commit()
    Store.open(db).close()
    assert user_version(db) == SCHEMA_VERSION == 5
    with connect(db) as conn:
        assert conn.execute("SELECT name, value FROM sync_state").fetchall() == [("other", "kept")]
        assert conn.execute("SELECT * FROM result_file_contents").fetchall() == [
            ("file-r", "base64", b"c3t", "step\n")
        ]
        assert conn.execute("SELECT job_key, history_complete FROM job_sync").fetchall() == [
            (key, 1)
        ]
        assert conn.execute("SELECT count(*) FROM jobs WHERE raw_json IS NULL").fetchone() == (
            conn.execute("SELECT count(*) FROM jobs").fetchone()
        )
        conn.execute("BEGIN")
        conn.execute("UPDATE jobs SET created_at = -1, finished_at = -2 WHERE job_key = ?", [key])
        conn.execute(
            "INSERT INTO result_file_contents VALUES ('file-u', 'unreadable', x'00', NULL)"
        )
        conn.execute("ROLLBACK")
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    exported = [json.loads(line) for line in Cli(db).ok("export").stdout.splitlines()]
    assert exported == json.loads((FIXTURES / "v2-jobs.json").read_text(encoding="utf-8"))
    new = tmp_path / "new.db"
    Cli(new).create_store()
    assert schema_of(db) == schema_of(new)
