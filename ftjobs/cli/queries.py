"""Commands that read many jobs: list."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ftjobs.cli.app import app, open_store
from ftjobs.cli.options import ModelFilter, SinceFilter, StatusFilter, UntilFilter, job_filter
from ftjobs.constants import SortField
from ftjobs.errors import BadInput


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

    if as_json and as_jsonl:
        raise BadInput("choose one of --json and --jsonl")
    query = job_filter(
        status,
        model,
        since,
        until,
        sort=sort,
        descending=not reverse,
        limit=None if all_jobs else min(limit, 2**62),  # SQLite's LIMIT is 64-bit
    )
    with open_store(ctx) as store:
        if as_json or as_jsonl:  # straight from the rows: no models, no pydantic
            render.write_job_texts(
                store.list_json(query), "json" if as_json else "jsonl", sys.stdout
            )
            return
        jobs = store.list_jobs(query)
        if sys.stdout.isatty():
            shown = render.print_table(list(jobs))  # a screenful: fine to hold
            if query.limit is not None and shown == query.limit:
                total = store.count(query)
                if total > shown:
                    typer.echo(f"Showing {shown} of {total} jobs; --all shows every one.", err=True)
        else:
            render.write_plain_table(jobs, sys.stdout)
