"""Commands that read a job's history: events, checkpoints, metrics.

(Getting history in is `import --job` and `attach --content`, with the other writers.)
"""

from __future__ import annotations

import os
import sys
import textwrap
from contextlib import ExitStack
from typing import TYPE_CHECKING, Annotated

import typer

from ftjobs.api.constants import CHECKPOINT_FIELDS, EVENT_FIELDS
from ftjobs.cli.app import app, open_store
from ftjobs.cli.completion import job_ids as complete_job_ids
from ftjobs.cli.options import JobIdArgument, fields_option, output_fields, within_limit
from ftjobs.errors import BadInput

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ftjobs.render.output import OutputMode
    from ftjobs.store.records import Metrics, StoredEvent

JsonArrayFlag = Annotated[
    bool, typer.Option("--json", help="Print a JSON array of the objects exactly as stored.")
]
JsonLinesFlag = Annotated[
    bool, typer.Option("--jsonl", help="Print one object per line, exactly as stored.")
]


EventFieldsOption = Annotated[
    str | None,
    fields_option(
        f"the event's keys ({', '.join(EVENT_FIELDS)}) or data.KEY (data.step, data.train_loss)"
    ),
]
CheckpointFieldsOption = Annotated[
    str | None,
    fields_option(
        f"the checkpoint's keys ({', '.join(CHECKPOINT_FIELDS)}) or metrics.KEY"
        " (metrics.train_loss)"
    ),
]


@app.command(
    epilog=(
        "Examples: ftjobs events ftjob-abc123 --level warn --level error\n\n"
        "ftjobs events ftjob-abc123 --jsonl | ftjobs --db other.db import --job ftjob-abc123 -\n\n"
        "ftjobs events ftjob-abc123 --follow --remote"
    )
)
def events(
    ctx: typer.Context,
    job_id: JobIdArgument,
    levels: Annotated[
        list[str] | None,
        typer.Option(
            "--level", metavar="LEVEL", help="Only this level (info, warn, error); repeat for more."
        ),
    ] = None,
    types: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            metavar="TYPE",
            help="Only this type (message, metrics, ...); repeat for more.",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="Only the newest N (still shown oldest first)."),
    ] = None,
    as_json: JsonArrayFlag = False,
    as_jsonl: JsonLinesFlag = False,
    fields: EventFieldsOption = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            "-f",
            help=(
                "Then print new events as they are stored, until the job has succeeded, failed"
                " or been cancelled (another process's `ftjobs sync` stores them; or --remote)."
            ),
        ),
    ] = False,
    remote: Annotated[
        bool,
        typer.Option(
            "--remote",
            help=(
                "With --follow: fetch the job and its new events from the API (OPENAI_API_KEY,"
                " as sync) at each poll, and save them into the store as `sync --job` does."
            ),
        ),
    ] = False,
    interval: Annotated[
        float,
        typer.Option(min=0.01, metavar="SECONDS", help="With --follow: how often to look."),
    ] = 2.0,
) -> None:
    """Show a job's events, oldest first: time (UTC), level, type, message.

    A log on a terminal; tab-separated lines when piped (created_at, level, type, message, or
    --fields); --json or --jsonl give each event exactly as it was stored, ready for `import
    --job`. --follow keeps printing new ones (lines, or --jsonl) until the job is final, then
    exits 0; Ctrl-C stops it (exit 130).
    """
    from ftjobs.render.output import choose_output

    mode = choose_output(json=as_json, jsonl=as_jsonl)
    columns = output_fields(
        fields, whole_records=mode.whole_records, names=EVENT_FIELDS, keyed="data"
    )
    if remote and not follow:
        raise BadInput("--remote goes with --follow (ftjobs sync --job JOB fetches once)")
    if follow and as_json:
        raise BadInput("--follow prints events as they come: use --jsonl for JSON")
    if follow:
        _follow(ctx, job_id, (levels or [], types or []), limit, interval, remote, mode,
                columns)  # fmt: skip
        return
    with open_store(ctx) as store:
        found = store.events(
            job_id, limit=within_limit(limit), levels=levels or (), types=types or ()
        )
        hidden = 0
        if limit is not None and len(found) == limit:
            hidden = store.count_events(job_id, levels=levels or (), types=types or ()) - limit
    _show_events(found, mode=mode, columns=columns, header=True)
    if not found:
        matching = " matching the filters" if levels or types else ""
        typer.echo(f"No events for {job_id}{matching}.", err=True)
    elif hidden > 0:
        typer.echo(
            f"Showing the newest {len(found):,} of {len(found) + hidden:,} events;"
            " a larger --limit shows more.",
            err=True,
        )


