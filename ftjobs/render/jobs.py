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
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ftjobs.api.times import iso_time
from ftjobs.errors import FtjobsError

if TYPE_CHECKING:
    from gzip import GzipFile

    from rich.console import Console, RenderableType
    from rich.text import Text

    from ftjobs.api.batches import Problems
    from ftjobs.api.models import FineTuningJob
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
    if other_records:  # a full export's (ftjobs.api.archive)
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
    from ftjobs.api.archive import COUNTED

    jobs = plural(counts.get("job", 0), "job")
    rest = [plural(counts[kind], noun) for kind, noun in COUNTED.items() if kind != "job"
            and counts.get(kind)]  # fmt: skip
    return f"{jobs} with {', '.join(rest)}" if rest else jobs


def plural(count: int, noun: str) -> str:
    """1 job, 2 jobs, 1,234 jobs."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def deletion_question(jobs: int, history: Mapping[str, int]) -> str:
    """What delete asks: "Delete 2 jobs and their 500 events, 6 checkpoints, 2 result files?"
    (a history there is none of left out)."""
    parts = [plural(count, noun.removesuffix("s")) for noun, count in history.items() if count]
    if not parts:
        return f"Delete {plural(jobs, 'job')}?"
    return f"Delete {plural(jobs, 'job')} and {'its' if jobs == 1 else 'their'} {', '.join(parts)}?"


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
    return value_text(value, time=not rest and head in _JOB_TIMES)


_JOB_TIMES = frozenset({"created_at", "finished_at", "estimated_finish"})


def value_text(value: Any, *, time: bool = False) -> str:
    """A value of a field as one cell: a time (time=True, Unix seconds) in ISO-8601, a list of
    strings comma-separated, an object as compact JSON, nothing as the empty string."""
    if time and (value is None or (isinstance(value, int) and not isinstance(value, bool))):
        return iso_time(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ",".join(value)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def record_field_text(record: Mapping[str, Any], name: str) -> str:
    """A field of a stored API object (an event, a checkpoint) as text, as field_text gives a
    job's: name is a key or KEY.SUBKEY (data.step, metrics.train_loss)."""
    head, _, rest = name.partition(".")
    value = record.get(head)
    if rest:
        value = value.get(rest) if isinstance(value, dict) else None
    return value_text(value, time=not rest and head == "created_at")


def write_plain_rows(rows: Iterable[Sequence[str]], out: IO[str]) -> int:
    """Tab-separated rows without decoration, for `cut`, `awk` and `while read`."""
    count = 0
    for cells in rows:
        out.write("\t".join(plain_cell(cell) for cell in cells))
        out.write("\n")
        count += 1
    return count


def write_jobs(
    jobs: Iterable[ListedJob],
    out: IO[str],
    fields: Sequence[str] = PLAIN_COLUMNS,
    delimiter: str | None = None,
) -> int:
    """Jobs as rows of the fields: see write_rows."""
    return write_rows(([field_text(job, name) for name in fields] for job in jobs), out, fields,
                      delimiter)  # fmt: skip


def write_rows(
    rows: Iterable[Sequence[str]], out: IO[str], fields: Sequence[str], delimiter: str | None
) -> int:
    """Records' cells as piped output: tab-separated lines (delimiter None), or CSV or TSV
    with a header row of the fields; returns how many rows were written."""
    if delimiter is None:
        return write_plain_rows(rows, out)
    return write_delimited(rows, out, fields, delimiter)


def write_delimited(
    rows: Iterable[Sequence[str]], out: IO[str], fields: Sequence[str], delimiter: str = ","
) -> int:
    """CSV (or TSV) with a header row of field names, quoted as the csv module does; rows end
    in a newline, as the other piped outputs do."""
    import csv

    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(fields)
    count = 0
    for cells in rows:
        writer.writerow(cells)
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


# -- fitting a table to the terminal ----------------------------------------------------------

# Values people copy into other commands: a table never cuts or folds them. Where they cannot
# fit whole, other columns give way, and failing that the records are shown as lines.
WHOLE_FIELDS = frozenset(
    {"id", "fine_tuned_model", "fine_tuned_model_checkpoint", "fine_tuning_job_id"}
)
# Prose: a table wraps it between words (each kept whole) rather than cut it.
PROSE_FIELDS = frozenset({"message", "error.message"})
_TIME_WIDTH = 16  # 2024-07-23 20:00
_GAP = 2
_LEAST = 8  # a column that may be cut keeps at least this much


@dataclass(frozen=True)
class Column:
    """A column as fit_columns sees it: the width its widest cell needs; the narrowest it may
    be made before another column gives way (least; None: its width) and once none can (last;
    None: least); and when it gives way itself (drop: 0 never; 1 first, then 2, ...). A value
    people copy has neither least nor last: it is never cut."""

    label: str
    width: int
    least: int | None = None
    drop: int = 0
    last: int | None = None


