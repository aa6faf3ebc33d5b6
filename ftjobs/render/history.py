"""Turning a job's history into output: events, checkpoints and per-step metrics.

Like render.py (which keeps to jobs): Rich or a chart on a terminal, plain tab-separated text or
CSV when piped, and on request the stored JSON text exactly as it came in. uniplot (and with it
numpy) is imported only to draw a chart.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from ftjobs.api.history import CHECKPOINTS_SOURCE, EVENTS_SOURCE, FILE_SOURCE_PREFIX
from ftjobs.api.times import iso_time
from ftjobs.render.jobs import (
    console,
    plain_cell,
    record_field_text,
    short_time,
    write_enclosed,
    write_job_texts,
)
from ftjobs.store.records import HistorySummary, Metrics, StoredCheckpoint, StoredEvent

if TYPE_CHECKING:
    from rich.text import Text

LEVEL_STYLES = {"warn": "yellow", "warning": "yellow", "error": "bold red"}

# Control characters (ESC above all) would let stored text drive the terminal; a table shows
# U+FFFD for them instead. Newlines stay (a cell may hold several lines).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _printable(text: str | None) -> str:
    return _CONTROL.sub("\ufffd", (text or "").replace("\t", " "))


def _seconds(timestamp: int | None) -> str:
    """2024-07-23 20:00:05: events come seconds apart."""
    return iso_time(timestamp).replace("T", " ").rstrip("Z")


def _minutes(timestamp: int | None) -> str:
    return short_time(timestamp)


def write_texts(texts: Iterable[str], out: IO[str], *, lines: bool) -> int:
    """Stored JSON texts, verbatim: one per line (JSON Lines), or one JSON array."""
    return write_job_texts(texts, "jsonl" if lines else "json", out)


def use_color() -> bool:
    """Colour only for a person at a terminal that wants it (NO_COLOR, TERM=dumb)."""
    return (
        sys.stdout.isatty()
        and "NO_COLOR" not in os.environ
        and os.environ.get("TERM", "") not in ("dumb", "unknown")
    )


def record_rows(texts: Iterable[str], fields: Sequence[str]) -> list[list[str]]:
    """Stored objects' (events', checkpoints') cells of the --fields, as list's are shown."""
    rows = []
    for text in texts:
        record = json.loads(text)
        rows.append([record_field_text(record if isinstance(record, dict) else {}, name)
                     for name in fields])  # fmt: skip
    return rows


# -- events -----------------------------------------------------------------------------------


def write_events_plain(events: Iterable[StoredEvent], out: IO[str]) -> None:
    """created_at (ISO), level, type, message: tab-separated, one event a line."""
    for event in events:
        cells = (iso_time(event.created_at), event.level, event.type, event.message)
        out.write("\t".join(plain_cell(cell) for cell in cells))
        out.write("\n")


def event_cells(event: StoredEvent) -> list[str]:
    """An event's cells as people read them: time to the second, level, type, message."""
    return [_seconds(event.created_at), _printable(event.level), _printable(event.type),
            _printable(event.message)]  # fmt: skip


