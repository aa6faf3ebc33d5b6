#!/usr/bin/env python3
"""The speed floor for `ftjobs import`: the same rows, written the same way, with the standard
library alone.

It reads JSON Lines, ``json.loads`` each line and turns the job into exactly the rows
ftjobs.store writes (``_rows_for``): jobs (with the line's text, compact, as jobs.raw_json),
job_errors, job_hyperparameters, job_result_files, integrations (fingerprint + ``ON CONFLICT DO
NOTHING``) and job_integrations (id by subselect).
They go into a new database created from schema.sql, with ftjobs.Store's settings (WAL,
synchronous=NORMAL, foreign_keys ON, the import's page cache), in one ``BEGIN IMMEDIATE``
transaction, executemany'd in batches of BATCH jobs. What it leaves out is exactly what a stdlib
floor should leave out: validation (no pydantic), progress and error reporting, and the upsert
of jobs already stored.

    python -m bench floor jobs.jsonl floor.db
    python -m bench floor jobs.jsonl --verify-rows 20000   # rows == ftjobs.store.rows.rows_for's
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

BATCH = 5_000
# ftjobs.store.IMPORT_CACHE_KIB, the page cache ftjobs gives its import connection: the floor
# must not lose to ftjobs on SQLite settings. (Measured at 1M jobs: 2 MiB, SQLite's default,
# 74.6 s; 64 MiB 67.8 s; 512 MiB 50.1 s, the difference being kernel time re-reading pages.)
CACHE_KIB = 64 * 1024
SCHEMA = Path(__file__).resolve().parent.parent / "schema.sql"

# The model's fields in declaration order: absent_fields lists the missing ones in this order.
JOB_FIELDS = (
    "object", "id", "model", "created_at", "finished_at", "fine_tuned_model", "organization_id",
    "result_files", "status", "validation_file", "training_file", "hyperparameters",
    "trained_tokens", "integrations", "seed", "estimated_finish", "method", "metadata", "error",
)  # fmt: skip
JOB_KNOWN = frozenset(JOB_FIELDS)
ERROR_KNOWN = frozenset(("code", "message", "param"))
HP_FIELDS = ("n_epochs", "batch_size", "learning_rate_multiplier")
HP_KNOWN = frozenset(HP_FIELDS)
INTEGRATION_FIELDS = ("type", "wandb")
INTEGRATION_KNOWN = frozenset(INTEGRATION_FIELDS)
WANDB_FIELDS = ("project", "name", "entity", "tags")
WANDB_KNOWN = frozenset(WANDB_FIELDS)

# The same statements as ftjobs.store, so SQLite does the same work.
JOB_COLUMNS = (
    "job_key", "id", "object", "model", "created_at", "finished_at", "fine_tuned_model",
    "organization_id", "status", "validation_file", "training_file", "trained_tokens", "seed",
    "estimated_finish",
    "integrations_is_null", "result_files_is_null", "method_json", "metadata_json", "extra_json",
    "absent_fields", "raw_json",
)  # fmt: skip
INSERT_JOB = (
    f"INSERT INTO jobs ({', '.join(JOB_COLUMNS)}) VALUES ({', '.join('?' * len(JOB_COLUMNS))})"  # noqa: S608
)
INSERT_ERROR = (
    "INSERT INTO job_errors (job_key, code, message, param, extra_json) VALUES (?, ?, ?, ?, ?)"
)
INSERT_HYPERPARAMETERS = (
    "INSERT INTO job_hyperparameters (job_key, n_epochs, batch_size, learning_rate_multiplier,"
    " extra_json, absent_fields) VALUES (?, ?, ?, ?, ?, ?)"
)
INSERT_RESULT_FILE = "INSERT INTO job_result_files (job_key, position, file_id) VALUES (?, ?, ?)"
INSERT_INTEGRATION = (
    "INSERT INTO integrations (fingerprint, type, wandb_project, wandb_name, wandb_entity,"
    " wandb_tags_json, wandb_extra_json, wandb_is_null, extra_json, absent_fields)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING"
)
LINK_INTEGRATION = (
    "INSERT INTO job_integrations (job_key, position, integration_id)"
    " VALUES (?, ?, (SELECT id FROM integrations WHERE fingerprint = ?))"
)

# ftjobs.api.models.json_text (pydantic-core's to_json) with the standard library: compact UTF-8.
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class Rows(NamedTuple):
    """One batch of rows for every table, in the order ftjobs inserts them."""

    jobs: list[tuple[Any, ...]]
    errors: list[tuple[Any, ...]]
    hyperparameters: list[tuple[Any, ...]]
    result_files: list[tuple[str, int, str]]
    integrations: list[tuple[Any, ...]]
    links: list[tuple[str, int, str]]


def new_rows() -> Rows:
    return Rows([], [], [], [], [], [])


def job_row(job: dict[str, Any], key: int, text: str) -> tuple[Any, ...]:
    """The jobs row: scalars as they are, nested objects as JSON text, the rest bookkeeping, and
    the job's text as it came (compact)."""
    get = job.get
    absent = [name for name in JOB_FIELDS if name not in job]
    extra = None
    if len(job) + len(absent) != len(JOB_FIELDS):
        extra = dumps({key: value for key, value in job.items() if key not in JOB_KNOWN})
    metadata = get("metadata")
    return (
        key, job["id"], get("object", "fine_tuning.job"), job["model"], job["created_at"],
        get("finished_at"), get("fine_tuned_model"), get("organization_id"), job["status"],
        get("validation_file"), get("training_file"), get("trained_tokens"), get("seed"),
        get("estimated_finish"), 1 if get("integrations") is None else 0,
        1 if get("result_files") is None else 0,
        dumps(job["method"]) if "method" in job else None,
        None if metadata is None else dumps(metadata),
        extra, ",".join(absent) or None, text,
    )  # fmt: skip


