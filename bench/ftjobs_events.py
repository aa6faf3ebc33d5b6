#!/usr/bin/env python3
"""Import a directory of events (from generate_events.py) with ftjobs' real import path, all
jobs in one process: per job exactly what `ftjobs --db DB import --job JOB FILE` does once its
options are parsed (JobReader(...).records() into Store.import_jobs(..., events_job=JOB), one
transaction per job, with the collector settings of the command), without the 4,000 process
start-ups that running the command 4,000 times would measure instead.

    python -m bench ftjobs-events bench/out/events-4000x250 store.db
    python -m bench ftjobs-events bench/out/events-4000x250 store.db --profile out.prof
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path


def ftjobs_import(events_dir: Path, db: Path, ids: list[str]) -> int:
    """Import each job's events file as `ftjobs import --job` does; returns the events added."""
    from ftjobs.api.batches import JobReader, fewer_collections
    from ftjobs.store import Store

    added = 0
    with Store.open(db) as store, fewer_collections():
        for job_id in ids:
            reader = JobReader([str(events_dir / f"{job_id}.jsonl")], stop_at_problem=True)
            counts = store.import_jobs(
                reader.records(), keep=lambda r=reader: not r.problems, events_job=job_id
            )
            if reader.problems or not counts.committed:
                raise SystemExit(f"{job_id}: {reader.problems.first}")
            added += counts.history.events_added
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("events", type=Path, help="a directory from generate_events.py")
    parser.add_argument("db", type=Path, help="a store holding the jobs")
    parser.add_argument("--jobs", type=int, default=None, help="only the first N jobs")
    parser.add_argument("--profile", type=Path, help="write cProfile stats here")
    args = parser.parse_args(argv)
    if not args.db.exists():
        parser.error(f"{args.db}: no such store (import the jobs first)")
    ids = (args.events / "jobs.txt").read_text(encoding="utf-8").split()[: args.jobs]
    started = time.perf_counter()
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        count = profiler.runcall(ftjobs_import, args.events, args.db, ids)
        profiler.dump_stats(args.profile)
    else:
        count = ftjobs_import(args.events, args.db, ids)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{count:,} events of {len(ids):,} jobs into {args.db} in {seconds:.2f} s"
        f" ({count / seconds:,.0f} events/s), peak RSS {peak:.0f} MiB",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
