"""`ftjobs backup`: a consistent copy of the live store, safe while a sync or an import writes.

SQLite's ``VACUUM INTO`` reads the store in one read transaction (a snapshot: writers in WAL
mode go on meanwhile) and writes a compact copy. The copy is written to a temporary file beside
the destination, made owner-only before a byte is written (the store's own mode), flushed to
disk, then renamed over the destination in one step: a reader of the destination sees the old
file or the whole new one, never half of one, and a failed backup leaves nothing behind."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ftjobs.errors import StoreError
from ftjobs.store.base import StoreBase, sqlite_errors


@dataclass(frozen=True)
class BackupResult:
    path: str
    size_bytes: int
    jobs: int


class Backup(StoreBase):
    """A copy of the store, whole."""

    def backup_to(self, destination: Path, *, force: bool = False) -> BackupResult:
        """Write a consistent copy of the store to destination (a file, or a directory to put
        a file of the store's name in). An existing file is replaced only with force."""
        destination = Path(destination)
        if destination.is_dir():
            destination = destination / self.path.name
        if not destination.parent.is_dir():
            raise StoreError(f"cannot back up to {destination}: {destination.parent} is no folder")
        if destination.exists() and destination.resolve() == self.path.resolve():
            raise StoreError(f"{destination} is the store itself: back up to another file")
        if destination.exists() and not force:
            raise StoreError(f"{destination} exists: use --force to replace it")
        mode = self.path.stat().st_mode & 0o777
        temporary = destination.with_name(f".{destination.name}.{os.getpid()}.backup")
        try:
            # An empty file VACUUM INTO may write into, owner-only from the start.
            os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode & 0o700))

            with sqlite_errors(self.path):
                self.conn.execute("VACUUM INTO ?", [str(temporary)])
                copied = sqlite3.connect(temporary)  # the jobs the copy holds, not the store
                try:
                    jobs = int(copied.execute("SELECT count(*) FROM jobs").fetchone()[0])
                finally:
                    copied.close()
            with temporary.open("rb+") as copy:
                os.fsync(copy.fileno())
            temporary.replace(destination)
        except OSError as error:
            raise StoreError(f"cannot back up to {destination}: {error.strerror}") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
        return BackupResult(str(destination), destination.stat().st_size, jobs)
