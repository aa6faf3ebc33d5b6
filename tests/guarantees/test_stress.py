"""ftjobs under load and faults: concurrent writers lose nothing and never fail on a lock;
`kill -9` at any moment leaves the state before or after a command, never a mix."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.helpers import TESTS, Cli, connect, dump, error_line
from support.jobdata import make_job, write_jsonl

WORKER = TESTS / "support" / "stress_worker.py"


def health(db: Path) -> None:
    """The checks a record keeper must pass after anything: a sound file, no orphans."""
    with connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def digest(db: Path) -> str:
    """Everything the store holds, as export gives it back, hashed."""
    return hashlib.sha256(Cli(db).ok("export").stdout.encode()).hexdigest()


def ftjobs_process(db: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ftjobs", "--db", str(db), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


# -- concurrency ----------------------------------------------------------------------------


def test_eight_writers_and_two_readers_lose_nothing(tmp_path: Path) -> None:
    db, stop = tmp_path / "jobs.db", tmp_path / "stop"
    workers, jobs = 8, 30
    Cli(db).create_store()  # the file first, as any earlier command would have made it
    start_at = f"{time.time() + 2.0:.3f}"  # after every worker has imported ftjobs
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                "writer",
                str(db),
                str(w),
                str(workers),
                str(jobs),
                start_at,
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    readers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), "reader", str(db), str(stop), start_at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    writer_results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in writers]
    stop.touch()
    reader_results = [(*p.communicate(timeout=60), p.returncode) for p in readers]
    assert all(status == 0 for status, _ in writer_results), writer_results
    assert all(status == 0 for _, _, status in reader_results), reader_results
    assert all(int(out) > 0 for out, _, _ in reader_results), reader_results

    health(db)
    listed = {job["id"]: job for job in Cli(db).json("list", "--all", "--json")}
    assert len(listed) == workers * jobs
    for w in range(workers):
        for n in range(jobs):
            job = listed[f"ftjob-w{w}-{n:03d}"]
            assert job["result_files"] == [f"file-from-w{(w - 1) % workers}-{n}"]
            assert job["metadata"] == {f"from-w{(w - 2) % workers}": str(n)}


def test_four_concurrent_imports_of_overlapping_files(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    Cli(db).create_store()
    files = [
        write_jsonl(
            tmp_path / f"part{k}.jsonl", [make_job(n) for n in range(k * 400, k * 400 + 800)]
        )
        for k in range(4)
    ]
    processes = [ftjobs_process(db, "import", "-q", str(path)) for path in files]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else b"") for p in processes]
    assert all(status == 0 for status, _ in results), results
    health(db)
    exported = [json.loads(line) for line in Cli(db).ok("export").stdout.splitlines()]
    assert sorted(job["id"] for job in exported) == sorted(make_job(n)["id"] for n in range(2000))
    assert all(job == make_job(int(job["id"][-24:])) for job in exported)


def test_a_lock_held_too_long_is_one_clear_line_and_nothing_written(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    cli = Cli(db)
    cli.add("--id", "ftjob-existing")
    before = dump(db)
    with connect(db) as blocker:
        blocker.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        result = cli.fails(1, "add", "--model", "m", "--training-file", "f",
                           env={"FTJOBS_BUSY_TIMEOUT": "0.3"})  # fmt: skip
        waited = time.monotonic() - started
        blocker.execute("ROLLBACK")
    line = error_line(result)
    assert "locked by another process" in line and "FTJOBS_BUSY_TIMEOUT" in line
    assert "nothing was changed" in line
    assert 0.25 < waited < 5
    assert dump(db) == before


# -- crashes ----------------------------------------------------------------------------------


def _kill_at_random(
    tmp_path: Path, base: Path, args: list[str], runs: int, longest_delay: float, seed: int
) -> tuple[set[str], int]:
    """Run `ftjobs args` on copies of base, kill -9 each at a random moment, and check every
    copy afterwards. Returns the digests seen and how many kills hit a running process."""
    rng = random.Random(seed)
    seen: set[str] = set()
    hit = 0
    for run in range(runs):
        db = tmp_path / f"run{run}.db"
        shutil.copy(base, db)
        process = ftjobs_process(db, *args)
        time.sleep(rng.uniform(0.0, longest_delay))
        if process.poll() is None:
            hit += 1
            process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.stderr is not None
        process.stderr.close()
        health(db)
        seen.add(digest(db))  # this also proves the file opens and recovers
    return seen, hit


def _before_and_after(tmp_path: Path, base: Path, args: list[str]) -> tuple[str, str, float]:
    """The store's digest before and after the command runs to the end, and how long it ran."""
    done = tmp_path / "done.db"
    shutil.copy(base, done)
    started = time.monotonic()
    finished = ftjobs_process(done, *args)
    assert finished.wait(timeout=120) == 0
    took = time.monotonic() - started
    assert finished.stderr is not None
    finished.stderr.close()
    return digest(base), digest(done), took


