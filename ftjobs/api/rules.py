"""What `update` may do to a job: the rules a user would expect of a job's life cycle."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ftjobs.api.constants import FINAL_STATUSES
from ftjobs.api.models import FineTuningJob, range_problems
from ftjobs.api.times import iso_time
from ftjobs.errors import BadInput, RuleViolation


@dataclass(frozen=True)
class JobUpdate:
    """The changes asked for; None means "leave as it is"."""

    status: str | None = None
    fine_tuned_model: str | None = None
    trained_tokens: int | None = None
    finished_at: int | None = None
    estimated_finish: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_param: str | None = None
    clear_error: bool = False
    metadata: dict[str, str] = field(default_factory=dict)
    force: bool = False

    @property
    def touches_error(self) -> bool:
        return any(v is not None for v in (self.error_code, self.error_message, self.error_param))

    def is_empty(self) -> bool:
        return not (
            self.touches_error
            or self.clear_error
            or self.metadata
            or any(
                value is not None
                for value in (
                    self.status,
                    self.fine_tuned_model,
                    self.trained_tokens,
                    self.finished_at,
                    self.estimated_finish,
                )
            )
        )


def apply_update(job: FineTuningJob, update: JobUpdate, *, now: int) -> FineTuningJob:
    """The job after update, or an error saying which rule refused it.

    - A job in a final state (succeeded, failed, cancelled) changes status only with force.
    - Moving into a final state stamps finished_at (now) unless one is given; moving out of
      one clears it.
    - Error details go with status failed only; moving to any other status clears the error.
    """
    if update.is_empty():
        raise BadInput("nothing to update: give --status or an outcome option (see --help)")
    if update.clear_error and update.touches_error:
        raise BadInput(
            "--clear-error cannot be combined with --error-code/--error-message/--error-param"
        )

    data: dict[str, Any] = job.to_api_dict()
    new_status = update.status or job.status
    if new_status != job.status:
        if job.is_final and not update.force:
            raise RuleViolation(
                f"job {job.id} is {job.status}, a final state; pass --force to move it to"
                f" {new_status}"
            )
        data["status"] = new_status
        if new_status in FINAL_STATUSES:
            data["finished_at"] = now
        elif job.is_final:
            data["finished_at"] = None
        if new_status != "failed" and data.get("error") is not None:
            data["error"] = None

    for name in ("fine_tuned_model", "trained_tokens", "finished_at", "estimated_finish"):
        value = getattr(update, name)
        if value is not None:
            data[name] = value

    if update.clear_error:
        data["error"] = None
    if update.touches_error:
        if new_status != "failed":
            raise RuleViolation(
                f"job {job.id} would be {new_status}; error details go with status failed only"
                " (add --status failed)"
            )
        error = dict(data.get("error") or {"param": None})
        for name in ("code", "message", "param"):
            value = getattr(update, f"error_{name}")
            if value is not None:
                error[name] = value
        missing = [f"--error-{name}" for name in ("code", "message") if not error.get(name)]
        if missing:
            raise BadInput(f"job {job.id}: a failed job's error needs {' and '.join(missing)}")
        data["error"] = error

    if update.metadata:
        # KEY= (an empty value) removes KEY; no key left is no metadata, as add makes it.
        merged = {**(data.get("metadata") or {}), **update.metadata}
        data["metadata"] = {k: v for k, v in merged.items() if v != ""} or None

    changed = FineTuningJob.model_validate(data)
    # Values the job already had (a provider's batch_size -1, a negative created_at) are not the
    # person's to answer for; what they typed (--finished-at -5) is held to the ranges, first.
    new_problems = set(range_problems(changed)) - set(range_problems(job))
    if new_problems:
        raise BadInput(f"invalid job: {sorted(new_problems)[0]}")
    finished_at = changed.finished_at
    # (A provider's finished_at before created_at stays; a new one must not be.)
    if finished_at is not None and finished_at != job.finished_at and finished_at < job.created_at:
        raise BadInput(
            f"job {job.id}: finished_at {iso_time(finished_at)} is before created_at"
            f" {iso_time(job.created_at)}"
        )
    return changed
