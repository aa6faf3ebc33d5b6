#!/usr/bin/env python3
"""The speed floor for `ftjobs sync`: the same requests, made with the standard library alone.

The requests are those of a first ``ftjobs sync`` into an empty store: the job list with the
page size sync asks for (100, ``after=`` the last id until ``has_more`` is false); for each job,
its events and its checkpoints (100 a page, paging the same way) and the content of each of its
result files; and, once each, the file object (``GET /files/{id}``) of every distinct training
and validation file the jobs name and the model (``GET /models/{id}``) of every distinct
fine-tuned model (a 404 is an answer: the file or model was deleted). ``json.loads`` of every
JSON body (404 bodies included). That is all: no validation, no store, no comparison with what
is stored. With ``--db`` it also writes raw rows (each object's compact JSON text) into plain
SQLite tables with ``executemany``, one transaction per page of jobs (with what was fetched for
those jobs), in WAL mode with ``synchronous=NORMAL`` as ftjobs' store.

``--threads N`` (default 1): the job list is walked page by page on the main thread; each job's
requests (history, result files, its new file objects and model) are one task on a pool of N
threads, each thread with its own keep-alive connection; at most N requests are in flight at
once, the list's included (a semaphore), as ``ftjobs sync --concurrency N`` promises. With 1
there is no pool: the main thread makes every request on one connection, in the order above
(a job's file objects and model after its result files).

A 429 is waited out (``retry-after-ms``, else ``retry-after``, else 0.5 s) and the request
sent again; the 429s are counted.

Transports (``--transport``):

- ``http.client`` (the default and the floor that counts): ``http.client.HTTPConnection`` kept
  alive for the whole run (one a thread), as the openai SDK's httpx client keeps its
  connections alive;
- ``urllib``: ``urllib.request.urlopen`` per request, which opens a new connection each time
  (urllib sends ``Connection: close``; it has no keep-alive), for reference.

    python -m bench sync-floor --base-url http://127.0.0.1:PORT/v1 --key sk-...
    python -m bench sync-floor --base-url ... --key ... --threads 8
    python -m bench sync-floor --base-url ... --key ... --db bench/out/sync-floor.db

Prints one JSON line: requests made (429s included), 429s, jobs, events,
checkpoints, result files, file objects and models fetched (and how many were 404), and bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import sqlite3
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

PAGE = 100  # what ftjobs sync asks for (JOBS_PAGE and HISTORY_PAGE in ftjobs/sync/report.py)

SCHEMA = """
CREATE TABLE jobs (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE events (job_id TEXT NOT NULL, id TEXT NOT NULL, json TEXT NOT NULL,
                     PRIMARY KEY (job_id, id));
CREATE TABLE checkpoints (job_id TEXT NOT NULL, id TEXT NOT NULL, json TEXT NOT NULL,
                          PRIMARY KEY (job_id, id));
CREATE TABLE files (id TEXT PRIMARY KEY, content BLOB NOT NULL);
CREATE TABLE file_objects (id TEXT PRIMARY KEY, json TEXT);  -- NULL: 404
CREATE TABLE models (id TEXT PRIMARY KEY, json TEXT);  -- NULL: 404
"""


class Fetcher:
    """GETs against base_url: each thread its own keep-alive connection (http.client), or a
    connection a request (urllib); at most ``limit`` in flight; 429s waited out."""

    def __init__(self, base_url: str, key: str, transport: str, limit: int | None) -> None:
        split = urlsplit(base_url)
        self.host = split.hostname or "127.0.0.1"
        self.port = split.port or 80
        self.prefix = split.path.rstrip("/")
        self.base = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        self.transport = transport
        self.slots = threading.BoundedSemaphore(limit) if limit else None
        self.local = threading.local()

    def get(self, path: str, counts: Counter[str], *, missing_ok: bool = False) -> bytes | None:
        """The body of a 200 (None for a 404 when missing_ok); counts every request sent."""
        while True:
            if self.slots is not None:
                with self.slots:
                    status, headers, body = self._send(path)
            else:
                status, headers, body = self._send(path)
            counts["requests"] += 1
            if status == 429:
                counts["rate_limited"] += 1
                time.sleep(_retry_after(headers))
                continue
            if status == 404 and missing_ok:
                json.loads(body)  # the error body, read as sync reads it
                return None
            if status != 200:
                raise RuntimeError(f"GET {path}: HTTP {status}: {body[:200]!r}")
            return body

    def _send(self, path: str) -> tuple[int, dict[str, str], bytes]:
        if self.transport == "urllib":
            request = urllib.request.Request(self.base + path, headers=self.headers)
            try:
                with urllib.request.urlopen(request) as response:
                    headers = {k.lower(): v for k, v in response.headers.items()}
                    return response.status, headers, bytes(response.read())
            except urllib.error.HTTPError as error:
                headers = {k.lower(): v for k, v in error.headers.items()}
                return error.code, headers, bytes(error.read())
        for attempt in (1, 2):  # a kept-alive connection the server closed: once more, anew
            connection = getattr(self.local, "connection", None)
            if connection is None:
                connection = http.client.HTTPConnection(self.host, self.port)
                self.local.connection = connection
            try:
                connection.request("GET", self.prefix + path, headers=self.headers)
                response = connection.getresponse()
                body = response.read()
            except (http.client.RemoteDisconnected, ConnectionError):
                connection.close()
                self.local.connection = None
                if attempt == 2:
                    raise
                continue
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        raise AssertionError("unreachable")


def _retry_after(headers: dict[str, str]) -> float:
    with contextlib.suppress(KeyError, ValueError):
        return float(headers["retry-after-ms"]) / 1000
    with contextlib.suppress(KeyError, ValueError):
        return float(headers["retry-after"])
    return 0.5


def pages(fetcher: Fetcher, path: str, counts: Counter[str]) -> Iterator[Any]:
    """Every page of a list endpoint, parsed, following after= while has_more."""
    after = None
    while True:
        query = {"limit": PAGE} if after is None else {"after": after, "limit": PAGE}
        body = fetcher.get(f"{path}?{urlencode(query)}", counts)
        assert body is not None
        page = json.loads(body)
        yield page
        data = page["data"]
        if not page["has_more"] or not data:
            return
        after = data[-1]["id"]


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Rows:
    """What one page of jobs adds to the database (kept only with --db)."""

    jobs: list[tuple[str, str]] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)
    checkpoints: list[tuple[str, str, str]] = field(default_factory=list)
    files: list[tuple[str, bytes]] = field(default_factory=list)
    file_objects: list[tuple[str, str | None]] = field(default_factory=list)
    models: list[tuple[str, str | None]] = field(default_factory=list)

    def extend(self, other: Rows) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name).extend(getattr(other, name))


def job_requests(
    fetcher: Fetcher,
    job: dict[str, Any],
    file_ids: list[str],
    model_id: str | None,
    keep: bool,
) -> tuple[Counter[str], Rows]:
    """One job's requests: its events and checkpoints (every page), its result files, then
    the file objects and the model it is the first to name."""
    counts: Counter[str] = Counter()
    rows = Rows()
    job_id = job["id"]
    quoted = quote(job_id, safe="")
    for kind, kept in (("events", rows.events), ("checkpoints", rows.checkpoints)):
        for history in pages(fetcher, f"/fine_tuning/jobs/{quoted}/{kind}", counts):
            counts[kind] += len(history["data"])
            if keep:
                kept.extend((job_id, item["id"], compact(item)) for item in history["data"])
    for file_id in job.get("result_files") or ():
        content = fetcher.get(f"/files/{quote(file_id, safe='')}/content", counts)
        assert content is not None
        counts["files"] += 1
        counts["bytes"] += len(content)
        if keep:
            rows.files.append((file_id, content))
    for kind, ids, kept_objects in (
        ("file_objects", file_ids, rows.file_objects),
        ("models", [model_id] if model_id else [], rows.models),
    ):
        for object_id in ids:
            path = f"/{'files' if kind == 'file_objects' else 'models'}/{quote(object_id, safe='')}"
            body = fetcher.get(path, counts, missing_ok=True)
            counts[kind] += 1
            if body is None:
                counts[f"{kind}_deleted"] += 1
            value = None if body is None else json.loads(body)
            if keep:
                kept_objects.append((object_id, None if value is None else compact(value)))
    return counts, rows


def write(conn: sqlite3.Connection, rows: Rows) -> None:
    with conn:  # one transaction per page of jobs, with their history
        conn.executemany("INSERT OR REPLACE INTO jobs VALUES (?, ?)", rows.jobs)
        conn.executemany("INSERT OR REPLACE INTO events VALUES (?, ?, ?)", rows.events)
        conn.executemany("INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?)", rows.checkpoints)
        conn.executemany("INSERT OR REPLACE INTO files VALUES (?, ?)", rows.files)
        conn.executemany("INSERT OR REPLACE INTO file_objects VALUES (?, ?)", rows.file_objects)
        conn.executemany("INSERT OR REPLACE INTO models VALUES (?, ?)", rows.models)


def run(fetcher: Fetcher, threads: int, conn: sqlite3.Connection | None) -> Counter[str]:
    counts: Counter[str] = Counter()
    keep = conn is not None
    named_files: set[str] = set()
    named_models: set[str] = set()

    def first_named(job: dict[str, Any]) -> tuple[list[str], str | None]:
        """The job's training and validation files and its model not named by a job before."""
        files = []
        for role in ("training_file", "validation_file"):
            file_id = job.get(role)
            if file_id and file_id not in named_files:
                named_files.add(file_id)
                files.append(file_id)
        model_id = job.get("fine_tuned_model")
        if not model_id or model_id in named_models:
            return files, None
        named_models.add(model_id)
        return files, model_id

    def page_rows(page: Any) -> Rows:
        counts["jobs"] += len(page["data"])
        rows = Rows()
        if keep:
            rows.jobs.extend((job["id"], compact(job)) for job in page["data"])
        return rows

    def done(rows: Rows, results: list[tuple[Counter[str], Rows]]) -> None:
        for job_counts, job_rows in results:
            counts.update(job_counts)
            rows.extend(job_rows)
        if conn is not None:
            write(conn, rows)

    list_pages = pages(fetcher, "/fine_tuning/jobs", counts)
    if threads == 1:
        for page in list_pages:
            rows = page_rows(page)
            results = [job_requests(fetcher, job, *first_named(job), keep) for job in page["data"]]
            done(rows, results)
        return counts
    with ThreadPoolExecutor(threads, thread_name_prefix="floor") as pool:
        # A page's jobs go to the pool as it comes; its rows are written once they are all
        # done, while the next page's jobs run.
        pending: tuple[Rows, list[Future[tuple[Counter[str], Rows]]]] | None = None
        for page in list_pages:
            rows = page_rows(page)
            futures = [
                pool.submit(job_requests, fetcher, job, *first_named(job), keep)
                for job in page["data"]
            ]
            if pending is not None:
                done(pending[0], [future.result() for future in pending[1]])
            pending = (rows, futures)
        if pending is not None:
            done(pending[0], [future.result() for future in pending[1]])
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
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="jobs fetched at once, each thread on its own connection; at most this many"
        " requests in flight (default 1: one connection, in order)",
    )
    parser.add_argument("--db", type=Path, help="also write raw rows into this new database")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    limit = args.threads if args.threads > 1 else None
    fetcher = Fetcher(args.base_url, args.key, args.transport, limit)
    conn = open_db(args.db) if args.db else None
    counts = run(fetcher, args.threads, conn)
    if conn is not None:
        conn.close()
    keys = ("requests", "rate_limited", "jobs", "events", "checkpoints", "files", "file_objects")
    keys += ("file_objects_deleted", "models", "models_deleted", "bytes")
    print(json.dumps({"threads": args.threads} | {key: counts[key] for key in keys}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
