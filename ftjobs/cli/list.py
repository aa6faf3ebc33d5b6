"""Commands that read many jobs: list.

No `from __future__ import annotations` here: typer reads a command's annotations, and
strings would have to be evaluated on every run (a few ms of `ftjobs list`'s start).
"""

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, get_args

import typer

from ftjobs.api.constants import DEFAULT_LIST_FIELDS, SortField
from ftjobs.cli.app import app, open_store
from ftjobs.cli.options import (
    JobFilters,
    output_fields,
    with_job_filters,
    within_limit,
)
from ftjobs.errors import BadInput

# The "Showing N of M" notice counts matches up to this many (more is "more than 1,000").
NOTICE_COUNT_CAP = 1_000

if TYPE_CHECKING:
    from ftjobs.render.output import OutputMode
    from ftjobs.store.rows import ListedJob

DEFAULT_LIMIT = 20


@app.command(
    name="list",
    epilog="Example: ftjobs list --status failed --since 2024-07-01 --json | jq '.[].id'",
)
@with_job_filters
def list_jobs(
    ctx: typer.Context,
    filters: JobFilters,
    limit: Annotated[
        int | None,
        typer.Option(min=1, help=f"Show at most this many jobs [default: {DEFAULT_LIMIT}]."),
    ] = None,
    all_jobs: Annotated[bool, typer.Option("--all", help="Show every job (no limit).")] = False,
    sort: Annotated[
        SortField,
        typer.Option(
            metavar="FIELD",
            help=(
                f"Sort by this field, newest or largest first: {', '.join(get_args(SortField))}."
            ),
        ),
    ] = "created_at",
    reverse: Annotated[
        bool, typer.Option("--reverse", help="Oldest or smallest first instead.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of jobs.")] = False,
    as_jsonl: Annotated[bool, typer.Option("--jsonl", help="Print one JSON job per line.")] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print CSV with a header row of field names.")
    ] = False,
    as_tsv: Annotated[
        bool, typer.Option("--tsv", help="Print TSV with a header row of field names.")
    ] = False,
    fields: Annotated[
        str | None,
        typer.Option(
            metavar="FIELD,...",
            help=(
                "Columns of the table, CSV and TSV: job fields such as id, status, model,"
                " created_at, trained_tokens, training_file, error.code, error.message,"
                " metadata.KEY [default: id, status, model, created_at, finished_at,"
                " fine_tuned_model]."
            ),
        ),
    ] = None,
) -> None:
    """List jobs, newest first.

    A table on a terminal; tab-separated columns when piped (id, status, model, created_at,
    finished_at, fine_tuned_model, or --fields); CSV or TSV with a header row with --csv or
    --tsv; the API's job objects with --json or --jsonl. When a limit hides jobs, stderr says so;
    with --fine-tuned-model, stderr says whether sync last found that model or found it deleted.
    """
    from ftjobs.render.output import choose_output, write_job_texts

    mode = choose_output(json=as_json, jsonl=as_jsonl, csv=as_csv, tsv=as_tsv)
    within_limit(limit)
    if all_jobs and limit is not None:
        raise BadInput("choose one of --all and --limit")
    columns = output_fields(fields, whole_records=mode.whole_records)
    query = filters.query(
        sort=sort,
        descending=not reverse,
        limit=None if all_jobs else limit or DEFAULT_LIMIT,
    )
    with open_store(ctx) as store:
        if mode.whole_records:  # straight from the rows: no models, no pydantic
            shown = write_job_texts(store.list_json(query), mode.value, sys.stdout)
        else:
            # the jobs' data, no models: pydantic is not imported for a table either
            shown = _write_listing(store.list_listed(query), mode, columns)
        if query.limit is not None and shown == query.limit:
            sys.stdout.flush()
            total = store.count(query, at_most=NOTICE_COUNT_CAP)
            if total > shown:
                of = f"more than {NOTICE_COUNT_CAP:,}" if total > NOTICE_COUNT_CAP else f"{total:,}"
                typer.echo(f"Showing {shown:,} of {of} jobs; --all shows every one.", err=True)
        model_state = (
            store.model_state(filters.fine_tuned_model) if filters.fine_tuned_model else None
        )
    if model_state is not None:
        from ftjobs.render import resources as render_resources

        typer.echo(render_resources.model_line(model_state), err=True)


def _write_listing(
    jobs: Iterator["ListedJob"], mode: "OutputMode", columns: tuple[str, ...] | None
) -> int:
    """Jobs as CSV or TSV with a header row, a table on a terminal, or plain tab-separated
    rows; returns how many were written."""
    from ftjobs.render import jobs as render
    from ftjobs.render.output import OutputMode

    if mode is OutputMode.TERMINAL:
        return render.print_table(list(jobs), columns)  # a screenful: fine to hold
    return render.write_jobs(
        jobs,
        sys.stdout,
        columns or DEFAULT_LIST_FIELDS,
        {OutputMode.CSV: ",", OutputMode.TSV: "\t"}.get(mode),
    )
