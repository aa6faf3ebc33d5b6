"""Opening a store: the file, its schema and migrations, transactions, SQLite's errors.

StoreBase is the connection every part of :class:`ftjobs.store.Store` works through.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ftjobs.errors import JobNotFound, StoreError
from ftjobs.store.migrations import MIGRATIONS

if TYPE_CHECKING:
    import sqlite_utils
    from typing_extensions import Self

    from ftjobs.api.models import FineTuningJob

SCHEMA_VERSION = max(MIGRATIONS)
DEFAULT_BUSY_TIMEOUT = 30.0


class RollBack(Exception):
    """Raised inside a transaction to undo it without an error."""


def schema_sql() -> str:
    """The text of schema.sql, from the installed package or, in a source checkout, the repo."""
    from importlib import resources  # (only a new store needs it)

    packaged = resources.files("ftjobs").joinpath("schema.sql")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "schema.sql").read_text(encoding="utf-8")


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


class StoreBase:
    """An open ftjobs database: its path and its connection."""

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
            with without_modules("numpy", "pandas"):  # it needs neither (see without_modules)
                import sqlite_utils

            # As it is: no PRAGMA recursive_triggers, which sqlite-utils sets by default.
            self._db = sqlite_utils.Database(self.conn, recursive_triggers=False)
        return self._db

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        create: bool = True,
        make_folder: bool = True,
    ) -> Self:
        """Open the database at path, upgrading or refusing its schema; create it if it does
        not exist and create is true (commands that only read never make a store: a mistyped
        --db is an error, not a new empty file; nor do they take an empty file for one), in a
        new folder only with make_folder."""
        path = Path(path)
        if path.is_dir():
            raise StoreError(f"database {path} is a directory, not a file")
        if not create and not path.exists():
            raise StoreError(
                f"no ftjobs store at {path}: check --db or FTJOBS_DB (a store is created by"
                " the first add, import or sync)"
            )
        if not create and path.stat().st_size == 0:
            raise StoreError(f"{path} is an empty file, not an ftjobs store: check --db")
        if create and not make_folder and not path.parent.is_dir():
            raise StoreError(
                f"no folder {path.parent} for the store {path}: check --db or FTJOBS_DB, or"
                " create the folder first"
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
            with sqlite_errors(path):
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
                            if callable(script):  # a step SQL alone cannot say
                                script(conn)
                                continue
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

    def holds_nothing(self) -> bool:
        """No job in it (a store just made, that a failed command may take away again)."""
        try:
            return self.conn.execute("SELECT 1 FROM jobs LIMIT 1").fetchone() is None
        except sqlite3.Error:
            return False

    def remove_files(self) -> None:
        """Delete the (closed) store's file, its write-ahead log and shared memory."""
        for name in (self.path.name, f"{self.path.name}-wal", f"{self.path.name}-shm"):
            with contextlib.suppress(FileNotFoundError):
                (self.path.parent / name).unlink()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the write lock from its first statement."""
        conn = self.conn
        with sqlite_errors(self.path):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _job_key(self, job_id: str) -> int:
        with sqlite_errors(self.path):
            return self._key_of(self.conn, job_id)

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


def _create_private_file(path: Path) -> None:
    """Create a new database file readable and writable by its owner only (mode 0600)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


@contextlib.contextmanager
def sqlite_errors(path: Path) -> Iterator[None]:
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


@contextlib.contextmanager
def without_modules(*names: str) -> Iterator[None]:
    """Import something as if these (optional) modules were not installed.

    sqlite_utils imports numpy and pandas whenever they are installed, only to map their
    types, which ftjobs never stores; numpy comes with uniplot (the metrics chart) and costs
    about 0.3 s, on every command that opens the store. Modules already imported stay as
    they are, and afterwards the names import normally again.
    """
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
