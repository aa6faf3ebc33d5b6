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
--   * an archive keeps what the server sent: no CHECK refuses a status or a hyperparameter a
--     provider returned (Azure's "pending", batch_size -1); the documented ranges are enforced
--     on what a person types into add and update, and import warns about the rest.
--   * events and checkpoints are kept as the exact JSON text that came in (key order, number
--     spelling), beside the columns the commands filter and sort on.

CREATE TABLE jobs (
    -- The rows of the other tables point at this small integer rather than at id: new jobs get
    -- ascending keys, so their rows are appended to those tables' B-trees instead of landing
    -- at random places in them (random ids made million-job imports page-cache bound).
    job_key              INTEGER PRIMARY KEY,
    id                   TEXT NOT NULL UNIQUE CHECK (length(id) > 0),
    object               TEXT NOT NULL DEFAULT 'fine_tuning.job'
                         CHECK (object = 'fine_tuning.job'),
    model                TEXT NOT NULL,
    -- Times as sent: the spec gives them no minimum, and an archive keeps a negative one (with a
    -- warning) rather than lose the job. Ranges are checked on what a person types.
    created_at           INTEGER NOT NULL,
    finished_at          INTEGER,
    fine_tuned_model     TEXT,
    organization_id      TEXT,
    status               TEXT NOT NULL,
    validation_file      TEXT,
    training_file        TEXT,
    trained_tokens       INTEGER,
    seed                 INTEGER,
    estimated_finish     INTEGER,
    -- 1 when the job's "integrations" is null (no rows in job_integrations either way)
    integrations_is_null INTEGER NOT NULL DEFAULT 0 CHECK (integrations_is_null IN (0, 1)),
    -- 1 when the job's "result_files" is null, as Azure sends it, rather than []
    result_files_is_null INTEGER NOT NULL DEFAULT 0 CHECK (result_files_is_null IN (0, 1)),
    method_json          TEXT CHECK (method_json IS NULL OR json_valid(method_json)),
    metadata_json        TEXT CHECK (metadata_json IS NULL OR json_valid(metadata_json)),
    extra_json           TEXT CHECK (extra_json IS NULL OR json_valid(extra_json)),
    -- comma-separated known keys that did not come in (NULL: all of them did)
    absent_fields        TEXT,
    -- the object exactly as the provider sent it (sync, import), compact: key order, number
    -- spellings, "error": {} kept; what show --json and export give. NULL for a job a person
    -- wrote or changed (add, update, attach): its JSON is then built from the columns.
    raw_json             TEXT
);

-- Newest first, and newest first within a status or a model: the list queries.
CREATE INDEX jobs_by_created_at ON jobs (created_at, id);
CREATE INDEX jobs_by_status ON jobs (status, created_at, id);
-- After (model, created_at, id), what `stats` reads and its filters test: stats reads this
-- index alone, never the table, and `list --model M --status S` tests the status in the index
-- (a sixteenth of the table's size on 1M jobs).
CREATE INDEX jobs_by_model ON jobs (model, created_at, id, status, finished_at, trained_tokens);
-- list --sort finished_at; created_at too, for --finished-since/--finished-until newest first
-- (Queries._finished_range).
CREATE INDEX jobs_by_finished_at ON jobs (finished_at, id, created_at);
-- stats' durations (created to finished), read in order and counted per value as it goes: no
-- sort of every finished job (1.1 s of CPU on 1M jobs, 0.3 s from here). It holds what
-- stats' filters test, and only the rows that have a duration.
CREATE INDEX jobs_by_duration ON jobs (finished_at - created_at, status, model, created_at,
    finished_at) WHERE finished_at >= created_at;
-- list --sort trained_tokens, and the --fine-tuned-model and --training-file filters (newest
-- first within a training file, as the list orders them; a fine-tuned model names one job).
CREATE INDEX jobs_by_trained_tokens ON jobs (trained_tokens, id);
CREATE INDEX jobs_by_fine_tuned_model ON jobs (fine_tuned_model);
CREATE INDEX jobs_by_training_file ON jobs (training_file, created_at, id);

-- The seed's FineTuningJobError: at most one per job; a job without a row has "error": null.
CREATE TABLE job_errors (
    job_key    INTEGER PRIMARY KEY REFERENCES jobs (job_key) ON DELETE CASCADE,
    code       TEXT,
    message    TEXT,
    param      TEXT,
    extra_json TEXT CHECK (extra_json IS NULL OR json_valid(extra_json))
);

-- list --error-code
CREATE INDEX job_errors_by_code ON job_errors (code);

-- The seed's FineTuningJobHyperparameters: at most one per job; none means "hyperparameters": null
-- (DPO and reinforcement jobs keep theirs under method).
CREATE TABLE job_hyperparameters (
    job_key                  INTEGER PRIMARY KEY REFERENCES jobs (job_key) ON DELETE CASCADE,
    -- "auto" or a number, as sent (ranges are checked on what a person types, not here)
    n_epochs,
    batch_size,
    learning_rate_multiplier,
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

-- ---------------------------------------------------------------------------------------------
-- A job's history (not in the seed): events, checkpoints, result-file contents and the per-step
-- metrics read from them. Rows point at jobs.job_key, which a job keeps for life (update writes
-- in place), so they go only when the job is deleted.

-- fine_tuning.job.event objects. The API lists them newest first and several can share a second;
-- (created_at, seq) orders them oldest first, seq keeping the true order within a second.
CREATE TABLE job_events (
    event_key  INTEGER PRIMARY KEY,
    job_key    INTEGER NOT NULL REFERENCES jobs (job_key) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    level      TEXT,
    type       TEXT,
    message    TEXT,
    -- the object as it came in, compact: key order and number spellings kept
    raw_json   TEXT NOT NULL,
    UNIQUE (job_key, id)
);

CREATE INDEX job_events_in_order ON job_events (job_key, created_at, seq);

-- fine_tuning.job.checkpoint objects; the server keeps only the last three, the archive keeps all.
CREATE TABLE job_checkpoints (
    checkpoint_key              INTEGER PRIMARY KEY,
    job_key                     INTEGER NOT NULL REFERENCES jobs (job_key) ON DELETE CASCADE,
    id                          TEXT NOT NULL,
    created_at                  INTEGER NOT NULL,
    step_number,
    fine_tuned_model_checkpoint TEXT,
    raw_json                    TEXT NOT NULL,
    UNIQUE (job_key, id)
);

CREATE INDEX job_checkpoints_by_step ON job_checkpoints (job_key, step_number);

-- What GET /files/{id}/content returned for a result file: the bytes as received, whether they
-- were base64 (as the API has sent them since mid-2024) or plain, and the CSV they decode to.
-- Content that is neither ('unreadable') is kept as sent all the same, with no CSV: metrics
-- says it cannot read it, and sync does not ask for it again.
-- Kept per file id; delete removes a file's content with the last job that lists it.
CREATE TABLE result_file_contents (
    file_id  TEXT PRIMARY KEY,
    encoding TEXT NOT NULL CHECK (encoding IN ('plain', 'base64', 'unreadable')),
    raw      BLOB NOT NULL,
    csv      TEXT CHECK ((csv IS NULL) = (encoding = 'unreadable'))
);

-- Per-step metrics, read once from a result file ("file:<id>"), the metrics events ("events")
-- or the checkpoints ("checkpoints"), so `metrics` reads them in one indexed query. The columns
-- of a source in the order first seen (a CSV's header: never assumed), then one row per step
-- and column; a blank cell is NULL; values have no declared type (1 stays 1, 0.5 stays 0.5).
CREATE TABLE job_metric_columns (
    job_key  INTEGER NOT NULL REFERENCES jobs (job_key) ON DELETE CASCADE,
    source   TEXT NOT NULL,
    position INTEGER NOT NULL,
    name     TEXT NOT NULL,
    PRIMARY KEY (job_key, source, position),
    UNIQUE (job_key, source, name)
) WITHOUT ROWID;

CREATE TABLE job_metric_values (
    job_key  INTEGER NOT NULL REFERENCES jobs (job_key) ON DELETE CASCADE,
    source   TEXT NOT NULL,
    step     NOT NULL,
    position INTEGER NOT NULL,
    value,
    PRIMARY KEY (job_key, source, step, position)
) WITHOUT ROWID;

-- What `sync` remembers between runs, per source (what one API key can see: an endpoint, an
-- organization and a project). Sources are walked apart: one project's jobs never stop the walk
-- of another's, and a job another source archived is not asked for with this source's key.
-- sync_state holds nothing a source owns (names free for later use).
CREATE TABLE sync_state (
    name  TEXT PRIMARY KEY,
    value TEXT
);

CREATE TABLE sync_sources (
    source_key      INTEGER PRIMARY KEY,
    -- what identifies the source, never a key: the endpoint, and for OpenAI org=... and
    -- project=... as set, with a fingerprint of the key ("key=sha256:<16 hex>") when no project
    -- is named (a project key sees its project only); an Azure resource is its endpoint
    source          TEXT NOT NULL UNIQUE,
    -- for people: where, which organization and project, the key's last four characters
    label           TEXT NOT NULL,
    -- the newest job the last finished walk down the list saw: {"id": ..., "created_at": ...}
    mark_json       TEXT CHECK (mark_json IS NULL OR json_valid(mark_json)),
    -- where an unfinished walk down the list stopped (the after= to go on from; '' before its
    -- first page was done); NULL when no walk is unfinished
    walk_after      TEXT,
    first_synced_at INTEGER,
    -- when a sync of this source last ran to its end, and how many jobs the source listed
    last_synced_at  INTEGER,
    jobs_seen       INTEGER NOT NULL DEFAULT 0
);

-- Which source listed (or answered) which job, so a sync revisits only its own jobs by id.
CREATE TABLE job_sources (
    source_key    INTEGER NOT NULL REFERENCES sync_sources (source_key) ON DELETE CASCADE,
    job_key       INTEGER NOT NULL REFERENCES jobs (job_key) ON DELETE CASCADE,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    PRIMARY KEY (source_key, job_key)
) WITHOUT ROWID;

CREATE INDEX job_sources_by_job ON job_sources (job_key);

CREATE TABLE job_sync (
    job_key           INTEGER PRIMARY KEY REFERENCES jobs (job_key) ON DELETE CASCADE,
    -- 1 once the job's events, checkpoints and result files were all fetched
    history_complete  INTEGER NOT NULL DEFAULT 0 CHECK (history_complete IN (0, 1)),
    history_synced_at INTEGER,
    -- JSON array of what could not be fetched last time ("events: 404 ..."), retried next time
    gaps_json         TEXT
);

-- GET /files/{id} for each job's training and validation file: the filename is the only link
-- back to the user's own data set once the API is gone (the content of fine-tune files cannot
-- be downloaded). Fetched once; found = 0 when the API said 404 (deleted), raw_json NULL then.
CREATE TABLE file_objects (
    file_id    TEXT PRIMARY KEY,
    found      INTEGER NOT NULL CHECK (found IN (0, 1)),
    filename   TEXT,
    bytes      INTEGER,
    purpose    TEXT,
    created_at INTEGER,
    raw_json   TEXT CHECK (raw_json IS NULL OR json_valid(raw_json)),
    fetched_at INTEGER NOT NULL
);

-- GET /models/{id} for each fine-tuned model: whether it still answers (found = 0 after a 404:
-- deleted), when it was last seen to exist and when it was last asked.
CREATE TABLE model_states (
    model_id     TEXT PRIMARY KEY,
    found        INTEGER NOT NULL CHECK (found IN (0, 1)),
    raw_json     TEXT CHECK (raw_json IS NULL OR json_valid(raw_json)),
    last_seen_at INTEGER,
    checked_at   INTEGER NOT NULL
);

-- ---------------------------------------------------------------------------------------------
-- Full-text search (`ftjobs search`): one FTS5 row per job (rowid = job_key) holding its
-- searchable text, and one per event message (rowid = -event_key); job_key says whose a row
-- is, so a search groups its hits by job and ranks them with bm25. Triggers keep it current
-- inside the transaction of every write (add, update, import, sync, delete).
-- Event messages are indexed for type "message" events only: metrics events say
-- "Step N/M: training loss=..." (nothing worth finding) and are 95% of the events.
--
-- sqlite-utils' enable_fts()/search() do not fit this layout: they index columns of one
-- table (content=that table, rowid = its rowid), and search() joins each hit to that row;
-- a job's text comes from jobs, job_errors and JSON inside jobs, and its events are further
-- rows of their own.

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

PRAGMA user_version = 5;
