#!/usr/bin/env python3
"""Time `ftjobs sync` against a local fake of the fine-tuning API, and the same fetches made by
a standard-library floor, in one run.

bench/fake_server.py serves N generated jobs (each with its events, checkpoints and result
files) from its own process. Every case is a child process timed from start to exit (wall,
its CPU seconds and peak RSS from os.wait4); the requests it made are counted by the server
(``/__reset`` before, ``/__stats`` after), with the server's CPU seconds meanwhile.

    python bench/run_sync.py                      # 10,000 jobs, 50 events and 2 checkpoints each
    python bench/run_sync.py --jobs 2000 --repeat 3 --check
    python bench/run.py --sync                    # the same, from run.py
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import Run, remove_db, run_child, tool, version_of  # noqa: E402


@dataclass
class Measured:
    run: Run
    stats: dict[str, Any]  # the server's: requests, by_kind, cpu_seconds (this case's share)


@dataclass
class SyncCase:
    name: str
    command: list[str]
    prepare: Callable[[], None]
    env: dict[str, str] | None = None
    log: Path = Path(os.devnull)
    runs: list[Measured] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(m.run.returncode != 0 for m in self.runs)

    def median(self, value: Callable[[Measured], float]) -> float:
        return statistics.median(value(m) for m in self.runs)


class Server:
    """bench/fake_server.py as a child process; stopped by closing its stdin."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log.open("ab")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH / "fake_server.py"), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            sys.exit(f"the fake server did not start; see {log}")
        self.info: dict[str, Any] = json.loads(line)
        self.info["start_seconds"] = time.perf_counter() - started
        self.url = f"http://127.0.0.1:{self.info['port']}"

    def get(self, path: str) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + path, timeout=60) as response:
            return dict(json.load(response))

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait()
        self.log.close()


@contextlib.contextmanager
def serving(args: list[str], log: Path) -> Iterator[Server]:
    server = Server(args, log)
    try:
        yield server
    finally:
        server.close()


