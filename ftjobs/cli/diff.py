"""`diff`: two jobs side by side, only what differs."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ftjobs.cli.app import app, open_store
from ftjobs.cli.completion import job_ids as complete_job_ids
from ftjobs.cli.options import JobIdArgument


@app.command(
    epilog=(
        "Examples: ftjobs diff ftjob-abc123 ftjob-def456\n\n"
        "ftjobs diff ftjob-abc123 ftjob-def456 --json | jq -r '.differences[].field'"
    )
)
def diff(
    ctx: typer.Context,
    job_a: JobIdArgument,
    job_b: Annotated[
        str,
        typer.Argument(
            metavar="OTHER_JOB_ID",
            help="The job to compare it with.",
            autocompletion=complete_job_ids,
        ),
    ],
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"a": id, "b": id, "differences": [{"field", "a", "b"}, ...]}.',
        ),
    ] = False,
) -> None:
    """Show what differs between two jobs, side by side.

    Compared: model, files, method and its hyperparameters, seed, metadata, status and error,
    fine-tuned model, trained tokens, duration, and the final and best losses of their stored
    metrics (those `metrics` shows).

    Fields the two share are left out. On a terminal: a table; piped: tab-separated lines
    (field, A's value, B's value; duration in seconds, a missing value empty); --json: the
    differences as JSON values (missing: null).
    """
    from ftjobs.api import diff as diffs
    from ftjobs.render import diff as render_diff
    from ftjobs.render.output import OutputMode, choose_output

    mode = choose_output(json=as_json)
    with open_store(ctx) as store:
        fields = []
        for job_id in (job_a, job_b):
            job = store.get(job_id)
            fields.append(diffs.job_fields(job, store.metrics(job_id)))
    found = diffs.differences(fields[0], fields[1])
    if mode is OutputMode.JSON:
        render_diff.write_json(job_a, job_b, found, sys.stdout)
    elif found and mode is OutputMode.TERMINAL:
        render_diff.print_differences(job_a, job_b, found)
    else:
        render_diff.write_plain(found, sys.stdout)
    if not found:
        typer.echo(f"{job_a} and {job_b} do not differ in any field diff compares.", err=True)
