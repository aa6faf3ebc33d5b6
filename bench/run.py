#!/usr/bin/env python3
"""Time `ftjobs import` and `ftjobs export` against a standard-library floor and sqlite-utils,
on the same generated inputs, in one run.

Every case runs as a child process, timed from start to exit (wall seconds, start-up included,
since every shell call pays it), with its own peak RSS taken from os.wait4. With --repeat N the
cases take turns, so machine noise spreads over all of them, and the median is reported.

    python bench/run.py                         # 100k and 1M jobs, every case
    python bench/run.py --sizes 100000 --skip-ftjobs
    python bench/run.py --sizes 100000 --repeat 3 --check
    python bench/run.py --sync [--jobs N --repeat N --check]   # ftjobs sync: bench/run_sync.py
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import floor  # noqa: E402  (a sibling script, not a package)

SEED = 1
CHECK_SAMPLE = 20_000  # jobs whose floor rows are compared with ftjobs' own, under --check
TABLES = [
    "jobs", "job_errors", "job_hyperparameters", "job_result_files", "integrations",
    "job_integrations",
]  # fmt: skip


@dataclass
class Run:
    """One child process: how long it took, the most memory it held and its CPU time."""

    seconds: float
    peak_rss_mib: float
    returncode: int
    cpu_seconds: float = 0.0  # user + system, from the same os.wait4


@dataclass
class Case:
    """A timed command and the runs it has had."""

    name: str
    size: int
    command: list[str]
    prepare: Callable[[], None]  # makes the run start from scratch (untimed)
    runs: list[Run] = field(default_factory=list)
    log: Path = Path(os.devnull)

    @property
    def failed(self) -> bool:
        return any(run.returncode != 0 for run in self.runs)

    @property
    def seconds(self) -> float:
        return statistics.median(run.seconds for run in self.runs)


def run_child(command: list[str], log: Path, env: dict[str, str] | None = None) -> Run:
    """Run command to completion; its output goes to log. os.wait4 gives this child's own peak
    RSS (ru_maxrss, KiB on Linux), which RUSAGE_CHILDREN would mix with earlier children's."""
    with log.open("ab") as out:
        out.write(f"$ {' '.join(command)}\n".encode())
        out.flush()
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=out, stderr=out, stdin=subprocess.DEVNULL, env=env
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, usage.ru_maxrss / 1024, process.returncode, cpu)


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def tool(name: str) -> str:
    """A console script installed next to this Python (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else name


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
    generator = BENCH / "generate.py"
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
    command = [sys.executable, str(generator), "--count", str(size), "--format", fmt]
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
    sources = (jsonl, BENCH / "floor.py")
    if flat.exists() and all(flat.stat().st_mtime >= src.stat().st_mtime for src in sources):
        return flat
    columns = floor.JOB_COLUMNS
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with flat.open("w", encoding="utf-8", buffering=1 << 20) as out:
        for key, job in enumerate(floor.read_jsonl(jsonl), 1):
            out.write(encode(dict(zip(columns, floor.job_row(job, key), strict=True))) + "\n")
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
        for left, right in (("main", "ref"), ("ref", "main")):
            query = (
                f"SELECT 1 FROM (SELECT * FROM {left}.{table}"  # noqa: S608
                f" EXCEPT SELECT * FROM {right}.{table}) LIMIT 1"
            )
            if conn.execute(query).fetchone():
                differ.append(table)
                break
    conn.close()
    return differ


# -- the run ---------------------------------------------------------------------------------


def build_cases(
    size: int, inputs: dict[str, Path], workdir: Path, ftjobs: str, with_ftjobs: bool
) -> list[Case]:
    """The cases for one size, in the order they take turns."""
    floor_db, su_db = workdir / f"floor-{size}.db", workdir / f"sqlite-utils-{size}.db"
    jsonl_db, list_db = workdir / f"ft-jsonl-{size}.db", workdir / f"ft-list-{size}.db"
    exported = export_path(workdir, size)

    def schema_only() -> None:  # sqlite-utils fills the jobs table of an ftjobs schema
        remove_db(su_db)
        floor.create_database(su_db).close()

    cases = [
        Case(
            "floor (stdlib) jsonl",
            size,
            [sys.executable, str(BENCH / "floor.py"), str(inputs["jsonl"]), str(floor_db)],
            lambda: remove_db(floor_db),
        ),
        Case(
            "sqlite-utils insert --nl (jobs table only)",
            size,
            [tool("sqlite-utils"), "insert", str(su_db), "jobs", str(inputs["flat"]), "--nl"],
            schema_only,
        ),
    ]
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


def check(size: int, workdir: Path, ftjobs: str, with_ftjobs: bool) -> list[str]:
    """What --check found wrong for one size (empty: all good)."""
    problems = []
    log = workdir / "logs" / "check.log"
    floor_db = workdir / f"floor-{size}.db"
    su_db = workdir / f"sqlite-utils-{size}.db"
    try:
        for db in (floor_db, su_db):
            with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
                stored = conn.execute("SELECT count(*) FROM jobs").fetchone()[0]
            if stored != size:
                problems.append(f"{db.name}: {stored} jobs, expected {size}")
        if differing_tables(su_db, floor_db, ["jobs"]):
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


def version_of(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    except OSError:
        return "not found"
    return (result.stdout.strip() or result.stderr.strip() or "?").splitlines()[0]


def print_results(cases: list[Case], repeat: int) -> None:
    floors = {
        case.size: case.seconds
        for case in cases
        if case.name.startswith("floor") and not case.failed
    }
    spread = repeat > 1
    header = "| case | jobs | seconds | jobs/s | x floor | peak RSS MiB |"
    rule = "|---|---:|---:|---:|---:|---:|"
    if spread:
        header += " min-max s |"
        rule += "---:|"
    print(header)
    print(rule)
    for case in cases:
        if case.failed:
            print(f"| {case.name} | {case.size:,} | FAILED (see {case.log}) | | | |")
            continue
        seconds = case.seconds
        ratio = seconds / floors[case.size] if case.size in floors else float("nan")
        rss = max(run.peak_rss_mib for run in case.runs)
        line = (
            f"| {case.name} | {case.size:,} | {seconds:.2f} | {case.size / seconds:,.0f}"
            f" | {ratio:.2f} | {rss:.0f} |"
        )
        if spread:
            times = [run.seconds for run in case.runs]
            line += f" {min(times):.2f}-{max(times):.2f} |"
        print(line)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--sync" in argv:  # the sync benchmark: bench/run_sync.py, with the other arguments
        import run_sync

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
    args = parser.parse_args(argv)
    sizes = [parse_size(size) for size in args.sizes.split(",") if size.strip()]
    if not sizes or min(sizes) <= 0 or args.repeat < 1:
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
    print()

    problems: list[str] = []
    if args.check:
        verify = [sys.executable, str(BENCH / "floor.py"), str(inputs[sizes[0]]["jsonl"])]
        verify += ["--verify-rows", str(CHECK_SAMPLE)]
        if run_child(verify, workdir / "logs" / "check.log").returncode != 0:
            problems.append(f"floor rows differ from ftjobs' (see {workdir / 'logs/check.log'})")

    cases: list[Case] = []
    for size in sizes:
        size_cases = build_cases(size, inputs[size], workdir, ftjobs, with_ftjobs)
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
            problems += check(size, workdir, ftjobs, with_ftjobs)

    print_results(cases, args.repeat)
    if args.check:
        print()
        for problem in problems:
            print(f"check FAILED: {problem}")
        if not problems:
            checked = "row-for-row same tables as the floor" if with_ftjobs else "job counts"
            sample = min(CHECK_SAMPLE, sizes[0])
            print(f"check passed: floor rows == ftjobs' rows ({sample} jobs), {checked}")
    failed = [case.name for case in cases if case.failed]
    return 1 if problems or failed else 0


if __name__ == "__main__":
    sys.exit(main())