def print_events(events: Sequence[StoredEvent], *, header: bool = True, log: bool = False) -> None:
    """A log for people: time, level (warn yellow, error red), type, and the message wrapped
    between words. A word no message line can hold whole (a fine-tuned model's name in
    "New fine-tuned model created: ...") is never split: the type gives way first, and
    failing that each event is its time, level and type on a line and its message under it.
    header=False: more lines of a log already begun; log: always each event as lines (events
    --follow: batches printed apart line up)."""
    from rich.padding import Padding
    from rich.text import Text

    from ftjobs.render.jobs import Column, GappedTable, fit_columns, hidden_note

    out = console()
    cells = [event_cells(event) for event in events]
    longest_word = max((len(word) for row in cells for word in row[3].split()), default=1)
    columns = [
        Column("Time (UTC)", 19),
        Column("Level", max(5, *(len(row[1]) for row in cells))),
        Column("Type", min(17, max(4, *(len(row[2]) for row in cells))), least=4, drop=1),
        Column("Message", max(7, *(len(row[3]) for row in cells)), least=max(7, longest_word)),
    ]
    widths = None if log else fit_columns(columns, out.width)
    if widths is None:
        for event, row in zip(events, cells, strict=True):
            style = LEVEL_STYLES.get(event.level or "", "")
            out.print(Text.assemble(row[0], "  ", (row[1], style), "  ", row[2]), soft_wrap=True)
            message = Text(row[3], style=style if style == "bold red" else "")
            if longest_word + 2 <= out.width:  # indented, and wrapped between words
                out.print(Padding(message, (0, 0, 0, 2)))
            else:  # a word wider than the terminal: left whole for it to wrap
                out.print(message, soft_wrap=True)
        return
    table = GappedTable(show_header=header)
    for column, width in zip(columns, widths, strict=True):
        if width is not None:
            wraps = column.label == "Message"
            table.add_column(
                column.label, no_wrap=not wraps, overflow="fold" if wraps else "ellipsis",
                width=width,
            )  # fmt: skip
    for event, row in zip(events, cells, strict=True):
        style = LEVEL_STYLES.get(event.level or "", "")
        texts = [
            Text(row[0]),
            Text(row[1], style=style),
            Text(row[2]),
            Text(row[3], style=style if style == "bold red" else ""),
        ]
        table.add_row(*(text for text, width in zip(texts, widths, strict=True) if width))
    out.print(table.table)
    if header:
        hidden_note(out.width, ["type"] if widths[2] is None else [])


# -- checkpoints ------------------------------------------------------------------------------

FINAL = "final"
LATEST = "latest"
BEST_VALID = "best valid"


@dataclass
class CheckpointRow:
    step: Any
    created_at: int
    model: str
    metrics: dict[str, Any]
    marks: list[str] = field(default_factory=list)


@dataclass
class CheckpointTable:
    """Checkpoints oldest first with their marks, and which metric key fills each column."""

    rows: list[CheckpointRow]
    columns: list[tuple[str, str | None]]  # (label, metrics key or None: no checkpoint has it)


def _first_key(rows: Sequence[CheckpointRow], *keys: str) -> str | None:
    for key in keys:
        if any(_finite(row.metrics.get(key)) is not None for row in rows):
            return key
    return None


def checkpoint_table(
    checkpoints: Sequence[StoredCheckpoint], *, job_status: str, fine_tuned_model: str | None
) -> CheckpointTable:
    """Marks the last step "final" (or "latest" while the job has not succeeded and the name
    is not the job's model) and the lowest valid loss "best valid" (full_valid_loss if any
    checkpoint has it, else valid_loss: the two are never compared with each other)."""
    rows = []
    for checkpoint in checkpoints:
        metrics = json.loads(checkpoint.text).get("metrics")
        rows.append(
            CheckpointRow(
                checkpoint.step_number,
                checkpoint.created_at,
                checkpoint.fine_tuned_model_checkpoint or "",
                metrics if isinstance(metrics, dict) else {},
            )
        )
    valid_loss = _first_key(rows, "full_valid_loss", "valid_loss")
    full = valid_loss == "full_valid_loss"
    columns: list[tuple[str, str | None]] = [
        ("Train loss", _first_key(rows, "train_loss")),
        ("Full valid loss" if full else "Valid loss", valid_loss),
        ("Train acc", _first_key(rows, "train_mean_token_accuracy", "train_accuracy")),
        (
            "Full valid acc" if full else "Valid acc",
            _first_key(rows, "full_valid_mean_token_accuracy", "valid_mean_token_accuracy")
            if full
            else _first_key(rows, "valid_mean_token_accuracy"),
        ),
    ]
    if rows:
        last = rows[-1]
        finished = job_status == "succeeded" or (
            fine_tuned_model is not None and last.model == fine_tuned_model
        )
        last.marks.append(FINAL if finished else LATEST)
    if valid_loss is not None:
        scored = [
            (loss, n)
            for n, row in enumerate(rows)
            if (loss := _finite(row.metrics.get(valid_loss))) is not None
        ]
        if scored:  # the lowest; on a tie, the earliest
            rows[min(scored)[1]].marks.append(BEST_VALID)
    return CheckpointTable(rows, columns)


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _exact(value: Any) -> str:
    """A metric as JSON spells it (1 stays 1), blank when missing."""
    return "" if value is None else json.dumps(value) if not isinstance(value, str) else value


