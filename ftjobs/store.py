"""The SQLite store: every SQL statement ftjobs runs lives in this module.

Jobs go in and come out as :class:`~ftjobs.models.FineTuningJob`; nothing here prints. The
database runs in WAL mode with foreign keys on, waits for locks instead of failing, and every write
is one transaction that takes the write lock up front (``BEGIN IMMEDIATE``), so a failed command
leaves the file as it was and concurrent writers queue instead of dead-locking.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar

from pydantic_core import from_json, to_json

from ftjobs import history_store, insights_store
from ftjobs.constants import FINAL_STATUSES, SortField
from ftjobs.errors import BadInput, FtjobsError, JobExists, JobNotFound, StoreError
from ftjobs.history import (
    CHECKPOINTS_SOURCE,
    EVENTS_SOURCE,
    CheckpointRecord,
    EventRecord,
    FetchedHistory,
    ResultFile,
    file_source,
)
from ftjobs.history_store import (
    HistoryCounts,
    HistorySummary,
    HistoryWriter,
    Metrics,
    StoredCheckpoint,
    StoredEvent,
)
from ftjobs.imports import without_modules
from ftjobs.insights_store import Stats, StoreInfo
from ftjobs.jsontext import json_text
from ftjobs.migrations import MIGRATIONS

# Not imported here, on every command's path: pydantic and the models (ftjobs.models, about
# 100 ms with the plugin scan its first model triggers) are imported by the functions that
# validate or build a FineTuningJob; `list --json`, `show --json` and export's rows go from
# SQLite straight to JSON text (_job_data, _select_json). sqlite_utils (about 90 ms, with the
# click it imports) is imported only by Store.db, for code that wants its helpers; Store itself
# runs plain sqlite3. See bench/startup.py.
if TYPE_CHECKING:
    import sqlite_utils

    from ftjobs.models import FineTuningJob, Integration

T = TypeVar("T")
SCHEMA_VERSION = max(MIGRATIONS)
SYNC_CURSOR = "jobs_after"  # sync_state: the walk of the job list to go on from
DEFAULT_BUSY_TIMEOUT = 30.0

# The sort orders `list` offers: user text never becomes SQL, it only picks a key here.
SORT_COLUMNS: dict[SortField, str] = {
    "created_at": "jobs.created_at",
    "finished_at": "jobs.finished_at",
    "status": "jobs.status",
    "model": "jobs.model",
    "id": "jobs.id",
    "trained_tokens": "jobs.trained_tokens",
}

NULLABLE_SORT_FIELDS = frozenset({"finished_at", "trained_tokens"})

_JOB_COLUMNS = (
    "job_key", "id", "object", "model", "created_at", "finished_at", "fine_tuned_model",
    "organization_id", "status", "validation_file", "training_file", "trained_tokens", "seed",
    "estimated_finish", "integrations_is_null", "result_files_is_null", "method_json",
    "metadata_json", "extra_json", "absent_fields",
)  # fmt: skip
# A stored job is rewritten in place: it keeps its job_key, so what points at it (its history)
# stays, and export keeps the order jobs were first recorded in.
_WRITE_JOB = (
    f"INSERT INTO jobs ({', '.join(_JOB_COLUMNS)}) VALUES ({', '.join('?' * len(_JOB_COLUMNS))})"  # noqa: S608
    " ON CONFLICT (job_key) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _JOB_COLUMNS[1:])
)
# A job's own parts, cleared before a stored job is written again.
_JOB_PART_TABLES = ("job_errors", "job_hyperparameters", "job_result_files", "job_integrations")
_INSERT_ERROR = (
    "INSERT INTO job_errors (job_key, code, message, param, extra_json) VALUES (?, ?, ?, ?, ?)"
)
_INSERT_HYPERPARAMETERS = (
    "INSERT INTO job_hyperparameters (job_key, n_epochs, batch_size, learning_rate_multiplier,"
    " extra_json, absent_fields) VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_RESULT_FILE = "INSERT INTO job_result_files (job_key, position, file_id) VALUES (?, ?, ?)"
_INSERT_INTEGRATION = (
    "INSERT INTO integrations (fingerprint, type, wandb_project, wandb_name, wandb_entity,"
    " wandb_tags_json, wandb_extra_json, wandb_is_null, extra_json, absent_fields)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING"
)
_LINK_INTEGRATION = (
    "INSERT INTO job_integrations (job_key, position, integration_id)"
    " VALUES (?, ?, (SELECT id FROM integrations WHERE fingerprint = ?))"
)

# One row per job with everything needed to rebuild it; integrations come as ids, resolved
# through a small cache because many jobs share the same few settings.
_SELECT_JOBS = """
SELECT jobs.object, jobs.id, jobs.model, jobs.created_at, jobs.finished_at,
    jobs.fine_tuned_model, jobs.organization_id, jobs.status, jobs.validation_file,
    jobs.training_file, jobs.trained_tokens, jobs.seed, jobs.estimated_finish,
    jobs.integrations_is_null, jobs.result_files_is_null, jobs.method_json, jobs.metadata_json,
    jobs.extra_json, jobs.absent_fields,
    job_errors.job_key IS NOT NULL, job_errors.code, job_errors.message, job_errors.param,
    job_errors.extra_json,
    job_hyperparameters.job_key IS NOT NULL, job_hyperparameters.n_epochs,
    job_hyperparameters.batch_size, job_hyperparameters.learning_rate_multiplier,
    job_hyperparameters.extra_json, job_hyperparameters.absent_fields,
    (SELECT json_group_array(file_id) FROM (
        SELECT file_id FROM job_result_files
        WHERE job_result_files.job_key = jobs.job_key ORDER BY position)),
    (SELECT json_group_array(integration_id) FROM (
        SELECT integration_id FROM job_integrations
        WHERE job_integrations.job_key = jobs.job_key ORDER BY position))
