#!/usr/bin/env python3
"""Time `ftjobs sync` against a local fake of the fine-tuning API, and the same fetches made by
a standard-library floor, in one run.

bench/fake_server.py serves N generated jobs (each with its events, checkpoints and result
files, and the file objects and fine-tuned models they name) from its own process. Every case
is a child process timed from start to exit (wall, its CPU seconds and peak RSS from
os.wait4); the requests it made are counted by the server (``/__reset`` before, ``/__stats``
after), by kind, with the 429s it was sent, the most requests it had in flight at once, and the
server's CPU seconds meanwhile.

    python -m bench sync                      # 10,000 jobs, 50 events and 2 checkpoints each
    python -m bench sync --jobs 2000 --repeat 3 --check
    python -m bench run --sync                    # the same, from run.py

Concurrency (issue 15): ``--concurrency N`` (or a preset) runs the floor with N threads, then
``ftjobs sync --concurrency N`` (first and unchanged second sync), and with ``--sequential``
the floor with 1 thread and ``ftjobs sync --concurrency 1`` for the speed-up; the server
answers after ``--latency-ms`` and, by default, refuses with 429 more than N requests in
flight at once.

    python -m bench sync --preset history-100ms --check --by-kind
    python -m bench sync --preset 10k-0ms --check --by-kind
    python -m bench sync --preset 10k-50ms --check --by-kind
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

from bench.common import BENCH, REPO, Run, remove_db, run_child, script, tool, version_of

KINDS = (
    "jobs list",
    "job",
    "events",
    "checkpoints",
    "file content",
    "file object",
    "model",
    "other",
)  # fmt: skip  (fake_server.KINDS)

# Issue 15's three scenarios. An option given on the command line wins over its preset.
PRESETS: dict[str, dict[str, Any]] = {
    # 100 jobs with 250 events, 3 checkpoints and 1 result file each, 100 ms a request.
    "history-100ms": {
        "jobs": 100, "events": 250, "checkpoints": 3, "result_files": 1, "latency_ms": 100.0,
        "concurrency": 8, "sequential": True,
    },
    # The CPU case; one request at a time costs little here, so the sequential cases run too.
    "10k-0ms": {
        "jobs": 10_000, "events": 50, "checkpoints": 2, "latency_ms": 0.0, "concurrency": 8,
        "sequential": True,
    },
    "10k-50ms": {
        "jobs": 10_000, "events": 50, "checkpoints": 2, "latency_ms": 50.0, "concurrency": 8,
    },
}  # fmt: skip
DEFAULTS: dict[str, Any] = {
    "jobs": 10_000, "events": 50, "checkpoints": 2, "result_files": None, "latency_ms": 0.0,
    "concurrency": None, "sequential": False, "max_in_flight": None, "retry_after_ms": None,
}  # fmt: skip


@dataclass
class Measured:
    run: Run
    stats: dict[str, Any]  # the server's: requests, by_kind, 429s, peak, cpu_seconds (this case's)

    @property
    def answered(self) -> dict[str, int]:
        """Requests by kind, the ones refused with 429 left out: the work the case asked for."""
        refused = self.stats.get("rate_limited_by_kind", {})
        return {kind: n - refused.get(kind, 0) for kind, n in self.stats["by_kind"].items()}


@dataclass
class SyncCase:
    name: str
    command: list[str]
    prepare: Callable[[], None]
    env: dict[str, str] | None = None
    # floor, floor-1, floor-urllib, floor-db, first, first-1, second: what it is compared with
    role: str = "floor"
    concurrency: int = 1  # the most requests it may have in flight
    db: Path | None = None  # the store a first sync (or the floor with --db) fills
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
            [*script("fake_server"), *args],
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
    """This environment without any OpenAI or Azure settings, pointed at the fake (and with
    .pyc files written, as run.run_child does for its own environment)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "AZURE_OPENAI_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(OPENAI_API_KEY=server.info["key"], OPENAI_BASE_URL=server.url + "/v1")
    return env


