"""The SQLite store: every SQL statement ftjobs runs lives in this package.

Jobs go in and come out as :class:`~ftjobs.api.models.FineTuningJob`; nothing here prints. The
database runs in WAL mode with foreign keys on, waits for locks instead of failing, and every write
is one transaction that takes the write lock up front (``BEGIN IMMEDIATE``), so a failed command
leaves the file as it was and concurrent writers queue instead of dead-locking.

One room per concern, each a part of :class:`Store`:

- `base.py`: opening the file, its schema and migrations, transactions, SQLite's errors;
- `rows.py`: a job as table rows and back (no connection needed);
- `jobs.py`: whole jobs (get, add, modify, delete, and the writes others share);
- `filters.py`: the filter `list`, `export` and `stats` take, and its indexed SQL;
- `bulk.py`: `import` of many jobs, events and checkpoints;
- `history.py` over `history_writer.py` (writes) and `history_reads.py` (reads): events,
  checkpoints, metrics, result files;
- `sync.py`: what `sync` remembers, and its save of one job with its history;
- `resources.py`: the file objects and fine-tuned model states sync archives beside the jobs;
- `insights.py`: `info`, `stats` and `search`;
- `export.py`: `export --full` (every job with its history and resources), and its restore;
- `backup.py`, `check.py`: `backup` and `check`;
- `records.py`: the records the other layers read; `migrations.py`: one step a version.

Not imported on every command's path: pydantic and the models (ftjobs.api.models, about 100 ms
with the plugin scan its first model triggers) are imported by the functions that validate or
build a FineTuningJob; `list --json`, `show --json` and export's rows go from SQLite straight to
JSON text: the job's text as its provider sent it (jobs.raw_json), or JSON built from the
columns (rows.job_data, Jobs._select_json). sqlite_utils (about 90 ms, with the click it
imports) is imported only by Store.db, for code that wants its helpers; Store itself runs plain
sqlite3. See bench/startup.py.
"""

from __future__ import annotations

from ftjobs.store.backup import Backup, BackupResult
from ftjobs.store.base import DEFAULT_BUSY_TIMEOUT, SCHEMA_VERSION, schema_sql
from ftjobs.store.bulk import IMPORT_CACHE_KIB, BulkImport, ImportCounts, OnConflict
from ftjobs.store.check import Check, CheckResult
from ftjobs.store.export import FullExport
from ftjobs.store.filters import NULLABLE_SORT_FIELDS, SORT_COLUMNS, JobFilter
from ftjobs.store.history import History
from ftjobs.store.insights import Insights
from ftjobs.store.resources import FileObject, JobResources, ModelState, Resources
from ftjobs.store.sync import Mark, SourceState, SourceSummary, Sync, SyncedJob

__all__ = [
    "DEFAULT_BUSY_TIMEOUT",
    "IMPORT_CACHE_KIB",
    "NULLABLE_SORT_FIELDS",
    "SCHEMA_VERSION",
    "SORT_COLUMNS",
    "BackupResult",
    "CheckResult",
    "FileObject",
    "ImportCounts",
    "JobFilter",
    "JobResources",
    "Mark",
    "ModelState",
    "OnConflict",
    "SourceState",
    "SourceSummary",
    "Store",
    "SyncedJob",
    "schema_sql",
]


class Store(Backup, Check, BulkImport, Sync, History, Insights, Resources, FullExport):
    """An open ftjobs database."""
