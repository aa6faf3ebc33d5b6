"""A job's per-step metrics as data: the notes on where they came from, CSV and JSON, the
series a chart draws, the summary line, and several runs compared."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from ftjobs.api.history import EVENTS_SOURCE, FILE_SOURCE_PREFIX, finite
from ftjobs.render.cells import printable
from ftjobs.render.output import console, terminal_columns, write_enclosed

if TYPE_CHECKING:
    from ftjobs.store.records import Metrics


def source_note(metrics: Metrics, result_files: Sequence[str], job_id: str) -> str | None:
    """Where the metrics came from, when it is not a result file (said on stderr)."""
    if metrics.source.startswith(FILE_SOURCE_PREFIX):
        return None
    if metrics.source == EVENTS_SOURCE:
        note = "Metrics from the job's events (no result file content stored)."
    else:
        note = "Metrics from the job's checkpoints (no result file content or metrics events)."
    if result_files:
        note += f"\nStore the result file: ftjobs attach {job_id} {result_files[0]} --content PATH"
    return note


def no_metrics_note(job_id: str, columns: int | None = None) -> str:
    """How to store metrics: each command with what it stores beside it, or (when that would
    not fit the terminal: a real id is 30 characters) above it."""
    ways = [
        (f"ftjobs attach {job_id} FILE_ID --content results.csv", "the result file"),
        (f"ftjobs import --job {job_id} events.json", "the job's events"),
        ("ftjobs sync", "fetch from the API"),
    ]
    width = max(len(command) for command, _ in ways)
    widest_why = max(len(why) for _, why in ways)
    if 2 + width + 3 + widest_why + 2 <= (terminal_columns() if columns is None else columns):
        lines = [f"  {command:<{width}}   ({why})" for command, why in ways]
    else:
        lines = [f"  {why}:\n    {command}" for command, why in ways]
    return f"No metrics for {job_id}. Store them with one of:\n" + "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def metrics_csv(metrics: Metrics) -> str:
    """The stored columns as a CSV header, then a row per step; blank cells empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(metrics.columns)
    for row in metrics.rows:
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def write_metrics_json(metrics: Metrics | None, out: IO[str]) -> int:
    """One object per step: the columns as keys, numbers as numbers, blank cells null."""
    if metrics is None:
        return write_enclosed((), out)
    texts = (
        json.dumps(
            dict(zip(metrics.columns, row, strict=True)), ensure_ascii=False, allow_nan=False
        )
        for row in metrics.rows
    )
    return write_enclosed(texts, out)


@dataclass
class Series:
    """One metric over the steps where it has a finite value."""

    name: str
    steps: list[float]
    values: list[float]

    @property
    def lower_is_better(self) -> bool:
        return "loss" in self.name.lower()


def _series(metrics: Metrics) -> list[Series]:
    """Every column with at least one finite number, in column order ("step" aside)."""
    if "step" not in metrics.columns:
        return []
    at = metrics.columns.index("step")
    found = []
    for position, name in enumerate(metrics.columns):
        if position == at:
            continue
        points = [
            (step, value)
            for row in metrics.rows
            if (step := finite(row[at])) is not None
            and (value := finite(row[position])) is not None
        ]
        if points:
            found.append(Series(name, [p[0] for p in points], [p[1] for p in points]))
    return found


def _pick(found: Sequence[Series], *words: str, prefer: Sequence[str] = ()) -> Series | None:
    """The series whose name holds all the words: one named in prefer first, else the one with
    the most points (valid_loss every 10 steps beats full_valid_loss at the end only)."""
    matches = [s for s in found if all(word in s.name.lower() for word in words)]
    for name in prefer:
        for series in matches:
            if series.name == name:
                return series
    return max(matches, key=lambda s: len(s.values), default=None)


def chart_series(metrics: Metrics) -> list[Series]:
    """What to chart, by the columns' names (never a fixed header): train and valid loss and
    train accuracy; for reinforcement, train and valid reward; else the first one or two
    numeric columns."""
    found = [s for s in _series(metrics) if s.name != "total_steps"]
    chosen = [
        _pick(found, "train", "loss", prefer=["train_loss"]),
        _pick(found, "valid", "loss", prefer=["valid_loss"]),
    ]
    if any(chosen):
        chosen.append(
            _pick(found, "train", "acc", prefer=["train_mean_token_accuracy", "train_accuracy"])
        )
    else:
        chosen = [_pick(found, "train", "reward"), _pick(found, "valid", "reward")]
    picked = [series for series in chosen if series is not None]
    return picked or found[:2]


def _number(value: float) -> str:
    return f"{value:.4g}"


def _step(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:g}"