def sync_has_concurrency(ftjobs: str) -> bool:
    """Whether `ftjobs sync --help` lists --concurrency."""
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb")
    try:
        result = subprocess.run(
            [ftjobs, "sync", "--help"], capture_output=True, text=True, env=env, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--concurrency" in result.stdout


def build_cases(server: Server, workdir: Path, ftjobs: str) -> list[SyncCase]:
    """The cases of issue 8, in the order they take turns (the second sync needs the first's
    store)."""
    floor = [*script("sync_floor"), "--base-url", server.url + "/v1"]
    floor += ["--key", server.info["key"]]
    floor_db, sync_db = workdir / "sync-floor.db", workdir / "sync-ftjobs.db"
    env = client_env(server)
    cases = [
        SyncCase("floor: http.client keep-alive + json.loads", floor, lambda: None),
        SyncCase(
            "floor: urllib (a connection a request) + json.loads",
            [*floor, "--transport", "urllib"],
            lambda: None,
            role="floor-urllib",
        ),
        SyncCase(
            "floor + SQLite executemany (raw rows)",
            [*floor, "--db", str(floor_db)],
            lambda: remove_db(floor_db),
            role="floor-db",
            db=floor_db,
        ),
        SyncCase(
            "ftjobs sync, first (empty store)",
            [ftjobs, "--db", str(sync_db), "sync"],
            lambda: remove_db(sync_db),
            env,
            role="first",
            db=sync_db,
        ),
        SyncCase(
            "ftjobs sync, second (unchanged)",
            [ftjobs, "--db", str(sync_db), "sync"],
            lambda: None,
            env,
            role="second",
        ),
    ]
    return name_logs(cases, workdir)


def build_concurrency_cases(
    server: Server, workdir: Path, ftjobs: str, concurrency: int, sequential: bool, has_option: bool
) -> list[SyncCase]:
    """Issue 15's cases: the floor with N threads (the reference), ftjobs sync with
    --concurrency N (first, then unchanged), and with sequential the floor with one thread and
    ftjobs sync --concurrency 1 (first). Without the option, sync runs as it is, one request
    at a time; then --concurrency 1 would be the same command, and it is not run."""
    n = concurrency
    floor = [*script("sync_floor"), "--base-url", server.url + "/v1"]
    floor += ["--key", server.info["key"]]
    sync_db, sequential_db = workdir / "sync-ftjobs.db", workdir / "sync-ftjobs-c1.db"
    env = client_env(server)
    option = ["--concurrency", str(n)] if has_option else []
    label = f"ftjobs sync --concurrency {n}" if has_option else "ftjobs sync (no --concurrency)"
    cases = [
        SyncCase(
            f"floor: http.client, {n} threads", [*floor, "--threads", str(n)], lambda: None,
            role="floor", concurrency=n,
        ),
    ]  # fmt: skip
    if sequential:
        cases.append(
            SyncCase(
                "floor: http.client, 1 thread", [*floor, "--threads", "1"], lambda: None,
                role="floor-1",
            )
        )  # fmt: skip
    cases += [
        SyncCase(
            f"{label}, first (empty store)", [ftjobs, "--db", str(sync_db), "sync", *option],
            lambda: remove_db(sync_db), env, role="first", db=sync_db,
            concurrency=n if has_option else 1,
        ),
        SyncCase(
            f"{label}, second (unchanged)", [ftjobs, "--db", str(sync_db), "sync", *option],
            lambda: None, env, role="second", concurrency=n if has_option else 1,
        ),
    ]  # fmt: skip
    if sequential and has_option:
        cases.append(
            SyncCase(
                "ftjobs sync --concurrency 1, first (empty store)",
                [ftjobs, "--db", str(sequential_db), "sync", "--concurrency", "1"],
                lambda: remove_db(sequential_db), env, role="first-1", db=sequential_db,
            )
        )  # fmt: skip
    return name_logs(cases, workdir)


def name_logs(cases: list[SyncCase], workdir: Path) -> list[SyncCase]:
    for case in cases:
        slug = "".join(c if c.isalnum() else "-" for c in case.name.split(" (")[0].lower())
        case.log = workdir / "logs" / f"sync-{slug.strip('-')}-{case.role}.log"
    return cases


def run_case(server: Server, case: SyncCase) -> Measured:
    case.prepare()
    before = server.get("/__reset")
    run = run_child(case.command, case.log, case.env)
    stats = server.get("/__stats")
    stats["cpu_seconds"] -= before["cpu_seconds"]
    return Measured(run, stats)


def check(
    server: Server, workdir: Path, cases: list[SyncCase], self_check_args: list[str]
) -> list[str]:
    """What --check found wrong (empty: all good)."""
    info = server.info
    problems = []
    expected = {
        "jobs": info["jobs"],
        "job_events": info["events"],
        "job_checkpoints": info["checkpoints"],
        "result_file_contents": info["files"],
        "file_objects": info["file_objects"],
        "model_states": info["models"],
    }
    floor_tables = {
        "jobs": "jobs", "job_events": "events", "job_checkpoints": "checkpoints",
        "result_file_contents": "files", "file_objects": "file_objects", "model_states": "models",
    }  # fmt: skip
    for case in cases:
        if case.db is None or case.failed:
            continue
        tables = floor_tables if case.role.startswith("floor") else None
        try:
            with contextlib.closing(sqlite3.connect(f"file:{case.db}?mode=ro", uri=True)) as conn:
                for table, count in expected.items():
                    name = tables[table] if tables else table
                    stored = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # noqa: S608
                    if stored != count:
                        problems.append(
                            f"{case.db.name}: {stored} rows in {name}, expected {count}"
                        )
        except sqlite3.Error as error:
            problems.append(f"{case.db.name}: {error}")
    first = info["first_sync_by_kind"]
    second = info["second_sync_by_kind"]
    reference = next((c for c in cases if c.role == "floor" and c.runs and not c.failed), None)
    for case in cases:
        if case.failed:
            problems.append(f"{case.name}: exit status {case.runs[-1].run.returncode}")
        want = second if case.role == "second" else first
        for measured in case.runs:
            got = measured.answered
            if got != want:
                problems.append(f"{case.name}: requests by kind {_differ(got, want)}")
            if reference is not None and case.role != "second" and case is not reference:
                floor = reference.runs[-1].answered
                if got != floor:
                    problems.append(
                        f"{case.name}: requests by kind differ from the floor's:"
                        f" {_differ(got, floor)}"
                    )
            peak = measured.stats.get("peak_in_flight", 0)
            if peak > case.concurrency:
                problems.append(
                    f"{case.name}: {peak} requests in flight at once, more than {case.concurrency}"
                )
    self_check = run_child(
        [*script("fake_server"), *self_check_args, "--self-check"],
        workdir / "logs" / "check.log",
    )
    if self_check.returncode != 0:
        problems.append("fake_server's bodies differ from the fake API's (see logs/check.log)")
    return problems


def _differ(got: dict[str, int], want: dict[str, int]) -> str:
    return ", ".join(
        f"{kind} {got.get(kind, 0)} (expected {want.get(kind, 0)})"
        for kind in KINDS
        if got.get(kind, 0) != want.get(kind, 0)
    )


def print_results(cases: list[SyncCase], repeat: int, speed_up_note: str = "") -> None:
    """One table; the ratios are to the first floor (with N threads in a concurrency run)."""
    floor = cases[0]
    floor_wall = floor.median(lambda m: m.run.seconds)
    floor_cpu = floor.median(lambda m: m.run.cpu_seconds)
    by_role = {case.role: case for case in cases if case.runs and not case.failed}

    def wall(case: SyncCase) -> float:
        return case.median(lambda m: m.run.seconds)

    # Speed-up over one request at a time: the floor over its 1-thread run, sync over its
    # --concurrency 1 run (or, without the option, sync is that run).
    against = {"floor": "floor-1", "first": "first-1"}
    speed_ups = {}
    for role, sequential in against.items():
        if role in by_role and sequential in by_role:
            speed_ups[role] = f"{wall(by_role[sequential]) / wall(by_role[role]):.2f}"
    if speed_up_note and "first" in by_role and "floor-1" in by_role:
        speed_ups["first"] = "1.00 (same)"
    show_speed_up = bool(speed_ups)
    # Issue 8's CPU ratio was to the floor making one request at a time.
    sequential_cpu = (
        by_role["floor-1"].median(lambda m: m.run.cpu_seconds) if "floor-1" in by_role else None
    )

    header = (
        "| case | wall s | CPU s | requests | 429s | peak in flight | ms/request | x floor wall"
        " | x floor CPU |"
    )
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    if sequential_cpu is not None:
        header += " x 1-thread floor CPU |"
        rule += "---:|"
    if show_speed_up:
        header += " speed-up over 1 in flight |"
        rule += "---:|"
    header += " server CPU s | peak RSS MiB |"
    rule += "---:|---:|"
    if repeat > 1:
        header += " wall min-max |"
        rule += "---:|"
    print(header)
    print(rule)
    for case in cases:
        if case.failed or not case.runs:
            columns = 10 + show_speed_up + (sequential_cpu is not None)
            print(f"| {case.name} | FAILED (see {case.log}) |" + " |" * columns)
            continue
        seconds = wall(case)
        cpu = case.median(lambda m: m.run.cpu_seconds)
        requests = case.median(lambda m: sum(m.answered.values()))
        refused = case.median(lambda m: m.stats.get("rate_limited", 0))
        peak = max(m.stats.get("peak_in_flight", 0) for m in case.runs)
        server_cpu = case.median(lambda m: m.stats["cpu_seconds"])
        rss = max(m.run.peak_rss_mib for m in case.runs)
        line = (
            f"| {case.name} | {seconds:.2f} | {cpu:.2f} | {requests:,.0f} | {refused:,.0f}"
            f" | {peak} | {1000 * seconds / max(requests, 1):.2f} | {seconds / floor_wall:.2f}"
            f" | {cpu / floor_cpu:.2f} |"
        )
        if sequential_cpu is not None:
            line += f" {cpu / sequential_cpu:.2f} |"
        if show_speed_up:
            line += f" {speed_ups.get(case.role, '')} |"
        line += f" {server_cpu:.2f} | {rss:.0f} |"
        if repeat > 1:
            walls = [m.run.seconds for m in case.runs]
            line += f" {min(walls):.2f}-{max(walls):.2f} |"
        print(line)
    if speed_up_note:
        print(f"\n{speed_up_note}")


def print_by_kind(cases: list[SyncCase]) -> None:
    """Requests by kind (the last run of each case), 429s apart."""
    print("| case | " + " | ".join(KINDS) + " | 429s |")
    print("|---|" + "---:|" * (len(KINDS) + 1))
    for case in cases:
        if not case.runs:
            continue
        measured = case.runs[-1]
        answered = measured.answered
        cells = [f"{answered.get(kind, 0):,}" for kind in KINDS]
        print(f"| {case.name} | " + " | ".join(cells) + f" | {measured.stats['rate_limited']:,} |")


def commit_of(path: Path) -> str:
    try:
        result = subprocess.run(
            ["git", "-C", str(path), "log", "-1", "--format=%h %s"],
            capture_output=True, text=True, check=False, timeout=30,
        )  # fmt: skip
    except OSError:
        return "?"
    return result.stdout.strip()[:100] or "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="issue 15's scenarios, concurrency 8: history-100ms (100 jobs x 250 events x 3"
        " checkpoints x 1 result file, 100 ms a request), 10k-0ms (10,000 jobs x 50 events x 2"
        " checkpoints; these two with the sequential cases), 10k-50ms (the same, 50 ms a"
        " request); options given win",
    )
    parser.add_argument("--jobs", type=int, help="jobs the server holds (default 10,000)")
    parser.add_argument("--events", type=int, help="events a job (default 50)")
    parser.add_argument("--checkpoints", type=int, help="checkpoints a job (default 2)")
    parser.add_argument(
        "--result-files", type=int, help="result files of every job (default: generate.py's mix)"
    )
    parser.add_argument("--latency-ms", type=float, help="the server answers after this (0)")
    parser.add_argument(
        "--concurrency",
        type=int,
        help="issue 15's cases: the floor with N threads and ftjobs sync --concurrency N (if"
        " its --help lists the option; otherwise sync as it is, and the output says so)",
    )
    parser.add_argument(
        "--sequential",
        action=argparse.BooleanOptionalAction,
        help="with --concurrency: also the floor with 1 thread and ftjobs sync --concurrency 1"
        " (the speed-up's reference)",
    )
    parser.add_argument(
        "--max-in-flight",
        type=int,
        help="the server refuses with 429 more requests at once than this (default: the"
        " concurrency with --concurrency, else no limit; 0: no limit)",
    )
    parser.add_argument("--retry-after-ms", type=int, help="a 429's retry-after-ms")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the median counts")
    parser.add_argument("--workdir", type=Path, default=BENCH / "out")
    parser.add_argument(
        "--check",
        action="store_true",
        help="verify stores, request counts by kind (against the data and the floor's), peak in"
        " flight, and the server's bodies",
    )
    parser.add_argument("--by-kind", action="store_true", help="also a table of requests by kind")
    parser.add_argument("--ftjobs", default=None, help="ftjobs executable (default: the venv's)")
    parser.add_argument(
        "--only", default="", help="comma-separated words: run only cases whose name has one"
    )
    args = parser.parse_args(argv)
    preset = PRESETS[args.preset] if args.preset else {}
    for name, default in DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, preset.get(name, default))
    if args.jobs < 1 or args.repeat < 1:
        parser.error("--jobs and --repeat must be at least 1")
    if args.concurrency is not None and args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    if args.max_in_flight is None:
        args.max_in_flight = args.concurrency or 0
    workdir: Path = args.workdir.resolve()
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    ftjobs = args.ftjobs or tool("ftjobs")

    print(
        f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version},"
        f" {os.cpu_count()} CPUs, ftjobs: {version_of([ftjobs, '--version'])},"
        f" commit {commit_of(REPO)}"
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"workdir {workdir}; repeat {args.repeat}; {time.strftime('%Y-%m-%d %H:%M:%S %Z')};"
        f" load average {load}" + (f"; preset {args.preset}" if args.preset else "")
    )
    note = ""
    has_option = False
    if args.concurrency is not None:
        has_option = sync_has_concurrency(ftjobs)
        if not has_option:
            note = (
                f"`ftjobs sync --help` lists no --concurrency: sync ran without it (one request"
                f" at a time), not with {args.concurrency}."
            )
            if args.sequential:
                note += (
                    " `ftjobs sync --concurrency 1` would be the same command: not run; its"
                    " speed-up is 1.00 by construction."
                )
            print(note)
    shape = ["--jobs", str(args.jobs), "--events", str(args.events)]
    shape += ["--checkpoints", str(args.checkpoints), "--seed", str(args.seed)]
    if args.result_files is not None:
        shape += ["--result-files", str(args.result_files)]
    server_args = [*shape, "--latency-ms", str(args.latency_ms)]
    server_args += ["--max-in-flight", str(args.max_in_flight)]
    if args.retry_after_ms is not None:
        server_args += ["--retry-after-ms", str(args.retry_after_ms)]
    with serving(server_args, workdir / "logs" / "sync-server.log") as server:
        info = server.info
        limit = (
            f"429 above {info['max_in_flight']} in flight (retry-after-ms {info['retry_after_ms']})"
            if info["max_in_flight"]
            else "no limit in flight"
        )
        print(
            f"server: {info['jobs']:,} jobs ({info['unfinished']:,} unfinished),"
            f" {info['events']:,} events, {info['checkpoints']:,} checkpoints,"
            f" {info['files']:,} result files, {info['file_objects']:,} file objects"
            f" ({info['file_objects_deleted']:,} deleted), {info['models']:,} models"
            f" ({info['models_deleted']:,} deleted), {info['bytes'] / 2**20:.0f} MiB of bodies,"
            f" page cap {info['page_cap']}; {info['latency_ms']:g} ms a request, {limit};"
            f" ready in {info['start_seconds']:.1f} s"
        )
        print(
            f"expected requests: first sync {info['first_sync_requests']:,}, unchanged second"
            f" sync {info['second_sync_requests']:,}\n"
        )
        if args.concurrency is None:
            cases = build_cases(server, workdir, ftjobs)
        else:
            cases = build_concurrency_cases(
                server, workdir, ftjobs, args.concurrency, args.sequential, has_option
            )
        if args.only:
            words = [w.strip() for w in args.only.split(",") if w.strip()]
            cases = [cases[0]] + [c for c in cases[1:] if any(w in c.name for w in words)]
        roles = {case.role for case in cases}
        if "second" in roles and "first" not in roles:
            print(
                "note: the second sync runs on the store a first sync left in this run's"
                " workdir; a store from another run of the server is another source (the port is"
                " in the base URL), so sync walks the whole list again for it\n"
            )
        for _ in range(args.repeat):
            for case in cases:
                measured = run_case(server, case)
                case.runs.append(measured)
                state = "ok" if measured.run.returncode == 0 else f"exit {measured.run.returncode}"
                stats = measured.stats
                print(
                    f"  {case.name}: {measured.run.seconds:.2f} s wall,"
                    f" {measured.run.cpu_seconds:.2f} s CPU, {stats['requests']:,} requests"
                    f" {stats['by_kind']}, {stats['rate_limited']:,} 429s, peak in flight"
                    f" {stats['peak_in_flight']}, server {stats['cpu_seconds']:.2f} s CPU,"
                    f" {measured.run.peak_rss_mib:.0f} MiB, {state}",
                    file=sys.stderr,
                    flush=True,
                )
        self_check_args = ["--jobs", str(min(args.jobs, 300)), *shape[2:]]
        problems = check(server, workdir, cases, self_check_args) if args.check else []
    print_results(cases, args.repeat, note if args.sequential else "")
    if args.by_kind:
        print()
        print_by_kind(cases)
    if args.check:
        print()
        for problem in problems:
            print(f"check FAILED: {problem}")
        if not problems:
            print(
                "check passed: every store holds every job, event, checkpoint, result file,"
                " file object and model state; every case made the expected requests by kind"
                " (429s aside), the same as the floor's, with no more in flight than allowed;"
                " the server's bodies are tests/support/fake_api's"
            )
    return 1 if problems or any(case.failed for case in cases) else 0


if __name__ == "__main__":
    sys.exit(main())
