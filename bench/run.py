#!/usr/bin/env python3
"""Time `ftjobs import` and `ftjobs export` against a standard-library floor and sqlite-utils,
on the same generated inputs, in one run.

Every case runs as a child process, timed from start to exit (wall seconds, start-up included,
since every shell call pays it), with its own peak RSS taken from os.wait4. With --repeat N the
cases take turns, so machine noise spreads over all of them, and the median is reported.

    python -m bench run                         # 100k and 1M jobs, every case
    python -m bench run --sizes 100000 --skip-ftjobs
    python -m bench run --sizes 100000 --repeat 3 --check
    python -m bench run --events --check       # 1M events into a store of 4,000 jobs, and reads
    python -m bench run --sync [--jobs N --repeat N --check]   # ftjobs sync: bench/run_sync.py
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import floor
from bench.common import BENCH, Run, remove_db, run_child, script, tool, version_of
from tests.support import generate

SEED = 1
CHECK_SAMPLE = 20_000  # jobs whose floor rows are compared with ftjobs' own, under --check
TABLES = [
    "jobs", "job_errors", "job_hyperparameters", "job_result_files", "integrations",
    "job_integrations", "jobs_fts",
]  # fmt: skip
# Columns compared per table (default *): a job's search row is also its rowid.
COMPARED_COLUMNS = {"jobs_fts": "rowid, job_key, text"}


@dataclass
class Case:
    """A timed command and the runs it has had."""

    name: str
    size: int
    command: list[str]
    prepare: Callable[[], None]  # makes the run start from scratch (untimed)
    runs: list[Run] = field(default_factory=list)
    log: Path = Path(os.devnull)
    ref: str = ""  # the case whose median seconds "x ref" divides by (events cases)

    @property
    def failed(self) -> bool:
        return any(run.returncode != 0 for run in self.runs)

    @property
    def seconds(self) -> float:
        return statistics.median(run.seconds for run in self.runs)

    @property
    def cpu_seconds(self) -> float:
        """Median user + system time: less disturbed than wall time by other work on the
        machine."""
        return statistics.median(run.cpu_seconds for run in self.runs)


def parse_size(text: str) -> int:
    text = text.strip().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:].lower(), 1)
    return int(text[:-1] if scale > 1 else text) * scale


# -- inputs ----------------------------------------------------------------------------------


def generate_input(workdir: Path, size: int, fmt: str, regenerate: bool) -> tuple[Path, str]:
    """Generate (or reuse, when made by the same generator with the same arguments) one input
    file; returns it and a line for the inputs table."""
    suffix = {"jsonl": "jsonl", "list": "list.json", "array": "json"}[fmt]
    path = workdir / f"jobs-{size}.{suffix}"
    stamp_path = path.with_name(path.name + ".stamp")
    generator = Path(generate.__file__)
    stamp = {
        "count": size,
        "seed": SEED,
        "format": fmt,
        "generator": hashlib.sha256(generator.read_bytes()).hexdigest(),
    }
    if not regenerate and path.exists() and stamp_path.exists():
        saved = json.loads(stamp_path.read_text())
        if {key: saved.get(key) for key in stamp} == stamp:
            return path, input_line(path, size, fmt, saved["seconds"], saved["rss"], "reused")
    command = [*script("generate"), "--count", str(size), "--format", fmt]
    command += ["--seed", str(SEED), "-o", str(path)]
    run = run_child(command, workdir / "logs" / "generate.log")
    if run.returncode != 0:
        sys.exit(f"generating {path} failed; see {workdir / 'logs' / 'generate.log'}")
    stamp.update(seconds=run.seconds, rss=run.peak_rss_mib)
    stamp_path.write_text(json.dumps(stamp))
    return path, input_line(path, size, fmt, run.seconds, run.peak_rss_mib, "generated")


def input_line(path: Path, size: int, fmt: str, seconds: float, rss: float, how: str) -> str:
    mib = path.stat().st_size / 2**20
    return (
        f"| {path.name} | {fmt} | {size:,} | {mib:,.0f} | {seconds:.1f} | {size / seconds:,.0f}"
        f" | {rss:.0f} | {how} |"
    )


def flatten(jsonl: Path) -> Path:
    """The jobs table's rows as flat JSON Lines (nested parts as JSON text), for sqlite-utils:
    exactly the jobs rows the floor and ftjobs write. Made once, not timed."""
    flat = jsonl.with_name(jsonl.name.replace(".jsonl", ".flat.jsonl"))
    sources = (jsonl, Path(floor.__file__))
    if flat.exists() and all(flat.stat().st_mtime >= src.stat().st_mtime for src in sources):
        return flat
    columns = floor.JOB_COLUMNS
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with flat.open("w", encoding="utf-8", buffering=1 << 20) as out:
        for key, (job, text) in enumerate(floor.read_jsonl(jsonl), 1):
            row = floor.job_row(job, key, text)
            out.write(encode(dict(zip(columns, row, strict=True))) + "\n")
    return flat


# -- checks ----------------------------------------------------------------------------------


def count_lines(path: Path) -> int:
    with path.open("rb") as data:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: data.read(1 << 20), b""))


def differing_tables(db: Path, reference: Path, tables: list[str]) -> list[str]:
    """Tables whose rows differ between two databases (EXCEPT both ways, inside SQLite)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.execute("ATTACH DATABASE ? AS ref", [f"file:{reference}?mode=ro"])
    differ = []
    for table in tables:
        columns = COMPARED_COLUMNS.get(table, "*")
        for left, right in (("main", "ref"), ("ref", "main")):
            query = (
                f"SELECT 1 FROM (SELECT {columns} FROM {left}.{table}"  # noqa: S608
                f" EXCEPT SELECT {columns} FROM {right}.{table}) LIMIT 1"
            )
            if conn.execute(query).fetchone():
                differ.append(table)
                break
    conn.close()
    return differ


