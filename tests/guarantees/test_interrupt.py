"""Ctrl-C: one line on stderr, exit 130, and the store exactly as it was (every write is one
transaction, rolled back on the way out)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.helpers import Cli, dump
from support.jobdata import make_job, write_jsonl


def _wait_for_write_lock(db: Path, process: subprocess.Popen[bytes]) -> None:
    """Until the import holds the write lock (its transaction has begun)."""
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                return  # locked: the import is writing
            conn.execute("ROLLBACK")
            time.sleep(0.02)
    finally:
        conn.close()
    raise AssertionError("the import never took the write lock")


def test_ctrl_c_during_a_large_import_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    Cli(db).ok("import", write_jsonl(tmp_path / "base.jsonl", [make_job(n) for n in range(50)]))
    before = dump(db)
    # 20,000 jobs from stdin, the first 50 changed: a few seconds of writing.
    big = write_jsonl(
        tmp_path / "big.jsonl", [make_job(n, status="cancelled") for n in range(20_000)]
    )
    with big.open("rb") as stdin:
        process = subprocess.Popen(
            [sys.executable, "-m", "ftjobs", "--db", str(db), "import", "-"],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        _wait_for_write_lock(db, process)
        time.sleep(0.3)  # well into the records
        assert process.poll() is None, "the import finished before it could be interrupted"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert stderr.decode() == "Interrupted: nothing was imported\n"
    assert stdout == b""
    assert dump(db) == before


def test_ctrl_c_in_any_other_command_says_the_store_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ftjobs.store import Store

    cli = Cli(tmp_path / "jobs.db")
    job_id = cli.add()
    before = dump(cli.db)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "modify", interrupted)
    result = cli("update", job_id, "--status", "running")
    assert result.exit_code == 130
    assert result.stderr == "Interrupted; the store is unchanged\n"
    assert result.stdout == ""
    assert dump(cli.db) == before


def test_ctrl_c_at_a_prompt_is_an_interrupt_too(tmp_path: Path) -> None:
    """delete's question on a terminal, answered with Ctrl-C: exit 130 and the one line every
    command gives (click would say "Aborted!" and exit 1), the job still there."""
    import os
    import pty

    cli = Cli(tmp_path / "jobs.db")
    job_id = cli.add()
    before = dump(cli.db)
    main_fd, child_fd = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "ftjobs", "--db", str(cli.db), "delete", job_id],
        stdin=child_fd,
        stdout=child_fd,
        stderr=child_fd,
    )
    os.close(child_fd)
    screen = b""
    deadline = time.monotonic() + 30
    try:
        while b"[y/N]" not in screen and time.monotonic() < deadline:
            screen += os.read(main_fd, 4096)
        assert b"Delete 1 job? [y/N]" in screen, screen
        # A person presses Ctrl-C after reading the question. Sent at once, the signal can land
        # after the prompt is written but before input() waits (Python's readline then misses
        # it and waits on): pressed again, as a person would, it is seen.
        for _ in range(20):
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=1.5)
                break
            except subprocess.TimeoutExpired:
                continue
        assert process.wait(timeout=30) == 130
        while True:
            try:
                chunk = os.read(main_fd, 4096)
            except OSError:  # the child side closed
                break
            if not chunk:
                break
            screen += chunk
    finally:
        os.close(main_fd)
    assert b"Interrupted; the store is unchanged" in screen, screen
    assert b"Traceback" not in screen and b"Aborted" not in screen
    assert dump(cli.db) == before
