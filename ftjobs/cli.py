"""The `ftjobs` command line: parse options, call one function, render the result.

Heavy modules (pydantic, sqlite-utils, rich tables) are imported inside the commands that need
them, so `ftjobs --help` and `ftjobs --version` answer quickly.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from ftjobs import __version__
from ftjobs.constants import MAX_TIMESTAMP, SortField, Status
from ftjobs.errors import BadInput, FtjobsError, JobExists

if TYPE_CHECKING:
    from ftjobs.models import FineTuningJob
    from ftjobs.store import Store


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


class _FtjobsGroup(TyperGroup):
    """Turns expected failures into one `Error:` line on stderr and a meaningful exit status."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        if not standalone_mode:
            return super().main(*args, **kwargs)
        try:
            result = super().main(*args, **kwargs)
        except Exception as error:
            # typer vendors click, so its exceptions are recognised by name and shape.
            if type(error).__name__ == "Abort":  # "no" at a confirmation prompt
                typer.echo("Aborted.", err=True)
                sys.exit(1)
            if not (hasattr(error, "format_message") and hasattr(error, "exit_code")):
                raise
            # Usage errors (a bad option value, a missing argument) as one line, where typer
            # would draw a panel.
            message = error.format_message().replace("Value error, ", "")
            if message:  # (none when `ftjobs` alone printed the help)
                typer.echo(f"Error: {message}{_usage_hint(error, message)}", err=True)
            sys.exit(error.exit_code)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader (`| head`) went away: not an error worth a traceback.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None
        except Exception as error:
            handled = _describe_failure(error)
            if handled is None or os.environ.get("FTJOBS_DEBUG") == "1":
                raise
            message, code = handled
            fail(message, code)


def _usage_hint(error: Exception, message: str) -> str:
    if "--db" in message:
        return " (--db goes before the command: ftjobs --db FILE list)"
    typo = re.search(r"'([^']*)' is not one of (.*)\.", message)
    if typo:  # a choice misspelt: name the nearest one
        choices = re.findall(r"'([^']*)'", typo.group(2))
        nearest = difflib.get_close_matches(typo.group(1), choices, n=1)
        if nearest:
            return f" (did you mean '{nearest[0]}'?)"
    context = getattr(error, "ctx", None)
    return f" (see '{context.command_path} --help')" if context is not None else ""


def _describe_failure(error: Exception) -> tuple[str, int] | None:
    if isinstance(error, FtjobsError):
        return str(error), error.exit_code
    if isinstance(error, OverflowError):
        return "a number is too large to store (SQLite keeps 64-bit integers)", 2
    if isinstance(error, UnicodeEncodeError):
        # Bytes that are not UTF-8 reach Python as lone surrogates, which SQLite cannot store.
        bad = error.object[error.start : error.end]
        return f"text is not valid UTF-8 (near {bad!r}); nothing was changed", 2
    if "pydantic" in sys.modules:
        from pydantic import ValidationError

        from ftjobs.models import describe_validation_error

        if isinstance(error, ValidationError):
            return f"invalid job: {describe_validation_error(error)}", 2
    return None


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, nothing on stdout, and the exit status."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


