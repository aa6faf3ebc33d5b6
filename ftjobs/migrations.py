"""How an older database is brought up to date, one schema version at a time.

MIGRATIONS[n] takes a database from schema version n - 1 to n: SQL scripts, run in order (a
script may hold several statements). Each is frozen once released:
schema.sql always creates the newest version directly, and a test checks that a version 1
database migrated step by step ends with the same tables, columns, keys and indexes. The store
runs every pending step in one transaction with foreign key enforcement off (tables are rebuilt)
and checks the foreign keys before it commits.
"""

from __future__ import annotations

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

MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: _V2_STEPS,
    3: _V3_STEPS,
    4: _V4_STEPS,
}
