"""One real process that runs the ftjobs CLI many times, for tests/guarantees/test_stress.py.

A new Python process per command would cost ~0.3 s of start-up each; a worker pays it once and
then runs each command as `ftjobs` would (its own database connection, its own transaction), so
eight workers really do contend for the same SQLite file.

    python stress_worker.py writer DB WORKER WORKERS JOBS START_AT
    python stress_worker.py reader DB STOP_FILE START_AT
"""

from __future__ import annotations

import io
import json
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import typer.main

from ftjobs.cli import app

COMMAND = typer.main.get_command(app)


def run(*args: str) -> tuple[int, str, str]:
    """One `ftjobs` command: exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            status = COMMAND.main(args=list(args), prog_name="ftjobs", standalone_mode=False)
        except SystemExit as exit_:
            status = exit_.code
    return int(status or 0), out.getvalue(), err.getvalue()


def job_id(worker: int, number: int) -> str:
    return f"ftjob-w{worker}-{number:03d}"


def writer(db: str, worker: int, workers: int, jobs: int) -> int:
    """Add our jobs; attach a file to the next worker's jobs and set metadata on the one after,
    retrying those whose job does not exist yet."""
    pending: list[tuple[str, ...]] = []
    for number in range(jobs):
        status, _, err = run("--db", db, "add", "--id", job_id(worker, number),
                             "--model", f"model-{worker}", "--training-file", "file-t")  # fmt: skip
        if status != 0:
            print(f"add {job_id(worker, number)} exited {status}: {err}", file=sys.stderr)
            return 1
        pending.append(("attach", job_id((worker + 1) % workers, number),
                        f"file-from-w{worker}-{number}"))  # fmt: skip
        pending.append(("update", job_id((worker + 2) % workers, number),
                        "--metadata", f"from-w{worker}={number}"))  # fmt: skip
        pending = [args for args in pending if not _done(db, args)]
    deadline = time.monotonic() + 60
    while pending and time.monotonic() < deadline:
        time.sleep(0.01)
        pending = [args for args in pending if not _done(db, args)]
    if pending:
        print(f"never done: {pending[:3]}", file=sys.stderr)
        return 1
    return 0


def _done(db: str, args: tuple[str, ...]) -> bool:
    status, _, err = run("--db", db, *args)
    if status == 1 and "no job with id" in err:
        return False  # the peer has not added that job yet
    if status != 0:
        raise SystemExit(f"{args} exited {status}: {err}")
    return True


def reader(db: str, stop_file: Path) -> int:
    """List everything, over and over, until told to stop; every listing must be whole JSON."""
    listings = 0
    while not stop_file.exists():
        status, out, err = run("--db", db, "list", "--all", "--json")
        if status != 0:
            print(f"list exited {status}: {err}", file=sys.stderr)
            return 1
        json.loads(out)
        listings += 1
    print(listings)
    return 0


def main(argv: list[str]) -> int:
    role, db = argv[0], argv[1]
    start_at = float(argv[-1])
    time.sleep(max(0.0, start_at - time.time()))  # everyone starts at the same moment
    if role == "writer":
        return writer(db, int(argv[2]), int(argv[3]), int(argv[4]))
    return reader(db, Path(argv[2]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
