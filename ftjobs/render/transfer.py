"""What import and export say on stderr: import's progress bars and report, what a full export
wrote."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from ftjobs.render.cells import plural
from ftjobs.render.output import console

if TYPE_CHECKING:
    from ftjobs.api.batches import Problems
    from ftjobs.store import ImportCounts


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


def _of(part: int, whole: int, noun: str) -> str:
    """300 jobs, or 0 of 300 jobs when not all of them."""
    return plural(whole, noun) if part == whole else f"{part:,} of {plural(whole, noun)}"
