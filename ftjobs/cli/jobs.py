"""Commands on single jobs: add, show, update, attach, delete."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ftjobs.api.constants import FINAL_STATUSES, STATUS_NAMES, Status
from ftjobs.cli.app import app, confirm, open_store
from ftjobs.cli.options import (
    BatchSizeOption,
    FineTunedModelOption,
    JobIdArgument,
    JsonFlag,
    LearningRateOption,
    MetadataOption,
    NEpochsOption,
    TimeOption,
    TrainedTokensOption,
    parse_metadata,
)
from ftjobs.errors import BadInput
from ftjobs.render.cells import plural

if TYPE_CHECKING:
    from ftjobs.api.models import FineTuningJob


def _print_job(job: FineTuningJob) -> None:
    """One job for people: a grid on a terminal, label<TAB>value lines when piped."""
    from ftjobs.render import jobs as render
    from ftjobs.render.output import OutputMode, choose_output

    if choose_output() is OutputMode.TERMINAL:
        render.print_job(job)
    else:
        render.write_job_plain(job, sys.stdout)


def _modify_and_report(
    ctx: typer.Context,
    job_id: str,
    change: Callable[[FineTuningJob], FineTuningJob],
    *,
    as_json: bool,
    summary: Callable[[FineTuningJob], str],
) -> None:
    """Change one stored job, then report: the job as JSON on stdout with --json, else a
    one-line summary on stderr (stdout stays empty for scripts that do not ask)."""
    with open_store(ctx) as store:
        job = store.modify(job_id, change)
        text = store.get_json(job_id, indent=2) if as_json else None
    _report(job, text, summary=summary)


def _report(
    job: FineTuningJob, json_text: str | None, *, summary: Callable[[FineTuningJob], str]
) -> None:
    """json_text (--json) on stdout, as show --json gives it: a change that changed nothing
    leaves a provider's text, which is then what the job is; else the summary on stderr."""
    if json_text is not None:
        sys.stdout.write(json_text + "\n")
    else:
        typer.echo(summary(job), err=True)


