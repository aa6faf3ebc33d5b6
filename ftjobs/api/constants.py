"""Names shared by the model, the store and the CLI, kept light so `--help` stays fast."""

from __future__ import annotations

from enum import Enum
from typing import Literal, get_args

JobStatus = Literal[
    "validating_files", "queued", "running", "succeeded", "failed", "cancelled", "paused"
]
JOB_STATUSES: tuple[str, ...] = get_args(JobStatus)


class Status(str, Enum):
    """JobStatus as choices for the command line (typer takes enums in lists)."""

    validating_files = "validating_files"
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    paused = "paused"


STATUS_NAMES = ", ".join(status.value for status in Status)  # for help texts

# 9999-12-31T23:59:59Z: the last second an ISO-8601 date can show.
MAX_TIMESTAMP = 253_402_300_799
# 0001-01-01T00:00:00Z: the first (output only: what a person types starts at 0, the epoch).
MIN_DATE_TIME = -62_135_596_800

FINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})

# The fields `list --sort` offers; the store maps each to a column, user text never becomes SQL.
SortField = Literal["created_at", "finished_at", "status", "model", "id", "trained_tokens"]
SORT_FIELDS: tuple[str, ...] = get_args(SortField)

# What `list --fields` (and --csv, --tsv) can show: the job's top-level fields, parts of its
# error and hyperparameters, and metadata.KEY for any key.
LIST_FIELDS: tuple[str, ...] = (
    "id", "object", "status", "model", "created_at", "finished_at", "fine_tuned_model",
    "organization_id", "training_file", "validation_file", "trained_tokens", "seed",
    "estimated_finish", "result_files", "hyperparameters", "integrations", "method", "metadata",
    "error", "error.code", "error.message", "error.param", "hyperparameters.n_epochs",
    "hyperparameters.batch_size", "hyperparameters.learning_rate_multiplier", "method.type",
)  # fmt: skip
DEFAULT_LIST_FIELDS: tuple[str, ...] = (
    "id", "status", "model", "created_at", "finished_at", "fine_tuned_model",
)  # fmt: skip

# What `events --fields` and `checkpoints --fields` can show: the keys of the API's objects,
# and KEY.SUBKEY under data (events) or metrics (checkpoints) for any subkey.
EVENT_FIELDS: tuple[str, ...] = ("id", "object", "created_at", "level", "type", "message", "data")
CHECKPOINT_FIELDS: tuple[str, ...] = (
    "id", "object", "created_at", "fine_tuning_job_id", "fine_tuned_model_checkpoint",
    "step_number", "metrics",
)  # fmt: skip
