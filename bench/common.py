"""What the benchmark drivers share (run.py, run_sync.py, reads.py, startup.py): where bench/ is,
how a sibling script is started as a child, and how a child is timed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


def script(name: str) -> list[str]:
    """The command that runs bench/<name>.py as a child: ``python -m bench.<name>``. The child
    inherits this process's working directory, the repository root that ``python -m bench``
    runs from, so it finds the bench package (and tests.support) the same way."""
    return [sys.executable, "-m", f"bench.{name}"]


@dataclass
class Run:
    """One child process: how long it took, the most memory it held and its CPU time."""

    seconds: float
    peak_rss_mib: float
    returncode: int
    cpu_seconds: float = 0.0  # user + system, from the same os.wait4


def run_child(command: list[str], log: Path, env: dict[str, str] | None = None) -> Run:
    """Run command to completion; its output goes to log. os.wait4 gives this child's own peak
    RSS (ru_maxrss, KiB on Linux), which RUSAGE_CHILDREN would mix with earlier children's."""
    if env is None:
        # Modules compiled once, as pip does at install: with PYTHONDONTWRITEBYTECODE an
        # editable ftjobs compiles every module on every run (~0.3 s), a constant that pulls
        # every ratio toward 1.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
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


def version_of(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    except OSError:
        return "not found"
    return (result.stdout.strip() or result.stderr.strip() or "?").splitlines()[0]
