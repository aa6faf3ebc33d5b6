"""Shell completion of job ids (statuses and sort fields complete as click choices).

Runs on every Tab press, so it stays light: plain sqlite3, read-only, no sqlite-utils, no
ftjobs.store or ftjobs.api.models; any failure completes nothing. (On a 100k-job store: 0.31 s
against 0.16 s for `ftjobs --version`; the difference is typer's own completion path, which
loads typer.rich_utils and pydantic, not the query.)
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

MAX_COMPLETIONS = 100


def _db_path(ctx: Any) -> Path:
    from ftjobs.cli.app import default_db_path

    root = ctx.find_root() if ctx is not None else None
    given = root.params.get("db") if root is not None else None
    return Path(given or os.environ.get("FTJOBS_DB") or default_db_path())


def job_ids(ctx: Any, incomplete: str) -> list[str]:
    """The store's job ids starting with what was typed, newest first, at most 100."""
    path = _db_path(ctx)
    if not path.is_file():
        return []
    pattern = incomplete.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    try:
        # mode=ro: completing never creates, migrates or writes a store
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            rows = conn.execute(
                "SELECT id FROM jobs WHERE id LIKE ? ESCAPE '\\'"
                " ORDER BY created_at DESC, id DESC LIMIT ?",
                [pattern, MAX_COMPLETIONS],
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return []
    return [row[0] for row in rows]