def _show_events(
    found: list[StoredEvent],
    *,
    mode: OutputMode,
    columns: tuple[str, ...] | None,
    header: bool,
    log: bool = False,
) -> None:
    """Events as the options ask: JSON (an array) or JSON Lines as stored, the --fields, or
    the log (a table on a terminal, tab-separated lines when piped). log: followed, a terminal
    gets each event as lines, so that batches printed apart line up."""
    from ftjobs.render import events as render_events
    from ftjobs.render.output import OutputMode, write_plain_rows, write_texts
    from ftjobs.render.tables import print_fields_table
    from ftjobs.render.text import record_rows

    terminal = mode is OutputMode.TERMINAL
    if mode.whole_records:
        write_texts((event.text for event in found), sys.stdout, lines=mode is OutputMode.JSONL)
    elif columns is not None:
        rows = record_rows((event.text for event in found), columns)
        if terminal and found:
            print_fields_table(columns, rows, header=header)
        else:
            write_plain_rows(rows, sys.stdout)
    elif found and terminal:
        render_events.print_events(found, header=header, log=log)
    else:
        render_events.write_events_plain(found, sys.stdout)
    sys.stdout.flush()


def _follow(
    ctx: typer.Context,
    job_id: str,
    filters: tuple[Sequence[str], Sequence[str]],
    limit: int | None,
    interval: float,
    remote: bool,
    mode: OutputMode,
    columns: tuple[str, ...] | None,
) -> None:
    """events --follow: the stored events, then new ones until the job is final."""
    from ftjobs.sync.follow import EventFollower, api_refresh

    with ExitStack() as stack:
        store = stack.enter_context(open_store(ctx, create=remote))
        follower = EventFollower(store, job_id, *filters)
        if remote:
            from ftjobs.render import sync as render_sync
            from ftjobs.sync.client import FineTuningApi
            from ftjobs.sync.config import config_from_env

            observer = render_sync.LineObserver(sys.stderr)
            api = stack.enter_context(FineTuningApi(config_from_env(os.environ)))
            follower.refresh = api_refresh(store, api, job_id, observer)
        try:
            found, final = follower.first(within_limit(limit))
            _show_events(found, mode=mode, columns=columns, header=True, log=True)
            shown = bool(found)
            if not final:
                typer.echo(f"Following {job_id} until it is final (Ctrl-C stops).", err=True)

                def show(new: list[StoredEvent]) -> None:
                    nonlocal shown
                    _show_events(new, mode=mode, columns=columns, header=not shown, log=True)
                    shown = True

                follower.follow(interval, show)
            status = store.get(job_id).status
        except KeyboardInterrupt:
            kept = "; what was fetched is kept in the store" if remote else ""
            typer.echo(f"Interrupted{kept}.", err=True)
            raise typer.Exit(130) from None
    typer.echo(f"{job_id} has {status}.", err=True)


@app.command(epilog="Example: ftjobs checkpoints ftjob-abc123 --json | jq -r '.[-1].id'")
def checkpoints(
    ctx: typer.Context,
    job_id: JobIdArgument,
    as_json: JsonArrayFlag = False,
    as_jsonl: JsonLinesFlag = False,
    fields: CheckpointFieldsOption = None,
) -> None:
    """Show a job's checkpoints, oldest first: step, time, model name, loss and accuracy.

    Marks the final checkpoint (the last step; "latest" while the job has not succeeded) and
    the one with the lowest valid loss ("best valid"; full_valid_loss where the checkpoints
    have it, else valid_loss). Tab-separated when piped: step, created_at, model, train loss,
    valid loss, train accuracy, valid accuracy, marks (or --fields, the table too).
    --json / --jsonl: the objects as stored.
    """
    from ftjobs.api.checkpoints import mark_checkpoints
    from ftjobs.render import checkpoints as render_checkpoints
    from ftjobs.render.output import OutputMode, choose_output, write_plain_rows, write_texts
    from ftjobs.render.tables import print_fields_table
    from ftjobs.render.text import record_rows

    mode = choose_output(json=as_json, jsonl=as_jsonl)
    columns = output_fields(
        fields, whole_records=mode.whole_records, names=CHECKPOINT_FIELDS, keyed="metrics"
    )
    with open_store(ctx) as store:
        job = store.get(job_id)
        found = store.checkpoints(job_id)
    terminal = bool(found) and mode is OutputMode.TERMINAL
    if mode.whole_records:
        texts = (checkpoint.text for checkpoint in found)
        write_texts(texts, sys.stdout, lines=mode is OutputMode.JSONL)
    elif columns is not None:
        rows = record_rows((checkpoint.text for checkpoint in found), columns)
        if terminal:
            print_fields_table(columns, rows)
        else:
            write_plain_rows(rows, sys.stdout)
    else:
        marked = mark_checkpoints(
            found, job_status=job.status, fine_tuned_model=job.fine_tuned_model
        )
        table = render_checkpoints.checkpoint_table(marked)
        if terminal:
            render_checkpoints.print_checkpoints(table)
        else:
            render_checkpoints.write_checkpoints_plain(table, sys.stdout)
    if not found:
        typer.echo(f"No checkpoints for {job_id}.", err=True)


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