def integration_columns(integration: dict[str, Any]) -> tuple[Any, ...]:
    """The integrations row but its fingerprint, which is the JSON text of these columns."""
    wandb = integration.get("wandb")
    extra = {k: v for k, v in integration.items() if k not in INTEGRATION_KNOWN}
    extra_json = dumps(extra) if extra else None
    absent = [name for name in INTEGRATION_FIELDS if name not in integration]
    if wandb is None:
        return (integration["type"], None, None, None, None, None, 1, extra_json,
                ",".join(absent) or None)  # fmt: skip
    absent += [f"wandb.{name}" for name in WANDB_FIELDS if name not in wandb]
    tags = wandb.get("tags", [])  # WandbSettings.tags defaults to []
    wandb_extra = {k: v for k, v in wandb.items() if k not in WANDB_KNOWN}
    return (
        integration["type"], wandb["project"], wandb.get("name"), wandb.get("entity"),
        None if tags is None else dumps(tags), dumps(wandb_extra) if wandb_extra else None,
        0, extra_json, ",".join(absent) or None,
    )  # fmt: skip


def add_job(
    rows: Rows,
    job: dict[str, Any],
    key: int,
    fingerprints: dict[tuple[Any, ...], str],
    text: str,
) -> None:
    """Append one job's rows to the batch, under its job_key (ascending from 1 in a new
    database, as ftjobs assigns them); fingerprints memoizes them, as ftjobs does."""
    rows.jobs.append(job_row(job, key, text))
    error = job.get("error")
    # {} and all-null mean "no error": ftjobs stores no row for them.
    if error and (
        error.get("code") is not None
        or error.get("message") is not None
        or error.get("param") is not None
        or len(error.keys() - ERROR_KNOWN)
    ):
        error_extra = {k: v for k, v in error.items() if k not in ERROR_KNOWN}
        rows.errors.append(
            (key, error.get("code"), error.get("message"), error.get("param"),
             dumps(error_extra) if error_extra else None)
        )  # fmt: skip
    hp = job.get("hyperparameters")
    if hp is not None:
        hp_absent = [name for name in HP_FIELDS if name not in hp]
        hp_extra = None
        if len(hp) + len(hp_absent) != len(HP_FIELDS):
            hp_extra = dumps({k: v for k, v in hp.items() if k not in HP_KNOWN})
        rows.hyperparameters.append(
            (key, hp.get("n_epochs"), hp.get("batch_size"), hp.get("learning_rate_multiplier"),
             hp_extra, ",".join(hp_absent) or None)
        )  # fmt: skip
    files = job.get("result_files")
    if files:
        rows.result_files.extend((key, position, file_id) for position, file_id in enumerate(files))
    integrations = job.get("integrations")
    if integrations:
        for position, integration in enumerate(integrations):
            columns = integration_columns(integration)
            fingerprint = fingerprints.get(columns)
            if fingerprint is None:
                fingerprint = fingerprints[columns] = dumps(columns)
            rows.integrations.append((fingerprint, *columns))
            rows.links.append((key, position, fingerprint))


