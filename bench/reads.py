#!/usr/bin/env python3
"""Do reads stay as fast on a million jobs as on twenty? (issue 10, "Reads")

Builds (or reuses, from bench/out) a store of --size generated jobs (`generate.py` + `ftjobs
import`) and one of 20, then times each read command on both, as child processes taking turns,
median of --repeat runs, and prints the ratio big/small per command. Output goes to /dev/null
(piped, so `list` without --json writes its plain table).

    python bench/reads.py                    # 1,000,000 jobs against 20
    python bench/reads.py --size 300k --repeat 5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  (a sibling script, not a package)

SMALL = 20


def build_store(workdir: Path, size: int, ftjobs: str) -> Path:
    """A store of size generated jobs, imported by ftjobs; reused while its stamp matches the
    input's stamp (the same generated jobs)."""
    jobs, line = run.generate_input(workdir, size, "jsonl", regenerate=False)
    print(line, flush=True)
    db = workdir / f"reads-{size}.db"
    stamp_path = db.with_name(db.name + ".stamp")
    source = jobs.with_name(jobs.name + ".stamp").read_text()
    if db.exists() and stamp_path.exists() and stamp_path.read_text() == source:
        return db
    run.remove_db(db)
    started = time.perf_counter()
    done = run.run_child(
        [ftjobs, "--db", str(db), "import", "-q", str(jobs)], workdir / "logs" / "reads.log"
    )
    if done.returncode != 0:
        sys.exit(f"importing {jobs} failed; see {workdir / 'logs' / 'reads.log'}")
    print(f"imported {size:,} jobs into {db.name} in {time.perf_counter() - started:.1f} s")
    stamp_path.write_text(source)
    return db


def facts(db: Path) -> tuple[str, str, list[str]]:
    """A job id to show (the middle one recorded), the model with the most failed jobs, and the
    store's indexes on jobs."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        (count,) = conn.execute("SELECT count(*) FROM jobs").fetchone()
        (job_id,) = conn.execute(
            "SELECT id FROM jobs ORDER BY job_key LIMIT 1 OFFSET ?", [count // 2]
        ).fetchone()
        indexes = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs'"
                " AND sql IS NOT NULL ORDER BY name"
            )
        ]
    return job_id, "gpt-4o-mini-2024-07-18", indexes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=run.parse_size, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7, help="runs of each case (median)")
    parser.add_argument("--workdir", type=Path, default=BENCH / "out")
    parser.add_argument("--ftjobs", default=run.tool("ftjobs"))
    args = parser.parse_args()
    (args.workdir / "logs").mkdir(parents=True, exist_ok=True)

    stores = {size: build_store(args.workdir, size, args.ftjobs) for size in (SMALL, args.size)}
    out = args.workdir / "reads-export.jsonl"
    cases: dict[str, dict[int, list[str]]] = {}
    for size, db in stores.items():
        job_id, model, indexes = facts(db)
        print(f"{db.name}: show {job_id}; M = {model}; indexes on jobs: {', '.join(indexes)}")
        filtered = ["--status", "failed", "--model", model]
        commands = {
            "list --json": ["list", "--json"],
            "show ID --json": ["show", job_id, "--json"],
            "list --status failed --model M --limit 50": ["list", *filtered, "--limit", "50"],
            "list --sort trained_tokens --limit 5": ["list", "--sort", "trained_tokens",
                                                     "--limit", "5"],
            "list --sort finished_at --limit 5": ["list", "--sort", "finished_at", "--limit", "5"],
            "list --sort finished_at --reverse --limit 5": ["list", "--sort", "finished_at",
                                                            "--reverse", "--limit", "5"],
            "list --reverse --limit 50": ["list", "--reverse", "--limit", "50"],
            "export --status failed --model M -o FILE": ["export", *filtered, "-o", str(out)],
        }  # fmt: skip
        for name, arguments in commands.items():
            cases.setdefault(name, {})[size] = [args.ftjobs, "--db", str(db), *arguments]

    times: dict[tuple[str, int], list[float]] = {}
    log = args.workdir / "logs" / "reads-runs.log"
    log.unlink(missing_ok=True)
    for turn in range(args.repeat + 1):  # the first turn warms the page cache, untimed
        for name, by_size in cases.items():
            for size, command in by_size.items():
                done = run.run_child(command, log)
                if done.returncode != 0:
                    sys.exit(f"{' '.join(command)} failed; see {log}")
                if turn:
                    times.setdefault((name, size), []).append(done.seconds)

    exported = {}
    for size in stores:  # how many jobs the export case writes, untimed
        run.run_child(cases[next(c for c in cases if c.startswith("export"))][size], log)
        exported[size] = run.count_lines(out)
    print()
    print(
        f"python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs,"
    )
    print(f"{args.repeat} runs each, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print()
    big = args.size
    print(f"| command | {SMALL} jobs ms | {big:,} jobs ms | ratio | {big:,} min-max ms |")
    print("|---|---:|---:|---:|---:|")
    for name in cases:
        small_ms = statistics.median(times[name, SMALL]) * 1000
        runs = [seconds * 1000 for seconds in times[name, big]]
        big_ms = statistics.median(runs)
        print(
            f"| {name} | {small_ms:.0f} | {big_ms:.0f} | {big_ms / small_ms:.2f}"
            f" | {min(runs):.0f}-{max(runs):.0f} |"
        )
    print(
        f"\nexport writes {exported[SMALL]:,} jobs from {SMALL} and {exported[big]:,} from {big:,}"
    )
    print(json.dumps({"size": big, "exported": exported}))


if __name__ == "__main__":
    main()
