"""Turning jobs into output: Rich on a terminal, plain tab-separated text when piped, JSON on
request. Only stdout carries results; messages go to stderr (see cli.py)."""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ftjobs.errors import FtjobsError

if TYPE_CHECKING:
    from gzip import GzipFile

    from rich.console import Console, RenderableType

    from ftjobs.importing import Problems
    from ftjobs.models import FineTuningJob
    from ftjobs.store import ImportCounts
    from ftjobs.store.rows import ListedJob

# Columns of the plain (piped) list output; scripts rely on their order.
PLAIN_COLUMNS = ("id", "status", "model", "created_at", "finished_at", "fine_tuned_model")

STATUS_STYLES = {
    "validating_files": "cyan",
    "queued": "cyan",
    "running": "yellow",
    "paused": "magenta",
    "succeeded": "green",
    "failed": "bold red",
    "cancelled": "dim",
}


def console(*, stderr: bool = False) -> Console:
    """Rich's Console for people at a terminal, as wide as the terminal (or COLUMNS) says even
    when TERM=dumb, where Rich on its own assumes 80 columns."""
    from rich.console import Console

    if os.environ.get("TERM", "").lower() in ("dumb", "unknown"):
        size = shutil.get_terminal_size()
        return Console(stderr=stderr, width=size.columns, height=size.lines)
    return Console(stderr=stderr)


_EPOCH = datetime(1970, 1, 1)  # naive: UTC, as every stored time is


def iso_time(timestamp: int | None) -> str:
    """Unix seconds as ISO-8601 UTC (2024-07-23T20:00:00Z); empty for None. A provider's time
    that no date can show (before the year 1 or after 9999: any 64-bit integer is archived)
    is the number itself. Counted from the epoch rather than by fromtimestamp, which refuses
    negative times on some systems; isoformat keeps four digits of a year before 1000."""
    if timestamp is None:
        return ""
    try:
        return (_EPOCH + timedelta(seconds=timestamp)).isoformat() + "Z"
    except OverflowError:
        return str(timestamp)


def short_time(timestamp: int | None) -> str:
    """2024-07-23 20:00: minutes are enough to tell jobs apart at a glance (a time no date can
    show stays the whole number)."""
    text = iso_time(timestamp)
    return text.replace("T", " ")[:16] if text.endswith("Z") else text


def write_enclosed(
    texts: Iterable[str], out: IO[str], opening: str = "[", closing: str = "]"
) -> int:
    """JSON texts one per line between opening and closing text (by default a JSON array),
    written as they come (no list held in memory)."""
    count = 0
    out.write(opening)
    for text in texts:
        out.write(",\n" if count else "\n")
        out.write(text)
        count += 1
    out.write(f"\n{closing}\n" if count else f"{closing}\n")
    return count


def write_job_texts(texts: Iterable[str], output_format: str, out: IO[str]) -> int:
    """Compact JSON texts (jobs from Store.list_json, or stored events: no models built) in an
    export format: "jsonl" (one a line), "json" (an array) or "list" (the API's envelope)."""
    if output_format == "json":
        return write_enclosed(texts, out)
    if output_format == "list":
        return write_enclosed(texts, out, '{"object":"list","data":[', '],"has_more":false}')
    count = 0
    for text in texts:
        out.write(text)
        out.write("\n")
        count += 1
    return count


