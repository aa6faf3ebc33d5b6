#!/usr/bin/env python3
"""Time `ftjobs export --full` and its `ftjobs import` on a store of N jobs with E events each
(default 10,000 x 250: 2.5 million events), as child processes: wall and CPU seconds, peak RSS,
file size.

The store is built untimed: generate.py's jobs through `ftjobs import`, then generate_events.py's
events (newest first, as the API lists them) bulk-inserted into job_events with the columns and
seq numbers ftjobs gives them, and two checkpoints a job; the per-step metrics are left out
(export does not read them; the import writes them again from the events, as it must).

    python -m bench full-export                        # 10,000 jobs x 250 events
    python -m bench full-export --jobs 1000 --check    # smaller, then verify the round trip
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench.common import BENCH, Run, remove_db, run_child, tool
from tests.support import generate
from tests.support.generate import generate_events

SEED = 1
CHECKPOINT = (
    '{{"object":"fine_tuning.job.checkpoint","id":"ftckpt_{id}","created_at":{t},'
    '"fine_tuned_model_checkpoint":"ft:gpt-4o-mini-2024-07-18:org::{id}:ckpt-step-{step}",'
    '"fine_tuning_job_id":"{job}","metrics":{{"step":{step}.0,"train_loss":0.5,'
    '"valid_loss":0.25}},"step_number":{step}}}'
)


def build_store(workdir: Path, jobs: int, events: int, ftjobs: str) -> Path:
    """The base store (reused while its stamp says it holds these jobs and events)."""
    db = workdir / f"base-{jobs}x{events}.db"
    stamp = db.with_suffix(".stamp")
    if db.exists() and stamp.exists() and stamp.read_text() == f"{jobs} {events} {SEED}":
        return db
    remove_db(db)
    jobs_file = workdir / f"jobs-{jobs}.jsonl"
    with jobs_file.open("w", encoding="utf-8") as out:
        generate.write(out, jobs, SEED, "jsonl")
    started = time.perf_counter()
    run = run_child([ftjobs, "--db", str(db), "import", "-q", str(jobs_file)], workdir / "log")
    if run.returncode:
        raise SystemExit(f"import of the jobs failed: see {workdir / 'log'}")
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    keys = dict(conn.execute("SELECT id, job_key FROM jobs"))
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO job_events (job_key, id, created_at, seq, level, type, message, raw_json)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        _event_rows(jobs, events, keys),
    )
    conn.executemany(
        "INSERT INTO job_checkpoints (job_key, id, created_at, step_number,"
        " fine_tuned_model_checkpoint, raw_json) VALUES (?, ?, ?, ?, ?, ?)",
        _checkpoint_rows(conn, keys),
    )
    conn.execute("COMMIT")
    conn.close()
    stamp.write_text(f"{jobs} {events} {SEED}")
    print(f"built {db} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return db


def _event_rows(jobs: int, events: int, keys: dict[str, int]) -> Iterator[tuple[object, ...]]:
    """job_events rows: newest first in the file, so the oldest gets seq 1."""
    for job_id, texts in generate_events(jobs, events, SEED):
        key = keys[job_id]
        for index, text in enumerate(texts):
            event = json.loads(text)
            yield (
                key, event["id"], event["created_at"], len(texts) - index, event["level"],
                event["type"], event["message"], text,
            )  # fmt: skip


def _checkpoint_rows(conn: sqlite3.Connection, keys: dict[str, int]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    created = dict(conn.execute("SELECT job_key, created_at FROM jobs"))
    for job_id, key in keys.items():
        for step in (200, 100):
            text = CHECKPOINT.format(id=f"{key:08d}{step:04d}", t=created[key] + step, step=step,
                                     job=job_id)  # fmt: skip
            rows.append((key, f"ftckpt_{key:08d}{step:04d}", created[key] + step, step,
                         json.loads(text)["fine_tuned_model_checkpoint"], text))  # fmt: skip
    return rows


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as data:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs (default 10,000)")
    parser.add_argument("--events", type=int, default=250, help="events a job (default 250)")
    parser.add_argument("--workdir", type=Path, default=BENCH / "out" / "full-export")
    parser.add_argument("--ftjobs", default=tool("ftjobs"), help="the ftjobs to run")
    parser.add_argument(
        "--check", action="store_true", help="export the restored store: the same bytes?"
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    log = args.workdir / "log"
    base = build_store(args.workdir, args.jobs, args.events, args.ftjobs)
    restored = args.workdir / "restored.db"
    packed = args.workdir / "full.jsonl.gz"
    plain = args.workdir / "full.jsonl"
    results: list[tuple[str, Run, Path | None]] = []
    for name, command, output in (
        ("export --full -o full.jsonl", ["export", "--full", "-o", str(plain)], plain),
        ("export --full -o full.jsonl.gz", ["export", "--full", "-o", str(packed)], packed),
    ):
        run = run_child([args.ftjobs, "--db", str(base), *command], log)
        results.append((name, run, output))
    remove_db(restored)
    run = run_child([args.ftjobs, "--db", str(restored), "import", "-q", str(packed)], log)
    results.append(("import full.jsonl.gz (empty store)", run, restored))
    if any(run.returncode for _, run, _ in results):
        raise SystemExit(f"a case failed: see {log}")

    events = args.jobs * args.events
    print(f"\n{args.jobs:,} jobs x {args.events} events ({events:,} events), {args.ftjobs}\n")
    print("| case | seconds | CPU s | events/s | peak RSS MiB | size MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, run, output in results:
        size = output.stat().st_size / 2**20 if output else 0
        print(
            f"| {name} | {run.seconds:.1f} | {run.cpu_seconds:.1f} |"
            f" {events / run.seconds:,.0f} | {run.peak_rss_mib:.0f} | {size:,.1f} |"
        )
    print(f"\n(base store: {base.stat().st_size / 2**20:,.0f} MiB)")
    if args.check:
        again = args.workdir / "again.jsonl"
        run = run_child([args.ftjobs, "--db", str(restored), "export", "--full", "-o", str(again)],
                        log)  # fmt: skip
        same = run.returncode == 0 and file_digest(again) == file_digest(packed)
        same = same and file_digest(plain) == file_digest(packed)
        print(f"check: export of the restored store is the same bytes: {'yes' if same else 'NO'}")
        if not same:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
