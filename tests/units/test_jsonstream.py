"""ftjobs.jsonio.stream reads records across any chunk boundary, and fails cleanly on bad text."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.strategies import json_values

from ftjobs.jsonio import stream as jsonstream
from ftjobs.jsonio.stream import JsonRecords, JsonStructureError

records = st.lists(st.dictionaries(st.text(max_size=5), json_values, max_size=4), max_size=8)


def read(text: str | bytes) -> list[tuple[str, Any]]:
    data = text.encode() if isinstance(text, str) else text
    return list(JsonRecords(io.BytesIO(data)))


@settings(max_examples=150, deadline=None)
@given(values=records, chunk=st.integers(1, 40), indent=st.sampled_from([None, 0, 2]))
def test_every_layout_reads_back_the_same_records_whatever_the_chunk_size(
    values: list[dict[str, Any]], chunk: int, indent: int | None
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonstream, "CHUNK_CHARS", chunk)
        array = read(json.dumps(values, indent=indent))
        envelope = read(json.dumps({"data": values, "object": "list"}, indent=indent))
        pages = read(json.dumps({"object": "list", "data": values}) + "\n" + json.dumps(values))
    assert array == [(f"[{i}]", value) for i, value in enumerate(values)]
    assert envelope == [(f"data[{i}]", value) for i, value in enumerate(values)]
    assert [value for _, value in pages] == values + values


def test_objects_that_are_not_envelopes_come_whole() -> None:
    job = {"id": "ftjob-1", "data": [1, 2], "object": "fine_tuning.job"}
    assert read(json.dumps(job) + " " + json.dumps({})) == [("1", job), ("2", {})]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[1, 2", JsonStructureError),
        ('[{"a": tru', JsonStructureError),
        ('[{"a": 1, "b": nul, "c": 3}, {"d": 4}]', json.JSONDecodeError),
        ('[{"a": 1} {"b": 2}]', JsonStructureError),
        ("[NaN]", ValueError),
        ("[" * 100_000 + "]" * 100_000, RecursionError),
        (b'["\xff"]', UnicodeDecodeError),
        ("42", JsonStructureError),
        ('{"a" 1}', JsonStructureError),
    ],
)
def test_bad_text_raises_without_eating_memory(text: str | bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        read(text)


# The first compact_json, by re.sub: the one to agree with, on any text at all.
_SUB_REFERENCE = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")|[ \t\n\r]+', re.DOTALL)


@settings(max_examples=500)
@given(st.text(alphabet='"\\ \t\n\rab{}[]:,1.e-\u00e9\u2028', max_size=60))
def test_compact_json_drops_exactly_what_the_sub_form_drops(text: str) -> None:
    assert jsonstream.compact_json(text) == _SUB_REFERENCE.sub(r"\1", text)


@given(json_values)
def test_compact_json_of_indented_json_is_the_compact_encoding(value: Any) -> None:
    indented = json.dumps(value, indent=2, ensure_ascii=False)
    assert jsonstream.compact_json(indented) == json.dumps(
        value, separators=(",", ":"), ensure_ascii=False
    )


@settings(max_examples=300)
@given(
    st.text(alphabet='"\\ \t\n\rab{}[]:,1.e-\u00e9\x00', max_size=40)
    | st.text(alphabet='" \t\nab{}[]:,1', max_size=60)
)
def test_compact_json_short_cuts_drop_what_the_tokens_drop(text: str) -> None:
    """compact_json's short cuts (already compact; no backslash) on any text, even text that
    is not JSON (quotes that do not pair, NUL bytes): what the token path gives."""
    assert jsonstream.compact_json(text) == "".join(jsonstream._KEPT.findall(text))


@settings(max_examples=150)
@given(
    json_values,
    st.sampled_from([None, 0, 2]),
    st.booleans(),
    st.sampled_from([(", ", ": "), (",", ":"), (" , ", " : ")]),
)
def test_compact_json_of_any_layout_is_the_compact_encoding(
    value: Any, indent: int | None, ascii_only: bool, separators: tuple[str, str]
) -> None:
    laid_out = json.dumps(value, indent=indent, ensure_ascii=ascii_only, separators=separators)
    compact = json.dumps(value, separators=(",", ":"), ensure_ascii=ascii_only)
    assert jsonstream.compact_json(f" \n{laid_out}\r\n") == compact


# -- reindent_json: show --json of a job kept as its provider sent it --------------------------


@settings(max_examples=200)
@given(json_values, st.sampled_from([1, 2, 4]))
def test_reindent_json_lays_out_compact_text_as_json_and_pydantic_core_do(
    value: Any, indent: int
) -> None:
    from pydantic_core import to_json

    compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    expected = json.dumps(value, indent=indent, ensure_ascii=False)
    assert jsonstream.reindent_json(compact, indent) == expected
    # and any layout of the same text (an API's, already indented) the same way
    assert jsonstream.reindent_json(json.dumps(value, indent=3), indent) == json.dumps(
        value, indent=indent
    )
    if indent == 2:
        assert (
            jsonstream.reindent_json(to_json(value).decode()) == to_json(value, indent=2).decode()
        )


def test_reindent_json_keeps_key_order_number_spellings_and_escapes() -> None:
    text = (
        '{"z":1.805623287509661e-5,"a":{},"step":240.0,"e":[],"n":[1E+2,-0],'
        '"s":"a \\"quoted\\" \\u00e9 \\\\ {[,:]}","t":true,"f":null}'
    )
    assert jsonstream.reindent_json(text) == (
        "{\n"
        '  "z": 1.805623287509661e-5,\n'
        '  "a": {},\n'
        '  "step": 240.0,\n'
        '  "e": [],\n'
        '  "n": [\n'
        "    1E+2,\n"
        "    -0\n"
        "  ],\n"
        '  "s": "a \\"quoted\\" \\u00e9 \\\\ {[,:]}",\n'
        '  "t": true,\n'
        '  "f": null\n'
        "}"
    )
    assert jsonstream.compact_json(jsonstream.reindent_json(text)) == text