# -- the run ---------------------------------------------------------------------------------


def build_cases(
    size: int,
    inputs: dict[str, Path],
    workdir: Path,
    ftjobs: str,
    with_ftjobs: bool,
    with_sqlite_utils: bool = True,
) -> list[Case]:
    """The cases for one size, in the order they take turns."""
    floor_db, su_db = workdir / f"floor-{size}.db", workdir / f"sqlite-utils-{size}.db"
    jsonl_db, list_db = workdir / f"ft-jsonl-{size}.db", workdir / f"ft-list-{size}.db"
    exported = export_path(workdir, size)
    bulk_db = workdir / f"floor-bulk-{size}.db"
    floor_command = script("floor")

    def schema_only() -> None:  # sqlite-utils fills the jobs table of an ftjobs schema
        remove_db(su_db)
        floor.create_database(su_db).close()

    cases = [
        Case(
            "floor (stdlib) jsonl",
            size,
            [*script("floor"), str(inputs["jsonl"]), str(floor_db)],
            lambda: remove_db(floor_db),
        ),
        Case(
            "stdlib with ftjobs' bulk-load steps (floor.py --bulk-load)",
            size,
            [*floor_command, "--bulk-load", str(inputs["jsonl"]), str(bulk_db)],
            lambda: remove_db(bulk_db),
        ),
        Case(
            "sqlite-utils insert --nl (jobs table only)",
            size,
            [tool("sqlite-utils"), "insert", str(su_db), "jobs", str(inputs["flat"]), "--nl"],
            schema_only,
        ),
    ]
    if not with_sqlite_utils:
        cases.pop()
    if with_ftjobs:
        cases += [
            Case(
                "ftjobs import jsonl",
                size,
                [ftjobs, "--db", str(jsonl_db), "import", str(inputs["jsonl"])],
                lambda: remove_db(jsonl_db),
            ),
            Case(
                "ftjobs import list",
                size,
                [ftjobs, "--db", str(list_db), "import", str(inputs["list"])],
                lambda: remove_db(list_db),
            ),
            Case(
                "ftjobs export jsonl",
                size,
                [ftjobs, "--db", str(jsonl_db), "export", "-o", str(exported)],
                lambda: exported.unlink(missing_ok=True),
            ),
        ]
    for case in cases:
        slug = "".join(c if c.isalnum() else "-" for c in case.name.split(" (")[0])
        case.log = workdir / "logs" / f"{slug}-{size}.log"
    return cases


def export_path(workdir: Path, size: int, name: str = "ft-jsonl") -> Path:
    return workdir / f"export-{name}-{size}.jsonl"


