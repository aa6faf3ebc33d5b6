"""A job's checkpoints: a table with the marks it is given (ftjobs.api.checkpoints decides
them), or tab-separated lines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from ftjobs.api.checkpoints import MarkedCheckpoint, first_key, valid_loss_key
from ftjobs.api.history import finite
from ftjobs.api.times import iso_time
from ftjobs.render.cells import printable, short_time
from ftjobs.render.output import console, plain_cell

if TYPE_CHECKING:
    from rich.text import Text


@dataclass
class CheckpointTable:
    """Checkpoints oldest first with their marks, and which metric key fills each column."""

    rows: list[MarkedCheckpoint]
    columns: list[tuple[str, str | None]]  # (label, metrics key or None: no checkpoint has it)


def checkpoint_table(rows: Sequence[MarkedCheckpoint]) -> CheckpointTable:
    """The columns of the marked checkpoints: train and valid loss and accuracy, "Full valid"
    where the best is chosen by full_valid_loss (the marks say which; each column shows the
    key its label names, never the other)."""
    metrics = [row.metrics for row in rows]
    valid_loss = valid_loss_key(rows)
    full = valid_loss == "full_valid_loss"
    columns: list[tuple[str, str | None]] = [
        ("Train loss", first_key(metrics, "train_loss")),
        ("Full valid loss" if full else "Valid loss", valid_loss),
        ("Train acc", first_key(metrics, "train_mean_token_accuracy", "train_accuracy")),
        (
            "Full valid acc" if full else "Valid acc",
            first_key(metrics, "full_valid_mean_token_accuracy", "valid_mean_token_accuracy")
            if full
            else first_key(metrics, "valid_mean_token_accuracy"),
        ),
    ]
    return CheckpointTable(list(rows), columns)


def _exact(value: Any) -> str:
    """A metric as JSON spells it (1 stays 1), blank when missing."""
    return "" if value is None else json.dumps(value) if not isinstance(value, str) else value


def _short(value: Any) -> str:
    number = finite(value)
    return "" if number is None else f"{number:.4g}"


def write_checkpoints_plain(table: CheckpointTable, out: IO[str]) -> None:
    """step, created_at (ISO), checkpoint model, train loss, valid loss, train accuracy, valid
    accuracy, marks (comma-separated): tab-separated, one checkpoint a line."""
    for row in table.rows:
        metrics = [_exact(row.metrics.get(key)) if key else "" for _, key in table.columns]
        cells = [_exact(row.step), iso_time(row.created_at), row.model, *metrics]
        out.write("\t".join(plain_cell(cell) for cell in [*cells, ",".join(row.marks)]))
        out.write("\n")


def print_checkpoints(table: CheckpointTable) -> None:
    """A table for people. Model names are never cut or folded (they are copied into other
    commands): the accuracies, then the created time, give way where the names do not fit
    whole beside them (a dim line on stderr says so); where even the losses and marks cannot,
    each checkpoint is shown as "key: value" lines."""
    from rich.text import Text

    from ftjobs.render.tables import Column, GappedTable, fit_columns, hidden_note, print_records

    out = console()
    metrics = [(label, key) for label, key in table.columns if key is not None]
    rows = [
        [_exact(row.step), short_time(row.created_at), printable(row.model),
         *(_short(row.metrics.get(key)) for _, key in metrics), "\n".join(row.marks)]
        for row in table.rows
    ]  # fmt: skip
    columns = [
        Column("Step", max(4, *(len(cells[0]) for cells in rows))),
        Column("Created (UTC)", 16, drop=2),
        Column("Checkpoint model", max(16, *(len(cells[2]) for cells in rows))),
        *(Column(label, 10, drop=1 if "acc" in label else 0) for label, _ in metrics),
        Column("Mark", 10),
    ]
    widths = fit_columns(columns, out.width)
    if widths is None:
        print_records([_checkpoint_record(row, metrics) for row in table.rows])
        return
    grid = GappedTable()
    for column, width in zip(columns, widths, strict=True):
        if width is not None:
            words = column.label in ("Created (UTC)", "Checkpoint model", "Mark")
            grid.add_column(
                column.label, justify="left" if words else "right", no_wrap=words, width=width
            )  # ("Full valid loss" takes two lines of header)
    for row, cells in zip(table.rows, rows, strict=True):
        texts = [Text(cell) for cell in cells]
        texts[-1].stylize("bold green" if row.marks else "")
        grid.add_row(*(text for text, width in zip(texts, widths, strict=True) if width))
    out.print(grid.table)
    hidden_note(
        out.width,
        [column.label.removesuffix(" (UTC)").lower()
         for column, width in zip(columns, widths, strict=True) if width is None],
    )  # fmt: skip


def _checkpoint_record(
    row: MarkedCheckpoint, metrics: Sequence[tuple[str, str | None]]
) -> list[tuple[str, Text]]:
    """A checkpoint as print_records shows it: the API's keys as labels."""
    from rich.text import Text

    record = [
        ("step_number", Text(_exact(row.step))),
        ("created_at", Text(iso_time(row.created_at))),
        ("fine_tuned_model_checkpoint", Text(printable(row.model))),
    ]
    record += [(key, Text(_exact(row.metrics.get(key)))) for _, key in metrics if key]
    if row.marks:
        record.append(("mark", Text(", ".join(row.marks), style="bold green")))
    return record