FROM jobs
LEFT JOIN job_errors ON job_errors.job_key = jobs.job_key
LEFT JOIN job_hyperparameters ON job_hyperparameters.job_key = jobs.job_key
"""


@dataclass(frozen=True)
class JobFilter:
    """Which jobs `list` and `export` want, in which order."""

    statuses: Sequence[str] = ()
    # a base model: the name and its dated snapshots (name-YYYY-MM-DD, name-MMDD), or a GLOB
    model: str | None = None
    since: int | None = None  # created_at >= since
    until: int | None = None  # created_at < until
    fine_tuned_model: str | None = None
    training_file: str | None = None
    error_code: str | None = None
    metadata: Sequence[tuple[str, str]] = ()  # every pair must match
    finished_since: int | None = None  # finished_at >= finished_since
    finished_until: int | None = None  # finished_at < finished_until
    # the exact model names --model matched in the store (Store._exact_models), when known
    models: Sequence[str] | None = None
    sort: SortField | None = "created_at"  # None: the order the jobs were recorded in
    descending: bool = True
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.sort is not None and self.sort not in SORT_COLUMNS:
            raise ValueError(f"cannot sort by {self.sort!r}")


@dataclass(frozen=True)
class SyncedJob:
    """A stored job as sync sees it."""

    job: FineTuningJob
    history_complete: bool


@dataclass
class ImportCounts:
    """What an import did (or, rolled back, would have done)."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    committed: bool = False
    history: HistoryCounts = field(default_factory=HistoryCounts)

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.skipped


OnConflict = Literal["update", "skip", "fail"]
ImportRecord: TypeAlias = "FineTuningJob | EventRecord | CheckpointRecord"
IMPORT_BATCH_SIZE = 2000
IMPORT_CACHE_KIB = 64 * 1024
BULK_LOAD_CACHE_KIB = 32 * 1024
REBUILD_CACHE_KIB = 8 * 1024


class _RollBack(Exception):
    """Raised inside a transaction to undo it without an error."""


@dataclass
class _JobRows:
    """One job as the rows of every table it lives in."""

    job: tuple[Any, ...]
    error: tuple[Any, ...] | None
    hyperparameters: tuple[Any, ...] | None
    result_files: list[tuple[int, int, str]]
    integrations: list[tuple[Any, ...]] = field(default_factory=list)
    integration_links: list[tuple[int, int, str]] = field(default_factory=list)


def schema_sql() -> str:
    """The text of schema.sql, from the installed package or, in a source checkout, the repo."""
    packaged = resources.files("ftjobs").joinpath("schema.sql")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parent.parent / "schema.sql").read_text(encoding="utf-8")


def _schema_statements(script: str) -> Iterator[str]:
    """Split a script into statements, so that they run inside our own transaction
    (executescript would commit first). Comments ride along with the statement they precede."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                yield pending.strip()
            pending = ""


def _loads_or_none(text: str | None) -> Any:
    return None if text is None else from_json(text)


def _absent_text(names: list[str]) -> str | None:
    return ",".join(names) or None


def _rows_for(job: FineTuningJob, key: int, fingerprints: dict[tuple[Any, ...], str]) -> _JobRows:
    """Split a job into table rows, the job's own under key. fingerprints memoizes integration
    fingerprints: the same few integration settings recur across many jobs."""
    absent = job.absent_fields()
    method_json, metadata_json, extra_json = job.free_form_json()
    job_row = (
        key, job.id, job.object, job.model, job.created_at, job.finished_at, job.fine_tuned_model,
        job.organization_id, job.status, job.validation_file, job.training_file,
        job.trained_tokens, job.seed, job.estimated_finish,
        1 if job.integrations is None else 0,
        1 if job.result_files is None else 0,
        method_json, metadata_json, extra_json, _absent_text(absent),
    )  # fmt: skip
    error = job.error
    error_row = (
        None if error is None else (key, error.code, error.message, error.param, error.extra_json())
    )
    hp = job.hyperparameters
    hyperparameters_row = (
        None
        if hp is None
        else (
            key,
            hp.n_epochs,
            hp.batch_size,
            hp.learning_rate_multiplier,
            hp.extra_json(),
            _absent_text(hp.absent_fields()),
        )
    )
    rows = _JobRows(
        job=job_row,
        error=error_row,
        hyperparameters=hyperparameters_row,
        result_files=[
            (key, position, file_id) for position, file_id in enumerate(job.result_files or ())
        ],
    )
    for position, integration in enumerate(job.integrations or ()):
        columns = _integration_columns(integration)
        fingerprint = fingerprints.get(columns)
        if fingerprint is None:
            fingerprint = fingerprints[columns] = json_text(columns)
        rows.integrations.append((fingerprint, *columns))
        rows.integration_links.append((key, position, fingerprint))
    return rows


def _integration_columns(integration: Integration) -> tuple[Any, ...]:
    """The integrations row but its fingerprint, which is this tuple's JSON text."""
    wandb = integration.wandb
    absent = integration.absent_fields()
    if wandb is None:
        return (
            integration.type, None, None, None, None, None, 1, integration.extra_json(),
            _absent_text(absent),
        )  # fmt: skip
    absent.extend(f"wandb.{name}" for name in wandb.absent_fields())
    return (
        integration.type,
        wandb.project,
        wandb.name,
        wandb.entity,
        None if wandb.tags is None else json_text(wandb.tags),
        wandb.extra_json(),
        0,
        integration.extra_json(),
        _absent_text(absent),
    )


