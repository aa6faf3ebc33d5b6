"""Showing how two jobs differ: a table for people (values whole: ids and model names are
copied into other commands), tab-separated lines when piped, or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO, Any

from ftjobs.api.diff import Difference, duration_text
from ftjobs.render.output import console, plain_cell

# Field column, two value columns, and the gaps between them (two spaces each).
_GAPS = 4


def plain_value(value: Any) -> str:
    """A value as the piped lines spell it: text as is, numbers and booleans as JSON does,
    nothing as the empty string."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _shown(field: str, value: Any) -> str:
    """A value for people: the duration as 3m 20s, token counts with separators."""
    if value is None:
        return "-"
    if field == "duration" and isinstance(value, int):
        return duration_text(value)
    if field == "trained_tokens" and isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return plain_value(value)


def write_plain(found: Sequence[Difference], out: IO[str]) -> None:
    """field, A's value, B's value: tab-separated, one field a line (duration in seconds)."""
    for one in found:
        cells = (one.field, plain_value(one.a), plain_value(one.b))
        out.write("\t".join(plain_cell(cell) for cell in cells) + "\n")


def write_json(a: str, b: str, found: Sequence[Difference], out: IO[str]) -> None:
    """{"a": id, "b": id, "differences": [{"field", "a", "b"}, ...]}; values as JSON values
    (a field a job lacks is null; duration in seconds)."""
    document = {
        "a": a,
        "b": b,
        "differences": [{"field": d.field, "a": d.a, "b": d.b} for d in found],
    }
    out.write(json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n")


def _longest_word(texts: Sequence[str]) -> int:
    return max((len(word) for text in texts for word in text.split()), default=0)


def print_differences(a: str, b: str, found: Sequence[Difference]) -> None:
    """A table (field, A, B) when every id, name and word fits whole beside the others; on a
    narrower terminal each field with A's and B's values under it. Prose (an error message)
    wraps between words; nothing else is cut."""
    from rich.table import Table
    from rich.text import Text

    out = console()
    rows = [(d.field, _shown(d.field, d.a), _shown(d.field, d.b)) for d in found]
    field_width = max(len("Field"), *(len(field) for field, _, _ in rows))
    a_width = max(len(a), _longest_word([text for _, text, _ in rows]))
    b_width = max(len(b), _longest_word([text for _, _, text in rows]))
    if field_width + a_width + b_width + _GAPS <= out.width:
        table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 2, 0, 0))
        table.add_column("Field", no_wrap=True, style="bold")
        table.add_column(Text(a), min_width=a_width, overflow="fold")
        table.add_column(Text(b), min_width=b_width, overflow="fold")
        for field, text_a, text_b in rows:
            table.add_row(field, Text(text_a), Text(text_b))
        out.print(table)
        return
    out.print(_stacked([("A", a), ("B", b)]))
    for field, text_a, text_b in rows:
        out.print(Text(field, style="bold"))
        out.print(_stacked([("  A", text_a), ("  B", text_b)]))


def _stacked(rows: Sequence[tuple[str, str]]) -> Any:
    """Label and value lines, the value wrapping between words under itself."""
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for label, text in rows:
        grid.add_row(label, Text(text))
    return grid
