-- ftjobs schema: the one source of the tables (it also ships inside the package as
-- ftjobs/schema.sql). ftjobs runs it, statement by statement, on a new database; the schema
-- version it creates is recorded with PRAGMA user_version at the end of this file.
--
-- The shape follows the user's seed (FineTuningJob, FineTuningJobError,
-- FineTuningJobHyperparameters, FineTuningJobResultFiles,
-- FineTuningJobFineTuningJobIntegrationsInner), with nullability taken from the API, not the seed:
-- a running job has no finished_at, a sparse list response has no error, and so on.
--
-- Nothing that came in is lost:
--   * keys outside the spec are kept, as JSON objects, in the extra_json column of the object
--     they came in (job, error, hyperparameters, integration, wandb settings);
--   * absent_fields lists the known keys that did not come in, so the JSON going out has the
--     same keys as the JSON that came in;
--   * hyperparameter columns have no declared type, so "auto" stays text, 2 stays an integer and
--     2.0 stays a real number.

CREATE TABLE jobs (
    -- The rows of the other tables point at this small integer rather than at id: new jobs get
    -- ascending keys, so their rows are appended to those tables' B-trees instead of landing
    -- at random places in them (random ids made million-job imports page-cache bound).
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
    -- 1 when the job's "integrations" is null (no rows in job_integrations either way)
    integrations_is_null INTEGER NOT NULL DEFAULT 0 CHECK (integrations_is_null IN (0, 1)),
    method_json          TEXT CHECK (method_json IS NULL OR json_valid(method_json)),
    metadata_json        TEXT CHECK (metadata_json IS NULL OR json_valid(metadata_json)),
    extra_json           TEXT CHECK (extra_json IS NULL OR json_valid(extra_json)),
    -- comma-separated known keys that did not come in (NULL: all of them did)
    absent_fields        TEXT
);

-- Newest first, and newest first within a status or a model: the list queries.
CREATE INDEX jobs_by_created_at ON jobs (created_at, id);
CREATE INDEX jobs_by_status ON jobs (status, created_at, id);
CREATE INDEX jobs_by_model ON jobs (model, created_at, id);
CREATE INDEX jobs_by_finished_at ON jobs (finished_at, id);

-- The seed's FineTuningJobError: at most one per job; a job without a row has "error": null.
CREATE TABLE job_errors (
    job_key    INTEGER PRIMARY KEY REFERENCES jobs (job_key) ON DELETE CASCADE,
    code       TEXT,
    message    TEXT,
    param      TEXT,
    extra_json TEXT CHECK (extra_json IS NULL OR json_valid(extra_json))
);

-- The seed's FineTuningJobHyperparameters: at most one per job; none means "hyperparameters": null
-- (DPO and reinforcement jobs keep theirs under method).
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

-- The seed's FineTuningJobResultFiles: a job's result file ids, in order.
CREATE TABLE job_result_files (
    job_key  INTEGER NOT NULL REFERENCES jobs (job_key) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 0),
    file_id  TEXT NOT NULL,
    -- (job_key, position) keeps key columns first: SQLite 3.40's integrity_check misreads a
    -- WITHOUT ROWID table whose key skips a column.
    PRIMARY KEY (job_key, position),
    UNIQUE (job_key, file_id)
) WITHOUT ROWID;

-- The seed's FineTuningJobIntegrationsInner. One row per distinct integration setting, shared by
-- every job that uses it (the same wandb project is usually used by many jobs); fingerprint is
-- its canonical JSON, so the same setting is stored once.
CREATE TABLE integrations (
    id               INTEGER PRIMARY KEY,
    fingerprint      TEXT NOT NULL UNIQUE,
    type             TEXT NOT NULL,
    wandb_project    TEXT,
    wandb_name       TEXT,
    wandb_entity     TEXT,
    wandb_tags_json  TEXT CHECK (wandb_tags_json IS NULL OR json_valid(wandb_tags_json)),
    wandb_extra_json TEXT CHECK (wandb_extra_json IS NULL OR json_valid(wandb_extra_json)),
    -- 1 when the integration's "wandb" is null (or absent, see absent_fields)
    wandb_is_null    INTEGER NOT NULL DEFAULT 0 CHECK (wandb_is_null IN (0, 1)),
    extra_json       TEXT CHECK (extra_json IS NULL OR json_valid(extra_json)),
    -- known keys that did not come in: "wandb", or "wandb.name" and the like
    absent_fields    TEXT
);

-- The seed's FineTuningJobFineTuningJobIntegrationsInner: which job uses which integration, in
-- order.
CREATE TABLE job_integrations (
    job_key        INTEGER NOT NULL REFERENCES jobs (job_key) ON DELETE CASCADE,
    position       INTEGER NOT NULL CHECK (position >= 0),
    integration_id INTEGER NOT NULL REFERENCES integrations (id),
    PRIMARY KEY (job_key, position)
) WITHOUT ROWID;

CREATE INDEX job_integrations_by_integration ON job_integrations (integration_id);

-- An integration setting no job uses any more is removed with its last link: no orphans.
CREATE TRIGGER integrations_drop_unused AFTER DELETE ON job_integrations
WHEN NOT EXISTS (SELECT 1 FROM job_integrations WHERE integration_id = OLD.integration_id)
BEGIN
    DELETE FROM integrations WHERE id = OLD.integration_id;
END;

PRAGMA user_version = 2;
