"""The fine-tuning job as the OpenAI API sends it, as pydantic v2 models.

The models accept what real responses contain (see the spec README in the repo's fixtures):
the three "no error" forms, ``hyperparameters: null``, unknown keys at any depth, status
``paused``, 2023 jobs without ``seed``, sparse objects. They reject what is really wrong with a
message that names the field and the value. Strict types: ``true`` is not an integer and
``"12"`` is not a timestamp.

Which keys came in is kept (pydantic's ``model_fields_set``), so the JSON going out has the same
keys as the JSON that came in; unknown keys come out again after the known ones.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ftjobs.api.constants import FINAL_STATUSES, JOB_STATUSES, MAX_TIMESTAMP
from ftjobs.jsonio.text import json_text

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def _strict_int(low: int, high: int, what: str) -> Callable[[Any], int]:
    """A validator for a bounded integer that refuses booleans, floats and strings."""

    def check(value: Any) -> int:
        if type(value) is not int:
            raise PydanticCustomError(
                "int_type",
                "must be {what}, got {value}",
                {"what": what, "value": _short_repr(value)},
            )
        if not low <= value <= high:
            raise PydanticCustomError(
                "int_range", "must be {what}, got {value}", {"what": what, "value": value}
            )
        return value

    return check


# Times: any 64-bit integer is the right type (the spec gives them no minimum, and an archive
# keeps a provider's -5 rather than lose the job); outside 0..MAX_TIMESTAMP is a range problem
# (range_problems, item_range_problems): refused from a person, a warning on import.
Timestamp = Annotated[
    int,
    PlainValidator(_strict_int(INT64_MIN, INT64_MAX, "a Unix time in seconds (a 64-bit integer)")),
]
# Counts and seeds: any 64-bit integer is the right type; a negative one is a range problem.
Int64 = Annotated[int, PlainValidator(_strict_int(INT64_MIN, INT64_MAX, "a 64-bit integer"))]


def _auto_or_int(value: Any) -> str | int:
    """A hyperparameter that counts: "auto" or a 64-bit integer. Ranges are not a type: a
    provider's -1 is archived as sent (see range_problems), a person's is refused."""
    if value == "auto" and type(value) is str:
        return "auto"
    if type(value) is int and INT64_MIN <= value <= INT64_MAX:
        return value
    raise PydanticCustomError(
        "auto_or_int",
        'must be "auto" or an integer, got {value}',
        {"value": _short_repr(value)},
    )


def _auto_or_number(value: Any) -> str | int | float:
    if value == "auto" and type(value) is str:
        return "auto"
    if type(value) is float and math.isfinite(value):
        return value
    if type(value) is int and INT64_MIN <= value <= INT64_MAX:
        return value
    raise PydanticCustomError(
        "auto_or_number",
        'must be "auto" or a number, got {value}',
        {"value": _short_repr(value)},
    )


NonEmptyStr = Annotated[StrictStr, Field(min_length=1)]
NEpochs = Annotated[str | int, PlainValidator(_auto_or_int)]
BatchSize = Annotated[str | int, PlainValidator(_auto_or_int)]
LearningRateMultiplier = Annotated[str | int | float, PlainValidator(_auto_or_number)]

# What a person may type into add and update. The API's own records are archived whatever they
# hold (Azure sends batch_size -1 and status "pending"); import and sync warn about these.
HYPERPARAMETER_RANGES: dict[str, tuple[str, Callable[[int | float], bool]]] = {
    "n_epochs": ("an integer from 1 to 50", lambda v: type(v) is int and 1 <= v <= 50),
    "batch_size": ("an integer from 1 to 256", lambda v: type(v) is int and 1 <= v <= 256),
    "learning_rate_multiplier": ("a number greater than 0", lambda v: v > 0),
}


def range_problems(job: FineTuningJob) -> list[str]:
    """Values of the right type but outside what the API documents, as "field: rule, got
    value" lines: refused from a person, kept with a warning from a provider."""
    problems: list[str] = []
    if job.status not in JOB_STATUSES:
        problems.append(
            f"status: not one of {', '.join(JOB_STATUSES)}, got {_short_repr(job.status)}"
        )
    hp = job.hyperparameters
    if hp is not None:
        for name, (rule, ok) in HYPERPARAMETER_RANGES.items():
            value = getattr(hp, name)
            if value is not None and value != "auto" and not ok(value):
                problems.append(f'hyperparameters.{name}: must be "auto" or {rule}, got {value}')
    for name in ("trained_tokens", "seed"):
        value = getattr(job, name)
        if value is not None and value < 0:
            problems.append(f"{name}: must be 0 or more, got {value}")
    for name in JOB_TIMES:
        problems.extend(_time_problems(name, getattr(job, name)))
    return problems


# A job's times, in the order range_problems names them.
JOB_TIMES = ("created_at", "finished_at", "estimated_finish")


