"""Commands that talk to the fine-tuning API: sync."""

from __future__ import annotations

import os
import sys
import time
from typing import Annotated

import typer

from ftjobs.cli.app import app, open_store


@app.command(
    epilog=(
        "Example: export OPENAI_API_KEY=sk-...; ftjobs sync && ftjobs list\n\n"
        "Azure OpenAI: set AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY and OPENAI_API_VERSION"
        " (and leave OPENAI_API_KEY unset)."
    )
)
def sync(
    ctx: typer.Context,
    full: Annotated[
        bool,
        typer.Option("--full", help="Walk every page and fetch every job's history again."),
    ] = False,
    job_ids: Annotated[
        list[str] | None,
        typer.Option("--job", metavar="JOB_ID", help="Sync only this job; repeat for more."),
    ] = None,
    no_history: Annotated[
        bool,
        typer.Option("--no-history", help="Jobs only: no events, checkpoints or result files."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress display and no summary.")
    ] = False,
    concurrency: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            metavar="N",
            help="Requests in flight at once (fewer while the API rate-limits); 1: one at a time.",
        ),
    ] = 8,
    timeout: Annotated[
        float,
        typer.Option(
            min=0.1, metavar="SECONDS", help="How long to wait for an answer to one request."
        ),
    ] = 15.0,
    max_wait: Annotated[
        float,
        typer.Option(
            min=0,
            metavar="SECONDS",
            help="Longest the API may ask to wait (Retry-After) before sync gives up.",
        ),
    ] = 900.0,
) -> None:
    """Archive your fine-tuning history from the API: jobs, events, checkpoints, result files,
    file objects and whether fine-tuned models still exist.

    Reads OPENAI_API_KEY (and OPENAI_BASE_URL, OPENAI_ORG_ID, OPENAI_PROJECT_ID) as OpenAI's
    tools do. Each project's key, each endpoint and Azure are archived apart into one store: run
    sync once with each. The first sync of each fetches everything; later ones fetch what is new
    or changed, and the history of jobs that are still running. Each job is saved with its
    history as it goes: an interrupted sync keeps what it finished, and the next one goes on
    from there. Nothing archived is ever deleted. Odd values are kept as sent with a warning;
    parts the API refuses for one job (a deleted result file) are listed as gaps at the end
    (exit 1) and asked for again next time.
    """
    from ftjobs.render import sync as render_sync
    from ftjobs.sync.client import FineTuningApi
    from ftjobs.sync.config import config_from_env
    from ftjobs.sync.engine import Syncer, SyncOptions

    config = config_from_env(os.environ)
    options = SyncOptions(
        full=full, job_ids=tuple(job_ids or ()), history=not no_history, concurrency=concurrency
    )
    started = time.monotonic()
    terminal = sys.stderr.isatty() and not quiet
    with (
        render_sync.sync_display(terminal=terminal) as observer,
        open_store(ctx, create=True) as store,
    ):
        syncer = None
        try:
            with FineTuningApi(
                config,
                read_timeout=timeout,
                max_wait=max_wait,
                on_request=observer.request,
                on_wait=observer.waiting,
                sleep=observer.sleep,
                concurrency=concurrency,
            ) as api:
                observer.throttle = api.throttle
                syncer = Syncer(store, api, options, observer)
                report = syncer.run()
        except KeyboardInterrupt:
            kept = syncer.report.new + syncer.report.updated if syncer else 0
            jobs = "1 job synced so far is" if kept == 1 else f"{kept:,} jobs synced so far are"
            typer.echo(
                f"Interrupted: {jobs} kept; run ftjobs sync again to go on from there",
                err=True,
            )
            raise typer.Exit(130) from None
    render_sync.write_sync_report(
        report,
        requests=observer.requests,
        seconds=time.monotonic() - started,
        quiet=quiet,
        err=sys.stderr,
    )
    if report.gaps or report.refused:
        raise typer.Exit(1)
