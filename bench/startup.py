#!/usr/bin/env python3
"""Time ftjobs' start-up against a bare Typer app, as a shell user pays it.

Every case is a child process timed from start to exit. The cases take turns (run 1 of each,
then run 2 of each, ...) so the machine's noise spreads over all of them; the table shows the
median of --repeat runs and the ratio to a bare Typer app answering `--version`, the least a
Typer CLI can cost.

    python -m bench startup                 # 15 runs of each case
    python -m bench startup --repeat 31 --importtime   # and what each command imports
    python -m bench startup --before "env PYTHONPATH=/tmp/old .venv/bin/python -m ftjobs"
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import BENCH, script

JOBS = 20
EVENTS = 20  # generate_events.py's least is 11 a job

BARE_TYPER_APP = '''\
import typer

app = typer.Typer(add_completion=False)


def _version(value: bool) -> None:
    if value:
        typer.echo("bare 0.0")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True),
) -> None:
    """A bare Typer app."""


@app.command()
def hello() -> None:
    typer.echo("hello")


app()
'''


def tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else name


def run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, from os.wait4: this child's own) of one
    child process, which must succeed. On a shared machine CPU time varies less than wall."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = code = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    if code != 0:
        sys.exit(f"{' '.join(command)} failed ({code}): {errors.decode()[-500:]}")
    return seconds, usage.ru_utime + usage.ru_stime


def prepare(workdir: Path, ftjobs: list[str]) -> tuple[Path, Path, str]:
    """The bare app, a 20-job store and a few events of its first job (untimed)."""
    workdir.mkdir(parents=True, exist_ok=True)
    bare = workdir / "bare_typer_app.py"
    bare.write_text(BARE_TYPER_APP)
    db, jobs = workdir / "startup-20.db", workdir / "startup-20.jsonl"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    generate = [*script("generate"), "--count", str(JOBS)]
    subprocess.run(
        [*generate, "--format", "jsonl", "-o", str(jobs)], check=True, capture_output=True
    )
    subprocess.run([*ftjobs, "--db", str(db), "import", "-q", str(jobs)], check=True)
    job_id = json.loads(jobs.read_text().splitlines()[0])["id"]
    events = workdir / "startup-events"
    subprocess.run(
        [
            *script("generate_events"),
            "--jobs",
            "1",
            *("--events-per-job", str(EVENTS), "-o", str(events)),
        ],
        check=True,
        capture_output=True,
    )
    event_file = events / f"{job_id}.jsonl"
    subprocess.run(
        [*ftjobs, "--db", str(db), "import", "-q", "--job", job_id, str(event_file)], check=True
    )
    return bare, db, job_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each case (median)")
    parser.add_argument("--workdir", type=Path, default=BENCH / "out" / "startup")
    parser.add_argument(
        "--ftjobs", default=tool("ftjobs"), help="the ftjobs command to run (split like a shell)"
    )
    parser.add_argument(
        "--before",
        help="another ftjobs command (e.g. an older checkout) to time alongside, as 'before'",
    )
    parser.add_argument(
        "--importtime", action="store_true", help="also print the top imports of each ftjobs case"
    )
    args = parser.parse_args()

    ftjobs = shlex.split(args.ftjobs)
    bare_app, db, job_id = prepare(args.workdir, ftjobs)
    runs = {"ftjobs": ftjobs}
    if args.before:
        runs = {"before: ftjobs": shlex.split(args.before), **runs}
    cases = {"bare Typer --version": [sys.executable, str(bare_app), "--version"]}
    for what, arguments in (
        ("--version", ["--version"]),
        ("--help", ["--help"]),
        ("list --json", ["--db", str(db), "list", "--json"]),
        ("show ID --json", ["--db", str(db), "show", job_id, "--json"]),
        (f"events ID --jsonl ({EVENTS} events)", ["--db", str(db), "events", job_id, "--jsonl"]),
    ):
        for label, command in runs.items():
            cases[f"{label} {what}"] = [*command, *arguments]
    # The warm-up run writes each module's .pyc, as pip does at install (an editable install
    # writes them on first use): a shell that sets PYTHONDONTWRITEBYTECODE would otherwise
    # time ftjobs compiling its own source on every run, and the bare app (no modules of its
    # own) not.
    env = {**os.environ, "COLUMNS": "100"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for command in cases.values():  # warm the page cache and .pyc files, untimed
        run(command, env)
    for _ in range(args.repeat):
        for name, command in cases.items():
            times[name].append(run(command, env))

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.repeat} runs each,")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, ftjobs: {args.ftjobs}")
    print()
    print("| case | wall ms | x bare Typer | CPU ms | x bare Typer (CPU) | wall min-max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    bare = times["bare Typer --version"]
    bare_ms = statistics.median(wall for wall, _ in bare) * 1000
    bare_cpu = statistics.median(cpu for _, cpu in bare) * 1000
    for name, runs in times.items():
        walls = [wall * 1000 for wall, _ in runs]
        ms, cpu = statistics.median(walls), statistics.median(cpu for _, cpu in runs) * 1000
        print(
            f"| {name} | {ms:.0f} | {ms / bare_ms:.2f} | {cpu:.0f} | {cpu / bare_cpu:.2f}"
            f" | {min(walls):.0f}-{max(walls):.0f} |"
        )
    if args.importtime:
        for name, command in cases.items():
            if not name.startswith("ftjobs"):
                continue
            argv = [sys.executable, "-X", "importtime", "-m", "ftjobs", *command[len(ftjobs) :]]
            done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
            top = [line for line in done.stderr.splitlines() if "|" in line and "  " in line]
            firsts = [
                line
                for line in top
                if line.split("|")[-1].startswith(" ") and not line.split("|")[-1].startswith("  ")
            ]
            print(f"\n{name}: top-level imports over 5 ms (cumulative us)")
            for line in sorted(firsts, key=lambda row: -int(row.split("|")[1]))[:8]:
                cumulative, module = int(line.split("|")[1]), line.split("|")[2].strip()
                if cumulative >= 5000:
                    print(f"  {cumulative:>8}  {module}")


if __name__ == "__main__":
    main()
