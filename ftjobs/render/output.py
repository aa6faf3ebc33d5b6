"""Where output goes and in what form: the one switch between JSON, CSV, a terminal and plain
piped text (choose_output), Rich's console, output files, and the writers of JSON texts and
tab-separated or CSV rows. Every command imports this module: it stays light."""

from __future__ import annotations

import io
import os
import shutil
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ftjobs.errors import BadInput, FtjobsError

if TYPE_CHECKING:
    from gzip import GzipFile

    from rich.console import Console


class OutputMode(Enum):
    """What a command prints on stdout: what was asked for (--json, --jsonl, --csv, --tsv),
    else a view for people at a terminal, else plain tab-separated text for a pipe."""

    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"
    TSV = "tsv"
    TERMINAL = "terminal"
    PLAIN = "plain"

    @property
    def whole_records(self) -> bool:
        """JSON and JSON Lines print whole records (--fields picks nothing there)."""
        return self in (OutputMode.JSON, OutputMode.JSONL)


def choose_output(*, stream: IO[str] | None = None, **flags: bool) -> OutputMode:
    """The output the flags a command takes ask for (json=, jsonl=, csv=, tsv=; at most one
    may be on: "choose one of --json and --csv" names them in the order given), else TERMINAL
    when stream (stdout, looked up now: a default bound at import would outlive it) is a
    terminal, else PLAIN."""
    chosen = [name for name, on in flags.items() if on]
    if len(chosen) > 1:
        raise BadInput(f"choose one of {' and '.join(f'--{name}' for name in chosen)}")
    if chosen:
        return OutputMode[chosen[0].upper()]
    return OutputMode.TERMINAL if (stream or sys.stdout).isatty() else OutputMode.PLAIN


def console(*, stderr: bool = False) -> Console:
    """Rich's Console for people at a terminal, as wide as the terminal (or COLUMNS) says even
    when TERM=dumb, where Rich on its own assumes 80 columns."""
    from rich.console import Console

    if os.environ.get("TERM", "").lower() in ("dumb", "unknown"):
        size = shutil.get_terminal_size()
        return Console(stderr=stderr, width=size.columns, height=size.lines)
    return Console(stderr=stderr)


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


def write_texts(texts: Iterable[str], out: IO[str], *, lines: bool) -> int:
    """Stored JSON texts, verbatim: one per line (JSON Lines), or one JSON array."""
    return write_job_texts(texts, "jsonl" if lines else "json", out)


def use_color() -> bool:
    """Colour only for a person at a terminal that wants it (NO_COLOR, TERM=dumb)."""
    return (
        choose_output() is OutputMode.TERMINAL
        and "NO_COLOR" not in os.environ
        and os.environ.get("TERM", "") not in ("dumb", "unknown")
    )


def plain_cell(value: str | None) -> str:
    # Keep rows one line each and columns aligned even if a value holds a tab or newline.
    return (value or "").replace("\t", " ").replace("\n", " ")


def write_plain_rows(rows: Iterable[Sequence[str]], out: IO[str]) -> int:
    """Tab-separated rows without decoration, for `cut`, `awk` and `while read`."""
    count = 0
    for cells in rows:
        out.write("\t".join(plain_cell(cell) for cell in cells))
        out.write("\n")
        count += 1
    return count


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


def terminal_columns() -> int:
    return shutil.get_terminal_size((80, 24)).columns


def terminal_rows() -> int:
    return shutil.get_terminal_size((80, 24)).lines
