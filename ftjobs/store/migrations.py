"""How an older database is brought up to date, one schema version at a time.

MIGRATIONS[n] takes a database from schema version n - 1 to n: SQL scripts (or, for a step SQL
alone cannot say, a function of the connection), run in order (a
script may hold several statements). Each is frozen once released:
schema.sql always creates the newest version directly, and a test checks that a version 1
database migrated step by step ends with the same tables, columns, keys and indexes. The store
runs every pending step in one transaction with foreign key enforcement off (tables are rebuilt)
and checks the foreign keys before it commits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

# Version 2: child tables point at jobs by a small ascending integer (job_key) instead of the
# job's text id, so a large import appends to their B-trees instead of writing all over them;
# and an index for `list --sort finished_at`. The version 1 tables are renamed aside, the
# version 2 ones created, the rows copied (a job's rowid becomes its job_key), the old dropped.
_V2_NEW_TABLES = """
CREATE TABLE jobs (
    job_key              INTEGER PRIMARY KEY,
    id                   TEXT NOT NULL UNIQUE CHECK (length(id) > 0),
    object               TEXT NOT NULL DEFAULT 'fine_tuning.job'
                         CHECK (object = 'fine_tuning.job'),
    model                TEXT NOT NULL,
    created_at           INTEGER NOT NULL CHECK (created_at >= 0),
    finished_at          INTEGER CHECK (finished_at >= 0),
    fine_tuned_model     TEXT,
    organization_id      TEXT,
    status               TEXT NOT NULL CHECK (status IN (
                             'validating_files', 'queued', 'running',
                             'succeeded', 'failed', 'cancelled', 'paused')),
    validation_file      TEXT,
    training_file        TEXT,
    trained_tokens       INTEGER CHECK (trained_tokens >= 0),
    seed                 INTEGER,
    estimated_finish     INTEGER CHECK (estimated_finish >= 0),
    integrations_is_null INTEGER NOT NULL DEFAULT 0 CHECK (integrations_is_null IN (0, 1)),
    method_json          TEXT CHECK (method_json IS NULL OR json_valid(method_json)),
    metadata_json        TEXT CHECK (metadata_json IS NULL OR json_valid(metadata_json)),
    extra_json           TEXT CHECK (extra_json IS NULL OR json_valid(extra_json)),
    absent_fields        TEXT
);

CREATE INDEX jobs_by_created_at ON jobs (created_at, id);

CREATE INDEX jobs_by_status ON jobs (status, created_at, id);

CREATE INDEX jobs_by_model ON jobs (model, created_at, id);

CREATE INDEX jobs_by_finished_at ON jobs (finished_at, id);

CREATE TABLE job_errors (
    job_key    INTEGER PRIMARY KEY REFERENCES jobs (job_key) ON DELETE CASCADE,
    code       TEXT,
    message    TEXT,
    param      TEXT,
    extra_json TEXT CHECK (extra_json IS NULL OR json_valid(extra_json))
);

CREATE TABLE job_hyperparameters (
    job_key                  INTEGER PRIMARY KEY REFERENCES jobs (job_key) ON DELETE CASCADE,
    n_epochs                 CHECK (n_epochs IS NULL OR n_epochs = 'auto' OR (
                                 typeof(n_epochs) = 'integer' AND n_epochs BETWEEN 1 AND 50)),
    batch_size               CHECK (batch_size IS NULL OR batch_size = 'auto' OR (
                                 typeof(batch_size) = 'integer' AND batch_size BETWEEN 1 AND 256)),
    learning_rate_multiplier CHECK (learning_rate_multiplier IS NULL
                                 OR learning_rate_multiplier = 'auto' OR (
                                 typeof(learning_rate_multiplier) IN ('integer', 'real')
                                 AND learning_rate_multiplier > 0)),
    extra_json               TEXT CHECK (extra_json IS NULL OR json_valid(extra_json)),
    absent_fields            TEXT
);