@contextmanager
def output_file(path: Path | None) -> Iterator[IO[str]]:
    """stdout, or a file that appears only once it is complete (written aside, then renamed);
    a name ending in .gz is gzip-compressed."""
    if path is None:
        yield sys.stdout
        return
    if path.is_dir():
        raise FtjobsError(f"cannot write {path}: it is a directory")
    partial = path.with_name(f".{path.name}.partial")
    try:
        raw = partial.open("wb")
    except OSError as error:
        raise FtjobsError(f"cannot write {path}: {error.strerror}") from None
    try:
        with raw:
            # A .gz file is compressed, and its header names the finished file (gunzip -N).
            binary: io.BufferedWriter | GzipFile = raw
            if path.suffix == ".gz":
                import gzip  # (only here: every command imports this module)

                binary = gzip.GzipFile(filename=path.name, mode="wb", fileobj=raw)
            with binary, io.TextIOWrapper(binary, encoding="utf-8") as out:
                yield out
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def import_progress(total_bytes: int | None) -> Iterator[Callable[[int], None] | None]:
    """A Rich progress bar on stderr, fed with bytes read; None (no bar) when there is nothing
    to measure against, the input is small, or the terminal cannot redraw a line (dumb)."""
    err = console(stderr=True) if total_bytes is not None and total_bytes >= 8 << 20 else None
    if err is None or err.is_dumb_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("Importing"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("import", total=total_bytes)
        yield lambda done: progress.update(task, completed=done)


@contextmanager
def records_progress(enabled: bool) -> Iterator[Callable[[Iterator[Any]], Iterator[Any]]]:
    """A live line on stderr for an input of unknown size (stdin): records read so far and
    how fast, no total. Yields a wrapper for the stream of records (as it is without one)."""
    err = console(stderr=True) if enabled else None
    if err is None or err.is_dumb_terminal:  # (a dumb terminal cannot redraw a line)
        yield lambda records: records
        return
    import time

    from rich.progress import Progress, TextColumn

    with Progress(
        TextColumn("Importing from stdin: {task.fields[detail]}"),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("import", total=None, detail="reading")
        started = time.perf_counter()

        def show(count: int) -> None:
            seconds = time.perf_counter() - started
            rate = f", {count / seconds:,.0f} records/s" if seconds > 0 else ""
            progress.update(task, detail=f"{count:,} records read{rate}")

        def counted(records: Iterator[Any]) -> Iterator[Any]:
            count = 0
            shown_at = started
            for record in records:
                count += 1
                if count % 256 == 0 and (now := time.perf_counter()) - shown_at >= 0.1:
                    show(count)
                    shown_at = now
                yield record
            show(count)  # the last figures, drawn as the line goes

        yield counted


def write_import_report(
    counts: ImportCounts,
    problems: Problems,
    *,
    seconds: float,
    dry_run: bool,
    skip_invalid: bool,
    quiet: bool,
    err: IO[str],
    unfinished_pages: Sequence[str] = (),
    warnings: Problems | None = None,
) -> None:
    """Problems, then one summary line, on stderr."""
    for problem in problems.first:
        err.write(f"Error: {problem}\n")
    if problems.count > len(problems.first):
        more = problems.count - len(problems.first)
        err.write(f"Error: ... and {plural(more, 'more invalid record')}\n")
    if problems and not skip_invalid:
        err.write(
            f"Error: {plural(problems.count, 'invalid record')}; nothing was imported"
            " (--skip-invalid imports the valid ones)\n"
        )
        return
    if quiet:
        return
    if warnings:
        for warning in warnings.first:
            err.write(f"Warning: {warning}\n")
        if warnings.count > len(warnings.first):
            err.write(f"Warning: ... and {warnings.count - len(warnings.first):,} more\n")
    for source in unfinished_pages:
        err.write(
            f"Note: {source} ends with a page of a list that says has_more: true; the jobs"
            " after it are not in it (fetch them with ?after=<last id>)\n"
        )
    history, restored = counts.history, counts.restored
    others = (restored.result_files, restored.file_objects, restored.model_states)
    other_records = sum(others) + restored.unchanged + restored.kept + restored.history_skipped
    records = other_records + counts.total + sum(
        (history.events_added, history.events_known, history.events_repeated,
         history.checkpoints_added, history.checkpoints_known, history.checkpoints_repeated)
    )  # fmt: skip
    rate = records / seconds if seconds > 0 else 0.0
    timing = f" ({seconds:.2f} s, {rate:,.0f} records/s)\n"
    invalid = f", {plural(problems.count, 'invalid record')}" if problems else ""
    if not records:
        err.write(
            f"Nothing to import: no jobs, events or checkpoints in the input{invalid}{timing}"
        )
        return
    # What was (or would be) written comes first, out of what was read: a second import of
    # the same file says "0 of 300 jobs", not "300 jobs".
    parts = []
    if counts.total:
        parts.append(
            f"{_of(counts.inserted + counts.updated, counts.total, 'job')}:"
            f" {counts.inserted:,} inserted, {counts.updated:,} updated,"
            f" {counts.unchanged:,} unchanged, {counts.skipped:,} skipped"
        )
    for noun, added, known, repeated in (
        ("event", history.events_added, history.events_known, history.events_repeated),
        (
            "checkpoint",
            history.checkpoints_added,
            history.checkpoints_known,
            history.checkpoints_repeated,
        ),
    ):
        if added or known or repeated:
            # Repeated: an id that came earlier in this input (each one is a warning above).
            again = f", {repeated:,} repeated in the input" if repeated else ""
            parts.append(
                f"{_of(added, added + known + repeated, noun)}: {added:,} added,"
                f" {known:,} already stored{again}"
            )
    if other_records:  # a full export's (ftjobs.archive)
        nouns = ("result file", "file object", "model state")
        written = ", ".join(plural(n, noun) for n, noun in zip(others, nouns, strict=True))
        if restored.unchanged:
            written += f", {restored.unchanged:,} already stored"
        if restored.kept:
            written += f", {restored.kept:,} stored otherwise and kept (--on-conflict skip)"
        if restored.history_skipped:
            written += (
                f"; {plural(restored.history_skipped, 'history item')} of skipped jobs left out"
            )
        parts.append(written)
    verb = "Would import" if dry_run else "Imported"
    err.write(f"{verb} {'; '.join(parts)}{invalid}{timing}")


def export_counts(counts: Mapping[str, int]) -> str:
    """What a full export wrote: "3 jobs with 40 events, 2 checkpoints, ..." (kinds with
    none left out)."""
    from ftjobs.archive import COUNTED

    jobs = plural(counts.get("job", 0), "job")
    rest = [plural(counts[kind], noun) for kind, noun in COUNTED.items() if kind != "job"
            and counts.get(kind)]  # fmt: skip
    return f"{jobs} with {', '.join(rest)}" if rest else jobs


def plural(count: int, noun: str) -> str:
    """1 job, 2 jobs, 1,234 jobs."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _of(part: int, whole: int, noun: str) -> str:
    """300 jobs, or 0 of 300 jobs when not all of them."""
    return plural(whole, noun) if part == whole else f"{part:,} of {plural(whole, noun)}"


def plain_cell(value: str | None) -> str:
    # Keep rows one line each and columns aligned even if a value holds a tab or newline.
    return (value or "").replace("\t", " ").replace("\n", " ")


def field_text(job: ListedJob, name: str) -> str:
    """One of LIST_FIELDS (or metadata.KEY) of a job as text: times in ISO-8601, lists
    comma-separated, objects as compact JSON as the API has them (the keys a job has, as
    `--json` shows it), nothing as the empty string."""
    head, _, rest = name.partition(".")
    value: Any = getattr(job, head)
    if rest:
        value = value.get(rest) if isinstance(value, dict) else None
    elif head in ("created_at", "finished_at", "estimated_finish"):
        return iso_time(value)
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ",".join(value)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def write_plain_table(
    jobs: Iterable[ListedJob], out: IO[str], fields: Sequence[str] = PLAIN_COLUMNS
) -> int:
    """Tab-separated rows without decoration, for `cut`, `awk` and `while read`."""
    count = 0
    for job in jobs:
        out.write("\t".join(plain_cell(field_text(job, name)) for name in fields))
        out.write("\n")
        count += 1
    return count


def write_delimited(
    jobs: Iterable[ListedJob], out: IO[str], fields: Sequence[str], delimiter: str = ","
) -> int:
    """CSV (or TSV) with a header row of field names, quoted as the csv module does; rows end
    in a newline, as the other piped outputs do."""
    import csv

    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(fields)
    count = 0
    for job in jobs:
        writer.writerow([field_text(job, name) for name in fields])
        count += 1
    return count


def middle_cut(text: str, width: int) -> str:
    """text in at most width characters, its middle replaced by an ellipsis: the ends of a model
    name say the most (gpt-4o…05-13 and gpt-4o…08-06 stay apart)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    tail = (width - 1) // 2
    return text[: width - 1 - tail] + "…" + text[len(text) - tail :]


# Room for every column of the default table: below this, finished_at and fine_tuned_model
# give way (ids and the model name matter more at a glance).
FULL_TABLE_WIDTH = 120
_TIME_WIDTH = 16  # 2024-07-23 20:00
_GAP = 2


def print_table(jobs: Sequence[ListedJob], fields: Sequence[str] | None = None) -> int:
    """A Rich table for people at a terminal, sized to it. Ids are never cut (they get copied
    into other commands); below 120 columns the finish time and the fine-tuned model give way
    (a dim line on stderr says so), and a long model name loses its middle, not its end, so
    snapshot dates stay visible."""
    from rich.table import Table
    from rich.text import Text

    out = console()
    if not jobs:
        console(stderr=True).print("No jobs.")
        return 0
    if fields is not None:
        return _print_fields_table(jobs, fields)
    wide = out.width >= FULL_TABLE_WIDTH
    id_width = max(2, *(len(job.id) for job in jobs))
    status_width = max(6, *(len(job.status) for job in jobs))
    model_width = max(5, *(len(job.model) for job in jobs))
    tuned_width = max(16, *(len(job.fine_tuned_model or "") for job in jobs))
    created_width = max(_TIME_WIDTH, *(len(short_time(job.created_at)) for job in jobs))
    finished_width = max(_TIME_WIDTH, *(len(short_time(job.finished_at)) for job in jobs))
    fixed = id_width + status_width + created_width + 3 * _GAP
    if wide:
        fixed += finished_width + 2 * _GAP
        room = max(out.width - fixed, 10)
        # The model gets what it needs (up to half the room); the fine-tuned model the rest.
        model_width = min(model_width, max(room // 2, room - tuned_width))
        tuned_width = min(tuned_width, room - model_width)
    else:
        model_width = min(model_width, max(out.width - fixed, 5))
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, _GAP // 2))
    table.add_column("ID", no_wrap=True, width=id_width)
    table.add_column("Status", no_wrap=True, width=status_width)
    table.add_column("Model", no_wrap=True, width=model_width)
    table.add_column("Created (UTC)", no_wrap=True, width=created_width)
    if wide:
        table.add_column("Finished (UTC)", no_wrap=True, width=finished_width)
        table.add_column("Fine-tuned model", no_wrap=True, width=tuned_width)
    for job in jobs:
        cells: list[Text | str] = [
            Text(job.id),
            Text(job.status, style=STATUS_STYLES.get(job.status, "")),
            Text(middle_cut(job.model, model_width)),
            short_time(job.created_at),
        ]
        if wide:
            cells += [
                short_time(job.finished_at),
                Text(middle_cut(job.fine_tuned_model or "", tuned_width)),
            ]
        table.add_row(*cells)
    out.print(table)
    if not wide:
        console(stderr=True).print(
            f"Not shown at {out.width} columns: finished, fine-tuned model"
            " (widen, or use --fields)",
            style="dim",
            highlight=False,
        )
    return len(jobs)


def _print_fields_table(jobs: Sequence[ListedJob], fields: Sequence[str]) -> int:
    """The table of the fields a person picked (--fields): each shown, long text cut in the
    middle to what the terminal leaves."""
    from rich.table import Table
    from rich.text import Text

    out = console()
    texts = [[field_text(job, name) for name in fields] for job in jobs]
    widths = [max(len(name), *(len(row[i]) for row in texts)) for i, name in enumerate(fields)]
    room = out.width - _GAP * (len(fields) - 1)
    while sum(widths) > room and max(widths) > 8:
        widest = widths.index(max(widths))
        widths[widest] -= 1
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, _GAP // 2))
    for name, width in zip(fields, widths, strict=True):
        table.add_column(name, no_wrap=True, width=width)
    for row in texts:
        table.add_row(
            *(
                Text(
                    middle_cut(text, width),
                    style=STATUS_STYLES.get(text, "") if name == "status" else "",
                )
                for name, text, width in zip(fields, row, widths, strict=True)
            )
        )
    out.print(table)
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

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, text in job_fields(job):
        if label == "trained_tokens" and text.isdigit():
            text = f"{int(text):,}"  # for reading; piped output keeps the plain number
        style = STATUS_STYLES.get(text, "") if label == "status" else ""
        style = "red" if label == "error" else style
        grid.add_row(label, Text(text, style=style))
        for note, note_style in (notes or {}).get(label, ()):
            grid.add_row("", Text(note, style=note_style))
    for label, text in more:
        grid.add_row(label, Text(text))
    renderable: RenderableType = grid
    console().print(renderable)


def write_job_plain(job: FineTuningJob, out: IO[str]) -> None:
    """One job as `label<TAB>value` lines, when stdout is not a terminal."""
    for label, text in job_fields(job):
        out.write(f"{label}\t{plain_cell(text)}\n")