def _job_data(
    row: tuple[Any, ...], integration_for: Callable[[int], dict[str, Any]]
) -> dict[str, Any]:
    """The API object, as plain JSON data, from a row of _SELECT_JOBS (a plain tuple: export's
    hot path): the keys in the order FineTuningJob's JSON has them, unknown ones last."""
    (
        object_, id_, model, created_at, finished_at, fine_tuned_model, organization_id, status,
        validation_file, training_file, trained_tokens, seed, estimated_finish,
        integrations_is_null, result_files_is_null, method_json, metadata_json, extra_json,
        absent_fields, has_error, error_code, error_message, error_param, error_extra_json,
        has_hyperparameters, n_epochs, batch_size, learning_rate_multiplier,
        hyperparameters_extra_json, hyperparameters_absent_fields,
        result_files_json, integration_ids_json,
    ) = row  # fmt: skip
    data: dict[str, Any] = {
        "object": object_,
        "id": id_,
        "model": model,
        "created_at": created_at,
        "finished_at": finished_at,
        "fine_tuned_model": fine_tuned_model,
        "organization_id": organization_id,
        "result_files": None if result_files_is_null else from_json(result_files_json),
        "status": status,
        "validation_file": validation_file,
        "training_file": training_file,
        "hyperparameters": None,
        "trained_tokens": trained_tokens,
        "integrations": None,
        "seed": seed,
        "estimated_finish": estimated_finish,
        "method": None if method_json is None else from_json(method_json),
        "metadata": None if metadata_json is None else from_json(metadata_json),
        "error": None,
    }
    if has_hyperparameters:
        hyperparameters = {
            "n_epochs": n_epochs,
            "batch_size": batch_size,
            "learning_rate_multiplier": learning_rate_multiplier,
        }
        if hyperparameters_absent_fields:
            for name in hyperparameters_absent_fields.split(","):
                del hyperparameters[name]
        if hyperparameters_extra_json:
            hyperparameters.update(from_json(hyperparameters_extra_json))
        data["hyperparameters"] = hyperparameters
    if has_error:
        error = {"code": error_code, "message": error_message, "param": error_param}
        if error_extra_json:
            error.update(from_json(error_extra_json))
        data["error"] = error
    if not integrations_is_null:
        data["integrations"] = [integration_for(i) for i in from_json(integration_ids_json)]
    if absent_fields:
        for name in absent_fields.split(","):
            del data[name]
    if extra_json:
        data.update(from_json(extra_json))
    return data


def _job_from_row(
    row: tuple[Any, ...], integration_for: Callable[[int], dict[str, Any]]
) -> FineTuningJob:
    """Rebuild the model from a row of _SELECT_JOBS."""
    from ftjobs.models import KNOWN_FINITE, FineTuningJob

    return FineTuningJob.model_validate(_job_data(row, integration_for), context=KNOWN_FINITE)


