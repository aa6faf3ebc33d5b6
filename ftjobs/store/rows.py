"""A job as table rows, and back: the one place that knows how a FineTuningJob is laid out
over jobs, job_errors, job_hyperparameters, job_result_files and integrations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ftjobs.jsonio.text import json_text

if TYPE_CHECKING:
    from ftjobs.api.models import FineTuningJob, Integration

JOB_COLUMNS = (
    "job_key", "id", "object", "model", "created_at", "finished_at", "fine_tuned_model",
    "organization_id", "status", "validation_file", "training_file", "trained_tokens", "seed",
    "estimated_finish", "integrations_is_null", "result_files_is_null", "method_json",
    "metadata_json", "extra_json", "absent_fields", "raw_json",
)  # fmt: skip


# A stored job is rewritten in place: it keeps its job_key, so what points at it (its history)
# stays, and export keeps the order jobs were first recorded in.
WRITE_JOB = (
    f"INSERT INTO jobs ({', '.join(JOB_COLUMNS)}) VALUES ({', '.join('?' * len(JOB_COLUMNS))})"  # noqa: S608
    " ON CONFLICT (job_key) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in JOB_COLUMNS[1:])
)


# A job's own parts, cleared before a stored job is written again.
JOB_PART_TABLES = ("job_errors", "job_hyperparameters", "job_result_files", "job_integrations")


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


# One row per job with everything needed to rebuild it; integrations come as ids, resolved
# through a small cache because many jobs share the same few settings. Last, the job's text as
# its provider sent it (RAW_JSON), or NULL.
SELECT_JOBS = """
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
        WHERE job_integrations.job_key = jobs.job_key ORDER BY position)),
    jobs.raw_json
FROM jobs
LEFT JOIN job_errors ON job_errors.job_key = jobs.job_key
LEFT JOIN job_hyperparameters ON job_hyperparameters.job_key = jobs.job_key
"""
RAW_JSON = -1  # where a row of SELECT_JOBS has jobs.raw_json


@dataclass
class _JobRows:
    """One job as the rows of every table it lives in."""

    job: tuple[Any, ...]
    error: tuple[Any, ...] | None
    hyperparameters: tuple[Any, ...] | None
    result_files: list[tuple[int, int, str]]
    integrations: list[tuple[Any, ...]] = field(default_factory=list)
    integration_links: list[tuple[int, int, str]] = field(default_factory=list)


def _absent_text(names: list[str]) -> str | None:
    return ",".join(names) or None


def rows_for(
    job: FineTuningJob,
    key: int,
    fingerprints: dict[tuple[Any, ...], str],
    text: str | None = None,
) -> _JobRows:
    """Split a job into table rows, the job's own under key. fingerprints memoizes integration
    fingerprints: the same few integration settings recur across many jobs. text is the job
    as its provider sent it, compact (jobs.raw_json); None for one a person wrote."""
    absent = job.absent_fields()
    method_json, metadata_json, extra_json = job.free_form_json()
    job_row = (
        key, job.id, job.object, job.model, job.created_at, job.finished_at, job.fine_tuned_model,
        job.organization_id, job.status, job.validation_file, job.training_file,
        job.trained_tokens, job.seed, job.estimated_finish,
        1 if job.integrations is None else 0,
        1 if job.result_files is None else 0,
        method_json, metadata_json, extra_json, _absent_text(absent), text,
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


def job_data(
    row: tuple[Any, ...],
    integration_for: Callable[[int], dict[str, Any]],
    from_json: Callable[[str], Any],
) -> dict[str, Any]:
    """The API object, as plain JSON data, from a row of SELECT_JOBS (a plain tuple: export's
    hot path): the keys in the order FineTuningJob's JSON has them, unknown ones last. from_json
    reads the JSON text columns (a JsonCodec's loads). Built from the columns, whatever
    raw_json holds: what list's table reads, and what a model is made of."""
    (
        object_, id_, model, created_at, finished_at, fine_tuned_model, organization_id, status,
        validation_file, training_file, trained_tokens, seed, estimated_finish,
        integrations_is_null, result_files_is_null, method_json, metadata_json, extra_json,
        absent_fields, has_error, error_code, error_message, error_param, error_extra_json,
        has_hyperparameters, n_epochs, batch_size, learning_rate_multiplier,
        hyperparameters_extra_json, hyperparameters_absent_fields,
        result_files_json, integration_ids_json, _raw_json,
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


def job_from_row(
    row: tuple[Any, ...],
    integration_for: Callable[[int], dict[str, Any]],
    from_json: Callable[[str], Any],
) -> FineTuningJob:
    """Rebuild the model from a row of SELECT_JOBS."""
    from ftjobs.api.models import KNOWN_FINITE, FineTuningJob

    data = job_data(row, integration_for, from_json)
    return FineTuningJob.model_validate(data, context=KNOWN_FINITE)


class ListedJob:
    """A stored job as the API's data, without building a model: what `list`'s table, TSV and
    CSV read (pydantic and the models would be most of a small `ftjobs list`). Its fields
    read as a FineTuningJob's do (`job.status`; None for one the job does not have); the parts
    are the API's dicts and lists."""

    __slots__ = ("data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    # FineTuningJob's defaults for a field a job lacks, where the default is not None
    _DEFAULTS: ClassVar[dict[str, Any]] = {"object": "fine_tuning.job"}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.data.get(name, self._DEFAULTS.get(name))