@app.command(
    epilog="Example: ftjobs add --model gpt-4o-mini --training-file file-abc123 --n-epochs 3"
)
def add(
    ctx: typer.Context,
    model: Annotated[str, typer.Option(help="Base model being fine-tuned.")],
    training_file: Annotated[
        str, typer.Option(metavar="FILE_ID", help="File id of the training data.")
    ],
    job_id: Annotated[
        str | None,
        typer.Option("--id", help="Job id (default: a new ftjob-... id).", show_default=False),
    ] = None,
    created_at: TimeOption = None,
    status: Annotated[
        Status, typer.Option(metavar="STATUS", help=f"Initial status: {STATUS_NAMES}.")
    ] = Status.validating_files,
    validation_file: Annotated[
        str | None, typer.Option(metavar="FILE_ID", help="File id of validation data.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed used for the job.")] = None,
    organization_id: Annotated[
        str | None, typer.Option(metavar="ORG_ID", help="Owning organization.")
    ] = None,
    suffix: Annotated[
        str | None, typer.Option(help="Suffix for the fine-tuned model's name.")
    ] = None,
    n_epochs: NEpochsOption = None,
    batch_size: BatchSizeOption = None,
    learning_rate_multiplier: LearningRateOption = None,
    wandb_project: Annotated[
        str | None,
        typer.Option(
            metavar="PROJECT", help="Weights & Biases project (adds a wandb integration)."
        ),
    ] = None,
    wandb_name: Annotated[str | None, typer.Option(metavar="NAME", help="wandb run name.")] = None,
    wandb_entity: Annotated[
        str | None, typer.Option(metavar="ENTITY", help="wandb entity (team or user).")
    ] = None,
    wandb_tag: Annotated[
        list[str] | None, typer.Option(metavar="TAG", help="wandb tag; repeat for more.")
    ] = None,
    metadata: MetadataOption = None,
    finished_at: TimeOption = None,
    fine_tuned_model: FineTunedModelOption = None,
    trained_tokens: TrainedTokensOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a new job.

    Prints the new job's id, or the job with --json. Hyperparameters not given are "auto". A
    finished job goes in in one command: --status succeeded (or failed, cancelled) stamps
    finished_at now, as update does, unless --finished-at is given. created_at is now, or
    without --created-at an earlier --finished-at.
    """
    from ftjobs.api.jobs import NewJob, new_job

    if (wandb_name or wandb_entity or wandb_tag) and not wandb_project:
        raise BadInput("--wandb-name, --wandb-entity and --wandb-tag need --wandb-project")
    now = int(time.time())
    if finished_at is None and status.value in FINAL_STATUSES:
        finished_at = now
    if created_at is None:
        # A job recorded after the fact (--finished-at 2024-07-24) did not start today: without
        # --created-at it started when it finished, the one time known (one out of range is
        # refused as finished_at's, not as a created_at the person never typed).
        created_at = now if finished_at is None else max(0, min(now, finished_at))
    spec = NewJob(
        model=model,
        training_file=training_file,
        job_id=job_id,
        created_at=created_at,
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
        finished_at=finished_at,
        fine_tuned_model=fine_tuned_model,
        trained_tokens=trained_tokens,
    )
    job = new_job(spec)  # checked before the store is opened: a refused add creates nothing
    with open_store(ctx, create=True) as store:
        job = store.add(job)
        text = store.get_json(job.id, indent=2) if as_json else None
    if text is not None:
        sys.stdout.write(text + "\n")
    else:
        typer.echo(job.id)


@app.command(epilog="Example: ftjobs show ftjob-abc123 --json | jq .status")
def show(ctx: typer.Context, job_id: JobIdArgument, as_json: JsonFlag = False) -> None:
    """Show one job in full.

    On a terminal, a few lines on its history follow (events, checkpoints, metrics), and what
    sync archived of its files (name, size) and whether its fine-tuned model still exists.
    """
    from ftjobs.render.output import OutputMode, choose_output

    mode = choose_output(json=as_json)
    if mode is OutputMode.JSON:  # straight from the rows: no models, no pydantic
        with open_store(ctx) as store:
            text = store.get_json(job_id, indent=2)
        sys.stdout.write(text + "\n")
        return
    on_terminal = mode is OutputMode.TERMINAL
    with open_store(ctx) as store:
        job = store.get(job_id)
        history = store.history_summary(job_id) if on_terminal else None
        resources = store.job_resources(job_id) if on_terminal else None
    if history is None or resources is None:
        _print_job(job)
        return
    from ftjobs.render import jobs as render
    from ftjobs.render import resources as render_resources

    render.print_job(
        job,
        render.history_rows(history, job.result_files or []),
        render_resources.job_notes(job, resources),
    )


@app.command(
    epilog=(
        "Example: ftjobs update ftjob-abc123 --status succeeded"
        " --fine-tuned-model ft:gpt-4o-mini:org::abc --trained-tokens 5768"
    )
)
def update(
    ctx: typer.Context,
    job_id: JobIdArgument,
    status: Annotated[
        Status | None, typer.Option(metavar="STATUS", help=f"New status: {STATUS_NAMES}.")
    ] = None,
    fine_tuned_model: FineTunedModelOption = None,
    trained_tokens: TrainedTokensOption = None,
    finished_at: TimeOption = None,
    estimated_finish: TimeOption = None,
    error_code: Annotated[
        str | None, typer.Option(metavar="CODE", help="Failure code (status failed).")
    ] = None,
    error_message: Annotated[
        str | None, typer.Option(metavar="TEXT", help="Failure message (status failed).")
    ] = None,
    error_param: Annotated[
        str | None, typer.Option(metavar="PARAM", help="Parameter that caused the failure.")
    ] = None,
    clear_error: Annotated[
        bool, typer.Option("--clear-error", help="Remove the job's error.")
    ] = False,
    metadata: Annotated[
        list[str] | None,
        typer.Option(
            "--metadata",
            metavar="KEY=VALUE",
            help="Metadata pair, added to what the job has (KEY= with no value removes KEY);"
            " repeat for more.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Allow moving a succeeded, failed or cancelled job.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Change a job's status or outcome.

    Moving to succeeded, failed or cancelled stamps finished_at (now) unless --finished-at is
    given; a job in one of those states keeps it unless --force. Error options go with failed.
    """
    from ftjobs.api.rules import JobUpdate, apply_update

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
    _modify_and_report(
        ctx,
        job_id,
        lambda current: apply_update(current, change, now=now),
        as_json=as_json,
        summary=lambda job: f"{job.id}\t{job.status}",
    )


@app.command(
    epilog=(
        "Examples: ftjobs attach ftjob-abc123 file-res1 file-res2\n\n"
        "ftjobs attach ftjob-abc123 file-res1 --content results.csv"
    )
)
def attach(
    ctx: typer.Context,
    job_id: JobIdArgument,
    file_ids: Annotated[
        list[str], typer.Argument(metavar="FILE_ID", help="Result file ids, in order.")
    ],
    content: Annotated[
        str | None,
        typer.Option(
            "--content",
            metavar="PATH",
            help=(
                "Store this result file's content too (the CSV, or the base64 the API returns);"
                " - for stdin. Takes exactly one FILE_ID."
            ),
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Append result files to a job, in order; with --content, store a file's content.

    Ids the job already has stay where they are (no duplicates). With --content, the per-step
    metrics in the file are what `ftjobs metrics` charts.
    """
    stored = ""
    if content is not None:
        if len(file_ids) != 1:
            raise typer.BadParameter(
                f"takes exactly one FILE_ID, got {len(file_ids)}", param_hint="'--content'"
            )
        job, stored, text = _attach_content(ctx, job_id, file_ids[0], content, as_json)
    else:
        from ftjobs.api.jobs import with_result_files

        _modify_and_report(
            ctx,
            job_id,
            lambda current: with_result_files(current, file_ids),
            as_json=as_json,
            summary=lambda job: f"{job.id}: {plural(len(job.result_files or ()), 'result file')}",
        )
        return
    _report(
        job,
        text,
        summary=lambda job: (
            f"{job.id}: {stored}{plural(len(job.result_files or ()), 'result file')}"
        ),
    )


def _attach_content(
    ctx: typer.Context, job_id: str, file_id: str, path: str, as_json: bool
) -> tuple[FineTuningJob, str, str | None]:
    """Store a result file's content (decoded before the store is opened: a file that is not
    a result file changes nothing); returns the job, what was stored, to report, and with
    as_json the job's JSON."""
    from ftjobs.api.history import decode_result_file

    if path == "-":
        raw = typer.get_binary_stream("stdin").read()
    else:
        try:
            raw = Path(path).read_bytes()
        except OSError as error:
            raise BadInput(f"cannot read {path}: {error.strerror}") from None
    decoded = decode_result_file(file_id, raw)
    with open_store(ctx) as store:
        job = store.attach_content(job_id, decoded)
        text = store.get_json(job_id, indent=2) if as_json else None
    rows = max(len((decoded.csv or "").splitlines()) - 1, 0)
    encoding = "base64-encoded CSV" if decoded.encoding == "base64" else "CSV"
    return job, f"stored {file_id} ({encoding}, {plural(rows, 'row')}); ", text


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
    from ftjobs.render.jobs import deletion_question

    if not yes and not sys.stdin.isatty():
        raise BadInput("not on a terminal, so not asking: pass --yes to delete")
    with open_store(ctx) as store:
        if not yes:
            # Name what would go, and find a mistyped id before asking, not after.
            doomed = [store.get(job_id) for job_id in dict.fromkeys(job_ids)]
            listing = "\n".join(f"  {job.id}  {job.status}  {job.model}" for job in doomed)
            history = store.history_counts([job.id for job in doomed])
            confirm(f"{listing}\n{deletion_question(len(doomed), history)}")
        deleted = store.delete(job_ids)
    typer.echo(f"Deleted {plural(deleted, 'job')}.", err=True)
