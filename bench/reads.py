#!/usr/bin/env python3
"""Do reads stay as fast on a million jobs as on twenty? (issue 10, "Reads")

Builds (or reuses, from bench/out) a store of --size generated jobs (`generate.py` + `ftjobs
import`) and one of 20, then times each read command on both, as child processes taking turns,
median of --repeat runs, and prints the ratio big/small per command. Output goes to /dev/null
(piped, so `list` without --json writes its plain table).

    python -m bench reads                    # 1,000,000 jobs against 20
    python -m bench reads --size 300k --repeat 5
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
from typing import Any

from bench import run
from bench.common import BENCH, remove_db, run_child, tool

SMALL = 20
SORTS = ("created_at", "finished_at", "status", "model", "id", "trained_tokens")


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
    remove_db(db)
    started = time.perf_counter()
    done = run_child(
        [ftjobs, "--db", str(db), "import", "-q", str(jobs)], workdir / "logs" / "reads.log"
    )
    if done.returncode != 0:
        sys.exit(f"importing {jobs} failed; see {workdir / 'logs' / 'reads.log'}")
    print(f"imported {size:,} jobs into {db.name} in {time.perf_counter() - started:.1f} s")
    stamp_path.write_text(source)
    return db


def facts(db: Path) -> dict[str, Any]:
    """What the cases filter on, taken from each store so every filter matches something: a
    job id to show (the middle one recorded) and its fine-tuned model and training file (of
    the middle succeeded job), the model with the most failed jobs, an error code, a metadata
    pair of the newest job with metadata, times a month from either end, and the store's
    indexes on jobs."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        (count,) = conn.execute("SELECT count(*) FROM jobs").fetchone()
        (job_id,) = conn.execute(
            "SELECT id FROM jobs ORDER BY job_key LIMIT 1 OFFSET ?", [count // 2]
        ).fetchone()
        fine_tuned, training_file = conn.execute(
            "SELECT fine_tuned_model, training_file FROM jobs WHERE job_key >= ?"
            " AND fine_tuned_model IS NOT NULL ORDER BY job_key LIMIT 1",
            [count // 2],
        ).fetchone()
        (code,) = conn.execute("SELECT code FROM job_errors ORDER BY job_key LIMIT 1").fetchone()
        (metadata,) = conn.execute(
            "SELECT metadata_json FROM jobs WHERE metadata_json IS NOT NULL"
            " ORDER BY job_key DESC LIMIT 1"
        ).fetchone()
        first, last = conn.execute("SELECT min(created_at), max(created_at) FROM jobs").fetchone()
        indexes = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs'"
                " AND sql IS NOT NULL ORDER BY name"
            )
        ]
    key, value = next(iter(json.loads(metadata).items()))
    month = 30 * 86400
    return {
        "id": job_id,
        "model": "gpt-4o-mini-2024-07-18",
        "fine_tuned_model": fine_tuned,
        "training_file": training_file,
        "error_code": code,
        "metadata": f"{key}={value}",
        "recent": str(last - month),
        "early": str(first + month),
        "indexes": indexes,
    }


