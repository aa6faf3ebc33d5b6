"""Commands that move jobs in and out of the store in bulk: import, export, backup."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from ftjobs.cli.app import app, open_store
from ftjobs.cli.options import (
    NO_FILTERS,
    ConflictChoice,
    ExportFormat,
    InputFormat,
    JobFilters,
    with_job_filters,
)
from ftjobs.errors import BadInput, FtjobsError, JobExists
from ftjobs.render.cells import plural


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
    events_job: Annotated[
        str | None,
        typer.Option(
            "--job",
            metavar="JOB_ID",
            help="The job the events belong to (events do not name their job).",
        ),
    ] = None,
) -> None:
    """Import jobs, events and checkpoints from the API's JSON: files or stdin.

    Takes one object, a JSON array, the API's list response, or JSON Lines (a line may be a list
    response), gzipped or not, detected from the content; each record is a job, an event or a
    checkpoint by its "object". Jobs already stored are updated to the incoming record; an event
    or checkpoint already stored is kept once, and one whose id came earlier in the input is
    left out with a warning (the first is kept). Events need --job; checkpoints name their job,
    which must be stored (or come earlier in the input). Events are taken in the API's order
    (newest first) unless the input runs forward in time. All or nothing: if any record is
    invalid, nothing is written (see --skip-invalid). Problems and a summary go to stderr.
    A full export (export --full) is restored whole: jobs, history, file objects, model states.
    """
    from ftjobs.api.batches import JobReader, fewer_collections, input_size
    from ftjobs.render import transfer as render

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
    size = input_size(paths) if show_progress else None
    # stdin has no size to measure against: count the records instead (when it is a pipe;
    # typed at this terminal, a live line would draw over the typing).
    count_records = show_progress and size is None and not sys.stdin.isatty()
    started = time.perf_counter()
    with (
        render.import_progress(size) as on_progress,
        render.records_progress(count_records) as counted,
        fewer_collections(),
    ):
        reader = JobReader(
            paths,
            input_format=input_format.value if input_format else None,
            stop_at_problem=not skip_invalid,
            on_progress=on_progress,
            events_job=events_job,
        )
        with open_store(ctx, create=True, keep_empty=False) as store:
            try:
                counts = store.import_jobs(
                    counted(reader.records()),
                    on_conflict=on_conflict.value,
                    keep=lambda: not dry_run and (skip_invalid or not reader.problems),
                    events_job=events_job,
                    on_repeat=reader.note_repeat,
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
        warnings=reader.warnings,
    )
    if reader.problems:
        raise typer.Exit(1)


@app.command(
    epilog=(
        "Examples:\n\n"
        "ftjobs export --status succeeded -o succeeded.jsonl\n\n"
        "ftjobs export --full -o archive-2027-01-05.jsonl.gz  (then: ftjobs import"
        " archive-2027-01-05.jsonl.gz)"
    )
)
@with_job_filters
def export(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to this file (.gz to compress) instead of stdout; - is stdout.",
        ),
    ] = None,
    output_format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="jsonl: one job per line; json: an array; list: the API's list response.",
        ),
    ] = ExportFormat.jsonl,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Everything, not just jobs: each job's events, checkpoints and result files,"
            " and the file objects and model states (JSON Lines; see README).",
        ),
    ] = False,
    filters: JobFilters = NO_FILTERS,
) -> None:
    """Write jobs as JSON: JSON Lines, an array, or the API's list response.

    Every job, or those the filters pick, in the order they were recorded (for newest first, use
    `list --all --json`). Streams, so a store of any size exports in flat memory; `ftjobs import`
    reads every format back, and exporting that store again gives the same bytes.

    With --full: one JSON Lines stream of the jobs, then each job's history, then the file
    objects and model states they name (all of them without a filter), each line saying what
    it is; `ftjobs import` restores it all. What sync remembers does not travel.
    """
    from ftjobs.render.output import output_file, write_job_texts

    if output is not None and str(output) == "-":
        output = None
    if full and output_format is not ExportFormat.jsonl:
        raise BadInput("--full writes JSON Lines only: leave out --format")
    # The order recorded: a straight read of the file, and a stable round trip.
    query = filters.query(sort=None)
    if full:
        from collections import Counter

        from ftjobs.api.archive import export_lines
        from ftjobs.render.transfer import export_counts

        counts: Counter[str] = Counter()
        with open_store(ctx) as store, output_file(output) as out:
            write_job_texts(export_lines(store.export_full(query), counts), "jsonl", out)
        if output is not None:
            typer.echo(f"Exported {export_counts(counts)} to {output}.", err=True)
        return
    with open_store(ctx) as store, output_file(output) as out:
        count = write_job_texts(store.list_json(query), output_format.value, out)
    if output is not None:
        typer.echo(f"Exported {plural(count, 'job')} to {output}.", err=True)


@app.command(
    epilog=(
        "Example: ftjobs backup ~/archive/ftjobs-2027-01-05.db\n\n"
        "Move an archive: copy the backup to the other machine and point --db (or FTJOBS_DB)"
        " at it."
    )
)
def backup(
    ctx: typer.Context,
    destination: Annotated[
        str,
        typer.Argument(
            metavar="DEST",
            help=(
                "The file to write, or a folder to write a file of the store's name in (DEST/"
                " is a folder, made if need be)."
            ),
            show_default=False,
        ),
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace DEST if it exists.")] = False,
) -> None:
    """Copy the store, whole and consistent, to DEST: safe while a sync writes.

    The copy is a snapshot (SQLite's VACUUM INTO: compact, every table and index), written
    beside DEST under a temporary name, readable by you only, and renamed into place when it is
    complete: DEST is never half written. Prints DEST on stdout.
    """
    from ftjobs.render.insights import human_size

    folder = destination.endswith(("/", os.sep))
    with open_store(ctx) as store:
        if folder:  # `backup ~/archive/`: a folder, not a file named archive
            try:
                Path(destination).mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as error:
                raise BadInput(f"cannot back up to {destination}: {error.strerror}") from None
        result = store.backup_to(Path(destination), force=force)
    typer.echo(result.path)
    jobs = f"{result.jobs:,} job{'' if result.jobs == 1 else 's'}"
    typer.echo(f"Backed up {jobs} ({human_size(result.size_bytes)}) to {result.path}", err=True)
