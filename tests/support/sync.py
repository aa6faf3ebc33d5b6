"""Syncing against the fake API from tests: the environment the SDK must not see, a sync in its
own process, and what the archive must then hold (shared by the sync, follow and store-file
tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ftjobs.jsonio.stream import compact_json

from .fake_api import FakeFineTuningApi
from .helpers import Cli, connect

# Variables the SDK reads: none of the developer's own may leak in.
OPENAI_ENV: dict[str, str | None] = {
    name: None
    for name in (
        "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID",
        "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "OPENAI_API_VERSION", "OPENAI_LOG",
    )
}  # fmt: skip


def requests_since(fake: FakeFineTuningApi, start: int) -> list[str]:
    return [request.path for request in fake.requests[start:]]


def stored_events(db: Path, job_id: str) -> list[str]:
    with connect(db) as conn:
        return [
            row[0]
            for row in conn.execute(
                "SELECT job_events.raw_json FROM job_events JOIN jobs USING (job_key)"
                " WHERE jobs.id = ?"
                " ORDER BY job_events.created_at, seq",
                [job_id],
            )
        ]


def stored_checkpoints(db: Path, job_id: str) -> list[str]:
    with connect(db) as conn:
        return sorted(
            row[0]
            for row in conn.execute(
                "SELECT job_checkpoints.raw_json FROM job_checkpoints JOIN jobs USING (job_key)"
                " WHERE jobs.id = ?",
                [job_id],
            )
        )


def assert_archive_equals_server(cli: Cli, fake: FakeFineTuningApi) -> None:
    """Every job, event and checkpoint as the server wrote it (white space aside; export gives
    the jobs' text), events oldest first; result files byte for byte."""
    stored = {job["id"]: job for job in cli.json("list", "--all", "--json")}
    served = {job_id: json.loads(job.text) for job_id, job in fake._jobs.items()}
    assert stored.keys() == served.keys()
    exported = sorted(cli.ok("export").stdout.splitlines())
    assert exported == sorted(compact_json(job.text) for job in fake._jobs.values())
    for job_id, job in served.items():
        assert cli.show(job_id) == job  # "error": {} included: the job's text as sent
        assert stored_events(cli.db, job_id) == [
            compact_json(text) for text in reversed(fake._jobs[job_id].events)
        ]
        assert stored_checkpoints(cli.db, job_id) == sorted(
            compact_json(text) for text in fake._jobs[job_id].checkpoints
        )
    with connect(cli.db) as conn:
        files = dict(conn.execute("SELECT file_id, raw FROM result_file_contents").fetchall())
    assert files == fake.files


def child_env(fake: FakeFineTuningApi, key: str | None = None) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in OPENAI_ENV and not k.startswith("FTJOBS")
    }
    return {**env, **fake.env(key)}


def sync_process(
    db: Path, fake: FakeFineTuningApi, *args: str, key: str | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ftjobs", "--db", str(db), "sync", *args],
        env=child_env(fake, key),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