def fit_columns(columns: Sequence[Column], room: int, gap: int = _GAP) -> list[int | None] | None:
    """Widths for the columns in room characters (None: the column gives way), or None when
    even the columns that never give way, cut as far as they may be, do not fit: then the
    caller shows records as lines instead of cutting a value people copy."""
    shown = list(range(len(columns)))
    order = sorted((c.drop, i) for i, c in enumerate(columns) if c.drop)
    lows = {i: c.width if c.least is None else c.least for i, c in enumerate(columns)}

    def fits(indices: list[int]) -> bool:
        return room - sum(lows[i] for i in indices) - gap * (len(indices) - 1) >= 0

    dropped: list[int] = []
    while not fits(shown):
        if order:
            dropped.append(order.pop(0)[1])
            shown.remove(dropped[-1])
            continue
        lows = {i: _or(columns[i].last, low) for i, low in lows.items()}
        if not fits(shown):
            return None
        break
    for i in dropped[:-1]:  # one that gave way early may fit beside the rest after all
        if fits(sorted([*shown, i])):
            shown = sorted([*shown, i])
    widths = {i: columns[i].width for i in shown}
    spare = room - sum(widths.values()) - gap * (len(shown) - 1)
    while spare < 0:  # cut the widest column that may still be cut, a step at a time
        widest = max((i for i in shown if widths[i] > lows[i]), key=widths.__getitem__)
        widths[widest] -= 1
        spare += 1
    return [widths.get(i) for i in range(len(columns))]


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def hidden_note(columns: int, hidden: Sequence[str]) -> None:
    """The dim line on stderr that says which columns gave way at this width."""
    if hidden:
        console(stderr=True).print(
            f"Not shown at {columns} columns: {', '.join(hidden)} (widen, or use --fields)",
            style="dim",
            highlight=False,
        )


def print_records(records: Sequence[Sequence[tuple[str, Text]]]) -> None:
    """Records as "label: value" lines, a blank line between them, for when a table cannot show
    every value people copy whole: a value that does not fit beside its label goes on the line
    under it, and is never folded (a value wider than the terminal is left for it to wrap)."""
    from rich.padding import Padding
    from rich.text import Text

    out = console()
    width = out.width
    for number, record in enumerate(records):
        if number:
            out.print()
        for label, text in record:
            if not label:  # a note under the line before
                out.print(Text.assemble("  ", text), soft_wrap=True)
                continue
            head = Text(f"{label}:", style="bold")
            if len(label) + 2 + text.cell_len <= width and "\n" not in text.plain:
                out.print(Text.assemble(head, " ", text), soft_wrap=True)
                continue
            out.print(head, soft_wrap=True)
            longest = max((len(word) for word in text.plain.split()), default=0)
            if longest + 2 <= width:  # indented, wrapped between words
                out.print(Padding(text, (0, 0, 0, 2)))
            else:  # a word wider than the terminal: left whole for it to wrap
                out.print(text, soft_wrap=True)


def _record(fields: Sequence[str], cells: Sequence[str]) -> list[tuple[str, Text]]:
    """A record's cells as print_records takes them: (field, text), a status in its colour."""
    from rich.text import Text

    return [
        (name, Text(text, style=_style(name, text)))
        for name, text in zip(fields, cells, strict=True)
    ]


def _style(name: str, text: str) -> str:
    return STATUS_STYLES.get(text, "") if name == "status" else ""


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
            [_record(PLAIN_COLUMNS, [field_text(job, n) for n in PLAIN_COLUMNS]) for job in jobs]
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


class GappedTable:
    """A Rich table whose columns are exactly the widths fit_columns gave them, _GAP apart, in
    every Rich version: before Rich 15, padded columns with pad_edge=False came out a space wider
    each than the widths asked for, so a table fitted to the terminal overflowed and Rich cut
    values people copy. The gaps are columns of their own here, and nothing is padded."""

    def __init__(self, *, show_header: bool = True) -> None:
        from rich.table import Table

        self.table = Table(
            box=None, header_style="bold", pad_edge=False, padding=0, show_header=show_header
        )
        self._columns = 0

    def add_column(self, label: str, **options: Any) -> None:
        if self._columns:
            self.table.add_column("", width=_GAP, no_wrap=True)
        self.table.add_column(label, **options)
        self._columns += 1

    def add_row(self, *cells: Any) -> None:
        spaced: list[Any] = []
        for cell in cells:
            if spaced:
                spaced.append("")
            spaced.append(cell)
        self.table.add_row(*spaced)


def print_fields_table(
    fields: Sequence[str], rows: Sequence[Sequence[str]], *, header: bool = True
) -> int:
    """The table of the fields a person picked (--fields): each shown; long text cut in the
    middle to what the terminal leaves, prose (a message) wrapped between its words, but never
    a value people copy (WHOLE_FIELDS, or a word of the prose: an id in "Created fine-tuning
    job: ftjob-..."): where those cannot fit, each record is shown as "field: value" lines.
    header=False: more rows of a table already begun (events --follow)."""
    from rich.text import Text

    out = console()
    needs = [max(len(name), *(len(row[i]) for row in rows)) for i, name in enumerate(fields)]
    columns = []
    for i, (name, need) in enumerate(zip(fields, needs, strict=True)):
        if name in PROSE_FIELDS:
            words = max((len(word) for row in rows for word in row[i].split()), default=0)
            columns.append(Column(name, need, least=max(min(need, _LEAST), words)))
        else:
            least = None if name in WHOLE_FIELDS else min(need, _LEAST)
            columns.append(Column(name, need, least=least))
    widths = fit_columns(columns, out.width)
    if widths is None:
        print_records([_record(fields, row) for row in rows])
        return len(rows)
    table = GappedTable(show_header=header)
    for name, width in zip(fields, widths, strict=True):
        prose = name in PROSE_FIELDS
        table.add_column(name, no_wrap=not prose, overflow="fold", width=width)
    for row in rows:
        table.add_row(
            *(
                Text(
                    text if name in PROSE_FIELDS else middle_cut(text, width or 0),
                    style=_style(name, text),
                )
                for name, text, width in zip(fields, row, widths, strict=True)
            )
        )
    out.print(table.table)
    return len(rows)


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