def check(
    size: int, workdir: Path, ftjobs: str, with_ftjobs: bool, with_sqlite_utils: bool = True
) -> list[str]:
    """What --check found wrong for one size (empty: all good)."""
    problems = []
    log = workdir / "logs" / "check.log"
    floor_db = workdir / f"floor-{size}.db"
    su_db = workdir / f"sqlite-utils-{size}.db"
    try:
        for db in (floor_db, su_db) if with_sqlite_utils else (floor_db,):
            with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
                stored = conn.execute("SELECT count(*) FROM jobs").fetchone()[0]
            if stored != size:
                problems.append(f"{db.name}: {stored} jobs, expected {size}")
        bulk_db = workdir / f"floor-bulk-{size}.db"
        if differing_tables(bulk_db, floor_db, TABLES):
            problems.append(f"{bulk_db.name}: tables differ from the floor's")
        if with_sqlite_utils and differing_tables(su_db, floor_db, ["jobs"]):
            problems.append(f"{su_db.name}: jobs table differs from the floor's")
        if not with_ftjobs:
            return problems
        for name in ("ft-jsonl", "ft-list"):
            db = workdir / f"{name}-{size}.db"
            out = export_path(workdir, size, name)
            if name != "ft-jsonl":  # the timed export case already wrote ft-jsonl's
                out.unlink(missing_ok=True)
                run_child([ftjobs, "--db", str(db), "export", "-o", str(out)], log)
            lines = count_lines(out) if out.exists() else 0
            if lines != size:
                problems.append(f"export of {db.name}: {lines} lines, expected {size}")
            if not db.exists():
                problems.append(f"{db.name}: missing")
                continue
            differ = differing_tables(db, floor_db, TABLES)
            if differ:
                problems.append(f"{db.name}: tables differ from the floor's: {', '.join(differ)}")
    except sqlite3.Error as error:  # a case failed and left no usable database
        problems.append(f"size {size}: {error}")
    return problems


def print_results(cases: list[Case], repeat: int) -> None:
    floors = {
        case.size: case.seconds
        for case in cases
        if case.name.startswith("floor") and not case.failed
    }
    floor_cpu = {
        case.size: case.cpu_seconds
        for case in cases
        if case.name.startswith("floor") and not case.failed
    }
    spread = repeat > 1
    header = "| case | jobs | seconds | jobs/s | x floor | CPU s | x floor CPU | peak RSS MiB |"
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|"
    if spread:
        header += " min-max s |"
        rule += "---:|"
    print(header)
    print(rule)
    for case in cases:
        if case.failed:
            print(f"| {case.name} | {case.size:,} | FAILED (see {case.log}) | | | | | |")
            continue
        seconds = case.seconds
        ratio = seconds / floors[case.size] if case.size in floors else float("nan")
        cpu = case.cpu_seconds
        cpu_ratio = cpu / floor_cpu[case.size] if case.size in floor_cpu else float("nan")
        rss = max(run.peak_rss_mib for run in case.runs)
        line = (
            f"| {case.name} | {case.size:,} | {seconds:.2f} | {case.size / seconds:,.0f}"
            f" | {ratio:.2f} | {cpu:.2f} | {cpu_ratio:.2f} | {rss:.0f} |"
        )
        if spread:
            times = [run.seconds for run in case.runs]
            line += f" {min(times):.2f}-{max(times):.2f} |"
        print(line)


# -- events: 4,000 jobs x 250 events into a store holding the jobs ---------------------------

EVENT_JOBS, EVENTS_PER_JOB, BIG_EVENTS = 4_000, 250, 250_000
EVENT_CHECK_JOBS = 50  # jobs whose floor rows are compared with ftjobs', under --check
READ_REPEAT = 5  # runs of each read command (the median counts)
HISTORY_TABLES = ["job_events", "job_metric_columns", "job_metric_values"]


def stamped(target: Path, command: list[str], sources: list[Path], log: Path) -> tuple[str, Run]:
    """Run command to make target unless a .stamp says the same command and sources made it."""
    stamp_path = target.with_name(target.name + ".stamp")
    stamp = {
        "command": [str(part) for part in command[1:]],
        "sources": [hashlib.sha256(src.read_bytes()).hexdigest() for src in sources],
    }
    if target.exists() and stamp_path.exists():
        saved = json.loads(stamp_path.read_text())
        if {key: saved.get(key) for key in stamp} == stamp:
            return "reused", Run(saved["seconds"], saved["rss"], 0)
    run = run_child(command, log)
    if run.returncode != 0:
        sys.exit(f"making {target} failed; see {log}")
    stamp.update(seconds=run.seconds, rss=run.peak_rss_mib)
    stamp_path.write_text(json.dumps(stamp))
    return "generated", run


