"""Commands that read a job's history: events and checkpoints (metrics: ftjobs.cli.metrics).

(Getting history in is `import --job` and `attach --content`, with the other writers.)
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from typing import TYPE_CHECKING, Annotated

import typer

from ftjobs.api.constants import CHECKPOINT_FIELDS, EVENT_FIELDS
from ftjobs.cli.app import app, open_store
from ftjobs.cli.options import JobIdArgument, fields_option, output_fields, within_limit
from ftjobs.errors import BadInput

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ftjobs.render.output import OutputMode
    from ftjobs.store.records import StoredEvent

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
    from ftjobs.render.cells import record_rows
    from ftjobs.render.output import OutputMode, write_plain_rows, write_texts
    from ftjobs.render.tables import print_fields_table

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
    from ftjobs.render.cells import record_rows
    from ftjobs.render.output import OutputMode, choose_output, write_plain_rows, write_texts
    from ftjobs.render.tables import print_fields_table

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
