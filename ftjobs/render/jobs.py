"""Jobs as people and scripts read them: list's table and rows, show's grid and lines, and
delete's question."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from ftjobs.api.times import iso_time
from ftjobs.render.cells import field_text, plural, printable, second_time, short_time
from ftjobs.render.output import console, plain_cell, write_rows
from ftjobs.render.tables import (
    STATUS_STYLES,
    WHOLE_FIELDS,
    Column,
    GappedTable,
    fit_columns,
    hidden_note,
    middle_cut,
    print_fields_table,
    print_records,
    record_cells,
)

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

    from ftjobs.api.models import FineTuningJob
    from ftjobs.store.records import HistorySummary
    from ftjobs.store.rows import ListedJob

# Columns of the plain (piped) list output; scripts rely on their order.
PLAIN_COLUMNS = ("id", "status", "model", "created_at", "finished_at", "fine_tuned_model")
_TIME_WIDTH = 16  # 2024-07-23 20:00


def deletion_question(jobs: int, history: Mapping[str, int]) -> str:
    """What delete asks: "Delete 2 jobs and their 500 events, 6 checkpoints, 2 result files?"
    (a history there is none of left out)."""
    parts = [plural(count, noun.removesuffix("s")) for noun, count in history.items() if count]
    if not parts:
        return f"Delete {plural(jobs, 'job')}?"
    return f"Delete {plural(jobs, 'job')} and {'its' if jobs == 1 else 'their'} {', '.join(parts)}?"


def write_jobs(
    jobs: Iterable[ListedJob],
    out: IO[str],
    fields: Sequence[str] = PLAIN_COLUMNS,
    delimiter: str | None = None,
) -> int:
    """Jobs as rows of the fields: see write_rows."""
    return write_rows(([field_text(job, name) for name in fields] for job in jobs), out, fields,
                      delimiter)  # fmt: skip


def print_table(jobs: Sequence[ListedJob], fields: Sequence[str] | None = None) -> int:
    """A Rich table for people at a terminal, sized to it. Ids and fine-tuned model names are
    never cut (they get copied into other commands): the finish time, then the fine-tuned
    model, give way first (a dim line on stderr says so), a long model name loses its middle,
    not its end, so snapshot dates stay visible; where even the id cannot fit, each job is
    shown as lines."""
    from rich.text import Text

    out = console()
    if not jobs:
        console(stderr=True).print("No jobs.")
        return 0
    if fields is not None:
        return print_fields_table(
            fields, [[field_text(job, name) for name in fields] for job in jobs]
        )
    texts = [
        (job.id, job.status, job.model, short_time(job.created_at), short_time(job.finished_at),
         job.fine_tuned_model or "")
        for job in jobs
    ]  # fmt: skip
    columns = [
        Column("ID", max(2, *(len(t[0]) for t in texts))),
        Column("Status", max(6, *(len(t[1]) for t in texts))),
        Column("Model", model := max(5, *(len(t[2]) for t in texts)), min(model, 12), last=5),
        Column("Created (UTC)", max(_TIME_WIDTH, *(len(t[3]) for t in texts))),
        Column("Finished (UTC)", max(_TIME_WIDTH, *(len(t[4]) for t in texts)), drop=1),
        Column("Fine-tuned model", max(16, *(len(t[5]) for t in texts)), drop=2),
    ]
    widths = fit_columns(columns, out.width)
    if widths is None:
        print_records(
            [
                record_cells(PLAIN_COLUMNS, [field_text(job, n) for n in PLAIN_COLUMNS])
                for job in jobs
            ]
        )
        return len(jobs)
    table = GappedTable()
    for column, width in zip(columns, widths, strict=True):
        if width is not None:
            table.add_column(column.label, no_wrap=True, width=width)
    for job, row in zip(jobs, texts, strict=True):
        cells: list[Text | str] = [
            Text(row[0]),
            Text(row[1], style=STATUS_STYLES.get(job.status, "")),
            Text(middle_cut(row[2], widths[2] or 0)),
            row[3],
            row[4],
            Text(row[5]),
        ]
        table.add_row(*(cell for cell, width in zip(cells, widths, strict=True) if width))
    out.print(table.table)
    hidden = [
        name
        for name, width in zip(
            ("", "", "", "", "finished", "fine-tuned model"), widths, strict=True
        )
        if width is None
    ]
    hidden_note(out.width, hidden)
    return len(jobs)


def job_fields(job: FineTuningJob) -> list[tuple[str, str]]:
    """The job as (label, text) pairs, for people rather than programs."""

    def compact(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    rows: list[tuple[str, str]] = [
        ("id", job.id),
        ("status", job.status),
        ("model", job.model),
        ("fine_tuned_model", job.fine_tuned_model or ""),
        ("created_at", iso_time(job.created_at)),
        ("finished_at", iso_time(job.finished_at)),
        ("estimated_finish", iso_time(job.estimated_finish)),
        ("organization_id", job.organization_id or ""),
        ("training_file", job.training_file or ""),
        ("validation_file", job.validation_file or ""),
        ("trained_tokens", "" if job.trained_tokens is None else str(job.trained_tokens)),
        ("seed", "" if job.seed is None else str(job.seed)),
    ]
    if job.hyperparameters is not None:
        hp = job.hyperparameters
        settings = {
            "n_epochs": hp.n_epochs,
            "batch_size": hp.batch_size,
            "learning_rate_multiplier": hp.learning_rate_multiplier,
        }
        rows.append(
            (
                "hyperparameters",
                ", ".join(f"{k}={v}" for k, v in settings.items() if v is not None),
            )
        )
    if job.method is not None:
        rows.append(("method", str(job.method.get("type", ""))))
    rows.append(("result_files", ", ".join(job.result_files or ())))
    for integration in job.integrations or ():
        wandb = integration.wandb
        if wandb is not None:
            described = f"wandb project={wandb.project}"
            for name in ("name", "entity"):
                if getattr(wandb, name):
                    described += f" {name}={getattr(wandb, name)}"
            if wandb.tags:
                described += f" tags={','.join(wandb.tags)}"
        else:
            described = integration.type
        rows.append(("integration", described))
    for key, value in (job.metadata or {}).items():
        rows.append((f"metadata.{key}", value))
    if job.error is not None:
        error = job.error
        text = f"{error.code or ''}: {error.message or ''}"
        if error.param:
            text += f" (param: {error.param})"
        rows.append(("error", text))
    for key, value in job.extra_fields().items():
        rows.append((key, compact(value)))
    return rows


def print_job(
    job: FineTuningJob,
    more: Sequence[tuple[str, str]] = (),
    notes: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> None:
    """One job, readable: a Rich grid on a terminal; `more` rows (label, text) follow it, and
    `notes` lines (text, style) go under the line of their label (a file's name under its id)."""
    from rich.table import Table
    from rich.text import Text

    rows: list[tuple[str, Text]] = []
    for label, text in job_fields(job):
        if label == "trained_tokens" and text.isdigit():
            text = f"{int(text):,}"  # for reading; piped output keeps the plain number
        style = STATUS_STYLES.get(text, "") if label == "status" else ""
        style = "red" if label == "error" else style
        rows.append((label, Text(text, style=style)))
        for note, note_style in (notes or {}).get(label, ()):
            rows.append(("", Text(note, style=note_style)))
    rows += [(label, Text(value)) for label, value in more]
    out = console()
    room = out.width - max(len(label) for label, _ in rows) - 2
    if any(label in WHOLE_FIELDS and cell.cell_len > room for label, cell in rows):
        # (a long metadata key would leave the id or the model name too little room whole)
        print_records([rows])
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, cell in rows:
        grid.add_row(label, cell)
    renderable: RenderableType = grid
    out.print(renderable)


def write_job_plain(job: FineTuningJob, out: IO[str]) -> None:
    """One job as `label<TAB>value` lines, when stdout is not a terminal."""
    for label, text in job_fields(job):
        out.write(f"{label}\t{plain_cell(text)}\n")


def history_rows(summary: HistorySummary, result_files: Sequence[str]) -> list[tuple[str, str]]:
    """A job's history in a few (label, text) rows, for `show` on a terminal."""
    from ftjobs.api.history import CHECKPOINTS_SOURCE, EVENTS_SOURCE, FILE_SOURCE_PREFIX

    if not summary.events and not summary.checkpoints and not summary.metric_sources:
        return [("history", "none stored (ftjobs import --job JOB events.json, or ftjobs sync)")]
    rows = []
    last = summary.last_event
    if last is not None:
        rows.append(
            (
                "events",
                f"{summary.events:,} (last {second_time(last.created_at)}:"
                f" {printable(last.message)})",
            )
        )
    else:
        rows.append(("events", "0"))
    rows.append(("checkpoints", f"{summary.checkpoints:,}"))
    files = [
        file_id
        for file_id in result_files
        if f"{FILE_SOURCE_PREFIX}{file_id}" in summary.metric_sources
    ]
    sources = [f"result file {file_id}" for file_id in files]
    sources += [s for s in (EVENTS_SOURCE, CHECKPOINTS_SOURCE) if s in summary.metric_sources]
    if sources:
        rows.append(("metrics", f"from {', '.join(sources)} (ftjobs metrics)"))
    else:
        rows.append(("metrics", "none stored"))
    return rows