def item_range_problems(item: JobEvent | JobCheckpoint) -> list[str]:
    """range_problems for an event or a checkpoint (its created_at), as "field: rule, got
    value" lines; the caller names the item (events do not name their job)."""
    return _time_problems("created_at", item.created_at)


def _time_problems(name: str, value: int | None) -> list[str]:
    """A time before 1970 or after 9999-12-31, which the documented Unix seconds do not
    reach: a provider's is kept (with a warning), a person's is refused."""
    if value is None or 0 <= value <= MAX_TIMESTAMP:
        return []
    return [f"{name}: must be a Unix time from 0 to {MAX_TIMESTAMP}, got {value}"]


def _non_finite_path(value: Any, path: str = "") -> str | None:
    """Where a NaN or infinity hides in parsed JSON, if anywhere: JSON has no such numbers."""
    if isinstance(value, float):
        return None if math.isfinite(value) else path or "value"
    if isinstance(value, dict):
        for key, item in value.items():
            found = _non_finite_path(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _non_finite_path(item, f"{path}[{index}]")
            if found:
                return found
    return None


# Pass as model_validate(..., context=KNOWN_FINITE) when the data cannot hold NaN or Infinity
# (read back from our own database, or parsed by a parser that refuses them): the check for them,
# a good part of validation's cost, is then skipped.
KNOWN_FINITE: dict[str, bool] = {"known_finite": True}


@functools.cache
def _field_names(model: type[BaseModel]) -> dict[str, None]:
    """A model's field names in order, as dict keys (set operations, kept order): asking the
    model each time costs more than the rest of absent_fields, run for every imported job."""
    return dict.fromkeys(model.__pydantic_fields__)


class ApiObject(BaseModel):
    """Shared behaviour: strict types, unknown keys kept."""

    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)

    def extra_fields(self) -> dict[str, Any]:
        """Keys outside the spec, as they came in."""
        return dict(self.model_extra or {})

    def extra_json(self) -> str | None:
        """Keys outside the spec as JSON text; None when there are none."""
        return json_text(self.model_extra) if self.model_extra else None

    def absent_fields(self) -> list[str]:
        """Known keys that did not come in, in declaration order."""
        names = _field_names(type(self))
        missing = names.keys() - self.__pydantic_fields_set__
        return [name for name in names if name in missing] if missing else []


class JobError(ApiObject):
    """Why a job failed (the seed's FineTuningJobError)."""

    code: StrictStr | None = None
    message: StrictStr | None = None
    param: StrictStr | None = None

    def is_empty(self) -> bool:
        """The API's ways of saying "no error": {} or every field null."""
        return (
            self.code is None
            and self.message is None
            and self.param is None
            and not (self.model_extra)
        )


class Hyperparameters(ApiObject):
    """The seed's FineTuningJobHyperparameters: each "auto" or a number in range."""

    n_epochs: NEpochs | None = None
    batch_size: BatchSize | None = None
    learning_rate_multiplier: LearningRateMultiplier | None = None


class WandbSettings(ApiObject):
    """Where a wandb integration sends metrics."""

    project: StrictStr
    name: StrictStr | None = None
    entity: StrictStr | None = None
    tags: list[StrictStr] | None = Field(default_factory=list)


class Integration(ApiObject):
    """The seed's FineTuningJobIntegrationsInner: today always type "wandb"."""

    type: StrictStr
    wandb: WandbSettings | None = None


