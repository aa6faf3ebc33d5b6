"""What several commands take: value parsers, shared option types and choice enums.

Kept light (typer and ftjobs.api.constants only), as every command module imports it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from ftjobs.api.constants import LIST_FIELDS, MAX_TIMESTAMP, STATUS_NAMES, Status
from ftjobs.cli.completion import job_ids as complete_job_ids
from ftjobs.errors import BadInput

if TYPE_CHECKING:
    from ftjobs.store import JobFilter

R = TypeVar("R")


class InputFormat(str, Enum):
    json = "json"
    jsonl = "jsonl"


class ConflictChoice(str, Enum):
    update = "update"
    skip = "skip"
    fail = "fail"


class ExportFormat(str, Enum):
    jsonl = "jsonl"
    json = "json"
    list = "list"


# -- value parsers ---------------------------------------------------------------------------


def parse_time(text: str) -> int:
    """Unix seconds, or an ISO-8601 date or date-time (UTC unless it names a zone)."""
    text = text.strip()
    if text.lstrip("-").isdigit():
        seconds = int(text)
        if abs(seconds) > MAX_TIMESTAMP:
            raise typer.BadParameter(f"{text} is past the year 9999")
        return seconds
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a time: give Unix seconds, a date (2024-07-23) or a date-time"
            " (2024-07-23T20:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def parse_auto_or_number(text: str) -> str | int | float:
    """A hyperparameter: "auto", an integer, or a decimal number (ranges are the model's)."""
    text = text.strip()
    if text == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise typer.BadParameter(f'{text!r} is neither "auto" nor a number') from None


def parse_metadata(pairs: list[str]) -> dict[str, str]:
    metadata: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not key=value", param_hint="'--metadata'")
        metadata[key] = value
    return metadata


def parse_fields(
    text: str, names: tuple[str, ...] = LIST_FIELDS, keyed: str = "metadata"
) -> tuple[str, ...]:
    """--fields: comma-separated names from names, or keyed.KEY for any KEY (metadata.team,
    data.step, metrics.train_loss)."""
    fields = tuple(name.strip() for name in text.split(","))
    for name in fields:
        if name not in names and not (name.startswith(f"{keyed}.") and len(name) > len(keyed) + 1):
            raise typer.BadParameter(
                f"{name!r} is not a field; choose from {', '.join(names)}, {keyed}.KEY",
                param_hint="'--fields'",
            )
    return fields


def output_fields(
    text: str | None, *, whole_records: bool, names: tuple[str, ...] = LIST_FIELDS,
    keyed: str = "metadata",
) -> tuple[str, ...] | None:  # fmt: skip
    """The --fields a command was given (None: its own columns); refused beside --json and
    --jsonl, which print whole records."""
    if text is None:
        return None
    if whole_records:
        raise BadInput("--fields picks the columns shown; --json and --jsonl print whole records")
    return parse_fields(text, names, keyed)


def fields_option(what: str) -> Any:
    """The --fields option of a command that prints records; what: the field names it takes."""
    return typer.Option(
        "--fields",
        metavar="FIELD,...",
        help=f"Columns of the table and of the piped lines: {what}.",
    )


# -- shared options --------------------------------------------------------------------------

JobIdArgument = Annotated[
    str, typer.Argument(metavar="JOB_ID", help="The job's id.", autocompletion=complete_job_ids)
]
TimeOption = Annotated[
    int | None,
    typer.Option(parser=parse_time, metavar="TIME", help="Unix seconds or ISO-8601 (UTC)."),
]
NEpochsOption = Annotated[
    Any,
    typer.Option(
        parser=parse_auto_or_number, metavar="auto|N", help="Epochs: auto or 1-50 [default: auto]."
    ),
]
BatchSizeOption = Annotated[
    Any,
    typer.Option(
        parser=parse_auto_or_number,
        metavar="auto|N",
        help="Batch size: auto or 1-256 [default: auto].",
    ),
]
LearningRateOption = Annotated[
    Any,
    typer.Option(
        "--learning-rate-multiplier",
        parser=parse_auto_or_number,
        metavar="auto|X",
        help="Learning rate multiplier: auto or a number > 0 [default: auto].",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the job as JSON (the API's shape).")]
MetadataOption = Annotated[
    list[str] | None,
    typer.Option(
        "--metadata",
        metavar="KEY=VALUE",
        help="Metadata pair, added to what the job has; repeat for more.",
    ),
]

# The filters `list` and `export` share (and later commands that pick jobs).
StatusFilter = Annotated[
    list[Status] | None,
    typer.Option(
        "--status",
        metavar="STATUS",
        help=f"Only jobs in this status ({STATUS_NAMES}); repeat for more.",
    ),
]
ModelFilter = Annotated[
    str | None,
    typer.Option(
        "--model",
        metavar="MODEL",
        help=(
            "Only jobs of this base model or its dated snapshots (gpt-4o-mini finds"
            " gpt-4o-mini-2024-07-18); * ? [ ] make it a glob ('gpt-4o*')."
        ),
    ),
]
SinceFilter = Annotated[
    int | None,
    typer.Option(
        "--since", parser=parse_time, metavar="TIME", help="Created at or after this time."
    ),
]
UntilFilter = Annotated[
    int | None,
    typer.Option("--until", parser=parse_time, metavar="TIME", help="Created before this time."),
]

FineTunedModelFilter = Annotated[
    str | None,
    typer.Option("--fine-tuned-model", metavar="MODEL", help="Only the job that made this model."),
]
TrainingFileFilter = Annotated[
    str | None, typer.Option("--training-file", metavar="FILE_ID", help="Only jobs trained on it.")
]
ErrorCodeFilter = Annotated[
    str | None, typer.Option("--error-code", metavar="CODE", help="Only jobs failed with it.")
]
MetadataFilter = Annotated[
    list[str] | None,
    typer.Option(
        "--metadata",
        metavar="KEY=VALUE",
        help="Only jobs whose metadata has this pair; repeat: all must match.",
    ),
]
FinishedSinceFilter = Annotated[
    int | None,
    typer.Option(
        "--finished-since", parser=parse_time, metavar="TIME", help="Finished at or after it."
    ),
]
FinishedUntilFilter = Annotated[
    int | None,
    typer.Option("--finished-until", parser=parse_time, metavar="TIME", help="Finished before it."),
]


@dataclass(frozen=True)
class JobFilters:
    """list's ten filter options as one value: what list, export and stats receive (declared
    once, by with_job_filters, so the commands cannot drift apart)."""

    status: list[Status] | None = None
    model: str | None = None
    since: int | None = None
    until: int | None = None
    fine_tuned_model: str | None = None
    training_file: str | None = None
    error_code: str | None = None
    metadata: list[str] | None = None
    finished_since: int | None = None
    finished_until: int | None = None

    def query(self, **order: Any) -> JobFilter:
        """The store's query for these filters; order: JobFilter's sort, descending, limit."""
        from ftjobs.store import JobFilter

        return JobFilter(
            # Status(...): typer 0.29 has made the values enums by now, typer 0.28 only does so
            # on the way into the command function
            statuses=tuple(Status(status).value for status in self.status or ()),
            model=self.model,
            since=self.since,
            until=self.until,
            fine_tuned_model=self.fine_tuned_model,
            training_file=self.training_file,
            error_code=self.error_code,
            metadata=tuple(parse_metadata(self.metadata or []).items()),
            finished_since=self.finished_since,
            finished_until=self.finished_until,
            **order,
        )


NO_FILTERS = JobFilters()  # (a default for a command whose filters follow options with one)

# Each filter's option, under JobFilters' field of the same name.
_FILTER_OPTIONS: dict[str, Any] = {
    "status": StatusFilter,
    "model": ModelFilter,
    "since": SinceFilter,
    "until": UntilFilter,
    "fine_tuned_model": FineTunedModelFilter,
    "training_file": TrainingFileFilter,
    "error_code": ErrorCodeFilter,
    "metadata": MetadataFilter,
    "finished_since": FinishedSinceFilter,
    "finished_until": FinishedUntilFilter,
}


def with_job_filters(command: Callable[..., R]) -> Callable[..., R]:
    """Give a command list's filter options: the command takes ``filters: JobFilters``, and
    Typer sees the ten options in its place (the signature Typer reads is rewritten; the
    values come back to the command as one JobFilters)."""
    signature = inspect.signature(command, eval_str=True)
    names = list(signature.parameters)
    at = names.index("filters")
    options = [
        inspect.Parameter(
            name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=kind
        )
        for name, kind in _FILTER_OPTIONS.items()
    ]
    parameters = list(signature.parameters.values())
    parameters[at : at + 1] = options

    @functools.wraps(command)
    def with_filters(*args: Any, **kwargs: Any) -> R:
        filters = JobFilters(**{name: kwargs.pop(name, None) for name in _FILTER_OPTIONS})
        return command(*args, filters=filters, **kwargs)

    with_filters.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    with_filters.__annotations__ = {p.name: p.annotation for p in parameters} | {
        "return": signature.return_annotation
    }
    return with_filters


LIMIT_MAX = 2**62  # SQLite's LIMIT is a 64-bit integer


def within_limit(limit: int | None) -> int | None:
    """A --limit as SQLite can take it: past 2**62 is a usage error, not an overflow later.
    (Checked here rather than by the option's range, which would print [1<=x<=461...] in help.)"""
    if limit is not None and limit > LIMIT_MAX:
        raise typer.BadParameter(f"{limit} is more than {LIMIT_MAX}", param_hint="'--limit'")
    return limit


# The outcome of a job, as add and update take it.
FineTunedModelOption = Annotated[
    str | None, typer.Option(metavar="MODEL", help="Name of the resulting model.")
]
TrainedTokensOption = Annotated[
    int | None, typer.Option(min=0, metavar="N", help="Billable tokens processed.")
]