CREATE TABLE job_result_files (
    job_key  INTEGER NOT NULL REFERENCES jobs (job_key) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 0),
    file_id  TEXT NOT NULL,
    PRIMARY KEY (job_key, position),
    UNIQUE (job_key, file_id)
) WITHOUT ROWID;

CREATE TABLE job_integrations (
    job_key        INTEGER NOT NULL REFERENCES jobs (job_key) ON DELETE CASCADE,
    position       INTEGER NOT NULL CHECK (position >= 0),
    integration_id INTEGER NOT NULL REFERENCES integrations (id),
    PRIMARY KEY (job_key, position)
) WITHOUT ROWID;

CREATE INDEX job_integrations_by_integration ON job_integrations (integration_id);

CREATE TRIGGER integrations_drop_unused AFTER DELETE ON job_integrations
WHEN NOT EXISTS (SELECT 1 FROM job_integrations WHERE integration_id = OLD.integration_id)
BEGIN
    DELETE FROM integrations WHERE id = OLD.integration_id;
END;
"""

_V2_STEPS = (
    # Out of the way: old indexes and the trigger keep their names across a table rename.
    "DROP TRIGGER integrations_drop_unused",
    "DROP INDEX jobs_by_created_at",
    "DROP INDEX jobs_by_status",
    "DROP INDEX jobs_by_model",
    "DROP INDEX job_integrations_by_integration",
    "ALTER TABLE jobs RENAME TO v1_jobs",
    "ALTER TABLE job_errors RENAME TO v1_job_errors",
    "ALTER TABLE job_hyperparameters RENAME TO v1_job_hyperparameters",
    "ALTER TABLE job_result_files RENAME TO v1_job_result_files",
    "ALTER TABLE job_integrations RENAME TO v1_job_integrations",
    _V2_NEW_TABLES,
    """INSERT INTO jobs (job_key, id, object, model, created_at, finished_at, fine_tuned_model,
    organization_id, status, validation_file, training_file, trained_tokens, seed, estimated_finish,
    integrations_is_null, method_json, metadata_json, extra_json, absent_fields)
    SELECT rowid, id, object, model, created_at, finished_at, fine_tuned_model,
    organization_id, status, validation_file, training_file, trained_tokens, seed, estimated_finish,
    integrations_is_null, method_json, metadata_json, extra_json, absent_fields
    FROM v1_jobs""",
    """INSERT INTO job_errors (job_key, code, message, param, extra_json)
    SELECT v1_jobs.rowid, code, message, param, old.extra_json
    FROM v1_job_errors AS old JOIN v1_jobs ON v1_jobs.id = old.job_id""",
    """INSERT INTO job_hyperparameters (job_key, n_epochs, batch_size, learning_rate_multiplier,
        extra_json, absent_fields)
    SELECT v1_jobs.rowid, n_epochs, batch_size, learning_rate_multiplier, old.extra_json,
        old.absent_fields
    FROM v1_job_hyperparameters AS old JOIN v1_jobs ON v1_jobs.id = old.job_id""",
    """INSERT INTO job_result_files (job_key, position, file_id)
    SELECT v1_jobs.rowid, position, file_id
    FROM v1_job_result_files AS old JOIN v1_jobs ON v1_jobs.id = old.job_id""",
    """INSERT INTO job_integrations (job_key, position, integration_id)
    SELECT v1_jobs.rowid, position, integration_id
    FROM v1_job_integrations AS old JOIN v1_jobs ON v1_jobs.id = old.job_id""",
    "DROP TABLE v1_job_integrations",
    "DROP TABLE v1_job_result_files",
    "DROP TABLE v1_job_hyperparameters",
    "DROP TABLE v1_job_errors",
    "DROP TABLE v1_jobs",
)

# Version 3: an archive keeps what providers send, and a job's history.
# - jobs and job_hyperparameters lose the CHECKs that refused real records (status "pending",
#   batch_size -1; ranges are now enforced on what a person types), and jobs gains
#   result_files_is_null (Azure's null kept apart from []). SQLite cannot drop a CHECK, so each
#   table is rebuilt beside the old one, filled with the same keys, and renamed into its place;
#   the tables pointing at it name it by name, so they follow.
# - New tables for events, checkpoints, result-file contents, per-step metrics and sync state.
# - Full-text search: the jobs_fts table, the view of a job's searchable text and the triggers
#   that keep it current (see schema.sql), filled from the rows already there.
_V3_SEARCH = """
-- What a job is found by: id, base and fine-tuned model, suffix, metadata values, error.
CREATE VIEW jobs_fts_text AS
SELECT jobs.job_key AS job_key,
    jobs.id || ' ' || jobs.model
    || ' ' || coalesce(jobs.fine_tuned_model, '')
    || ' ' || coalesce(json_extract(jobs.extra_json, '$.user_provided_suffix'), '')
    || ' ' || coalesce(
        (SELECT group_concat(value, ' ') FROM json_each(jobs.metadata_json)), '')
    || ' ' || coalesce(job_errors.code, '') || ' ' || coalesce(job_errors.message, '') AS text
