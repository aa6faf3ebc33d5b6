"""`metrics`: a job's loss and accuracy by step, charted on a terminal, or several jobs' runs
compared; the CSV or JSON when piped."""

from __future__ import annotations

import sys
import textwrap
from typing import TYPE_CHECKING, Annotated

import typer

from ftjobs.cli.app import app, open_store
from ftjobs.cli.completion import job_ids as complete_job_ids
from ftjobs.errors import BadInput

if TYPE_CHECKING:
    from ftjobs.render.output import OutputMode
    from ftjobs.store.records import Metrics


JobIdsArgument = Annotated[
    list[str],
    typer.Argument(
        metavar="JOB_ID",
        help="The job's id; two or more compare the runs.",
        autocompletion=complete_job_ids,
    ),
]


@app.command(
    epilog=(
        "Examples: ftjobs metrics ftjob-abc123\n\n"
        "ftjobs metrics ftjob-abc123 --json | jq '[.[] | select(.valid_loss != null)] | length'"
        "\n\nftjobs metrics ftjob-abc123 ftjob-def456 --csv > runs.csv"
    )
)
def metrics(
    ctx: typer.Context,
    job_ids: JobIdsArgument,
    file_id: Annotated[
        str | None,
        typer.Option(
            "--file",
            metavar="FILE_ID",
            help="Use this result file (default: the first stored); one job only.",
        ),
    ] = None,
    as_csv: Annotated[
        bool,
        typer.Option(
            "--csv",
            help="Print the CSV: the result file byte for byte, if from one; several jobs:"
            " a leading job column.",
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help='Print a JSON array: one object per step (several jobs: a "job" key).'
        ),
    ] = False,
) -> None:
    """Chart a job's loss and accuracy by step (a panel each), with a summary line.

    The metrics come from the job's first result file whose content is stored, else its metrics
    events, else its checkpoints (stderr says which when it is not a result file). On a
    terminal: a chart as tall as the terminal; piped or with --csv: the CSV; --json: one object
    per step, blank cells null. Two or more jobs: their runs on one chart per panel, a colour
    per job, and a table of each run's final and best losses; --csv and --json carry a job
    column.
    """
    from ftjobs.render.output import choose_output

    mode = choose_output(csv=as_csv, json=as_json)
    unique = list(dict.fromkeys(job_ids))
    if len(unique) > 1:
        _compare(ctx, unique, file_id=file_id, mode=mode)
    else:
        _one_job(ctx, unique[0], file_id=file_id, mode=mode)


def _one_job(ctx: typer.Context, job_id: str, *, file_id: str | None, mode: OutputMode) -> None:
    from ftjobs.api.history import FILE_SOURCE_PREFIX
    from ftjobs.render import metrics as render_metrics
    from ftjobs.render.output import OutputMode

    with open_store(ctx) as store:
        job = store.get(job_id)
        found = store.metrics(job_id, file_id)
        if file_id is None and found is not None and found.source.startswith(FILE_SOURCE_PREFIX):
            file_id = found.source.removeprefix(FILE_SOURCE_PREFIX)
        stored = store.result_file(file_id) if file_id is not None else None
    note = None
    if found is not None:
        note = render_metrics.source_note(found, job.result_files or [], job_id)
        if note:
            typer.echo(note, err=True)
    if mode is OutputMode.JSON:
        render_metrics.write_metrics_json(found, sys.stdout)
    elif mode is not OutputMode.TERMINAL:  # --csv, or piped
        if stored is not None and stored.csv is not None:
            sys.stdout.flush()
            sys.stdout.buffer.write(stored.csv.encode("utf-8"))
            sys.stdout.buffer.flush()
        elif found is not None:
            sys.stdout.write(render_metrics.metrics_csv(found))
    elif found is not None:
        _chart(found, above=note or "")
    if found is None:
        if stored is not None and stored.csv is None:
            typer.echo(
                f"Result file {file_id} of {job_id} is archived as the API sent it"
                f" ({len(stored.raw):,} bytes), but it is neither a CSV nor base64 of one:"
                " metrics cannot read it.",
                err=True,
            )
        elif file_id is not None:
            typer.echo(f"No per-step metrics for {job_id} in result file {file_id}.", err=True)
        else:
            typer.echo(render_metrics.no_metrics_note(job_id), err=True)


def _chart(found: Metrics, *, above: str) -> None:
    """The chart and its summary line, as wide as the terminal and, with what was said above
    it (`above`) and the shell's next prompt, no taller."""
    from ftjobs.render import charts as render_charts
    from ftjobs.render import metrics as render_metrics
    from ftjobs.render.output import terminal_columns, terminal_rows, use_color

    series = render_metrics.all_series(found)
    if not series:
        typer.echo("No numeric metrics to chart; --csv prints what is stored.", err=True)
        return
    columns = terminal_columns()
    summary = render_metrics.summary_line(found, series)
    taken = (render_charts.wrapped_lines(above, columns) if above else 0) + 1
    taken += len(textwrap.wrap(summary, width=columns, break_on_hyphens=False))
    lines = [render_charts.Line(one, one.name) for one in series]
    text = render_charts.chart(
        lines, columns=columns, rows=terminal_rows() - taken, color=use_color()
    )
    sys.stdout.write(text + "\n")
    render_metrics.write_summary(summary, sys.stdout, columns)


def _compare(
    ctx: typer.Context, job_ids: list[str], *, file_id: str | None, mode: OutputMode
) -> None:
    """Several runs: each job's metrics (as for one), those without any named on stderr."""
    from ftjobs.render import charts as render_charts
    from ftjobs.render import metrics as render_metrics
    from ftjobs.render.output import OutputMode, terminal_columns, terminal_rows, use_color

    if file_id is not None:
        raise BadInput("--file takes one job: give one JOB_ID with it")
    with open_store(ctx) as store:
        for job_id in job_ids:
            store.get(job_id)  # every job must exist before anything is shown
        found = [(job_id, store.metrics(job_id)) for job_id in job_ids]
    runs = [(job_id, metrics) for job_id, metrics in found if metrics is not None]
    said = ""
    for job_id, metrics in found:
        if metrics is None:
            said += f"Warning: no metrics for {job_id}; it is left out.\n"
    if said:
        typer.echo(said, err=True, nl=False)
    if mode is OutputMode.JSON:
        render_metrics.write_compare_json(runs, sys.stdout)
    elif mode is not OutputMode.TERMINAL:  # --csv, or piped
        if runs:
            sys.stdout.write(render_metrics.compare_csv(runs))
    elif runs:
        lines = render_charts.compare_lines(runs)
        if not lines:
            typer.echo("No numeric metrics to chart; --csv prints what is stored.", err=True)
            return
        columns = terminal_columns()
        table = render_metrics.compare_table(runs, columns)
        taken = render_charts.wrapped_lines(said.rstrip("\n"), columns) if said else 0
        taken += table.count("\n") + 1
        text = render_charts.chart(
            lines, columns=columns, rows=terminal_rows() - taken, color=use_color(), jobs=len(runs)
        )
        sys.stdout.write(text + "\n")
        sys.stdout.write(table)
    if not runs:
        typer.echo("No metrics for any of the jobs.", err=True)