class FineTuningJob(ApiObject):
    """The ``fine_tuning.job`` object. Field order is the order of the API's JSON."""

    object: Literal["fine_tuning.job"] = "fine_tuning.job"
    id: NonEmptyStr
    model: NonEmptyStr
    created_at: Timestamp
    finished_at: Timestamp | None = None
    fine_tuned_model: StrictStr | None = None
    organization_id: StrictStr | None = None
    # null (Azure) is kept apart from []
    result_files: list[NonEmptyStr] | None = Field(default_factory=list)
    # Any text: the API has added "paused", Azure sends "pending"; range_problems names others.
    status: StrictStr
    validation_file: StrictStr | None = None
    training_file: NonEmptyStr | None = None
    hyperparameters: Hyperparameters | None = None
    trained_tokens: Int64 | None = None
    integrations: list[Integration] | None = None
    seed: Int64 | None = None
    estimated_finish: Timestamp | None = None
    method: dict[str, Any] | None = None
    metadata: dict[StrictStr, StrictStr] | None = None
    error: JobError | None = None

    @field_validator("error")
    @classmethod
    def _no_error_is_null(cls, error: JobError | None) -> JobError | None:
        return None if error is None or error.is_empty() else error

    @field_validator("result_files")
    @classmethod
    def _result_files_unique(cls, files: list[str] | None) -> list[str] | None:
        if files is not None and len(set(files)) != len(files):
            seen: set[str] = set()
            duplicate = next(f for f in files if f in seen or seen.add(f))  # type: ignore[func-returns-value]
            raise PydanticCustomError(
                "duplicate_file", "lists {file} more than once", {"file": repr(duplicate)}
            )
        return files

    @field_validator("method")
    @classmethod
    def _method_has_type(cls, method: dict[str, Any] | None) -> dict[str, Any] | None:
        if method is None:
            return None
        if not isinstance(method.get("type"), str):
            raise PydanticCustomError(
                "method_type",
                'must be an object with a string "type" (supervised, dpo or reinforcement)',
            )
        return method

    @model_validator(mode="after")
    def _free_form_parts_are_json(self, info: ValidationInfo) -> FineTuningJob:
        """Free-form parts (method, metadata, unknown keys) may hold anything JSON can, and
        nothing it cannot: pydantic's JSON parser lets NaN through into them. The check is the
        encoding itself, kept for the store."""
        if info.context is not None and info.context.get("known_finite"):
            return self
        try:
            if self.method is not None:
                json_text(self.method)
            if self.model_extra:
                json_text(self.model_extra)
            for part in self._nested_objects():
                if part.model_extra:
                    json_text(part.model_extra)
        except ValueError:
            where = _non_finite_path(self.to_api_dict_unchecked()) or "value"
            raise PydanticCustomError(
                "finite_number", "{where}: NaN and Infinity are not JSON", {"where": where}
            ) from None
        return self

    def _nested_objects(self) -> Iterator[ApiObject]:
        if self.error is not None:
            yield self.error
        if self.hyperparameters is not None:
            yield self.hyperparameters
        for integration in self.integrations or ():
            yield integration
            if integration.wandb is not None:
                yield integration.wandb

    def free_form_json(self) -> tuple[str | None, str | None, str | None]:
        """(method, metadata, unknown keys) as stored JSON text; method is None when absent and
        "null" when it came as null."""
        return (
            json_text(self.method) if "method" in self.model_fields_set else None,
            None if self.metadata is None else json_text(self.metadata),
            self.extra_json(),
        )

    def to_api_dict_unchecked(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    def to_api_dict(self) -> dict[str, Any]:
        """The API object as plain JSON-ready data: the keys that came in, unknown ones last."""
        return self.model_dump(mode="json", exclude_unset=True)

    def to_json(self, *, indent: int | None = None) -> str:
        """The API object as JSON text (UTF-8, not ASCII-escaped)."""
        return self.model_dump_json(exclude_unset=True, indent=indent)


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A job to archive: the validated model, and its text as the provider sent it, compact
    (ftjobs.jsonio.stream.compact_json), which show --json and export give back as it is. None:
    no text (a model built in code); the job's JSON is then built from its columns."""

    job: FineTuningJob
    text: str | None = None


def describe_validation_error(error: ValidationError, *, limit: int = 1) -> str:
    """One line naming the field and what is wrong with its value, e.g.
    ``hyperparameters.n_epochs: must be "auto" or an integer from 1 to 50, got 0``."""
    parts = []
    for detail in error.errors(include_url=False)[:limit]:
        location = ".".join(str(part) for part in detail["loc"]) or "job"
        message = detail["msg"]
        if detail["type"] in ("missing",):
            message = "is required"
        elif detail["type"] in ("extra_forbidden",):
            message = "is not allowed"
        elif detail["type"] not in _SELF_DESCRIBING_ERRORS:
            message = f"{message[:1].lower()}{message[1:]}, got {_short_repr(detail.get('input'))}"
        parts.append(f"{location}: {message}")
    more = error.error_count() - limit
    if more > 0:
        parts.append(f"(and {more} more)")
    return "; ".join(parts)


# Our own messages already show the value they refuse.
_SELF_DESCRIBING_ERRORS = frozenset(
    {
        "int_type",
        "int_range",
        "auto_or_int",
        "auto_or_number",
        "duplicate_file",
        "finite_number",
        "method_type",
    }
)


def _short_repr(value: Any, width: int = 60) -> str:
    """The value as JSON would show it (true, null, "text"), cut to a readable length."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


# -- a job's history ----------------------------------------------------------------------------


class JobEvent(ApiObject):
    """A ``fine_tuning.job.event``. Events do not name their job. Only the keys the commands
    read are typed; the object itself is archived as the text that came in."""

    object: Literal["fine_tuning.job.event"]
    id: NonEmptyStr
    created_at: Timestamp
    level: StrictStr | None = None
    message: StrictStr | None = None
    # null or {} on message events, nested objects on metrics events: any JSON
    data: Any = None
    # "message", "metrics", "moderation_checks", ...: any text
    type: StrictStr | None = None


class JobCheckpoint(ApiObject):
    """A ``fine_tuning.job.checkpoint``: a snapshot of the model at a step, with its metrics."""

    object: Literal["fine_tuning.job.checkpoint"]
    id: NonEmptyStr
    created_at: Timestamp
    fine_tuning_job_id: NonEmptyStr
    fine_tuned_model_checkpoint: StrictStr | None = None
    step_number: Int64 | None = None
    metrics: dict[str, Any] | None = None