FROM jobs
LEFT JOIN job_errors ON job_errors.job_key = jobs.job_key;

CREATE VIRTUAL TABLE jobs_fts USING fts5 (job_key UNINDEXED, text);

CREATE TRIGGER jobs_fts_job_added AFTER INSERT ON jobs
BEGIN
    INSERT INTO jobs_fts (rowid, job_key, text)
    SELECT job_key, job_key, text FROM jobs_fts_text WHERE job_key = NEW.job_key;
END;

CREATE TRIGGER jobs_fts_job_changed
AFTER UPDATE OF id, model, fine_tuned_model, metadata_json, extra_json ON jobs
BEGIN
    DELETE FROM jobs_fts WHERE rowid = OLD.job_key;
    INSERT INTO jobs_fts (rowid, job_key, text)
    SELECT job_key, job_key, text FROM jobs_fts_text WHERE job_key = NEW.job_key;
END;

CREATE TRIGGER jobs_fts_job_deleted AFTER DELETE ON jobs
BEGIN
    DELETE FROM jobs_fts WHERE rowid = OLD.job_key;
END;

CREATE TRIGGER jobs_fts_error_added AFTER INSERT ON job_errors
BEGIN
    DELETE FROM jobs_fts WHERE rowid = NEW.job_key;
    INSERT INTO jobs_fts (rowid, job_key, text)
    SELECT job_key, job_key, text FROM jobs_fts_text WHERE job_key = NEW.job_key;
END;

CREATE TRIGGER jobs_fts_error_changed AFTER UPDATE ON job_errors
BEGIN
    DELETE FROM jobs_fts WHERE rowid = OLD.job_key;
    INSERT INTO jobs_fts (rowid, job_key, text)
    SELECT job_key, job_key, text FROM jobs_fts_text WHERE job_key = NEW.job_key;
END;

-- (When a job is deleted, its error goes first or after: the job's row is gone either way,
-- and the SELECT finds nothing to put back.)
CREATE TRIGGER jobs_fts_error_deleted AFTER DELETE ON job_errors
BEGIN
    DELETE FROM jobs_fts WHERE rowid = OLD.job_key;
    INSERT INTO jobs_fts (rowid, job_key, text)
    SELECT job_key, job_key, text FROM jobs_fts_text WHERE job_key = OLD.job_key;
END;

CREATE TRIGGER jobs_fts_event_added AFTER INSERT ON job_events
WHEN NEW.type = 'message' AND NEW.message IS NOT NULL
BEGIN
    INSERT INTO jobs_fts (rowid, job_key, text) VALUES (-NEW.event_key, NEW.job_key, NEW.message);
END;

CREATE TRIGGER jobs_fts_event_deleted AFTER DELETE ON job_events
WHEN OLD.type = 'message' AND OLD.message IS NOT NULL
BEGIN
    DELETE FROM jobs_fts WHERE rowid = -OLD.event_key;
END;

INSERT INTO jobs_fts (rowid, job_key, text) SELECT job_key, job_key, text FROM jobs_fts_text;