@pytest.fixture
def base_store(tmp_path: Path) -> Path:
    """A store of 300 jobs, checkpointed into one file (no WAL beside it)."""
    base = tmp_path / "base.db"
    Cli(base).ok("import", write_jsonl(tmp_path / "base.jsonl", [make_job(n) for n in range(300)]))
    with connect(base) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return base


def test_kill_9_during_a_large_import_leaves_before_or_after(
    tmp_path: Path, base_store: Path
) -> None:
    # 2,700 new jobs and 300 changed ones: over half a second of writing.
    batch = [make_job(n, status="cancelled") for n in range(3000)]
    args = ["import", "-q", str(write_jsonl(tmp_path / "batch.jsonl", batch))]
    before, after, took = _before_and_after(tmp_path, base_store, args)
    # 12 kills: enough to land mid-import every run here, within the suite's two minutes.
    seen, hit = _kill_at_random(tmp_path, base_store, args, runs=12, longest_delay=took, seed=4)
    print(f"12 kills over {took:.2f} s: {hit} while the import ran, states seen: {len(seen)}")
    assert seen <= {before, after}, "a killed import left a state that is neither"
    assert hit > 0


@pytest.mark.parametrize(
    "args",
    [
        [
            "update",
            make_job(7)["id"],
            "--status",
            "cancelled",
            "--force",
            "--metadata",
            "k=v",
            "--finished-at",
            "1800000000",
        ],
        ["attach", make_job(7)["id"], "file-x1", "file-x2", "file-x3"],
    ],
    ids=["update", "attach"],
)
def test_kill_9_during_update_and_attach_leaves_before_or_after(
    tmp_path: Path, base_store: Path, args: list[str]
) -> None:
    before, after, took = _before_and_after(tmp_path, base_store, args)
    seen, _ = _kill_at_random(tmp_path, base_store, args, runs=6, longest_delay=took, seed=7)
    assert seen <= {before, after}


def test_kill_9_during_a_bulk_load_into_an_empty_store_leaves_it_empty_or_full(
    tmp_path: Path,
) -> None:
    """Into an empty store import drops and rebuilds the list indexes: a kill at any moment must
    still leave either the empty store, indexes and all, or the full one."""
    base = tmp_path / "empty.db"
    Cli(base).create_store()
    with connect(base) as conn:
        indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
        expected = sorted(indexes.fetchall())
    args = [
        "import",
        "-q",
        str(write_jsonl(tmp_path / "all.jsonl", [make_job(n) for n in range(4000)])),
    ]
    before, after, took = _before_and_after(tmp_path, base, args)
    seen, hit = _kill_at_random(tmp_path, base, args, runs=6, longest_delay=took, seed=11)
    assert seen <= {before, after}
    assert hit > 0
    for run in range(6):
        with connect(tmp_path / f"run{run}.db") as conn:
            indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
            assert sorted(indexes.fetchall()) == expected
