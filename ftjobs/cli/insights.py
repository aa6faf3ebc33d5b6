"""Commands that sum up the store: info, stats."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ftjobs.cli.app import app, open_store
from ftjobs.cli.options import ModelFilter, SinceFilter, StatusFilter, UntilFilter, job_filter

JsonObjectFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@app.command(epilog="Example: ftjobs info --json | jq .jobs")
def info(ctx: typer.Context, as_json: JsonObjectFlag = False) -> None:
    """What the store holds: its file, size, schema version, jobs by status, history, last sync.

    A grid on a terminal; key<TAB>value lines when piped; one object with --json.
    """
    from ftjobs import render_insights

    with open_store(ctx) as store:
        summary = store.info()
    if as_json:
        render_insights.write_json_object(summary.as_dict(), sys.stdout)
    elif sys.stdout.isatty():
        render_insights.print_info(summary)
    else:
        render_insights.write_info_plain(summary, sys.stdout)


@app.command(
    epilog="Example: ftjobs stats --since 2024-01-01 --json | jq '.by_model'",
)
def stats(
    ctx: typer.Context,
    status: StatusFilter = None,
    model: ModelFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
    as_json: JsonObjectFlag = False,
) -> None:
    """Jobs summed up: by status, model and month (UTC); success rate; time to finish; tokens.

    Takes list's filters. Bar charts on a terminal; tab-separated lines when piped (total,
    status, model, month, tokens, then the single figures); one object with --json.
    Durations are from created_at to finished_at of finished jobs (median and 90th percentile,
    nearest rank).
    """
    from ftjobs import render_insights

    with open_store(ctx) as store:
        summary = store.stats(job_filter(status, model, since, until))
    if as_json:
        render_insights.write_json_object(summary.as_dict(), sys.stdout)
    elif sys.stdout.isatty():
        render_insights.print_stats(summary)
    else:
        render_insights.write_stats_plain(summary, sys.stdout)