# What compact JSON keeps (ftjobs.jsonio.stream.compact_json's token path): strings, runs of
# anything but white space and quotes.
_KEPT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[^ \t\n\r"]+|"', re.DOTALL)


def compact(line: str) -> str:
    """The line's JSON without white space between tokens (a line with none: itself)."""
    text = line.strip()
    if " " not in text and "\t" not in text and "\r" not in text:
        return text
    return "".join(_KEPT.findall(text))


def read_jsonl(path: Path) -> Iterator[tuple[dict[str, Any], str]]:
    """One parsed job per non-blank line, with its text compacted, streaming."""
    loads = json.loads
    with path.open(encoding="utf-8", buffering=1 << 20) as lines:
        for line in lines:
            if line.strip():
                yield loads(line), compact(line)


def create_database(path: Path) -> sqlite3.Connection:
    """A new database from schema.sql, set up as ftjobs.store.Store sets up its own."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    # One transaction, as Store creates it (executescript would commit an open one first).
    conn.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA.read_text(encoding='utf-8')}\nCOMMIT;")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def write_batch(conn: sqlite3.Connection, rows: Rows) -> None:
    conn.executemany(INSERT_JOB, rows.jobs)
    conn.executemany(INSERT_ERROR, rows.errors)
    conn.executemany(INSERT_HYPERPARAMETERS, rows.hyperparameters)
    conn.executemany(INSERT_RESULT_FILE, rows.result_files)
    if rows.integrations:
        conn.executemany(INSERT_INTEGRATION, rows.integrations)
        conn.executemany(LINK_INTEGRATION, rows.links)


# --bulk-load: what `ftjobs import` does into an empty store (ftjobs.store.bulk), for
# comparison only: drop the jobs table's list indexes and the triggers that keep jobs_fts
# current, and build both once at the end. Not the floor's default: a straightforward program
# keeps the schema as it is.
FILL_JOBS_SEARCH = (
    "INSERT INTO jobs_fts (rowid, job_key, text) SELECT job_key, job_key, text FROM jobs_fts_text"
)


def drop_for_bulk_load(conn: sqlite3.Connection) -> list[str]:
    """Drop the list indexes and the search triggers of jobs; the SQL that makes them again."""
    dropped = []
    for kind, name, sql in conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"
        " AND ((type = 'index' AND tbl_name = 'jobs')"
        " OR (type = 'trigger' AND tbl_name IN ('jobs', 'job_errors') AND name LIKE 'jobs_fts_%'))"
    ).fetchall():
        conn.execute(f'DROP {kind.upper()} "{name}"')
        dropped.append(sql)
    return dropped


def load(
    jobs: Iterable[tuple[dict[str, Any], str]],
    conn: sqlite3.Connection,
    batch: int = BATCH,
    cache_kib: int = CACHE_KIB,
    bulk_load: bool = False,
) -> int:
    """Insert every job in one transaction, batch jobs per executemany; returns the count."""
    if cache_kib:
        conn.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
    count = 0
    fingerprints: dict[tuple[Any, ...], str] = {}
    conn.execute("BEGIN IMMEDIATE")
    try:
        rebuild = drop_for_bulk_load(conn) if bulk_load else []
        rows = new_rows()
        for job, text in jobs:
            count += 1
            add_job(rows, job, count, fingerprints, text)
            if len(rows.jobs) == batch:
                write_batch(conn, rows)
                rows = new_rows()
        write_batch(conn, rows)
        if rebuild:
            conn.execute(FILL_JOBS_SEARCH)
            for create in rebuild:
                conn.execute(create)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return count


def verify_rows(path: Path, limit: int) -> int:
    """Check that this file's rows are exactly ftjobs.store.rows.rows_for's for the first limit
    jobs: the floor must do the same work as ftjobs, not less."""
    from itertools import islice

    from ftjobs import store
    from ftjobs.api.models import FineTuningJob
    from ftjobs.jsonio.stream import compact_json
    from ftjobs.store.rows import rows_for

    mismatches = 0
    theirs_cache = getattr(store, "IMPORT_CACHE_KIB", 0)
    if theirs_cache != CACHE_KIB:
        mismatches += 1
        print(f"page cache: floor {CACHE_KIB} KiB, ftjobs import {theirs_cache} KiB")
    checked = 0
    for key, (job, text) in enumerate(islice(read_jsonl(path), limit), 1):
        ours = new_rows()
        add_job(ours, job, key, {}, text)
        theirs = rows_for(FineTuningJob.model_validate(job), key, {}, compact_json(text))
        expected = Rows(
            [theirs.job],
            [theirs.error] if theirs.error else [],
            [theirs.hyperparameters] if theirs.hyperparameters else [],
            theirs.result_files,
            theirs.integrations,
            theirs.integration_links,
        )
        checked += 1
        if ours != expected:
            mismatches += 1
            if mismatches <= 3:
                for name, mine, want in zip(Rows._fields, ours, expected, strict=True):
                    if mine != want or any(map(_types_differ, mine, want)):
                        print(f"{job['id']} {name}:\n  floor:  {mine}\n  ftjobs: {want}")
        elif any(any(map(_types_differ, a, b)) for a, b in zip(ours, expected, strict=True)):
            mismatches += 1  # 2 vs 2.0: equal in Python, different in SQLite
            print(f"{job['id']}: same values, different types")
    print(f"checked {checked} jobs: {mismatches} differ from ftjobs.store.rows.rows_for")
    return 1 if mismatches or not checked else 0


def _types_differ(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return list(map(type, a)) != list(map(type, b))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", type=Path, help="JSON Lines file, one job per line")
    parser.add_argument("db", type=Path, nargs="?", help="database to create (replaced)")
    parser.add_argument("--batch", type=int, default=BATCH, help="jobs per executemany")
    parser.add_argument(
        "--cache-kib",
        type=int,
        default=CACHE_KIB,
        help=f"page cache for the load, as ftjobs import sets it (default {CACHE_KIB};"
        " 0: SQLite's default)",
    )
    parser.add_argument(
        "--bulk-load",
        action="store_true",
        help="as ftjobs into an empty store: build the list indexes and search rows at the end",
    )
    parser.add_argument(
        "--verify-rows",
        type=int,
        metavar="N",
        help="compare the rows of the first N jobs with ftjobs' and exit (needs ftjobs)",
    )
    args = parser.parse_args(argv)
    if args.verify_rows is not None:
        return verify_rows(args.input, args.verify_rows)
    if args.db is None:
        parser.error("DB is required")
    started = time.perf_counter()
    conn = create_database(args.db)
    count = load(read_jsonl(args.input), conn, args.batch, args.cache_kib, args.bulk_load)
    conn.close()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{count} jobs into {args.db} in {seconds:.2f} s ({count / seconds:,.0f} jobs/s),"
        f" peak RSS {peak:.0f} MiB, file {args.db.stat().st_size / 2**20:.0f} MiB",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
