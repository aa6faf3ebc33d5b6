"""A job's events: a log for people, tab-separated lines for scripts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING

from ftjobs.api.times import iso_time
from ftjobs.render.cells import printable, second_time
from ftjobs.render.output import console, plain_cell

if TYPE_CHECKING:
    from ftjobs.store.records import StoredEvent

LEVEL_STYLES = {"warn": "yellow", "warning": "yellow", "error": "bold red"}


def write_events_plain(events: Iterable[StoredEvent], out: IO[str]) -> None:
    """created_at (ISO), level, type, message: tab-separated, one event a line."""
    for event in events:
        cells = (iso_time(event.created_at), event.level, event.type, event.message)
        out.write("\t".join(plain_cell(cell) for cell in cells))
        out.write("\n")


def event_cells(event: StoredEvent) -> list[str]:
    """An event's cells as people read them: time to the second, level, type, message."""
    return [second_time(event.created_at), printable(event.level), printable(event.type),
            printable(event.message)]  # fmt: skip


def print_events(events: Sequence[StoredEvent], *, header: bool = True, log: bool = False) -> None:
    """A log for people: time, level (warn yellow, error red), type, and the message wrapped
    between words. A word no message line can hold whole (a fine-tuned model's name in
    "New fine-tuned model created: ...") is never split: the type gives way first, and
    failing that each event is its time, level and type on a line and its message under it.
    header=False: more lines of a log already begun; log: always each event as lines (events
    --follow: batches printed apart line up)."""
    from rich.padding import Padding
    from rich.text import Text

    from ftjobs.render.tables import Column, GappedTable, fit_columns, hidden_note

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
