"""JSON text from the standard library where it is pydantic-core's, byte for byte: the read path
prints small outputs without importing pydantic-core (ftjobs.jsonio.text.JsonCodec)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic_core import from_json, to_json
from support.strategies import text

from ftjobs.jsonio.text import _MAY_DIFFER, JsonCodec, _stdlib_dumps

floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [1e-4, 9.999e-5, 1e-5, 1.5e-5, 1e-6, 2.5e-7, 1e-300, 5e-324, 1e15, 1e16, 1.5e17, 1e22, -0.0]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | text
    | st.text(st.characters(codec="utf-8", categories=("Cc", "Zl", "Zp", "Cf", "Ll")), max_size=6)
    | floats
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150)
@given(values, st.sampled_from([None, 2]))
@example(1e-05, None)
@example({"learning_rate_multiplier": 1.5e-07, "note": "file-abc 1e-5"}, 2)
@example(float("nan"), None)
def test_the_standard_library_path_writes_pydantic_cores_text(
    value: Any, indent: int | None
) -> None:
    assert _stdlib_dumps(value, indent) == to_json(value, indent=indent).decode()


@settings(max_examples=150)
@given(values)
def test_json_and_pydantic_core_agree_wherever_the_shortcut_is_taken(value: Any) -> None:
    """The property the shortcut rests on: when json's text has none of the forms that differ,
    it is pydantic-core's text."""
    plain = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if not _MAY_DIFFER.search(plain):
        assert plain == to_json(value).decode()


@pytest.mark.parametrize(
    ("value", "pydantic_core_text"),
    [(1e-05, "0.00001"), (1.5e-07, "1.5e-7"), (float("inf"), "Infinity"), (2.0, "2.0")],
)
def test_the_forms_that_differ_are_written_as_pydantic_core_writes_them(
    value: float, pydantic_core_text: str
) -> None:
    assert _stdlib_dumps([value], None) == f"[{pydantic_core_text}]"


def test_a_codec_moves_to_pydantic_core_after_a_few_values_and_writes_the_same() -> None:
    codec = JsonCodec(switch_after=3)
    data = [{"id": f"ftjob-{n}", "lr": 1e-5 * n, "tags": ["é", "\x00"]} for n in range(6)]
    assert [codec.dumps(item) for item in data] == [to_json(item).decode() for item in data]
    assert codec.loads is from_json
    assert JsonCodec().loads is json.loads
    assert JsonCodec(switch_after=0).loads is from_json
