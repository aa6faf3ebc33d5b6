"""ftjobs.api.history's readers of metric values take short cuts for the common cells (floats in a
result file, exact ints and floats in an event); they must read every cell as the plain rules
do."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ftjobs.api.history import MetricTable, _number, flat_metrics


def plain_number(cell: str) -> int | float | str | None:
    """The rule, written plainly: blank None, an int, else a finite float, else the text."""
    cell = cell.strip()
    if not cell:
        return None
    try:
        value = int(cell)
        return value if -(2**63) <= value < 2**63 else float(value)
    except ValueError:
        pass
    try:
        number = float(cell)
    except ValueError:
        return cell
    return number if math.isfinite(number) else cell


CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.from_regex(r"\s*[+\-]?[0-9_.eE]{0,6}(nan|inf)?\s*", fullmatch=True),
    st.text(max_size=8),
)


@settings(max_examples=400, deadline=None)
@given(CELLS)
def test_cells_read_as_the_plain_rule_reads_them(cell: str) -> None:
    got, expected = _number(cell), plain_number(cell)
    assert type(got) is type(expected) and (got == expected or got != got)


class Weird(float):
    pass


@given(
    st.dictionaries(
        st.text(max_size=4),
        st.one_of(st.integers(), st.floats(), st.booleans(), st.none(), st.text(max_size=3)),
        max_size=6,
    )
)
def test_flat_metrics_keeps_numbers_only(data: dict[str, Any]) -> None:
    nested = {"a": data, "w": Weird(1.5), "t": True}
    got = dict(flat_metrics(nested))
    expected = {
        f"a/{k}": (float(v) if isinstance(v, int) and not -(2**63) <= v < 2**63 else v)
        for k, v in data.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    assert got == {**expected, "w": 1.5}


def test_metric_table_positions_follow_columns_assigned_from_outside() -> None:
    table = MetricTable()
    table.columns = ["step", "loss", "loss"]  # a CSV may repeat a header name
    assert table.position("loss") == 1 and table.position("acc") == 3
    table.columns = ["step", "acc"]
    assert table.position("acc") == 1 and table.position("x") == 2
    assert table.columns == ["step", "acc", "x"]
