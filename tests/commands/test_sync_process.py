"""`ftjobs sync` as a process: killed with -9 at any moment, interrupted with Ctrl-C, on a
terminal (a pty), facing a server that never answers. The fake API runs in this process, the
sync in a child, as a person's shell would run it."""

from __future__ import annotations

import random
import re
import signal
import time
from pathlib import Path

from support.fake_api import FakeFineTuningApi
from support.helpers import Cli, connect
from support.sync import assert_archive_equals_server, child_env, requests_since, sync_process
from support.syncdata import fill
from support.terminal import ESCAPE, run_in_terminal


def healthy(db: Path) -> None:
    with connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_kill_9_at_any_moment_then_a_sync_completes_the_archive(tmp_path: Path) -> None:
    """Killed at random moments within a sync's own run time; each next sync goes on from
    what the killed one kept, and the last one leaves the archive equal to the server."""
    rng = random.Random(7)
    db = tmp_path / "jobs.db"
    with FakeFineTuningApi(page_cap=4) as fake:
        fill(fake, range(1, 21), events=8)
        fake.delay = 0.004  # a little latency, so a kill lands mid-walk
        started = time.monotonic()
        whole = sync_process(tmp_path / "timing.db", fake)
        assert whole.wait(timeout=120) == 0, whole.stderr.read() if whole.stderr else ""
        run_time = time.monotonic() - started
        kept = []
        for _ in range(3):
            process = sync_process(db, fake)
            # Start-up (importing the SDK) is most of a run: kill in the part that syncs.
            time.sleep(rng.uniform(run_time * 0.5, run_time * 0.95))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            if db.exists():
                healthy(db)
                kept.append(len(Cli(db).json("list", "--all", "--json")))
        assert kept == sorted(kept), kept  # nothing a killed sync kept was lost by the next
        done = archived_whole(db)
        stored = len(Cli(db).json("list", "--all", "--json")) if db.exists() else 0
        before = len(fake.requests)
        final = sync_process(db, fake)
        out, err = final.communicate(timeout=120)
        assert final.returncode == 0, err.decode()
        assert out == b""
        healthy(db)
        assert_archive_equals_server(Cli(db), fake)
        # Nothing fetched twice: no history of a (finished) job a killed sync saved whole.
        again = [
            path
            for path in requests_since(fake, before)
            if any(f"/fine_tuning/jobs/{job_id}/" in path for job_id in done)
        ]
        assert again == [], again
        # Counts right: every job the killed syncs did not keep is new, each counted once.
        summary = re.search(r"Synced ([\d,]+) jobs?: ([\d,]+) new", err.decode())
        assert summary is not None, err.decode()
        assert int(summary[2].replace(",", "")) == 20 - stored, (stored, err.decode())


def archived_whole(db: Path) -> set[str]:
    """Jobs stored with their whole history (what a re-run must not fetch again)."""
    if not db.exists():
        return set()
    with connect(db) as conn:
        return {
            row[0]
            for row in conn.execute(
                "SELECT id FROM jobs JOIN job_sync USING (job_key) WHERE history_complete = 1"
            )
        }


def test_two_sources_killed_alternately_then_each_completes(tmp_path: Path) -> None:
    """Issue 14: two project keys into one store, each sync killed mid-walk in turn; then each
    source's next sync completes its part and every job of both is archived."""
    rng = random.Random(11)
    db = tmp_path / "jobs.db"
    keys = {
        "proj_a": "sk-proj-AAAAaaaaAAAAaaaaAAAAkeyA",
        "proj_b": "sk-proj-BBBBbbbbBBBBbbbbBBBBkeyB",
    }
    with FakeFineTuningApi(page_cap=3) as fake:
        for project, key in keys.items():
            fake.add_project_key(key, project)
        fill(fake, range(1, 25, 2), events=4, project="proj_a")
        fill(fake, range(2, 25, 2), events=4, project="proj_b")
        fake.delay = 0.004
        started = time.monotonic()
        whole = sync_process(tmp_path / "timing.db", fake, key=keys["proj_a"])
        assert whole.wait(timeout=120) == 0
        run_time = time.monotonic() - started
        for key in [*keys.values(), *keys.values()]:
            process = sync_process(db, fake, key=key)
            time.sleep(rng.uniform(run_time * 0.5, run_time * 0.95))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            if db.exists():
                healthy(db)
        fake.delay = 0
        for key in keys.values():
            final = sync_process(db, fake, key=key)
            _, err = final.communicate(timeout=120)
            assert final.returncode == 0, err.decode()
        healthy(db)
        assert_archive_equals_server(Cli(db), fake)


def test_ctrl_c_is_one_line_and_keeps_what_was_synced(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    with FakeFineTuningApi(page_cap=2) as fake:
        fill(fake, range(1, 61), events=3)
        fake.delay = 0.05  # with 8 requests in flight, a sync of several seconds
        process = sync_process(db, fake)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until a few jobs are in
            time.sleep(0.2)
            if db.exists() and len(Cli(db).json("list", "--all", "--json")) >= 2:
                break
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 130, err.decode()
        lines = err.decode().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Interrupted: "), lines
        assert "synced so far" in lines[0] and "job(s)" not in lines[0]
        assert "Traceback" not in err.decode()
        healthy(db)
        fake.delay = 0
        final = sync_process(db, fake)
        assert final.wait(timeout=120) == 0
        assert_archive_equals_server(Cli(db), fake)


def test_a_server_that_never_answers_is_one_line_within_the_timeout(tmp_path: Path) -> None:
    with FakeFineTuningApi() as fake:
        fake.hang = True
        started = time.monotonic()
        process = sync_process(tmp_path / "jobs.db", fake, "--timeout", "0.5")
        _, err = process.communicate(timeout=60)
        assert process.returncode == 1
        assert time.monotonic() - started < 20
        lines = err.decode().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: no answer from "), lines
        fake.hang = False


def test_sync_on_a_terminal_shows_progress_then_one_summary(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    with FakeFineTuningApi(page_cap=3) as fake:
        fill(fake, range(1, 6))
        screen = run_in_terminal(db, "sync", columns=80, env=child_env(fake))
        assert screen.exit_code == 0, screen.text
        assert "Traceback" not in screen.text and "Syncing" in screen.text
        assert screen.lines[-1].startswith("Synced 5 jobs: 5 new"), screen.lines
        # The live line fits the terminal (the summary is a message, wrapped by the terminal).
        assert all(len(line) <= 80 for line in screen.lines[:-1]), screen.lines
        plain = run_in_terminal(
            db, "sync", columns=160, env={**child_env(fake), "TERM": "dumb", "NO_COLOR": "1"}
        )
        assert plain.exit_code == 0 and ESCAPE not in plain.text, plain.text
        assert plain.lines[-1].startswith("Synced 3 jobs: 0 new, 0 updated, 3 unchanged")
        quiet = run_in_terminal(db, "sync", "--quiet", env=child_env(fake))
        assert quiet.exit_code == 0 and quiet.text.strip() == "", quiet.text
