"""A job's history put into a store through the real CLI (historydata's 240-step job), and the
colours a terminal view used (shared by the history, diff and metrics tests)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from . import historydata as h
from .helpers import Cli


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def add_job(cli: Cli, tmp_path: Path, **changes: Any) -> None:
    cli.ok("import", write(tmp_path / f"job-{len(changes)}.json", json.dumps(h.job(**changes))))


def import_events(cli: Cli, tmp_path: Path, job_id: str = h.JOB_ID) -> None:
    pages = [
        write(tmp_path / f"events{n}.json", page) for n, page in enumerate(h.events_list_pages())
    ]
    cli.ok("import", "--job", job_id, *pages)


def import_checkpoints(cli: Cli, tmp_path: Path) -> None:
    cli.ok("import", write(tmp_path / "ckpt.jsonl", "\n".join(h.checkpoint_texts()) + "\n"))


# SGR parameters that set a colour (30-38, 40-48, 90-97, 100-107).
_SGR = re.compile(r"\x1b\[([0-9;]*)m")


def colour_codes(text: str) -> list[str]:
    return [
        match.group(0)
        for match in _SGR.finditer(text)
        for param in match.group(1).split(";")
        if param.isdigit() and (30 <= int(param) <= 48 or 90 <= int(param) <= 107)
    ]