def summary_line(metrics: Metrics, series: Sequence[Series]) -> str:
    """Steps, then for each charted loss (or the first series if none): final value and the
    minimum (maximum for accuracy and reward), with their steps."""
    all_steps = [s for one in series for s in one.steps]
    parts = [
        f"{len(metrics.rows):,} step{'' if len(metrics.rows) == 1 else 's'}"
        f" ({_step(min(all_steps))}-{_step(max(all_steps))})"
        if all_steps
        else f"{len(metrics.rows):,} steps"
    ]
    shown = [one for one in series if one.lower_is_better] or list(series[:2])
    for one in shown:
        best = (min if one.lower_is_better else max)(
            range(len(one.values)), key=lambda n: one.values[n]
        )
        parts.append(
            f"{one.name} {_number(one.values[-1])} at step {_step(one.steps[-1])},"
            f" {'min' if one.lower_is_better else 'max'} {_number(one.values[best])}"
            f" at {_step(one.steps[best])}"
        )
    return "; ".join(parts)


# Not a metric: every row of a result file repeats the job's step count.
NOT_CHARTED = frozenset({"total_steps"})


def all_series(metrics: Metrics) -> list[Series]:
    """Every numeric column but the step count, in column order."""
    return [s for s in _series(metrics) if s.name not in NOT_CHARTED]


def write_summary(text: str, out: IO[str], columns: int) -> None:
    """The summary, wrapped at the terminal's width between its parts."""
    out.write(textwrap.fill(text, width=columns, break_on_hyphens=False) + "\n")


# -- comparing runs ---------------------------------------------------------------------------


def short_labels(job_ids: Sequence[str]) -> list[str]:
    """Legend names for jobs: the shortest tail (4 characters or more) that no two of the ids
    share, after "…"; whole ids where no shorter tail tells them apart."""
    longest = max(len(job_id) for job_id in job_ids)
    for size in range(4, longest):
        tails = [job_id[-size:] for job_id in job_ids]
        if len(set(tails)) == len(tails):
            return [t if t == job_id else f"…{t}" for t, job_id in zip(tails, job_ids, strict=True)]
    return list(job_ids)


def compare_series(metrics: Metrics) -> list[Series]:
    """What a comparison draws of each run: its train and valid loss and accuracy (as the
    single-job chart picks them), else what chart_series picks."""
    found = all_series(metrics)
    chosen = [
        _pick(found, "train", "loss", prefer=["train_loss"]),
        _pick(found, "valid", "loss", prefer=["valid_loss"]),
        _pick(found, "train", "acc", prefer=["train_mean_token_accuracy", "train_accuracy"]),
        _pick(found, "valid", "acc", prefer=["valid_mean_token_accuracy"]),
    ]
    picked = [series for series in chosen if series is not None]
    return picked or chart_series(metrics)


def compare_columns(runs: Sequence[tuple[str, Metrics]]) -> list[str]:
    """ "job", then every run's columns, each once, in the order first seen."""
    return ["job", *dict.fromkeys(name for _, metrics in runs for name in metrics.columns)]


def compare_csv(runs: Sequence[tuple[str, Metrics]]) -> str:
    """One CSV of several runs: a leading job column, then the columns of all of them (a
    column a run lacks is blank in its rows)."""
    columns = compare_columns(runs)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for job_id, metrics in runs:
        for row in metrics.rows:
            cells = dict(zip(metrics.columns, row, strict=True))
            writer.writerow([job_id, *(_cell(cells.get(name)) for name in columns[1:])])
    return out.getvalue()


def write_compare_json(runs: Sequence[tuple[str, Metrics]], out: IO[str]) -> int:
    """One object per run and step: "job" first, then that run's own columns (blank cells
    null), runs in the order given."""
    texts = (
        json.dumps(
            {"job": job_id, **dict(zip(metrics.columns, row, strict=True))},
            ensure_ascii=False,
            allow_nan=False,
        )
        for job_id, metrics in runs
        for row in metrics.rows
    )
    return write_enclosed(texts, out)


def compare_table(runs: Sequence[tuple[str, Metrics]], columns: int) -> str:
    """Each run's final losses and its best (valid loss, else train loss: "(train)") with its
    step, as a terminal shows it; ids whole."""
    from rich.table import Table

    from ftjobs.api.diff import losses

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("Job", no_wrap=True)
    for label in ("Final train", "Final valid", "Best valid", "Step"):
        table.add_column(label, justify="right", no_wrap=True)
    for job_id, metrics in runs:
        found = losses(metrics)
        best = "" if found.best is None else _number(found.best)
        if found.best is not None and found.best_of and "valid" not in found.best_of:
            best += " (train)"
        table.add_row(
            printable(job_id),
            "" if found.final_train is None else _number(found.final_train),
            "" if found.final_valid is None else _number(found.final_valid),
            best,
            "" if found.best_step is None else _step(float(found.best_step)),
        )
    out = console()
    out.width = columns
    with out.capture() as captured:
        out.print(table)
    return captured.get()