INSERT INTO jobs_fts (rowid, job_key, text)
SELECT -event_key, job_key, message FROM job_events
WHERE type = 'message' AND message IS NOT NULL
"""

_V3_STEPS = (
    """CREATE TABLE v3_jobs (
    job_key              INTEGER PRIMARY KEY,
    id                   TEXT NOT NULL UNIQUE CHECK (length(id) > 0),
    object               TEXT NOT NULL DEFAULT 'fine_tuning.job'
                         CHECK (object = 'fine_tuning.job'),
    model                TEXT NOT NULL,
    created_at           INTEGER NOT NULL CHECK (created_at >= 0),
    finished_at          INTEGER CHECK (finished_at >= 0),
    fine_tuned_model     TEXT,
    organization_id      TEXT,
    status               TEXT NOT NULL,
    validation_file      TEXT,
    training_file        TEXT,
    trained_tokens       INTEGER,
    seed                 INTEGER,
    estimated_finish     INTEGER CHECK (estimated_finish >= 0),
    integrations_is_null INTEGER NOT NULL DEFAULT 0 CHECK (integrations_is_null IN (0, 1)),
    result_files_is_null INTEGER NOT NULL DEFAULT 0 CHECK (result_files_is_null IN (0, 1)),
    method_json          TEXT CHECK (method_json IS NULL OR json_valid(method_json)),
    metadata_json        TEXT CHECK (metadata_json IS NULL OR json_valid(metadata_json)),
    extra_json           TEXT CHECK (extra_json IS NULL OR json_valid(extra_json)),
    absent_fields        TEXT
)""",
    """INSERT INTO v3_jobs (job_key, id, object, model, created_at, finished_at,
    fine_tuned_model, organization_id, status, validation_file, training_file, trained_tokens,
    seed, estimated_finish, integrations_is_null, result_files_is_null, method_json,
    metadata_json, extra_json, absent_fields)
    SELECT job_key, id, object, model, created_at, finished_at, fine_tuned_model,
    organization_id, status, validation_file, training_file, trained_tokens, seed,
    estimated_finish, integrations_is_null, 0, method_json, metadata_json, extra_json,
    absent_fields FROM jobs""",
    "DROP TABLE jobs",
    "ALTER TABLE v3_jobs RENAME TO jobs",
    "CREATE INDEX jobs_by_created_at ON jobs (created_at, id)",
    "CREATE INDEX jobs_by_status ON jobs (status, created_at, id)",
    "CREATE INDEX jobs_by_model ON jobs (model, created_at, id)",
    "CREATE INDEX jobs_by_finished_at ON jobs (finished_at, id)",
    "CREATE INDEX jobs_by_trained_tokens ON jobs (trained_tokens, id)",
    "CREATE INDEX jobs_by_fine_tuned_model ON jobs (fine_tuned_model)",
    "CREATE INDEX jobs_by_training_file ON jobs (training_file, created_at, id)",
    "CREATE INDEX job_errors_by_code ON job_errors (code)",
    """CREATE TABLE v3_job_hyperparameters (
    job_key                  INTEGER PRIMARY KEY REFERENCES jobs (job_key) ON DELETE CASCADE,
    n_epochs,
    batch_size,
    learning_rate_multiplier,
    extra_json               TEXT CHECK (extra_json IS NULL OR json_valid(extra_json)),
    absent_fields            TEXT
)""",
    """INSERT INTO v3_job_hyperparameters (job_key, n_epochs, batch_size,
    learning_rate_multiplier, extra_json, absent_fields)
    SELECT job_key, n_epochs, batch_size, learning_rate_multiplier, extra_json, absent_fields
    FROM job_hyperparameters""",
    "DROP TABLE job_hyperparameters",
    "ALTER TABLE v3_job_hyperparameters RENAME TO job_hyperparameters",
    """CREATE TABLE job_events (
    event_key  INTEGER PRIMARY KEY,
    job_key    INTEGER NOT NULL REFERENCES jobs (job_key) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    level      TEXT,
    type       TEXT,
    message    TEXT,
    raw_json   TEXT NOT NULL,
    UNIQUE (job_key, id)
)""",
    "CREATE INDEX job_events_in_order ON job_events (job_key, created_at, seq)",
    """CREATE TABLE job_checkpoints (
    checkpoint_key              INTEGER PRIMARY KEY,
    job_key                     INTEGER NOT NULL REFERENCES jobs (job_key) ON DELETE CASCADE,
    id                          TEXT NOT NULL,
    created_at                  INTEGER NOT NULL,
    step_number,
    fine_tuned_model_checkpoint TEXT,
    raw_json                    TEXT NOT NULL,
    UNIQUE (job_key, id)
)""",
    "CREATE INDEX job_checkpoints_by_step ON job_checkpoints (job_key, step_number)",
    """CREATE TABLE result_file_contents (
    file_id  TEXT PRIMARY KEY,
    encoding TEXT NOT NULL CHECK (encoding IN ('plain', 'base64')),
    raw      BLOB NOT NULL,
    csv      TEXT NOT NULL
)""",
    """CREATE TABLE job_metric_columns (
    job_key  INTEGER NOT NULL REFERENCES jobs (job_key) ON DELETE CASCADE,
    source   TEXT NOT NULL,
    position INTEGER NOT NULL,
    name     TEXT NOT NULL,
    PRIMARY KEY (job_key, source, position),
    UNIQUE (job_key, source, name)
) WITHOUT ROWID""",
    """CREATE TABLE job_metric_values (
    job_key  INTEGER NOT NULL REFERENCES jobs (job_key) ON DELETE CASCADE,
    source   TEXT NOT NULL,
    step     NOT NULL,
    position INTEGER NOT NULL,
    value,
    PRIMARY KEY (job_key, source, step, position)
) WITHOUT ROWID""",
    """CREATE TABLE sync_state (
    name  TEXT PRIMARY KEY,
    value TEXT
)""",
    """CREATE TABLE job_sync (
    job_key           INTEGER PRIMARY KEY REFERENCES jobs (job_key) ON DELETE CASCADE,
    history_complete  INTEGER NOT NULL DEFAULT 0 CHECK (history_complete IN (0, 1)),
    history_synced_at INTEGER,
    gaps_json         TEXT
)""",
    _V3_SEARCH,
)

# Version 4: reads at a million jobs (issue 10). jobs_by_model also holds status, finished_at
# and trained_tokens, so `stats` reads it instead of the table and `list --model --status`
# tests the status without a row lookup; jobs_by_duration gives stats its durations in order;
# jobs_by_finished_at holds created_at, for list --finished-since/--finished-until.
_V4_STEPS = (
    "DROP INDEX jobs_by_model",
    "CREATE INDEX jobs_by_model ON jobs"
    " (model, created_at, id, status, finished_at, trained_tokens)",
    "DROP INDEX jobs_by_finished_at",
    "CREATE INDEX jobs_by_finished_at ON jobs (finished_at, id, created_at)",
    "CREATE INDEX jobs_by_duration ON jobs"
    " (finished_at - created_at, status, model, created_at, finished_at)"
    " WHERE finished_at >= created_at",
)

# Version 5: one archive of a whole organization (issue 14).
# - jobs loses its CHECKs on created_at, finished_at and estimated_finish (the spec gives them no
#   minimum; an archive keeps a negative one with a warning) by SQLite's documented procedure for
#   removing CHECK constraints (https://sqlite.org/lang_altertable.html, "otheralter"): the
#   table's SQL is edited in sqlite_schema, no row is copied (a million jobs stay put), and it
#   gains raw_json, the job's text as the provider sent it.
# - result_file_contents keeps content that is not a CSV ('unreadable', csv NULL): rebuilt.
# - sync's mark and cursor move from sync_state to a row per source (sync_sources), with which
#   source saw which job (job_sources). The old mark belonged to whichever key last synced, which
#   cannot be told now: it is dropped, and each source's first sync walks its list whole once
#   (list pages only: a job already archived whole is not fetched again).
# - file_objects and model_states: what GET /files/{id} and GET /models/{id} said.
_V5_JOB_CHECKS = (
    " CHECK (created_at >= 0)",
    " CHECK (finished_at >= 0)",
    " CHECK (estimated_finish >= 0)",
)


def _v5_drop_job_checks(conn: sqlite3.Connection) -> None:
    """Remove the jobs table's range CHECKs from its stored SQL (the rows need no change: a
    CHECK removed admits all they hold)."""
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'jobs'")
    [text] = sql.fetchone()
    for check in _V5_JOB_CHECKS:
        text = text.replace(check, "")
    if "CHECK (created_at" in text or "CHECK (finished_at" in text:
        raise sqlite3.DatabaseError("the jobs table's CHECKs are not worded as expected")
    version = int(conn.execute("PRAGMA schema_version").fetchone()[0])
    conn.execute("PRAGMA writable_schema = ON")
    try:
        conn.execute(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'jobs'", [text]
        )
        conn.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        conn.execute("PRAGMA writable_schema = OFF")
    problems = conn.execute("PRAGMA quick_check").fetchall()
    if problems != [("ok",)]:
        raise sqlite3.DatabaseError(f"quick_check after editing jobs: {problems[:3]}")


_V5_STEPS: tuple[str | Callable[[sqlite3.Connection], None], ...] = (
    "ALTER TABLE jobs ADD COLUMN raw_json TEXT",
    _v5_drop_job_checks,
    """CREATE TABLE v5_result_file_contents (
    file_id  TEXT PRIMARY KEY,
    encoding TEXT NOT NULL CHECK (encoding IN ('plain', 'base64', 'unreadable')),
    raw      BLOB NOT NULL,
    csv      TEXT CHECK ((csv IS NULL) = (encoding = 'unreadable'))
)""",
    "INSERT INTO v5_result_file_contents (file_id, encoding, raw, csv)"
    " SELECT file_id, encoding, raw, csv FROM result_file_contents",
    "DROP TABLE result_file_contents",
    "ALTER TABLE v5_result_file_contents RENAME TO result_file_contents",
    "DELETE FROM sync_state WHERE name IN ('jobs_mark', 'jobs_after')",
    """CREATE TABLE sync_sources (
    source_key      INTEGER PRIMARY KEY,
    source          TEXT NOT NULL UNIQUE,
    label           TEXT NOT NULL,
    mark_json       TEXT CHECK (mark_json IS NULL OR json_valid(mark_json)),
    walk_after      TEXT,
    first_synced_at INTEGER,
    last_synced_at  INTEGER,
    jobs_seen       INTEGER NOT NULL DEFAULT 0
)""",
    """CREATE TABLE job_sources (
    source_key    INTEGER NOT NULL REFERENCES sync_sources (source_key) ON DELETE CASCADE,
    job_key       INTEGER NOT NULL REFERENCES jobs (job_key) ON DELETE CASCADE,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    PRIMARY KEY (source_key, job_key)
) WITHOUT ROWID""",
    "CREATE INDEX job_sources_by_job ON job_sources (job_key)",
    """CREATE TABLE file_objects (
    file_id    TEXT PRIMARY KEY,
    found      INTEGER NOT NULL CHECK (found IN (0, 1)),
    filename   TEXT,
    bytes      INTEGER,
    purpose    TEXT,
    created_at INTEGER,
    raw_json   TEXT CHECK (raw_json IS NULL OR json_valid(raw_json)),
    fetched_at INTEGER NOT NULL
)""",
    """CREATE TABLE model_states (
    model_id     TEXT PRIMARY KEY,
    found        INTEGER NOT NULL CHECK (found IN (0, 1)),
    raw_json     TEXT CHECK (raw_json IS NULL OR json_valid(raw_json)),
    last_seen_at INTEGER,
    checked_at   INTEGER NOT NULL
)""",
)

MIGRATIONS: dict[int, tuple[str | Callable[[sqlite3.Connection], None], ...]] = {
    2: _V2_STEPS,
    3: _V3_STEPS,
    4: _V4_STEPS,
    5: _V5_STEPS,
}
