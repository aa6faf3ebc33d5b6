"""Commands that sum up the store, find in it and check it: info, stats, search, check."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ftjobs.cli.app import app, open_store
from ftjobs.cli.options import (
    JobFilters,
    fields_option,
    output_fields,
    with_job_filters,
    within_limit,
)
from ftjobs.errors import BadInput

JsonObjectFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@app.command(epilog="Example: ftjobs info --json | jq .jobs")
def info(
    ctx: typer.Context,
    as_json: JsonObjectFlag = False,
    tables: Annotated[
        bool,
        typer.Option(
            "--tables",
            help="Also every table in the file and its rows (for sqlite3 or Datasette).",
        ),
    ] = False,
) -> None:
    """What the store holds: its file, size, schema version, jobs by status, history, last sync.

    A grid on a terminal; key<TAB>value lines when piped; one object with --json.
    """
    from ftjobs.render import insights as render_insights
    from ftjobs.render.output import OutputMode, choose_output

    with open_store(ctx) as store:
        summary = store.info(tables=tables)
    mode = choose_output(json=as_json)
    if mode is OutputMode.JSON:
        render_insights.write_json_object(summary.as_dict(), sys.stdout)
    elif mode is OutputMode.TERMINAL:
        render_insights.print_info(summary)
    else:
        render_insights.write_info_plain(summary, sys.stdout)


@app.command(
    epilog="Example: ftjobs stats --since 2024-01-01 --json | jq '.by_model'",
)
@with_job_filters
def stats(
    ctx: typer.Context,
    filters: JobFilters,
    as_json: JsonObjectFlag = False,
) -> None:
    """Jobs summed up: by status, model and month (UTC); success rate; time to finish; tokens.

    Takes list's filters. On a terminal the figures, then bar charts fitted to its height:
    models by family as --model finds them (gpt-4o-mini with gpt-4o-mini-2024-07-18), months
    without jobs in one row. Tab-separated lines when piped (total, status, model, month,
    tokens, then the single figures); one object with --json.
    Durations are from created_at to finished_at of finished jobs (median and 90th percentile,
    nearest rank).
    """
    from ftjobs.render import insights as render_insights
    from ftjobs.render.output import OutputMode, choose_output

    with open_store(ctx) as store:
        summary = store.stats(filters.query())
    mode = choose_output(json=as_json)
    if mode is OutputMode.JSON:
        render_insights.write_json_object(summary.as_dict(), sys.stdout)
    elif mode is OutputMode.TERMINAL:
        render_insights.print_stats(summary)
    else:
        render_insights.write_stats_plain(summary, sys.stdout)


@app.command(
    epilog=(
        "Examples: ftjobs search invalid_n_examples\n\n"
        "ftjobs search team-search --all --json | jq -r '.[].id'"
    ),
)
def search(
    ctx: typer.Context,
    words: Annotated[
        list[str],
        typer.Argument(metavar="TEXT", help="Words to find; every one must match."),
    ],
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many jobs.")] = 20,
    all_jobs: Annotated[bool, typer.Option("--all", help="Show every match (no limit).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of jobs.")] = False,
    as_jsonl: Annotated[bool, typer.Option("--jsonl", help="Print one JSON job per line.")] = False,
    fields: Annotated[
        str | None, fields_option("job fields, as list's (id, status, ..., metadata.KEY)")
    ] = None,
) -> None:
    """Find jobs by their text, best matches first.

    Searches ids, base and fine-tuned models, suffixes, metadata values, error codes and
    messages, and the jobs' event messages (a word may be the start of one: ftjob-abc finds
    ftjob-abc123). Output as list's: a table on a terminal, tab-separated columns when piped
    (both of --fields if given), JSON with --json or --jsonl.
    """
    from ftjobs.render import jobs as render
    from ftjobs.render.output import OutputMode, choose_output, write_job_texts
    from ftjobs.store.insights import fts_query

    mode = choose_output(json=as_json, jsonl=as_jsonl)
    columns = output_fields(fields, whole_records=mode.whole_records)
    match = fts_query(" ".join(words))
    if match is None:
        raise BadInput("give a word to search for (letters or digits)")
    limit_or_all = None if all_jobs else within_limit(limit)
    with open_store(ctx) as store:
        if mode.whole_records:  # straight from the rows, as list's: no models, no pydantic
            write_job_texts(store.search_json(match, limit_or_all), mode.value, sys.stdout)
            return
        jobs = store.search_listed(match, limit_or_all)
        if mode is OutputMode.TERMINAL:
            shown = render.print_table(list(jobs), columns)
            if limit_or_all is not None and shown == limit_or_all:
                total = store.count_search(match)
                if total > shown:
                    typer.echo(
                        f"Showing {shown:,} of {total:,} jobs; --all shows every one.", err=True
                    )
        else:
            render.write_jobs(jobs, sys.stdout, columns or render.PLAIN_COLUMNS)


@app.command(epilog="Example: ftjobs check && ftjobs backup ~/archive/")
def check(
    ctx: typer.Context,
    as_json: JsonObjectFlag = False,
    repair: Annotated[
        bool,
        typer.Option("--repair", help="Rebuild the search index first (all it can mend)."),
    ] = False,
) -> None:
    """Check the archive: SQLite's integrity and foreign keys, every stored JSON text against
    its columns, metrics against events, the search index.

    One line per check, and under a failed one what is wrong and how to fix it; exit 1 if
    anything is. Reads only, but with --repair.
    """
    from ftjobs.render import insights as render_insights
    from ftjobs.render.output import OutputMode, choose_output

    mode = choose_output(json=as_json)  # (the report is the same on a terminal and piped)
    with open_store(ctx) as store:
        if repair:
            store.rebuild_search()
        results = store.check()
    if mode is OutputMode.JSON:
        render_insights.write_json_object(
            {"ok": all(r.ok for r in results), "checks": [r.as_dict() for r in results]},
            sys.stdout,
        )
    else:
        render_insights.write_check_report(results, sys.stdout)
    if not all(result.ok for result in results):
        raise typer.Exit(1)
