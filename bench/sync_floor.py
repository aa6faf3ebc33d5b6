#!/usr/bin/env python3
"""The speed floor for `ftjobs sync`: the same requests, made with the standard library alone.

It walks the job list with the page size sync asks for (100, ``after=`` the last id until
``has_more`` is false) and, for each job as its page comes in, fetches its events and its
checkpoints (100 a page, paging the same way) and the content of each of its result files, and
``json.loads`` every JSON body. That is all: no validation, no store, no comparison with what is
stored. With ``--db`` it also writes raw rows (each object's compact JSON text) into four plain
SQLite tables with ``executemany``, one transaction per page of jobs (with what was fetched for
those jobs), in WAL mode with ``synchronous=NORMAL`` as ftjobs' store.

Transports (``--transport``):

- ``http.client`` (the default and the floor that counts): one ``http.client.HTTPConnection``
  kept alive for the whole run, as the openai SDK's httpx client keeps its connection alive;
- ``urllib``: ``urllib.request.urlopen`` per request, which opens a new connection each time
  (urllib sends ``Connection: close``; it has no keep-alive), for reference.

    python bench/sync_floor.py --base-url http://127.0.0.1:PORT/v1 --key sk-...
    python bench/sync_floor.py --base-url ... --key ... --db bench/out/sync-floor.db

Prints one JSON line: requests made, jobs, events, checkpoints and files fetched, and bytes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sqlite3
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

PAGE = 100  # what ftjobs sync asks for (JOBS_PAGE and HISTORY_PAGE in ftjobs/sync.py)

SCHEMA = """
CREATE TABLE jobs (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE events (job_id TEXT NOT NULL, id TEXT NOT NULL, json TEXT NOT NULL,
                     PRIMARY KEY (job_id, id));
CREATE TABLE checkpoints (job_id TEXT NOT NULL, id TEXT NOT NULL, json TEXT NOT NULL,
                          PRIMARY KEY (job_id, id));
CREATE TABLE files (id TEXT PRIMARY KEY, content BLOB NOT NULL);
"""

Get = Callable[[str], bytes]


def keep_alive_getter(base_url: str, key: str) -> Get:
    """GET path (relative to base_url) over one persistent HTTP/1.1 connection."""
    split = urlsplit(base_url)
    connection = http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port or 80)
    prefix = split.path.rstrip("/")
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}

    def get(path: str) -> bytes:
        connection.request("GET", prefix + path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status}: {body[:200]!r}")
        return body

    return get


def urllib_getter(base_url: str, key: str) -> Get:
    """GET path with urllib.request: a new connection for every request."""
    base = base_url.rstrip("/")
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}

    def get(path: str) -> bytes:
        with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers)) as r:
            return bytes(r.read())

    return get


def pages(get: Get, path: str, counts: dict[str, int]) -> Any:
    """Every page of a list endpoint, parsed, following after= while has_more."""
    after = None
    while True:
        query = {"limit": PAGE} if after is None else {"after": after, "limit": PAGE}
        page = json.loads(get(f"{path}?{urlencode(query)}"))
        counts["requests"] += 1
        yield page
        data = page["data"]
        if not page["has_more"] or not data:
            return
        after = data[-1]["id"]


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def run(get: Get, conn: sqlite3.Connection | None) -> dict[str, int]:
    counts = dict.fromkeys(("requests", "jobs", "events", "checkpoints", "files", "bytes"), 0)
    for page in pages(get, "/fine_tuning/jobs", counts):
        job_rows: list[tuple[str, str]] = []
        event_rows: list[tuple[str, str, str]] = []
        checkpoint_rows: list[tuple[str, str, str]] = []
        file_rows: list[tuple[str, bytes]] = []
        for job in page["data"]:
            job_id = job["id"]
            counts["jobs"] += 1
            job_rows.append((job_id, compact(job)))
            quoted = quote(job_id, safe="")
            for kind, rows in (("events", event_rows), ("checkpoints", checkpoint_rows)):
                for history in pages(get, f"/fine_tuning/jobs/{quoted}/{kind}", counts):
                    counts[kind] += len(history["data"])
                    rows.extend((job_id, item["id"], compact(item)) for item in history["data"])
            for file_id in job.get("result_files") or ():
                content = get(f"/files/{quote(file_id, safe='')}/content")
                counts["requests"] += 1
                counts["files"] += 1
                counts["bytes"] += len(content)
                file_rows.append((file_id, content))
        if conn is not None:
            with conn:  # one transaction per page of jobs, with their history
                conn.executemany("INSERT OR REPLACE INTO jobs VALUES (?, ?)", job_rows)
                conn.executemany("INSERT OR REPLACE INTO events VALUES (?, ?, ?)", event_rows)
                conn.executemany(
                    "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?)", checkpoint_rows
                )
                conn.executemany("INSERT OR REPLACE INTO files VALUES (?, ?)", file_rows)
    return counts


def open_db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.executescript(SCHEMA)
    conn.isolation_level = "DEFERRED"  # `with conn` opens and commits a transaction
    return conn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:PORT/v1")
    parser.add_argument("--key", required=True, help="the API key to send")
    parser.add_argument("--transport", choices=("http.client", "urllib"), default="http.client")
    parser.add_argument("--db", type=Path, help="also write raw rows into this new database")
    args = parser.parse_args(argv)
    make = keep_alive_getter if args.transport == "http.client" else urllib_getter
    conn = open_db(args.db) if args.db else None
    counts = run(make(args.base_url, args.key), conn)
    if conn is not None:
        conn.close()
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