def client_env(server: Server) -> dict[str, str]:
    """This environment without any OpenAI or Azure settings, pointed at the fake."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_OPENAI_"))}
    env.update(OPENAI_API_KEY=server.info["key"], OPENAI_BASE_URL=server.url + "/v1")
    return env


def build_cases(server: Server, workdir: Path, ftjobs: str) -> list[SyncCase]:
    """In the order they take turns (the second sync needs the first's store)."""
    floor = [sys.executable, str(BENCH / "sync_floor.py"), "--base-url", server.url + "/v1"]
    floor += ["--key", server.info["key"]]
    floor_db, sync_db = workdir / "sync-floor.db", workdir / "sync-ftjobs.db"
    env = client_env(server)
    cases = [
        SyncCase("floor: http.client keep-alive + json.loads", floor, lambda: None),
        SyncCase(
            "floor: urllib (a connection a request) + json.loads",
            [*floor, "--transport", "urllib"],
            lambda: None,
        ),
        SyncCase(
            "floor + SQLite executemany (raw rows)",
            [*floor, "--db", str(floor_db)],
            lambda: remove_db(floor_db),
        ),
        SyncCase(
            "ftjobs sync, first (empty store)",
            [ftjobs, "--db", str(sync_db), "sync"],
            lambda: remove_db(sync_db),
            env,
        ),
        SyncCase(
            "ftjobs sync, second (unchanged)",
            [ftjobs, "--db", str(sync_db), "sync"],
            lambda: None,
            env,
        ),
    ]
    for case in cases:
        slug = "".join(c if c.isalnum() else "-" for c in case.name.split(" (")[0].lower())
        case.log = workdir / "logs" / f"sync-{slug.strip('-')}.log"
    return cases


def run_case(server: Server, case: SyncCase) -> Measured:
    case.prepare()
    before = server.get("/__reset")
    run = run_child(case.command, case.log, case.env)
    stats = server.get("/__stats")
    stats["cpu_seconds"] -= before["cpu_seconds"]
    return Measured(run, stats)


def check(server: Server, workdir: Path, cases: list[SyncCase]) -> list[str]:
    """What --check found wrong (empty: all good)."""
    info = server.info
    problems = []
    expected = {
        "jobs": info["jobs"],
        "job_events": info["events"],
        "job_checkpoints": info["checkpoints"],
        "result_file_contents": info["files"],
    }
    floor_tables = {
        "jobs": "jobs", "job_events": "events", "job_checkpoints": "checkpoints",
        "result_file_contents": "files",
    }  # fmt: skip
    for db, tables in (
        (workdir / "sync-ftjobs.db", None),
        (workdir / "sync-floor.db", floor_tables),
    ):
        try:
            with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
                for table, count in expected.items():
                    name = tables[table] if tables else table
                    stored = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # noqa: S608
                    if stored != count:
                        problems.append(f"{db.name}: {stored} rows in {name}, expected {count}")
        except sqlite3.Error as error:
            problems.append(f"{db.name}: {error}")
    first_requests = 1 * info["list_pages"] + 2 * info["jobs"] + info["files"]
    for case in cases:
        if case.failed:
            problems.append(f"{case.name}: exit status {case.runs[-1].run.returncode}")
        want = info["second_sync_requests"] if "second" in case.name else first_requests
        for measured in case.runs:
            if measured.stats["requests"] != want:
                problems.append(
                    f"{case.name}: {measured.stats['requests']} requests, expected {want}"
                )
    self_check = run_child(
        [sys.executable, str(BENCH / "fake_server.py"), "--jobs", "300", "--self-check"],
        workdir / "logs" / "check.log",
    )
    if self_check.returncode != 0:
        problems.append("fake_server's bodies differ from tests/fake_api's (see logs/check.log)")
    return problems


def print_results(cases: list[SyncCase], jobs: int, repeat: int) -> None:
    floor = cases[0]
    floor_wall = floor.median(lambda m: m.run.seconds)
    floor_cpu = floor.median(lambda m: m.run.cpu_seconds)
    header = (
        "| case | wall s | CPU s | requests | requests/job | ms/request | x floor wall"
        " | x floor CPU | server CPU s | peak RSS MiB |"
    )
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    if repeat > 1:
        header += " wall min-max |"
        rule += "---:|"
    print(header)
    print(rule)
    for case in cases:
        if case.failed:
            print(f"| {case.name} | FAILED (see {case.log}) |" + " |" * 9)
            continue
        wall = case.median(lambda m: m.run.seconds)
        cpu = case.median(lambda m: m.run.cpu_seconds)
        requests = case.median(lambda m: m.stats["requests"])
        server_cpu = case.median(lambda m: m.stats["cpu_seconds"])
        rss = max(m.run.peak_rss_mib for m in case.runs)
        line = (
            f"| {case.name} | {wall:.2f} | {cpu:.2f} | {requests:,.0f} | {requests / jobs:.3f}"
            f" | {1000 * wall / max(requests, 1):.2f} | {wall / floor_wall:.2f}"
            f" | {cpu / floor_cpu:.2f} | {server_cpu:.2f} | {rss:.0f} |"
        )
        if repeat > 1:
            walls = [m.run.seconds for m in case.runs]
            line += f" {min(walls):.2f}-{max(walls):.2f} |"
        print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=50, help="events a job")
    parser.add_argument("--checkpoints", type=int, default=2, help="checkpoints a job")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the median counts")
    parser.add_argument("--workdir", type=Path, default=BENCH / "out")
    parser.add_argument("--check", action="store_true", help="verify counts and request counts")
    parser.add_argument("--ftjobs", default=None, help="ftjobs executable (default: the venv's)")
    parser.add_argument(
        "--only", default="", help="comma-separated words: run only cases whose name has one"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.repeat < 1:
        parser.error("--jobs and --repeat must be at least 1")
    workdir: Path = args.workdir.resolve()
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    ftjobs = args.ftjobs or tool("ftjobs")

    print(
        f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version},"
        f" {os.cpu_count()} CPUs, ftjobs: {version_of([ftjobs, '--version'])}"
    )
    print(f"workdir {workdir}; repeat {args.repeat}; {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    server_args = ["--jobs", str(args.jobs), "--events", str(args.events)]
    server_args += ["--checkpoints", str(args.checkpoints), "--seed", str(args.seed)]
    with serving(server_args, workdir / "logs" / "sync-server.log") as server:
        info = server.info
        print(
            f"server: {info['jobs']:,} jobs ({info['unfinished']:,} unfinished),"
            f" {info['events']:,} events, {info['checkpoints']:,} checkpoints,"
            f" {info['files']:,} result files, {info['bytes'] / 2**20:.0f} MiB of bodies,"
            f" page cap 100; ready in {info['start_seconds']:.1f} s\n"
        )
        cases = build_cases(server, workdir, ftjobs)
        if args.only:
            words = [w.strip() for w in args.only.split(",") if w.strip()]
            cases = [cases[0]] + [c for c in cases[1:] if any(w in c.name for w in words)]
        for _ in range(args.repeat):
            for case in cases:
                measured = run_case(server, case)
                case.runs.append(measured)
                state = "ok" if measured.run.returncode == 0 else f"exit {measured.run.returncode}"
                print(
                    f"  {case.name}: {measured.run.seconds:.2f} s wall,"
                    f" {measured.run.cpu_seconds:.2f} s CPU, {measured.stats['requests']:,}"
                    f" requests {measured.stats['by_kind']},"
                    f" server {measured.stats['cpu_seconds']:.2f} s CPU,"
                    f" {measured.run.peak_rss_mib:.0f} MiB, {state}",
                    file=sys.stderr,
                    flush=True,
                )
        problems = check(server, workdir, cases) if args.check else []
    print_results(cases, info["jobs"], args.repeat)
    if args.check:
        print()
        for problem in problems:
            print(f"check FAILED: {problem}")
        if not problems:
            print(
                "check passed: both stores hold every job, event, checkpoint and result file;"
                " request counts as expected; the server's bodies are tests/fake_api's"
            )
    return 1 if problems or any(case.failed for case in cases) else 0


if __name__ == "__main__":
    sys.exit(main())
