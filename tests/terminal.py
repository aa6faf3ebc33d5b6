"""Run the real `ftjobs` in a pseudo-terminal, as a person at a shell would, and read the screen.

CliRunner is never a terminal, so it cannot see what Rich draws; this runs a subprocess whose
stdin, stdout and stderr are a pty of a given width.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from fcntl import ioctl
from pathlib import Path

ESCAPE = "\x1b"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


@dataclass(frozen=True)
class Screen:
    """What the terminal showed (stdout and stderr interleaved, as a person sees them)."""

    text: str
    exit_code: int

    @property
    def lines(self) -> list[str]:
        """The screen's lines without escape codes, as wide as they look."""
        return _ANSI.sub("", self.text).replace("\r\n", "\n").splitlines()


def run_in_terminal(
    db: Path | None,
    *args: str,
    columns: int = 80,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
    stdin_data: bytes | None = None,
) -> Screen:
    """`ftjobs [--db DB] ARGS` on a pty `columns` wide; returns the screen and exit status."""
    main_fd, child_fd = pty.openpty()
    ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"FTJOBS_DB", "FTJOBS_DEBUG", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES"}
    }
    environment.update({"TERM": "xterm-256color", "COLUMNS": str(columns)})
    environment.update(env or {})
    command = [sys.executable, "-m", "ftjobs"]
    if db is not None:
        command += ["--db", str(db)]
    process = subprocess.Popen(
        [*command, *args],
        stdin=child_fd,
        stdout=child_fd,
        stderr=child_fd,
        env=environment,
        start_new_session=True,
        close_fds=True,
    )
    os.close(child_fd)
    if stdin_data is not None:
        os.write(main_fd, stdin_data)
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
    return Screen(b"".join(chunks).decode("utf-8", "replace"), exit_code)