def _short(value: Any) -> str:
    number = _finite(value)
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

    from ftjobs.render.jobs import Column, GappedTable, fit_columns, hidden_note, print_records

    out = console()
    metrics = [(label, key) for label, key in table.columns if key is not None]
    rows = [
        [_exact(row.step), _minutes(row.created_at), _printable(row.model),
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
    row: CheckpointRow, metrics: Sequence[tuple[str, str | None]]
) -> list[tuple[str, Text]]:
    """A checkpoint as print_records shows it: the API's keys as labels."""
    from rich.text import Text

    record = [
        ("step_number", Text(_exact(row.step))),
        ("created_at", Text(iso_time(row.created_at))),
        ("fine_tuned_model_checkpoint", Text(_printable(row.model))),
    ]
    record += [(key, Text(_exact(row.metrics.get(key)))) for _, key in metrics if key]
    if row.marks:
        record.append(("mark", Text(", ".join(row.marks), style="bold green")))
    return record


# -- metrics ----------------------------------------------------------------------------------


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
            if (step := _finite(row[at])) is not None
            and (value := _finite(row[position])) is not None
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


# Panels, each with its own y axis, in the order they are drawn; a series goes to the first
# whose word its name holds (losses and accuracies never share an axis).
PANELS = (("loss", "loss"), ("accuracy", "acc"), ("reward", "reward"))
OTHER_PANEL = "other"
# Not a metric: every row of a result file repeats the job's step count.
NOT_CHARTED = frozenset({"total_steps"})
# One colour per job when runs are compared (uniplot's names), and the marks that tell a job's
# series apart (by metric) in colour, or every series apart without colour.
JOB_COLORS = ("blue", "magenta", "green", "yellow", "cyan", "red")
MARKS = "+ox*~#@%&=$"
MIN_PANEL_HEIGHT = 3
MAX_PANEL_HEIGHT = 40


def all_series(metrics: Metrics) -> list[Series]:
    """Every numeric column but the step count, in column order."""
    return [s for s in _series(metrics) if s.name not in NOT_CHARTED]


def panel_name(series_name: str) -> str:
    lowered = series_name.lower()
    return next((title for title, word in PANELS if word in lowered), OTHER_PANEL)


@dataclass
class Line:
    """A series to draw, with its legend label and the job (0 for a single job) it is of."""

    series: Series
    label: str
    job: int = 0


def group_panels(lines: Sequence[Line]) -> list[tuple[str, list[Line]]]:
    """(axis title, lines) per panel, in PANELS order, the "other" panel last."""
    titles = [title for title, _ in PANELS] + [OTHER_PANEL]
    grouped: dict[str, list[Line]] = {title: [] for title in titles}
    for line in lines:
        grouped[panel_name(line.series.name)].append(line)
    return [(title, grouped[title]) for title in titles if grouped[title]]


def chart(
    lines: Sequence[Line],
    *,
    columns: int,
    rows: int,
    color: bool,
    jobs: int = 1,
) -> str:
    """The panels of a chart by step (loss, accuracy, ...: each its own y axis, titled, with
    "step" under the x axis), at most `columns` wide and, where the panels can be at least
    MIN_PANEL_HEIGHT high, `rows` lines in all. One job: braille in colour, else ASCII marks
    that tell the series apart. Several: a colour per job, and a mark per metric in colour
    (every series its own mark without)."""
    panels = group_panels(lines)
    if not panels:
        return ""
    steps = [step for line in lines for step in line.series.steps]
    low, high = min(steps), max(steps)
    span = (low, high if high > low else low + 1)
    # Lines each panel takes besides its plotting rows (legend lines depend on the labels).
    overhead = [
        len(_panel(title, group, columns=columns, height=1, color=color, jobs=jobs, span=span)) - 1
        for title, group in panels
    ]
    height = (rows - sum(overhead)) // len(panels)
    height = min(max(height, MIN_PANEL_HEIGHT), MAX_PANEL_HEIGHT)
    drawn: list[str] = []
    for title, group in panels:
        drawn += _panel(title, group, columns=columns, height=height, color=color, jobs=jobs,
                        span=span)  # fmt: skip
    return "\n".join(drawn)


def _panel(
    title: str,
    lines: Sequence[Line],
    *,
    columns: int,
    height: int,
    color: bool,
    jobs: int,
    span: tuple[float, float],
) -> list[str]:
    from uniplot import plot_to_string

    width = max(columns - 10, 20)
    options: dict[str, Any] = {}
    if jobs > 1:
        metric_names = list(dict.fromkeys(line.series.name for line in lines))
        if color:
            options["color"] = [JOB_COLORS[line.job % len(JOB_COLORS)] for line in lines]
            marks = [MARKS[metric_names.index(line.series.name) % len(MARKS)] for line in lines]
        else:
            options["color"] = False
            marks = [MARKS[n % len(MARKS)] for n in range(len(lines))]
        options.update(character_set="ascii", force_ascii_characters=marks)
    else:
        options.update(color=color, character_set="braille" if color else "ascii")
        if not color:
            options["force_ascii_characters"] = [MARKS[n % len(MARKS)] for n in range(len(lines))]
    text: str = plot_to_string(
        [line.series.values for line in lines],
        [line.series.steps for line in lines],
        lines=True,
        legend_labels=[line.label for line in lines],
        width=width,
        height=height,
        x_min=span[0],
        x_max=span[1],
        line_length_hard_cap=columns,
        **options,
    )
    drawn = text.split("\n")
    # Axis titles: the y axis's above the plot, "step" at the end of the x axis's labels.
    bottom = next((n for n, row in enumerate(drawn) if row.startswith("└")), None)
    if bottom is not None and bottom + 1 < len(drawn):
        labels = drawn[bottom + 1].rstrip()
        if len(labels) + 6 <= min(columns, width + 2):
            drawn[bottom + 1] = labels.ljust(min(columns, width + 2) - 4) + "step"
        else:
            drawn.insert(bottom + 2, "step".rjust(min(columns, width + 2)))
    return [title, *drawn]


def terminal_columns() -> int:
    return shutil.get_terminal_size((80, 24)).columns


def terminal_rows() -> int:
    return shutil.get_terminal_size((80, 24)).lines


def wrapped_lines(text: str, columns: int) -> int:
    """How many lines text takes on a terminal `columns` wide (long lines wrap)."""
    return sum(max(1, -(-len(line) // max(columns, 1))) for line in text.split("\n"))


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


def compare_lines(runs: Sequence[tuple[str, Metrics]]) -> list[Line]:
    """Every run's series, labelled with the run's short name."""
    labels = short_labels([job_id for job_id, _ in runs])
    return [
        Line(series, f"{label} {series.name}", job)
        for job, ((_, metrics), label) in enumerate(zip(runs, labels, strict=True))
        for series in compare_series(metrics)
    ]


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
            _printable(job_id),
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


# -- show -------------------------------------------------------------------------------------


def history_rows(summary: HistorySummary, result_files: Sequence[str]) -> list[tuple[str, str]]:
    """A job's history in a few (label, text) rows, for `show` on a terminal."""
    if not summary.events and not summary.checkpoints and not summary.metric_sources:
        return [("history", "none stored (ftjobs import --job JOB events.json, or ftjobs sync)")]
    rows = []
    last = summary.last_event
    if last is not None:
        rows.append(
            (
                "events",
                f"{summary.events:,} (last {_seconds(last.created_at)}:"
                f" {_printable(last.message)})",
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
