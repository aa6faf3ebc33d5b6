"""Building jobs from command-line values: what `add` and `attach` make of their options."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from ftjobs.api.models import FineTuningJob, range_problems
from ftjobs.api.times import iso_time
from ftjobs.errors import BadInput

_ID_ALPHABET = string.ascii_letters + string.digits


def new_job_id() -> str:
    """An id shaped like the API's: ftjob- and 24 random letters and digits."""
    return "ftjob-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


@dataclass(frozen=True)
class NewJob:
    """What `add` was told; everything not given is left out or "auto", as the API does."""

    model: str
    training_file: str
    created_at: int
    status: str = "validating_files"
    job_id: str | None = None
    validation_file: str | None = None
    seed: int | None = None
    organization_id: str | None = None
    suffix: str | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    wandb_project: str | None = None
    wandb_name: str | None = None
    wandb_entity: str | None = None
    wandb_tags: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    finished_at: int | None = None
    fine_tuned_model: str | None = None
    trained_tokens: int | None = None


def new_job(spec: NewJob) -> FineTuningJob:
    """The job object the API would return for such a create request."""
    hyperparameters = {
        name: "auto" if value is None else value
        for name, value in (
            ("n_epochs", spec.hyperparameters.get("n_epochs")),
            ("batch_size", spec.hyperparameters.get("batch_size")),
            ("learning_rate_multiplier", spec.hyperparameters.get("learning_rate_multiplier")),
        )
    }
    integrations = []
    if spec.wandb_project is not None:
        integrations.append(
            {
                "type": "wandb",
                "wandb": {
                    "project": spec.wandb_project,
                    "name": spec.wandb_name,
                    "entity": spec.wandb_entity,
                    "tags": spec.wandb_tags,
                },
            }
        )
    data: dict[str, Any] = {
        "object": "fine_tuning.job",
        "id": spec.job_id if spec.job_id is not None else new_job_id(),
        "model": spec.model,
        "created_at": spec.created_at,
        "finished_at": spec.finished_at,
        "fine_tuned_model": spec.fine_tuned_model,
        "result_files": [],
        "status": spec.status,
        "validation_file": spec.validation_file,
        "training_file": spec.training_file,
        "hyperparameters": hyperparameters,
        "trained_tokens": spec.trained_tokens,
        "integrations": integrations,
        "estimated_finish": None,
        "method": {"type": "supervised", "supervised": {"hyperparameters": dict(hyperparameters)}},
        "metadata": spec.metadata or None,
        "error": None,
    }
    # Keys the API always sends but `add` may not know: left out rather than made up.
    if spec.organization_id is not None:
        data["organization_id"] = spec.organization_id
    if spec.seed is not None:
        data["seed"] = spec.seed
    if spec.suffix is not None:
        data["user_provided_suffix"] = spec.suffix
    # Ranges first: "--finished-at -5" is refused as a time out of range, not as one before
    # created_at.
    job = within_ranges(FineTuningJob.model_validate(data))
    if spec.finished_at is not None and spec.finished_at < spec.created_at:
        raise BadInput(
            f"finished_at {iso_time(spec.finished_at)} is before created_at"
            f" {iso_time(spec.created_at)}"
        )
    return job


def within_ranges(job: FineTuningJob) -> FineTuningJob:
    """The job, if what a person typed keeps to the API's documented ranges (an archive keeps a
    provider's odd values; a person's typo is refused)."""
    problems = range_problems(job)
    if problems:
        raise BadInput(f"invalid job: {problems[0]}")
    return job


def with_result_files(job: FineTuningJob, file_ids: list[str]) -> FineTuningJob:
    """The job with file_ids appended in order; ids it already has are not added again."""
    files = list(job.result_files or ())
    for file_id in file_ids:
        if file_id not in files:
            files.append(file_id)
    return FineTuningJob.model_validate({**job.to_api_dict(), "result_files": files})