app = typer.Typer(
    cls=_FtjobsGroup,
    name="ftjobs",
    help=(
        "Keep a local record of OpenAI fine-tuning jobs in SQLite.\n\n"
        "Example: ftjobs add --model gpt-4o-mini --training-file file-abc123 && ftjobs list"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstring lines wrap to the terminal, not where typed
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass(frozen=True)
class Settings:
    db_path: Path


def default_db_path() -> Path:
    """The user's data directory, by each platform's convention."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "ftjobs" / "jobs.db"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"ftjobs {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            envvar="FTJOBS_DB",
            help="SQLite file to use (default: ftjobs/jobs.db in your data directory).",
            show_default=False,
            dir_okay=True,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Keep a local record of OpenAI fine-tuning jobs in SQLite."""
    ctx.obj = Settings(db_path=db or default_db_path())


@contextmanager
def open_store(ctx: typer.Context) -> Iterator[Store]:
    from ftjobs.store import DEFAULT_BUSY_TIMEOUT, Store

    settings: Settings = ctx.obj
    timeout_text = os.environ.get("FTJOBS_BUSY_TIMEOUT")
    try:
        timeout = float(timeout_text) if timeout_text else DEFAULT_BUSY_TIMEOUT
    except ValueError:
        raise BadInput(
            f"FTJOBS_BUSY_TIMEOUT must be a number of seconds, got {timeout_text!r}"
        ) from None
    with Store.open(settings.db_path, busy_timeout=timeout) as store:
        yield store


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
StatusFilter = Annotated[
    list[Status] | None, typer.Option("--status", help="Only jobs in this status; repeat for more.")
]
ModelFilter = Annotated[str | None, typer.Option("--model", help="Only jobs of this base model.")]
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
MetadataOption = Annotated[
    list[str] | None,
    typer.Option(
        "--metadata",
        metavar="KEY=VALUE",
        help="Metadata pair, added to what the job has; repeat for more.",
    ),
]


def _print_job(job: FineTuningJob, as_json: bool) -> None:
    from ftjobs import render

    if as_json:
        render.write_json(job, sys.stdout)
    elif sys.stdout.isatty():
        render.print_job(job)
    else:
        render.write_job_plain(job, sys.stdout)


# -- commands --------------------------------------------------------------------------------


@app.command(
    epilog="Example: ftjobs add --model gpt-4o-mini --training-file file-abc123 --n-epochs 3"
)
def add(
    ctx: typer.Context,
    model: Annotated[str, typer.Option(help="Base model being fine-tuned.")],
    training_file: Annotated[str, typer.Option(help="File id of the training data.")],
    job_id: Annotated[
        str | None,
        typer.Option("--id", help="Job id (default: a new ftjob-... id).", show_default=False),
    ] = None,
    created_at: TimeOption = None,
    status: Annotated[Status, typer.Option(help="Initial status.")] = Status.validating_files,
    validation_file: Annotated[str | None, typer.Option(help="File id of validation data.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed used for the job.")] = None,
    organization_id: Annotated[str | None, typer.Option(help="Owning organization.")] = None,
    suffix: Annotated[
        str | None, typer.Option(help="Suffix for the fine-tuned model's name.")
    ] = None,
    n_epochs: NEpochsOption = None,
    batch_size: BatchSizeOption = None,
    learning_rate_multiplier: LearningRateOption = None,
    wandb_project: Annotated[
        str | None, typer.Option(help="Weights & Biases project (adds a wandb integration).")
    ] = None,
    wandb_name: Annotated[str | None, typer.Option(help="wandb run name.")] = None,
    wandb_entity: Annotated[str | None, typer.Option(help="wandb entity (team or user).")] = None,
    wandb_tag: Annotated[list[str] | None, typer.Option(help="wandb tag; repeat for more.")] = None,
    metadata: MetadataOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a new job.

    Prints the new job's id, or the job with --json. Hyperparameters not given are "auto".
    """
    from ftjobs.jobs import NewJob, new_job

    if (wandb_name or wandb_entity or wandb_tag) and not wandb_project:
        raise BadInput("--wandb-name, --wandb-entity and --wandb-tag need --wandb-project")
    spec = NewJob(
        model=model,
        training_file=training_file,
        job_id=job_id,
        created_at=created_at if created_at is not None else int(time.time()),
        status=status.value,
        validation_file=validation_file,
        seed=seed,
        organization_id=organization_id,
        suffix=suffix,
        hyperparameters={
            "n_epochs": n_epochs,
            "batch_size": batch_size,
            "learning_rate_multiplier": learning_rate_multiplier,
        },
        wandb_project=wandb_project,
        wandb_name=wandb_name,
        wandb_entity=wandb_entity,
        wandb_tags=wandb_tag or [],
        metadata=parse_metadata(metadata or []),
    )
    with open_store(ctx) as store:
        job = store.add(new_job(spec))
    if as_json:
        _print_job(job, True)
    else:
        typer.echo(job.id)


@app.command(
    name="list",
    epilog="Example: ftjobs list --status failed --since 2024-07-01 --json | jq '.[].id'",
)
def list_jobs(
    ctx: typer.Context,
    status: StatusFilter = None,
    model: ModelFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
    limit: Annotated[int, typer.Option(min=1, max=2**62, help="Show at most this many jobs.")] = 20,
    all_jobs: Annotated[bool, typer.Option("--all", help="Show every job (no limit).")] = False,
    sort: Annotated[
        SortField, typer.Option(help="Sort by this field (newest or largest first).")
    ] = "created_at",
    reverse: Annotated[
        bool, typer.Option("--reverse", help="Oldest or smallest first instead.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of jobs.")] = False,
    as_jsonl: Annotated[bool, typer.Option("--jsonl", help="Print one JSON job per line.")] = False,
) -> None:
    """List jobs, newest first.

    A table on a terminal; tab-separated columns when piped (id, status, model, created_at,
    finished_at, fine_tuned_model); JSON with --json or --jsonl.
    """
    from ftjobs import render
    from ftjobs.store import JobFilter

    if as_json and as_jsonl:
        raise BadInput("choose one of --json and --jsonl")
    query = JobFilter(
        statuses=tuple(s.value for s in status or ()),
        model=model,
        since=since,
        until=until,
        sort=sort,
        descending=not reverse,
        limit=None if all_jobs else min(limit, 2**62),  # SQLite's LIMIT is 64-bit
    )
    with open_store(ctx) as store:
        jobs = store.list_jobs(query)
        if as_json:
            render.write_json_array(jobs, sys.stdout)
        elif as_jsonl:
            render.write_json_lines(jobs, sys.stdout)
        elif sys.stdout.isatty():
            shown = render.print_table(list(jobs))  # a screenful: fine to hold
            if query.limit is not None and shown == query.limit:
                total = store.count(query)
                if total > shown:
                    typer.echo(f"Showing {shown} of {total} jobs; --all shows every one.", err=True)
        else:
            render.write_plain_table(jobs, sys.stdout)


@app.command(epilog="Example: ftjobs show ftjob-abc123 --json | jq .status")
def show(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(metavar="JOB_ID", help="The job's id.")],
    as_json: JsonFlag = False,
) -> None:
    """Show one job in full."""
    with open_store(ctx) as store:
        job = store.get(job_id)
    _print_job(job, as_json)


@app.command(
    epilog=(
        "Example: ftjobs update ftjob-abc123 --status succeeded"
        " --fine-tuned-model ft:gpt-4o-mini:org::abc --trained-tokens 5768"
    )
)
def update(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(metavar="JOB_ID", help="The job's id.")],
    status: Annotated[Status | None, typer.Option(help="New status.")] = None,
    fine_tuned_model: Annotated[
        str | None, typer.Option(help="Name of the resulting model.")
    ] = None,
    trained_tokens: Annotated[
        int | None, typer.Option(min=0, help="Billable tokens processed.")
    ] = None,
    finished_at: TimeOption = None,
    estimated_finish: TimeOption = None,
    error_code: Annotated[str | None, typer.Option(help="Failure code (status failed).")] = None,
    error_message: Annotated[
        str | None, typer.Option(help="Failure message (status failed).")
    ] = None,
    error_param: Annotated[
        str | None, typer.Option(help="Parameter that caused the failure.")
    ] = None,
    clear_error: Annotated[
        bool, typer.Option("--clear-error", help="Remove the job's error.")
    ] = False,
    metadata: MetadataOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Allow moving a succeeded, failed or cancelled job.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Change a job's status or outcome.

    Moving to succeeded, failed or cancelled stamps finished_at (now) unless --finished-at is
    given; a job in one of those states keeps it unless --force. Error options go with failed.
    """
    from ftjobs.rules import JobUpdate, apply_update

    change = JobUpdate(
        status=status.value if status else None,
        fine_tuned_model=fine_tuned_model,
        trained_tokens=trained_tokens,
        finished_at=finished_at,
        estimated_finish=estimated_finish,
        error_code=error_code,
        error_message=error_message,
        error_param=error_param,
        clear_error=clear_error,
        metadata=parse_metadata(metadata or []),
        force=force,
    )
    now = int(time.time())
    with open_store(ctx) as store:
        job = store.modify(job_id, lambda current: apply_update(current, change, now=now))
    if as_json:
        _print_job(job, True)
    else:
        typer.echo(f"{job.id}\t{job.status}", err=True)


@app.command(epilog="Example: ftjobs attach ftjob-abc123 file-res1 file-res2")
def attach(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(metavar="JOB_ID", help="The job's id.")],
    file_ids: Annotated[
        list[str], typer.Argument(metavar="FILE_ID", help="Result file ids, in order.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Append result files to a job, in order.

    Ids the job already has stay where they are (no duplicates).
    """
    from ftjobs.jobs import with_result_files

    with open_store(ctx) as store:
        job = store.modify(job_id, lambda current: with_result_files(current, file_ids))
    if as_json:
        _print_job(job, True)
    else:
        typer.echo(f"{job.id}: {len(job.result_files)} result file(s)", err=True)


@app.command(epilog="Example: ftjobs delete ftjob-abc123 ftjob-def456 --yes")
def delete(
    ctx: typer.Context,
    job_ids: Annotated[
        list[str], typer.Argument(metavar="JOB_ID", help="Ids of the jobs to delete.")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete jobs and everything linked to them.

    Removes each job's error, hyperparameters, result files and integration links. Asks first on
    a terminal; elsewhere, pass --yes.
    """
    if not yes and not sys.stdin.isatty():
        raise BadInput("not on a terminal, so not asking: pass --yes to delete")
    with open_store(ctx) as store:
        if not yes:
            # Name what would go, and find a mistyped id before asking, not after.
            doomed = [store.get(job_id) for job_id in dict.fromkeys(job_ids)]
            listing = "\n".join(f"  {job.id}  {job.status}  {job.model}" for job in doomed)
            typer.confirm(f"{listing}\nDelete these {len(doomed)} job(s)?", abort=True, err=True)
        deleted = store.delete(job_ids)
    typer.echo(f"Deleted {deleted} job(s).", err=True)


@app.command(
    name="import",
    epilog=(
        "Examples:\n\n"
        'curl -s https://api.openai.com/v1/fine_tuning/jobs -H "Authorization: Bearer'
        ' $OPENAI_API_KEY" | ftjobs import\n\n'
        "ftjobs import page-*.json dump.jsonl.gz --on-conflict skip"
    ),
)
def import_jobs(
    ctx: typer.Context,
    files: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="FILE", help="JSON / JSON Lines files, gzipped or not; - for stdin."
        ),
    ] = None,
    input_format: Annotated[
        InputFormat | None,
        typer.Option(
            "--format", help="Force the input format (default: detected from the content)."
        ),
    ] = None,
    on_conflict: Annotated[
        ConflictChoice, typer.Option(help="What to do with a job whose id is already stored.")
    ] = ConflictChoice.update,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid", help="Import the valid jobs even if some are invalid (exit 1 still)."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and count what would change; write nothing.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")
    ] = False,
) -> None:
    """Import jobs from the API's JSON: files or stdin.

    Takes one job object, a JSON array of jobs, the API's list response, or JSON Lines (a line
    may be a list response), gzipped or not, detected from the content. Jobs already stored are
    updated to the incoming record. All or nothing: if any record is invalid, nothing is written
    (see --skip-invalid). Problems and a summary go to stderr.
    """
    from ftjobs import render
    from ftjobs.importing import JobReader, fewer_collections, input_size

    paths = list(files or [])
    if not paths:
        if sys.stdin.isatty():
            raise BadInput("no input: name files to import, or pipe JSON into ftjobs import -")
        paths = ["-"]
    for path in paths:
        if path != "-" and not Path(path).is_file():
            what = "is a directory" if Path(path).is_dir() else "does not exist"
            raise BadInput(f"{path} {what}: nothing was imported")
    show_progress = not quiet and sys.stderr.isatty()
    started = time.perf_counter()
    with (
        render.import_progress(input_size(paths) if show_progress else None) as on_progress,
        fewer_collections(),
    ):
        reader = JobReader(
            paths,
            input_format=input_format.value if input_format else None,
            stop_at_problem=not skip_invalid,
            on_progress=on_progress,
        )
        with open_store(ctx) as store:
            try:
                counts = store.import_jobs(
                    reader.jobs(),
                    on_conflict=on_conflict.value,
                    keep=lambda: not dry_run and (skip_invalid or not reader.problems),
                )
            except JobExists as error:
                raise FtjobsError(f"{error} (--on-conflict fail); nothing was imported") from None
    render.write_import_report(
        counts,
        reader.problems,
        seconds=time.perf_counter() - started,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        quiet=quiet,
        err=sys.stderr,
        unfinished_pages=reader.unfinished_pages,
    )
    if reader.problems:
        raise typer.Exit(1)


@app.command(epilog="Example: ftjobs export --status succeeded -o succeeded.jsonl")
def export(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file (.gz to compress) instead of stdout."
        ),
    ] = None,
    output_format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="jsonl: one job per line; json: an array; list: the API's list response.",
        ),
    ] = ExportFormat.jsonl,
    status: StatusFilter = None,
    model: ModelFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
) -> None:
    """Write jobs as JSON: JSON Lines, an array, or the API's list response.

    Every job, or those the filters pick, in the order they were recorded (for newest first, use
    `list --all --json`). Streams, so a store of any size exports in flat memory; `ftjobs import`
    reads every format back, and exporting that store again gives the same bytes.
    """
    from ftjobs import render
    from ftjobs.store import JobFilter

    query = JobFilter(
        statuses=tuple(s.value for s in status or ()),
        model=model,
        since=since,
        until=until,
        sort=None,  # the order recorded: a straight read of the file, and a stable round trip
    )
    with open_store(ctx) as store, render.output_file(output) as out:
        count = render.write_jobs(store.list_jobs(query), output_format.value, out)
    if output is not None:
        typer.echo(f"Exported {count} job(s) to {output}.", err=True)


def main() -> None:
    """Console-script entry point."""
    app()
