"""`ftjobs backup` (issue 16): a consistent copy of the live store, safe while a sync writes,
atomic, owner-only, never overwriting without --force. The real CLI, real files."""

from __future__ import annotations

import stat
import time
from pathlib import Path

from support.fake_api import FakeFineTuningApi
from support.helpers import Cli, connect, dump, error_line
from support.sync import OPENAI_ENV, assert_archive_equals_server, sync_process
from support.syncdata import fill


def assert_archive_equals_server_but(cli: Cli, fake: FakeFineTuningApi) -> None:
    """The server's jobs are all there (the store holds one job of its own besides)."""
    stored = {job["id"] for job in cli.json("list", "--all", "--json")}
    assert set(fake._jobs) < stored and len(stored) == len(fake._jobs) + 1


def test_a_backup_is_the_store_whole_and_owner_only(tmp_path: Path) -> None:
    with FakeFineTuningApi(page_cap=5) as fake:
        fill(fake, range(1, 8), events=4)
        cli = Cli(tmp_path / "jobs.db")
        assert cli("sync", env={**OPENAI_ENV, **fake.env()}).exit_code == 0
        out = tmp_path / "out"
        out.mkdir()
        result = cli.ok("backup", out)
        copy = out / "jobs.db"
        assert result.stdout == f"{copy}\n" and "Backed up 7 jobs" in result.stderr
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        assert sorted(dump(copy)) == sorted(dump(cli.db))  # (VACUUM writes them in its order)
        assert_archive_equals_server(Cli(copy), fake)  # a store ftjobs reads as it is
        assert [p.name for p in out.iterdir()] == ["jobs.db"]  # no temporary left


def test_an_existing_file_is_replaced_only_with_force(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "jobs.db")
    cli.add()
    target = tmp_path / "keep.db"
    target.write_bytes(b"mine")
    result = cli.fails(1, "backup", target)
    assert "exists" in error_line(result) and "--force" in error_line(result)
    assert target.read_bytes() == b"mine"
    cli.ok("backup", target, "--force")
    with connect(target) as conn:
        assert conn.execute("SELECT count(*) FROM jobs").fetchone() == (1,)
    assert "store itself" in error_line(cli.fails(1, "backup", cli.db, "--force"))
    assert "no folder" in error_line(cli.fails(1, "backup", tmp_path / "no" / "x.db"))
    assert not (tmp_path / "no").exists()


def test_a_backup_while_a_sync_writes_is_consistent(tmp_path: Path) -> None:
    """Backups taken while a sync writes each hold whole jobs (every job's events with it,
    integrity and foreign keys intact), and the last sync's store is what the server holds."""
    db = tmp_path / "jobs.db"
    with FakeFineTuningApi(page_cap=3) as fake:
        fill(fake, range(1, 41), events=6)
        fake.delay = 0.003
        Cli(db).add()  # the store exists before the sync starts
        process = sync_process(db, fake, "--concurrency", "4")  # a process, as a shell runs it
        copies = []
        while process.poll() is None and len(copies) < 20:
            copy = tmp_path / f"copy-{len(copies)}.db"
            Cli(db).ok("backup", copy)
            copies.append(copy)
            time.sleep(0.05)
        assert process.wait(timeout=120) == 0
        assert len(copies) >= 2
        assert_archive_equals_server_but(Cli(db), fake)
        for copy in copies:
            with connect(copy) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
                assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
                # A job synced whole has its 6 events: never a job without its history.
                counts = conn.execute(
                    "SELECT count(job_events.id) FROM jobs JOIN job_sync USING (job_key)"
                    " LEFT JOIN job_events USING (job_key) GROUP BY jobs.job_key"
                ).fetchall()
                assert all(count == (6,) for count in counts), counts