def commands(fact: dict[str, Any], out: Path) -> dict[str, list[str]]:
    """The cases: every --sort field both ways, every filter alone (with list's default limit,
    so the "Showing 20 of N" count runs too), a few together, stats unfiltered and filtered,
    search, show and export. Values in capitals in the names come from facts()."""
    model = fact["model"]
    filtered = ["--status", "failed", "--model", model]
    cases = {
        "list --json": ["list", "--json"],
        "show ID --json": ["show", fact["id"], "--json"],
    }
    for sort in SORTS:
        cases[f"list --sort {sort} --limit 5"] = ["list", "--sort", sort, "--limit", "5"]
        cases[f"list --sort {sort} --reverse --limit 5"] = [
            "list", "--sort", sort, "--reverse", "--limit", "5"
        ]  # fmt: skip
    cases["list --reverse --limit 50"] = ["list", "--reverse", "--limit", "50"]
    filters = {
        "--status failed": ["--status", "failed"],
        "--status queued --status running": ["--status", "queued", "--status", "running"],
        "--model gpt-4o-mini": ["--model", "gpt-4o-mini"],
        "--model 'gpt-4.1*'": ["--model", "gpt-4.1*"],
        "--since RECENT": ["--since", fact["recent"]],
        "--until EARLY": ["--until", fact["early"]],
        "--fine-tuned-model FT": ["--fine-tuned-model", fact["fine_tuned_model"]],
        "--training-file FILE": ["--training-file", fact["training_file"]],
        "--error-code CODE": ["--error-code", fact["error_code"]],
        "--metadata K=V": ["--metadata", fact["metadata"]],
        "--finished-since RECENT": ["--finished-since", fact["recent"]],
        "--finished-until EARLY": ["--finished-until", fact["early"]],
        "--status failed --model M --limit 50": [*filtered, "--limit", "50"],
        "--status failed --since RECENT": ["--status", "failed", "--since", fact["recent"]],
        "--model M --sort trained_tokens": ["--model", model, "--sort", "trained_tokens"],
        "--error-code CODE --model M": ["--error-code", fact["error_code"], "--model", model],
    }
    for name, arguments in filters.items():
        cases[f"list {name}"] = ["list", *arguments]
    cases["stats --json"] = ["stats", "--json"]
    cases["stats --status failed --json"] = ["stats", "--status", "failed", "--json"]
    cases["stats --model gpt-4o-mini --json"] = ["stats", "--model", "gpt-4o-mini", "--json"]
    cases["stats --since RECENT --json"] = ["stats", "--since", fact["recent"], "--json"]
    cases["search CODE"] = ["search", fact["error_code"]]
    cases["search ID-PREFIX"] = ["search", fact["id"][:12]]
    cases["export --status failed --model M -o FILE"] = ["export", *filtered, "-o", str(out)]
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=run.parse_size, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7, help="runs of each case (median)")
    parser.add_argument("--workdir", type=Path, default=BENCH / "out")
    parser.add_argument("--ftjobs", default=tool("ftjobs"))
    parser.add_argument("--only", default="", help="run only the cases whose name holds this")
    args = parser.parse_args()
    (args.workdir / "logs").mkdir(parents=True, exist_ok=True)

    stores = {size: build_store(args.workdir, size, args.ftjobs) for size in (SMALL, args.size)}
    out = args.workdir / "reads-export.jsonl"
    cases: dict[str, dict[int, list[str]]] = {}
    for size, db in stores.items():
        fact = facts(db)
        print(
            f"{db.name}: show {fact['id']}; M = {fact['model']}; {fact}; indexes on jobs:"
            f" {', '.join(fact['indexes'])}"
        )
        for name, arguments in commands(fact, out).items():
            if args.only not in name:
                continue
            cases.setdefault(name, {})[size] = [args.ftjobs, "--db", str(db), *arguments]

    times: dict[tuple[str, int], list[float]] = {}
    cpu: dict[tuple[str, int], list[float]] = {}
    log = args.workdir / "logs" / "reads-runs.log"
    log.unlink(missing_ok=True)
    for turn in range(args.repeat + 1):  # the first turn warms the page cache, untimed
        for name, by_size in cases.items():
            for size, command in by_size.items():
                done = run_child(command, log)
                if done.returncode != 0:
                    sys.exit(f"{' '.join(command)} failed; see {log}")
                if turn:
                    times.setdefault((name, size), []).append(done.seconds)
                    cpu.setdefault((name, size), []).append(done.cpu_seconds)

    exported = {}
    export = next((c for c in cases if c.startswith("export")), None)
    for size in stores if export else ():  # how many jobs the export case writes, untimed
        run_child(cases[export][size], log)
        exported[size] = run.count_lines(out)
    print()
    print(
        f"python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs,"
    )
    print(f"{args.repeat} runs each, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print()
    big = args.size
    # CPU (user + system of the child) as well as wall time: on a shared machine the wall
    # clock also counts waiting for a core, CPU time much less so.
    print(
        f"| command | {SMALL} jobs ms | {big:,} jobs ms | ratio | {big:,} min-max ms"
        f" | {SMALL} CPU ms | {big:,} CPU ms | CPU ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in cases:
        small_ms = statistics.median(times[name, SMALL]) * 1000
        runs = [seconds * 1000 for seconds in times[name, big]]
        big_ms = statistics.median(runs)
        small_cpu = statistics.median(cpu[name, SMALL]) * 1000
        big_cpu = statistics.median(cpu[name, big]) * 1000
        print(
            f"| {name} | {small_ms:.0f} | {big_ms:.0f} | {big_ms / small_ms:.2f}"
            f" | {min(runs):.0f}-{max(runs):.0f}"
            f" | {small_cpu:.0f} | {big_cpu:.0f} | {big_cpu / small_cpu:.2f} |"
        )
    if exported:
        print(
            f"\nexport writes {exported[SMALL]:,} jobs from {SMALL} and {exported[big]:,}"
            f" from {big:,}"
        )
    print(json.dumps({"size": big, "exported": exported}))


if __name__ == "__main__":
    main()