def copy_store(source: Path, target: Path) -> None:
    remove_db(target)
    shutil.copyfile(source, target)


def prepare_events(
    workdir: Path, ftjobs: str, regenerate: bool, event_jobs: int = EVENT_JOBS
) -> dict[str, Any]:
    """The events inputs and the stores they go into (untimed): 4,000 generated jobs imported
    by ftjobs into a base store, 250 events for each, one job with 250,000 events, and a store
    holding only the job the read cases read."""
    log = workdir / "logs" / "generate-events.log"
    sources = [Path(generate.__file__), BENCH / "generate_events.py"]
    if regenerate:
        for stamp in workdir.glob("*.stamp"):
            stamp.unlink()
    jobs_path, _ = generate_input(workdir, event_jobs, "jsonl", regenerate)
    made = {}
    for jobs, per_job in ((event_jobs, EVENTS_PER_JOB), (1, BIG_EVENTS)):
        directory = workdir / f"events-{jobs}x{per_job}"
        command = [*script("generate_events"), "--jobs", str(jobs)]
        command += ["--events-per-job", str(per_job), "--seed", str(SEED), "-o", str(directory)]
        how, run = stamped(directory / "jobs.txt", command, sources, log)
        made[directory.name] = (directory, how, run)
        print(
            f"| {directory.name} | {jobs * per_job:,} | {run.seconds:.1f}"
            f" | {jobs * per_job / run.seconds:,.0f} | {run.peak_rss_mib:.0f} | {how} |",
            flush=True,
        )
    events_dir = made[f"events-{event_jobs}x{EVENTS_PER_JOB}"][0]
    big_dir = made[f"events-1x{BIG_EVENTS}"][0]
    ids = (events_dir / "jobs.txt").read_text().split()
    base = workdir / f"events-base-{event_jobs}.db"
    remove_db(base)
    if run_child([ftjobs, "--db", str(base), "import", "-q", str(jobs_path)], log).returncode:
        sys.exit(f"importing {jobs_path} failed; see {log}")
    # The read cases' small store: the one job, and its events, alone.
    read_job = ids[len(ids) // 2]
    single = workdir / "events-one-job.db"
    remove_db(single)
    one_job = workdir / "events-one-job.jsonl"
    with jobs_path.open() as lines:
        one_job.write_text(next(line for line in lines if f'"{read_job}"' in line))
    for command in (
        [ftjobs, "--db", str(single), "import", "-q", str(one_job)],
        [ftjobs, "--db", str(single), "import", "-q", "--job", read_job,
         str(events_dir / f"{read_job}.jsonl")],
    ):  # fmt: skip
        if run_child(command, log).returncode:
            sys.exit(f"making {single} failed; see {log}")
    return {
        "dir": events_dir, "big": big_dir, "ids": ids, "base": base, "read_job": read_job,
        "single": single, "jobs": event_jobs,
    }  # fmt: skip


def has_command(ftjobs: str, name: str) -> bool:
    result = subprocess.run([ftjobs, name, "--help"], capture_output=True, check=False)
    return result.returncode == 0


def build_event_cases(workdir: Path, ftjobs: str, inputs: dict[str, Any]) -> list[Case]:
    """The import cases: floor and ftjobs for 1M events in one process (one transaction per
    job each), then single commands of one job (250 and 250,000 events)."""
    events_dir, big_dir, base = inputs["dir"], inputs["big"], inputs["base"]
    first_job = inputs["ids"][0]
    total = inputs["jobs"] * EVENTS_PER_JOB
    cases = []

    def case(name: str, size: int, command: list[str], db: Path, ref: str) -> None:
        def prepare() -> None:
            copy_store(base, db)

        cases.append(Case(name, size, command, prepare, ref=ref))

    floor_1m, ft_1m = workdir / "events-floor.db", workdir / "events-ftjobs.db"
    floor_one, ft_one = workdir / "events-floor-one.db", workdir / "events-ftjobs-one.db"
    floor_events = script("floor_events")
    case(
        "floor (stdlib) events, one process",
        total,
        [*floor_events, str(events_dir), str(floor_1m)],
        floor_1m,
        "",
    )
    case(
        "ftjobs import path, one process",
        total,
        [*script("ftjobs_events"), str(events_dir), str(ft_1m)],
        ft_1m,
        "floor (stdlib) events, one process",
    )
    case(
        "floor (stdlib) events, 1 job",
        EVENTS_PER_JOB,
        [*floor_events, str(events_dir), str(floor_one), "--jobs", "1"],
        floor_one,
        "",
    )
    case(
        "ftjobs import --job (command), 1 job",
        EVENTS_PER_JOB,
        [
            ftjobs,
            "--db",
            str(ft_one),
            "import",
            "-q",
            "--job",
            first_job,
            str(events_dir / f"{first_job}.jsonl"),
        ],
        ft_one,
        "floor (stdlib) events, 1 job",
    )
    case(
        "floor (stdlib) events, 1 big job",
        BIG_EVENTS,
        [*floor_events, str(big_dir), str(floor_one)],
        floor_one,
        "",
    )
    case(
        "ftjobs import --job (command), 1 big job",
        BIG_EVENTS,
        [
            ftjobs,
            "--db",
            str(ft_one),
            "import",
            "-q",
            "--job",
            first_job,
            str(big_dir / f"{first_job}.jsonl"),
        ],
        ft_one,
        "floor (stdlib) events, 1 big job",
    )
    for item in cases:
        slug = "".join(c if c.isalnum() else "-" for c in item.name)
        item.log = workdir / "logs" / f"events-{slug}.log"
    return cases


def build_read_cases(workdir: Path, ftjobs: str, inputs: dict[str, Any]) -> list[Case]:
    """The same read command on the 1M-event store and on a store holding only that job."""
    job, single, full = inputs["read_job"], inputs["single"], workdir / "events-ftjobs.db"
    commands = []
    if has_command(ftjobs, "events"):
        commands += [("events --jsonl", ["events", job, "--jsonl"]), ("events", ["events", job])]
    if has_command(ftjobs, "metrics"):
        commands += [("metrics --json", ["metrics", job, "--json"])]
    cases = []
    for label, args in commands:
        for where, db in (("1 job", single), ("1M events", full)):
            name = f"ftjobs {label} (store: {where})"
            ref = f"ftjobs {label} (store: 1 job)" if db is full else ""
            item = Case(name, EVENTS_PER_JOB, [ftjobs, "--db", str(db), *args], lambda: None,
                        ref=ref)  # fmt: skip
            item.log = workdir / "logs" / f"read-{label.split()[0]}-{where.split()[0]}.log"
            cases.append(item)
    return cases


def store_reads(workdir: Path, inputs: dict[str, Any]) -> list[str]:
    """Store.events / Store.metrics in-process on both stores, and the plans they use."""
    lines = ["| read (in-process, median ms) | store: 1 job | store: 1M events | ratio |",
             "|---|---:|---:|---:|"]  # fmt: skip
    reports = {}
    for where, db in (("single", inputs["single"]), ("full", workdir / "events-ftjobs.db")):
        command = [*script("read_events"), str(db), inputs["read_job"]]
        result = subprocess.run([*command, "--plans"], capture_output=True, text=True, check=True)
        reports[where] = json.loads(result.stdout)
    labels = {
        "events": "Store.events, written as JSON Lines",
        "metrics": "Store.metrics",
        "tail": "Store.events(limit=20)",
    }
    for name, label in labels.items():
        one, full = reports["single"][name]["ms"], reports["full"][name]["ms"]
        lines.append(f"| {label} | {one:.2f} | {full:.2f} | {full / one:.2f} |")
    lines.append("")
    lines.append("Plans on the 1M-event store:")
    for name, statements in reports["full"]["plans"].items():
        for statement in statements:
            if any(table in statement["sql"] for table in HISTORY_TABLES):
                lines.append(f"- {name}: `{statement['sql'].strip()}`")
                lines += [f"  - {detail}" for detail in statement["plan"]]
    return lines


def print_event_results(cases: list[Case], repeat: int) -> None:
    by_name = {case.name: case for case in cases}
    print("| case | events | seconds | events/s | x ref | peak RSS MiB | min-max s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for case in cases:
        if case.failed:
            print(f"| {case.name} | {case.size:,} | FAILED (see {case.log}) | | | | |")
            continue
        ref = by_name.get(case.ref)
        ratio = f"{case.seconds / ref.seconds:.2f}" if ref and not ref.failed else "1.00"
        times = [run.seconds for run in case.runs]
        print(
            f"| {case.name} | {case.size:,} | {case.seconds:.2f} | {case.size / case.seconds:,.0f}"
            f" | {ratio} | {max(run.peak_rss_mib for run in case.runs):.0f}"
            f" | {min(times):.2f}-{max(times):.2f} |"
        )


def check_events(workdir: Path, inputs: dict[str, Any]) -> list[str]:
    """The floor's rows equal ftjobs' (the first jobs, then both whole 1M-event stores)."""
    problems = []
    log = workdir / "logs" / "check.log"
    verify = [*script("floor_events"), str(inputs["dir"])]
    if run_child([*verify, "--verify-rows", str(EVENT_CHECK_JOBS)], log).returncode != 0:
        problems.append(f"floor event rows differ from ftjobs' (see {log})")
    floor_db, ft_db = workdir / "events-floor.db", workdir / "events-ftjobs.db"
    try:
        for db in (floor_db, ft_db):
            with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
                stored = conn.execute("SELECT count(*) FROM job_events").fetchone()[0]
            if stored != inputs["jobs"] * EVENTS_PER_JOB:
                problems.append(f"{db.name}: {stored:,} events")
        differ = differing_tables(ft_db, floor_db, HISTORY_TABLES)
        if differ:
            problems.append(f"{ft_db.name}: differs from the floor's: {', '.join(differ)}")
    except sqlite3.Error as error:
        problems.append(f"events: {error}")
    return problems


def run_events(
    args: argparse.Namespace, workdir: Path, ftjobs: str
) -> tuple[list[Case], list[str]]:
    print("| events input | events | generate s | events/s | peak RSS MiB | |")
    print("|---|---:|---:|---:|---:|---|")
    inputs = prepare_events(workdir, ftjobs, args.regenerate, args.event_jobs)
    print()
    cases = build_event_cases(workdir, ftjobs, inputs)
    for _ in range(args.repeat):
        for case in cases:
            run_case(case)
    reads = build_read_cases(workdir, ftjobs, inputs)
    for _ in range(max(args.repeat, READ_REPEAT)):
        for case in reads:
            run_case(case)
    print_event_results(cases + reads, args.repeat)
    sizes = ", ".join(
        f"{name} {(workdir / f'events-{name}.db').stat().st_size / 2**20:,.0f} MiB"
        for name in ("floor", "ftjobs")
        if (workdir / f"events-{name}.db").exists()
    )
    print(f"\nstores after 1M events (4,000 jobs): {sizes}")
    if not reads:
        print(
            "\n(no `ftjobs events` / `ftjobs metrics` command in this ftjobs:"
            " read commands skipped)"
        )
    print()
    for line in store_reads(workdir, inputs):
        print(line)
    problems = check_events(workdir, inputs) if args.check else []
    return cases + reads, problems


def run_case(case: Case) -> None:
    case.prepare()
    run = run_child(case.command, case.log)
    case.runs.append(run)
    state = "ok" if run.returncode == 0 else f"exit {run.returncode}"
    print(
        f"  {case.name} {case.size:,}: {run.seconds:.2f} s, {run.peak_rss_mib:.0f} MiB, {state}",
        file=sys.stderr,
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--sync" in argv:  # the sync benchmark: bench/run_sync.py, with the other arguments
        from bench import run_sync

        return run_sync.main([arg for arg in argv if arg != "--sync"])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="100000,1000000",
        help="comma-separated job counts (100k and 1M work too); default 100000,1000000",
    )
    parser.add_argument("--workdir", type=Path, default=BENCH / "out")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the median counts")
    parser.add_argument(
        "--skip-ftjobs", action="store_true", help="only the floor and sqlite-utils cases"
    )
    parser.add_argument(
        "--skip-sqlite-utils",
        action="store_true",
        help="leave out the sqlite-utils case (the slowest, and not ftjobs)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="verify: floor rows == ftjobs' rows, export line count == input, same tables",
    )
    parser.add_argument(
        "--ftjobs", default=None, help="ftjobs executable (default: the one beside this Python)"
    )
    parser.add_argument(
        "--regenerate", action="store_true", help="regenerate inputs even if they are current"
    )
    parser.add_argument(
        "--events",
        action="store_true",
        help="the events cases: 1M events into a store of 4,000 jobs, single commands, reads"
        " (job sizes too only if --sizes is given)",
    )
    parser.add_argument(
        "--event-jobs",
        type=int,
        default=EVENT_JOBS,
        help=f"jobs (x {EVENTS_PER_JOB} events) for --events (default {EVENT_JOBS};"
        " fewer to try it)",
    )
    args = parser.parse_args(argv)
    sizes_text = (
        args.sizes
        if not args.events or any(a.startswith("--sizes") for a in argv or sys.argv)
        else ""
    )
    sizes = [parse_size(size) for size in sizes_text.split(",") if size.strip()]
    if (not sizes and not args.events) or min(sizes, default=1) <= 0 or args.repeat < 1:
        parser.error("--sizes needs positive counts and --repeat at least 1")
    workdir: Path = args.workdir.resolve()
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    ftjobs = args.ftjobs or tool("ftjobs")
    with_ftjobs = not args.skip_ftjobs

    print(
        f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version},"
        f" {os.cpu_count()} CPUs, {version_of([tool('sqlite-utils'), '--version'])},"
        f" ftjobs: {version_of([ftjobs, '--version']) if with_ftjobs else 'skipped'}"
    )
    print(f"workdir {workdir}; repeat {args.repeat}; {time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n")

    if sizes:
        print("| input | format | jobs | MiB | generate s | jobs/s | peak RSS MiB | |")
        print("|---|---|---:|---:|---:|---:|---:|---|")
    inputs: dict[int, dict[str, Path]] = {}
    for size in sizes:
        formats = ("jsonl", "list") if with_ftjobs else ("jsonl",)
        inputs[size] = {}
        for fmt in formats:
            path, line = generate_input(workdir, size, fmt, args.regenerate)
            inputs[size][fmt] = path
            print(line, flush=True)
        inputs[size]["flat"] = flatten(inputs[size]["jsonl"])
    if sizes:
        print()

    problems: list[str] = []
    if args.check and sizes:
        verify = [*script("floor"), str(inputs[sizes[0]]["jsonl"])]
        verify += ["--verify-rows", str(CHECK_SAMPLE)]
        if run_child(verify, workdir / "logs" / "check.log").returncode != 0:
            problems.append(f"floor rows differ from ftjobs' (see {workdir / 'logs/check.log'})")

    cases: list[Case] = []
    for size in sizes:
        size_cases = build_cases(
            size, inputs[size], workdir, ftjobs, with_ftjobs, not args.skip_sqlite_utils
        )
        for _ in range(args.repeat):
            for case in size_cases:
                case.prepare()
                run = run_child(case.command, case.log)
                case.runs.append(run)
                state = "ok" if run.returncode == 0 else f"exit {run.returncode}"
                print(
                    f"  {case.name} {size:,}: {run.seconds:.2f} s,"
                    f" {run.peak_rss_mib:.0f} MiB, {state}",
                    file=sys.stderr,
                    flush=True,
                )
        cases += size_cases
        if args.check:
            problems += check(size, workdir, ftjobs, with_ftjobs, not args.skip_sqlite_utils)

    if sizes:
        print_results(cases, args.repeat)
    if args.events:
        if sizes:
            print()
        event_cases, event_problems = run_events(args, workdir, ftjobs)
        cases += event_cases
        problems += event_problems
    if args.check:
        print()
        for problem in problems:
            print(f"check FAILED: {problem}")
        if not problems:
            checked = "row-for-row same tables as the floor" if with_ftjobs else "job counts"
            if sizes:
                sample = min(CHECK_SAMPLE, sizes[0])
                print(f"check passed: floor rows == ftjobs' rows ({sample} jobs), {checked}")
            if args.events:
                print(
                    f"check passed: floor event rows == ftjobs' ({EVENT_CHECK_JOBS} jobs), and"
                    " the 1M-event stores' history tables are the same row for row"
                )
    failed = [case.name for case in cases if case.failed]
    return 1 if problems or failed else 0


if __name__ == "__main__":
    sys.exit(main())
