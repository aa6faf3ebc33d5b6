"""Run the real `ftjobs` in a pseudo-terminal, as a person at a shell would, and read the screen.

CliRunner is never a terminal, so it cannot see what Rich draws; this runs a subprocess whose
stdin, stdout and stderr are a pty of a given width (or, on request, stdin a pipe fed with data,
as in `cat jobs.jsonl | ftjobs import -`, and stdout a pipe read apart from the screen).
"""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from dataclasses import dataclass
from fcntl import ioctl
from pathlib import Path
from typing import IO

ESCAPE = "\x1b"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


@dataclass(frozen=True)
class Screen:
    """What the terminal showed (stdout and stderr interleaved, as a person sees them)."""

    text: str
    exit_code: int
    stdout: str | None = None  # what went to stdout, when it was a pipe (not on the screen)

    @property
    def lines(self) -> list[str]:
        """The screen's lines without escape codes, as wide as they look."""
        return _ANSI.sub("", self.text).replace("\r\n", "\n").splitlines()


def run_in_terminal(
    db: Path | None,
    *args: str,
    columns: int = 80,
    rows: int = 50,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
    stdin_data: bytes | None = None,
    piped_stdin: bytes | None = None,
    piped_stdout: bool = False,
) -> Screen:
    """`ftjobs [--db DB] ARGS` on a pty `columns` wide and `rows` high; returns the screen and
    exit status.

    stdin_data is typed at the terminal; piped_stdin makes stdin a pipe that carries it (then
    closes), and piped_stdout makes stdout a pipe, its text in Screen.stdout."""
    main_fd, child_fd = pty.openpty()
    ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"FTJOBS_DB", "FTJOBS_DEBUG", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES"}
    }
    environment.update({"TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows)})
    environment.update(env or {})
    command = [sys.executable, "-m", "ftjobs"]
    if db is not None:
        command += ["--db", str(db)]
    process = subprocess.Popen(
        [*command, *args],
        stdin=subprocess.PIPE if piped_stdin is not None else child_fd,
        stdout=subprocess.PIPE if piped_stdout else child_fd,
        stderr=child_fd,
        env=environment,
        start_new_session=True,
        close_fds=True,
    )
    os.close(child_fd)
    if stdin_data is not None:
        os.write(main_fd, stdin_data)
    feeder = None
    if piped_stdin is not None:
        assert process.stdin is not None
        feeder = threading.Thread(target=_feed, args=(process.stdin, piped_stdin), daemon=True)
        feeder.start()
    out_chunks: list[bytes] = []
    reader = None
    if process.stdout is not None:
        reader = threading.Thread(target=_drain, args=(process.stdout, out_chunks), daemon=True)
        reader.start()
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                raise TimeoutError(f"ftjobs {' '.join(args)} did not finish in {timeout} s")
            ready, _, _ = select.select([main_fd], [], [], 0.1)
            if ready:
                try:
                    data = os.read(main_fd, 65536)
                except OSError:  # EIO: the child side closed
                    break
                if not data:
                    break
                chunks.append(data)
            elif process.poll() is not None:
                # Drain what is left, then stop.
                ready, _, _ = select.select([main_fd], [], [], 0.05)
                if not ready:
                    break
    finally:
        os.close(main_fd)
    exit_code = process.wait(timeout=timeout)
    for thread in (feeder, reader):
        if thread is not None:
            thread.join(timeout)
    stdout = b"".join(out_chunks).decode("utf-8", "replace") if reader is not None else None
    return Screen(b"".join(chunks).decode("utf-8", "replace"), exit_code, stdout)


def _feed(pipe: IO[bytes], data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError), pipe:
        pipe.write(data)


def _drain(pipe: IO[bytes], chunks: list[bytes]) -> None:
    with pipe:
        chunks.extend(iter(lambda: pipe.read(65536), b""))
