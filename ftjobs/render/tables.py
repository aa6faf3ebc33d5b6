"""Fitting tables to the terminal: which columns give way, which values are never cut, and
records shown as lines where even those cannot fit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ftjobs.render.output import console

if TYPE_CHECKING:
    from rich.text import Text


STATUS_STYLES = {
    "validating_files": "cyan",
    "queued": "cyan",
    "running": "yellow",
    "paused": "magenta",
    "succeeded": "green",
    "failed": "bold red",
    "cancelled": "dim",
}


def middle_cut(text: str, width: int) -> str:
    """text in at most width characters, its middle replaced by an ellipsis: the ends of a model
    name say the most (gpt-4o…05-13 and gpt-4o…08-06 stay apart)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    tail = (width - 1) // 2
    return text[: width - 1 - tail] + "…" + text[len(text) - tail :]


# Values people copy into other commands: a table never cuts or folds them. Where they cannot
# fit whole, other columns give way, and failing that the records are shown as lines.
WHOLE_FIELDS = frozenset(
    {"id", "fine_tuned_model", "fine_tuned_model_checkpoint", "fine_tuning_job_id"}
)
# Prose: a table wraps it between words (each kept whole) rather than cut it.
PROSE_FIELDS = frozenset({"message", "error.message"})
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


def record_cells(fields: Sequence[str], cells: Sequence[str]) -> list[tuple[str, Text]]:
    """A record's cells as print_records takes them: (field, text), a status in its colour."""
    from rich.text import Text

    return [
        (name, Text(text, style=_style(name, text)))
        for name, text in zip(fields, cells, strict=True)
    ]


def _style(name: str, text: str) -> str:
    return STATUS_STYLES.get(text, "") if name == "status" else ""


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
        print_records([record_cells(fields, row) for row in rows])
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