class Store:
    """An open ftjobs database."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self.conn = connection
        self._integrations: dict[int, dict[str, Any]] = {}
        self._db: sqlite_utils.Database | None = None

    @property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over this store's connection, imported on first use: for code that uses
        its helpers (FTS, introspection). Store's own statements run on plain sqlite3."""
        if self._db is None:
            with without_modules("numpy", "pandas"):  # it needs neither (see ftjobs.imports)
                import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: Path, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, create: bool = True
    ) -> Store:
        """Open the database at path, upgrading or refusing its schema; create it if it does
        not exist and create is true (commands that only read never make a store: a mistyped
        --db is an error, not a new empty file)."""
        path = Path(path)
        if path.is_dir():
            raise StoreError(f"database {path} is a directory, not a file")
        if not create and not path.exists():
            raise StoreError(
                f"no ftjobs store at {path}: check --db or FTJOBS_DB (a store is created by"
                " the first add, import or sync)"
            )
        try:
            _create_private_file(path)
            connection = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
        except OSError as error:
            raise StoreError(f"cannot create database {path}: {error.strerror}") from None
        except sqlite3.Error as error:
            raise StoreError(f"cannot open database {path}: {error}") from None
        store = cls(path, connection)
        try:
            with _sqlite_errors(path):
                store._prepare()
        except BaseException:
            connection.close()
            raise
        return store

    def _prepare(self) -> None:
        conn = self.conn
        conn.execute("PRAGMA foreign_keys = ON")
        version = self._schema_version()
        if version == 0:
            self._create_schema()
        elif version > SCHEMA_VERSION:
            raise StoreError(
                f"database {self.path} was written by a newer ftjobs (schema version {version};"
                f" this ftjobs knows up to {SCHEMA_VERSION}): upgrade ftjobs to use it"
            )
        elif version < SCHEMA_VERSION:
            self._migrate()
        conn.execute("PRAGMA synchronous = NORMAL")

    def _migrate(self) -> None:
        """Apply every pending migration in one transaction: all of them, or none. Foreign keys
        are off meanwhile (migrations rebuild tables) and checked before the commit."""
        conn = self.conn
        conn.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction: before it
        try:
            with self._transaction():
                version = self._schema_version()  # another process may have migrated meanwhile
                try:
                    for target in range(version + 1, SCHEMA_VERSION + 1):
                        for script in MIGRATIONS[target]:
                            for statement in _schema_statements(script + ";"):
                                conn.execute(statement)
                        conn.execute(f"PRAGMA user_version = {int(target)}")
                    broken = conn.execute("PRAGMA foreign_key_check").fetchone()
                    if broken:
                        raise sqlite3.IntegrityError(f"a row of {broken[0]} lost its parent")
                except sqlite3.Error as error:
                    raise StoreError(
                        f"cannot upgrade database {self.path} from schema version {version} to"
                        f" {SCHEMA_VERSION} ({error}); it was left as it was"
                    ) from None
        finally:
            conn.execute("PRAGMA foreign_keys = ON")

    def _schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _create_schema(self) -> None:
        conn = self.conn
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchone():
            raise StoreError(
                f"{self.path} is a SQLite database but not an ftjobs one; refusing to touch it"
            )
        conn.execute("PRAGMA journal_mode = WAL")
        with self._transaction():
            if self._schema_version() != 0:  # another process created it while we waited
                return
            for statement in _schema_statements(schema_sql()):
                conn.execute(statement)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the write lock from its first statement."""
        conn = self.conn
        with _sqlite_errors(self.path):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- reading ---------------------------------------------------------------------------

    def get(self, job_id: str) -> FineTuningJob:
        for job in self._select("WHERE jobs.id = ?", [job_id]):
            return job
        raise JobNotFound(job_id)

    def list_jobs(self, query: JobFilter) -> Iterator[FineTuningJob]:
        """The jobs the filter picks, in its order: one statement, or two for a nullable
        field smallest first (the rows with a value, then those without)."""
        return self._listed(query, self._select)

    def _exact_models(self, query: JobFilter) -> JobFilter:
        """--model as the exact names it matches in the store. A name and its dated snapshots
        (or a glob) are several model values, so the model index cannot give their jobs in
        created_at order, and a million-job store sorted every match to show 50 (2.2x a small
        store's time, bench/reads.py); one exact name reads its jobs in order straight off
        jobs_by_model. The distinct names are found with one index seek each."""
        if query.model is None:
            return query
        condition, values = _model_condition(query.model)
        low, high = (
            (values[0], values[1]) if condition.startswith("jobs.model >= ?") else ("", None)
        )
        names: list[str] = []
        with _sqlite_errors(self.path):
            after, first = low, True
            while True:
                # Fixed text: the comparison and the upper bound are chosen, not typed.
                compare = ">=" if first else ">"
                bound = "" if high is None else " AND model < ?"
                sql = (
                    f"SELECT model FROM jobs WHERE model {compare} ?{bound} ORDER BY model LIMIT 1"  # noqa: S608
                )
                row = self.conn.execute(sql, [after] if high is None else [after, high]).fetchone()
                if row is None:
                    break
                after, first = row[0], False
                names.append(row[0])
            matching = condition.replace("jobs.model", "value")
            found = [
                row[0]
                for row in self.conn.execute(
                    f"SELECT value FROM json_each(?) WHERE {matching}",  # noqa: S608 (fixed text)
                    [json_text(names), *values],
                )
            ]
        return replace(query, model=None, models=tuple(found))

    def _listed(
        self, query: JobFilter, select: Callable[[str, list[Any]], Iterator[T]]
    ) -> Iterator[T]:
        query = self._exact_models(query)
        remaining = query.limit
        for tail, params in _list_tails(query):
            if remaining is not None:
                if remaining <= 0:
                    return
                params[-1] = remaining
            for item in select(tail, params):
                yield item
                if remaining is not None:
                    remaining -= 1

    @staticmethod
    def list_sql(query: JobFilter) -> list[tuple[str, list[Any]]]:
        """The statements list_jobs runs for a filter, with their parameters (for EXPLAIN)."""
        return [(_SELECT_JOBS + tail, params) for tail, params in _list_tails(query)]

    def count(self, query: JobFilter | None = None, *, at_most: int | None = None) -> int:
        """How many jobs the filter picks (all of them without one), limit aside; with at_most,
        counting stops there (at_most + 1 means "more"): a notice that a limit hid jobs need
        not walk every match of a million-job store (1.5 s for 43k of them, bench/reads.py)."""
        where, params = _where(self._exact_models(query or JobFilter()))
        # where: _where's fixed text, its values bound
        sql = f"SELECT 1 FROM jobs {where}"  # noqa: S608
        if at_most is not None:
            sql += " LIMIT ?"
            params.append(at_most + 1)
        with _sqlite_errors(self.path):
            return int(self.conn.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0])  # noqa: S608

    def get_json(self, job_id: str, *, indent: int | None = None) -> str:
        """One job as the API's JSON text, byte for byte what FineTuningJob.to_json gives."""
        for text in self._select_json("WHERE jobs.id = ?", [job_id], indent=indent):
            return text
        raise JobNotFound(job_id)

    def list_json(self, query: JobFilter) -> Iterator[str]:
        """list_jobs, as the jobs' compact JSON text."""
        return self._listed(query, lambda tail, params: self._select_json(tail, params))

    def _select(self, tail: str, params: Sequence[Any]) -> Iterator[FineTuningJob]:
        with _sqlite_errors(self.path):
            # Plain tuples, not sqlite-utils' dicts: this loop is export's hot path.
            for row in self.conn.execute(_SELECT_JOBS + tail, params):
                yield _job_from_row(row, self._integration)

    def _select_json(
        self, tail: str, params: Sequence[Any], *, indent: int | None = None
    ) -> Iterator[str]:
        """Stored jobs straight to JSON text, without building models: every stored job was
        validated on its way in, and validating it again on the way out changes nothing (the
        values pass through unchanged; the "no error" forms are never stored). pydantic-core's
        encoder is the one model_dump_json uses, so the text is the same, byte for byte
        (tests/test_json_contract.py, test_import_export.py)."""
        with _sqlite_errors(self.path):
            for row in self.conn.execute(_SELECT_JOBS + tail, params):
                yield to_json(_job_data(row, self._integration), indent=indent).decode()

    def _integration(self, integration_id: int) -> dict[str, Any]:
        cached = self._integrations.get(integration_id)
        if cached is None:
            cursor = self.conn.execute("SELECT * FROM integrations WHERE id = ?", [integration_id])
            names = [column[0] for column in cursor.description]
            row = dict(zip(names, cursor.fetchone(), strict=True))
            cached = {"type": row["type"]}
            if row["wandb_is_null"]:
                cached["wandb"] = None
            else:
                wandb = {
                    "project": row["wandb_project"],
                    "name": row["wandb_name"],
                    "entity": row["wandb_entity"],
                    "tags": _loads_or_none(row["wandb_tags_json"]),
                }
                if row["wandb_extra_json"]:
                    wandb.update(from_json(row["wandb_extra_json"]))
                cached["wandb"] = wandb
            if row["extra_json"]:
                cached.update(from_json(row["extra_json"]))
            for name in row["absent_fields"].split(",") if row["absent_fields"] else ():
                if name.startswith("wandb."):
                    del cached["wandb"][name.removeprefix("wandb.")]
                else:
                    del cached[name]
            self._integrations[integration_id] = cached
        return cached

    # -- a job's history -------------------------------------------------------------------

    def _job_key(self, job_id: str) -> int:
        with _sqlite_errors(self.path):
            return self._key_of(self.conn, job_id)

    def events(
        self,
        job_id: str,
        *,
        levels: Sequence[str] = (),
        types: Sequence[str] = (),
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """The job's events oldest first (with limit: the newest that many)."""
        key = self._job_key(job_id)
        with _sqlite_errors(self.path):
            return history_store.read_events(
                self.conn, key, levels=levels, types=types, limit=limit
            )

    def count_events(
        self, job_id: str, *, levels: Sequence[str] = (), types: Sequence[str] = ()
    ) -> int:
        """How many of the job's events pass the filters."""
        key = self._job_key(job_id)
        with _sqlite_errors(self.path):
            return history_store.count_events(self.conn, key, levels=levels, types=types)

    def checkpoints(self, job_id: str) -> list[StoredCheckpoint]:
        """The job's checkpoints, oldest first by step."""
        key = self._job_key(job_id)
        with _sqlite_errors(self.path):
            return history_store.read_checkpoints(self.conn, key)

    def metrics(self, job_id: str, file_id: str | None = None) -> Metrics | None:
        """Per-step metrics of a job: from its first result file with stored content (or the
        one named), else from its metrics events, else from its checkpoints; None if none."""
        job = self.get(job_id)
        key = self._job_key(job_id)
        conn = self.conn
        with _sqlite_errors(self.path):
            if file_id is not None:
                if history_store.stored_result_file(conn, file_id) is None:
                    raise FtjobsError(
                        f"job {job_id}: no content stored for result file {file_id!r}"
                        f" (ftjobs attach {job_id} {file_id} --content FILE)"
                    )
                return history_store.read_metrics(conn, key, file_source(file_id))
            stored = history_store.stored_file_ids(conn, job.result_files or [])
            sources = [file_source(f) for f in job.result_files or [] if f in stored]
            for source in (*sources, EVENTS_SOURCE, CHECKPOINTS_SOURCE):
                found = history_store.read_metrics(conn, key, source)
                if found is not None:
                    return found
        return None

    def result_file(self, file_id: str) -> ResultFile | None:
        with _sqlite_errors(self.path):
            return history_store.stored_result_file(self.conn, file_id)

    def history_summary(self, job_id: str) -> HistorySummary:
        key = self._job_key(job_id)
        with _sqlite_errors(self.path):
            return history_store.summary(self.conn, key)

    def attach_content(self, job_id: str, content: ResultFile) -> FineTuningJob:
        """Store a result file's content for a job, adding its id to the job's result_files
        when it is not there: one transaction."""
        from ftjobs.models import FineTuningJob

        with self._transaction() as conn:
            job = self.get(job_id)
            files = list(job.result_files or ())
            if content.file_id not in files:
                changed = FineTuningJob.model_validate(
                    {**job.to_api_dict(), "result_files": [*files, content.file_id]}
                )
                self._write(conn, [(self._key_of(conn, job_id), changed)], {}, replacing=True)
            HistoryWriter(conn).add_result_file(self._key_of(conn, job_id), content)
        return self.get(job_id)

    # -- sync --------------------------------------------------------------------------------

    # -- insights (ftjobs/insights_store.py) ------------------------------------------------

    def info(self) -> StoreInfo:
        with _sqlite_errors(self.path):
            return insights_store.store_info(self.conn, self.path)

    def stats(self, query: JobFilter) -> Stats:
        where, params = _where(self._exact_models(query))
        with _sqlite_errors(self.path):
            return insights_store.job_stats(self.conn, where, params)

    def search(self, match: str, limit: int | None = None) -> Iterator[FineTuningJob]:
        """Jobs whose text or event messages match (an FTS5 query, see
        insights_store.fts_query), best first."""
        tail = insights_store.SEARCH_TAIL
        params: list[Any] = [match]
        if limit is not None:
            tail += "LIMIT ?"
            params.append(limit)
        return self._select(tail, params)

    def count_search(self, match: str) -> int:
        with _sqlite_errors(self.path):
            return int(self.conn.execute(insights_store.COUNT_HITS, [match]).fetchone()[0])

    def sync_value(self, name: str) -> str | None:
        """What sync remembered under name (None: nothing)."""
        with _sqlite_errors(self.path):
            return history_store.sync_value(self.conn, name)

    def set_sync_value(self, name: str, value: str | None) -> None:
        with self._transaction() as conn:
            history_store.set_sync_value(conn, name, value)

    def sync_cursor(self) -> str | None:
        """Where an interrupted walk of the job list stopped (the `after` to go on from)."""
        return self.sync_value(SYNC_CURSOR)

    def set_sync_cursor(self, after: str | None) -> None:
        self.set_sync_value(SYNC_CURSOR, after)

    def sync_states(self, job_ids: Sequence[str]) -> dict[str, SyncedJob]:
        """For the stored ones of these jobs: their JSON, and whether their history is whole."""
        ids_json = json_text(list(job_ids))
        with _sqlite_errors(self.path):
            complete = dict(
                self.conn.execute(
                    "SELECT jobs.id, coalesce(job_sync.history_complete, 0) FROM jobs"
                    " LEFT JOIN job_sync USING (job_key)"
                    " WHERE jobs.id IN (SELECT value FROM json_each(?))",
                    [ids_json],
                ).fetchall()
            )
            return {
                job.id: SyncedJob(job, bool(complete[job.id]))
                for job in self._select(
                    "WHERE jobs.id IN (SELECT value FROM json_each(?))", [ids_json]
                )
            }

    def jobs_to_revisit(self) -> list[str]:
        """Stored jobs a sync must look at again even when the list does not show them
        changed: not finished yet, or with history not (wholly) fetched. Newest first."""
        with _sqlite_errors(self.path):
            return [
                row[0]
                for row in self.conn.execute(
                    "SELECT jobs.id FROM jobs LEFT JOIN job_sync USING (job_key)"
                    " WHERE jobs.status NOT IN (SELECT value FROM json_each(?))"
                    " OR coalesce(job_sync.history_complete, 0) = 0"
                    " ORDER BY jobs.created_at DESC, jobs.id DESC",
                    [json_text(sorted(FINAL_STATUSES))],
                )
            ]

    def known_history(self, job_id: str) -> tuple[set[str], set[str]]:
        """Ids of the job's stored events and checkpoints (empty for a job not stored)."""
        with _sqlite_errors(self.path):
            row = self.conn.execute("SELECT job_key FROM jobs WHERE id = ?", [job_id]).fetchone()
            if row is None:
                return set(), set()
            conn = self.conn
            return (
                history_store.known_ids(conn, "job_events", row[0]),
                history_store.known_ids(conn, "job_checkpoints", row[0]),
            )

    def stored_files(self, file_ids: Sequence[str]) -> set[str]:
        with _sqlite_errors(self.path):
            return history_store.stored_file_ids(self.conn, file_ids)

    def save_synced(
        self,
        job: FineTuningJob,
        history: FetchedHistory | None,
        *,
        complete: bool,
        gaps: Sequence[str] = (),
        now: int,
    ) -> tuple[Literal["new", "updated", "unchanged"], HistoryCounts]:
        """Write one synced job and what was fetched of its history in one transaction, so an
        interrupted sync keeps every job it finished, whole. complete says the history is all
        there (else the next sync fetches it again); gaps name what could not be fetched."""
        counts = HistoryCounts()
        with self._transaction() as conn:
            row = conn.execute("SELECT job_key FROM jobs WHERE id = ?", [job.id]).fetchone()
            outcome: Literal["new", "updated", "unchanged"]
            if row is None:
                [(key, _)] = keyed = self._new_keys(conn, [job])
                self._write(conn, keyed, {})
                outcome = "new"
            else:
                key = int(row[0])
                if self.get(job.id).to_json() == job.to_json():
                    outcome = "unchanged"
                else:
                    self._write(conn, [(key, job)], {}, replacing=True)
                    outcome = "updated"
            if history is not None:
                writer = HistoryWriter(conn, counts)
                if history.events:
                    writer.add_events(key, history.events, newest_first=True)
                writer.finish()
                if history.checkpoints:
                    writer.add_checkpoints(key, history.checkpoints)
                for content in history.files:
                    writer.add_result_file(key, content)
                history_store.mark_history(conn, key, complete=complete, gaps=gaps, now=now)
        return outcome, counts

    # -- writing ---------------------------------------------------------------------------

    def add(self, job: FineTuningJob) -> FineTuningJob:
        """Insert a new job; an id that exists is an error, never an overwrite."""
        with self._transaction() as conn:
            if self._exists(conn, job.id):
                raise JobExists(job.id)
            self._write(conn, self._new_keys(conn, [job]), {})
        return self.get(job.id)

    def modify(
        self, job_id: str, change: Callable[[FineTuningJob], FineTuningJob]
    ) -> FineTuningJob:
        """Read a job, apply change, write the result back: all inside one write transaction, so
        concurrent changes to the same job queue up instead of overwriting each other."""
        with self._transaction() as conn:
            current = self.get(job_id)
            changed = change(current)
            if changed.id != job_id:
                raise ValueError("a change must not alter the job's id")
            if changed.to_json() != current.to_json():
                self._write(conn, [(self._key_of(conn, job_id), changed)], {}, replacing=True)
        return self.get(job_id)

    def delete(self, job_ids: Sequence[str]) -> int:
        """Delete jobs and everything linked to them; all named jobs must exist."""
        with self._transaction() as conn:
            for job_id in job_ids:
                if not self._exists(conn, job_id):
                    raise JobNotFound(job_id)
            return self._delete(conn, list(dict.fromkeys(job_ids)))

    def import_jobs(
        self,
        records: Iterable[ImportRecord],
        *,
        on_conflict: OnConflict = "update",
        keep: Callable[[], bool] = lambda: True,
        events_job: str | None = None,
    ) -> ImportCounts:
        """Upsert many jobs, and add events and checkpoints to jobs' histories, in one
        transaction, written in batches.

        A job whose id exists is replaced by the incoming record (on_conflict "update"; counted
        as unchanged when it is the same), left alone ("skip"), or ends the import with
        JobExists ("fail"). Events belong to events_job (they do not name their job);
        checkpoints to the job they name; either must be stored, or come earlier in the same
        import. An event or checkpoint already stored is kept once. Once every record is
        written, keep() decides: False rolls everything back (a dry run, or an all-or-nothing
        import that met a bad record).
        """
        from ftjobs.models import FineTuningJob

        counts = ImportCounts()
        try:
            with self._transaction() as conn:
                rebuild = self._drop_list_indexes(conn) if self._is_empty(conn) else []
                # A bigger page cache keeps the indexes' hot pages in memory through a long
                # import (-20-28% time on a million jobs); a bulk load has fewer indexes to keep
                # and needs less. It lasts for this connection only.
                cache_kib = BULK_LOAD_CACHE_KIB if rebuild else IMPORT_CACHE_KIB
                conn.execute(f"PRAGMA cache_size = -{cache_kib}")
                fingerprints: dict[tuple[Any, ...], str] = {}
                history = HistoryWriter(conn, counts.history)
                for kind, batch in _batches(records, IMPORT_BATCH_SIZE):
                    if kind is FineTuningJob:
                        self._import_batch(conn, batch, on_conflict, counts, fingerprints)
                    elif kind is EventRecord:
                        if events_job is None:
                            raise BadInput(
                                "events do not name their job: pass --job JOB_ID to import them"
                            )
                        history.add_events(self._history_owner(conn, events_job, "events"), batch)
                    else:
                        for job_id, records_of_job in _by_job(batch):
                            key = self._history_owner(
                                conn, job_id, f"checkpoint {batch[0].checkpoint.id}"
                            )
                            history.add_checkpoints(key, records_of_job)
                history.finish()
                if not keep():
                    raise _RollBack
                if rebuild:
                    # The index builds sort in memory up to the page cache's size: give the
                    # cache's memory to them rather than hold both.
                    conn.execute(f"PRAGMA cache_size = -{REBUILD_CACHE_KIB}")
                    for create_index in rebuild:
                        conn.execute(create_index)
        except _RollBack:
            return counts
        counts.committed = True
        return counts

    @staticmethod
    def _history_owner(conn: sqlite3.Connection, job_id: str, what: str) -> int:
        """The key of the job that history records belong to; it must be stored."""
        row = conn.execute("SELECT job_key FROM jobs WHERE id = ?", [job_id]).fetchone()
        if row is None:
            raise FtjobsError(
                f"{what}: no job with id {job_id!r} in the store; import or sync the job first"
                " (history is kept with its job); nothing was imported"
            )
        return int(row[0])

    @staticmethod
    def _is_empty(conn: sqlite3.Connection) -> bool:
        return conn.execute("SELECT 1 FROM jobs LIMIT 1").fetchone() is None

    @staticmethod
    def _drop_list_indexes(conn: sqlite3.Connection) -> list[str]:
        """Drop the jobs table's list indexes, returning the SQL that makes them again.

        Filling an empty store (a first import, a restore) is a bulk load: jobs arrive in no
        order of created_at, status or model, so keeping those indexes up to date writes all
        over their B-trees; building them once at the end sorts instead. It all happens inside
        the import's transaction, so a failed or killed import leaves them as they were.
        """
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master"
            " WHERE type = 'index' AND tbl_name = 'jobs' AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')  # a name from sqlite_master, not user text
        return [sql for _, sql in indexes]

    def _import_batch(
        self,
        conn: sqlite3.Connection,
        batch: list[FineTuningJob],
        on_conflict: OnConflict,
        counts: ImportCounts,
        fingerprints: dict[tuple[Any, ...], str],
    ) -> None:
        """Write one batch (no id twice in it): new jobs inserted, stored ones per on_conflict."""
        ids_json = json_text([job.id for job in batch])
        existing: dict[str, int] = dict(
            conn.execute(
                "SELECT id, job_key FROM jobs WHERE id IN (SELECT value FROM json_each(?))",
                [ids_json],
            ).fetchall()
        )
        if existing:
            if on_conflict == "fail":
                raise JobExists(next(job.id for job in batch if job.id in existing))
            if on_conflict == "skip":
                counts.skipped += len(existing)
            else:
                stored = {
                    job.id: job.to_json()
                    for job in self._select(
                        "WHERE jobs.id IN (SELECT value FROM json_each(?))", [ids_json]
                    )
                }
                changed = [
                    job for job in batch if job.id in existing and job.to_json() != stored[job.id]
                ]
                counts.unchanged += len(existing) - len(changed)
                counts.updated += len(changed)
                self._write(
                    conn,
                    [(existing[job.id], job) for job in changed],
                    fingerprints,
                    replacing=True,
                )
        new = [job for job in batch if job.id not in existing] if existing else batch
        counts.inserted += len(new)
        self._write(conn, self._new_keys(conn, new), fingerprints)

    @staticmethod
    def _exists(conn: sqlite3.Connection, job_id: str) -> bool:
        return conn.execute("SELECT 1 FROM jobs WHERE id = ?", [job_id]).fetchone() is not None

    @staticmethod
    def _key_of(conn: sqlite3.Connection, job_id: str) -> int:
        row = conn.execute("SELECT job_key FROM jobs WHERE id = ?", [job_id]).fetchone()
        if row is None:
            raise JobNotFound(job_id)
        return int(row[0])

    @staticmethod
    def _new_keys(
        conn: sqlite3.Connection, jobs: Sequence[FineTuningJob]
    ) -> list[tuple[int, FineTuningJob]]:
        """Keys for new jobs, continuing from the largest in use (we hold the write lock), so
        their rows are appended to every table's B-tree."""
        first_key = conn.execute("SELECT coalesce(max(job_key), 0) + 1 FROM jobs").fetchone()[0]
        return list(enumerate(jobs, first_key))

    def _delete(self, conn: sqlite3.Connection, job_ids: list[str]) -> int:
        """Delete jobs; their rows in every other table go with them (foreign keys cascade),
        and so does the stored content of result files no remaining job lists."""
        deleted = 0
        for job_id in job_ids:
            files = [
                row[0]
                for row in conn.execute(
                    "SELECT file_id FROM job_result_files JOIN jobs USING (job_key)"
                    " WHERE jobs.id = ?",
                    [job_id],
                )
            ]
            deleted += conn.execute("DELETE FROM jobs WHERE id = ?", [job_id]).rowcount
            conn.executemany(
                "DELETE FROM result_file_contents WHERE file_id = ?"
                " AND NOT EXISTS (SELECT 1 FROM job_result_files WHERE file_id = ?)",
                [(file_id, file_id) for file_id in files],
            )
        self._integrations.clear()  # ids of integrations no job uses any more may be reused
        return deleted

    def _write(
        self,
        conn: sqlite3.Connection,
        keyed: Sequence[tuple[int, FineTuningJob]],
        fingerprints: dict[tuple[Any, ...], str],
        *,
        replacing: bool = False,
    ) -> None:
        """Write jobs under their keys: new ones appended, or (replacing) stored ones rewritten
        in place, the job row updated and its own parts replaced, so that nothing pointing at
        a job (its history) is lost and export keeps the order jobs were first recorded in."""
        jobs, errors, hyperparameters, files, integrations, links = [], [], [], [], [], []
        for key, job in keyed:
            rows = _rows_for(job, key, fingerprints)
            jobs.append(rows.job)
            if rows.error:
                errors.append(rows.error)
            if rows.hyperparameters:
                hyperparameters.append(rows.hyperparameters)
            files.extend(rows.result_files)
            integrations.extend(rows.integrations)
            links.extend(rows.integration_links)
        if replacing:
            keys = [(key,) for key, _ in keyed]
            for table in _JOB_PART_TABLES:
                # table: one of a fixed tuple of names, never user text
                conn.executemany(f"DELETE FROM {table} WHERE job_key = ?", keys)  # noqa: S608
            # An integration no job uses any more was just removed, and its id may be given to
            # a new one: what was cached under that id is stale.
            self._integrations.clear()
        conn.executemany(_WRITE_JOB, jobs)
        conn.executemany(_INSERT_ERROR, errors)
        conn.executemany(_INSERT_HYPERPARAMETERS, hyperparameters)
        conn.executemany(_INSERT_RESULT_FILE, files)
        if integrations:
            conn.executemany(_INSERT_INTEGRATION, integrations)
            conn.executemany(_LINK_INTEGRATION, links)


def _where(query: JobFilter) -> tuple[str, list[Any]]:
    """The WHERE clause of a filter, with its parameters (values are always bound)."""
    conditions: list[str] = []
    params: list[Any] = []
    if query.statuses:
        conditions.append(f"jobs.status IN ({', '.join('?' * len(query.statuses))})")
        params.extend(query.statuses)
    if query.model is not None:
        condition, values = _model_condition(query.model)
        conditions.append(condition)
        params.extend(values)
    if query.models is not None:
        conditions.append(f"jobs.model IN ({', '.join('?' * len(query.models))})")
        params.extend(query.models)
    for condition, value in (
        ("jobs.created_at >= ?", query.since),
        ("jobs.created_at < ?", query.until),
        ("jobs.finished_at >= ?", query.finished_since),
        ("jobs.finished_at < ?", query.finished_until),
        ("jobs.fine_tuned_model = ?", query.fine_tuned_model),
        ("jobs.training_file = ?", query.training_file),
        ("jobs.job_key IN (SELECT job_key FROM job_errors WHERE code = ?)", query.error_code),
    ):
        if value is not None:
            conditions.append(condition)
            params.append(value)
    for key, value in query.metadata:
        # metadata is JSON text: checked on the rows the other conditions leave
        conditions.append(
            "EXISTS (SELECT 1 FROM json_each(jobs.metadata_json)"
            " WHERE json_each.key = ? AND json_each.value = ?)"
        )
        params.extend((key, value))
    return (f"WHERE {' AND '.join(conditions)}" if conditions else ""), params


_GLOB_CHARS = frozenset("*?[")
# What follows a base model's name in its dated snapshots (gpt-4o-mini-2024-07-18,
# gpt-3.5-turbo-0125).
_SNAPSHOT_SUFFIXES = ("-[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]", "-[0-9][0-9][0-9][0-9]")


def _model_condition(model: str) -> tuple[str, list[Any]]:
    """--model: a GLOB if it has * ? or [, else the name and its dated snapshots. Both start
    with a range on the model index (the name, or the pattern's literal prefix), so a million
    jobs are not scanned; the GLOB then checks the shape of what follows."""
    if _GLOB_CHARS & set(model):
        prefix = model[: min(model.index(c) for c in _GLOB_CHARS if c in model)]
        if not prefix or ord(prefix[-1]) == 0x10FFFF:
            return "jobs.model GLOB ?", [model]
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return "jobs.model >= ? AND jobs.model < ? AND jobs.model GLOB ?", [prefix, upper, model]
    # name < name-... < name. ('-' sorts just before '.'): the index range holds the name and
    # everything it starts with a dash.
    return (
        "jobs.model >= ? AND jobs.model < ?"
        " AND (jobs.model = ? OR jobs.model GLOB ? OR jobs.model GLOB ?)",
        [model, model + ".", model, *(model + suffix for suffix in _SNAPSHOT_SUFFIXES)],
    )


def _list_tails(query: JobFilter) -> list[tuple[str, list[Any]]]:
    """What follows _SELECT_JOBS for list_jobs: WHERE, ORDER BY and, with a limit, LIMIT ? as
    the last parameter. A nullable field smallest first is two statements, the rows with a
    value and then those without, so its (field, id) index serves both orders: one statement
    would sort NULLs last with a temporary B-tree over every row."""
    where, params = _where(query)
    limit = "" if query.limit is None else " LIMIT ?"
    limit_params = [] if query.limit is None else [query.limit]
    if query.sort is None:
        return [(f"{where} ORDER BY jobs.job_key{limit}", [*params, *limit_params])]
    column = SORT_COLUMNS[query.sort]
    if query.sort in NULLABLE_SORT_FIELDS and not query.descending:
        joiner = "AND" if where else "WHERE"
        return [
            (
                f"{where} {joiner} {column} IS NOT NULL ORDER BY {column} ASC, jobs.id ASC{limit}",
                [*params, *limit_params],
            ),
            (
                f"{where} {joiner} {column} IS NULL ORDER BY jobs.id ASC{limit}",
                [*params, *limit_params],
            ),
        ]
    return [(f"{where} {_order_by(query)}{limit}", [*params, *limit_params])]


def _order_by(query: JobFilter) -> str:
    assert query.sort is not None
    direction = "DESC" if query.descending else "ASC"
    column = SORT_COLUMNS[query.sort]
    # Ties broken by id for a stable order, newest first within a status or a model (the order
    # of their indexes). Descending, NULLs (no finished_at yet) come last by themselves.
    ties = (
        "jobs.created_at {d}, jobs.id {d}" if query.sort in ("status", "model") else "jobs.id {d}"
    )
    return f"ORDER BY {column} {direction}, {ties.format(d=direction)}"


def _batches(records: Iterable[ImportRecord], size: int) -> Iterator[tuple[type, list[Any]]]:
    """Runs of records of one kind (jobs, events, checkpoints) in input order, at most size
    long. A run of jobs never holds an id twice: a later record of the same id lands in a
    later batch, so it updates the earlier one as it would one at a time."""
    from ftjobs.models import FineTuningJob

    kind: type | None = None
    batch: list[Any] = []
    ids: set[str] = set()
    for record in records:
        record_kind = type(record)
        job_id = record.id if isinstance(record, FineTuningJob) else None
        if batch and (record_kind is not kind or len(batch) >= size or job_id in ids):
            yield kind or FineTuningJob, batch
            batch, ids = [], set()
        kind = record_kind
        batch.append(record)
        if job_id is not None:
            ids.add(job_id)
    if batch:
        yield kind or FineTuningJob, batch


def _by_job(records: list[CheckpointRecord]) -> Iterator[tuple[str, list[CheckpointRecord]]]:
    """Checkpoints grouped by the job they name, in order of first appearance."""
    groups: dict[str, list[CheckpointRecord]] = {}
    for record in records:
        groups.setdefault(record.checkpoint.fine_tuning_job_id, []).append(record)
    yield from groups.items()


def _create_private_file(path: Path) -> None:
    """Create a new database file readable and writable by its owner only (mode 0600)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


@contextlib.contextmanager
def _sqlite_errors(path: Path) -> Iterator[None]:
    """Turn SQLite's exceptions into one-line errors that say what to do."""
    try:
        yield
    except sqlite3.OperationalError as error:
        message = str(error)
        if "locked" in message or "busy" in message:
            raise StoreError(
                f"database {path} is locked by another process and stayed locked; nothing was"
                " changed. Try again, or set FTJOBS_BUSY_TIMEOUT (seconds) higher"
            ) from None
        raise StoreError(f"database {path}: {message}") from None
    except sqlite3.DatabaseError as error:
        raise StoreError(f"database {path}: {error}") from None
