"""Hypothesis strategies read from the published schema (SPEC_SCHEMAS): events and checkpoints
with whatever the spec allows (any integer time, any string, any metrics object, optional keys
absent, keys in any order). hypothesis-jsonschema 0.23.1, the last release, fails on
hypothesis 6.170's internals, so the schema is read by the small generator below: the types
these two schemas use."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from .helpers import SPEC_SCHEMAS

_SCHEMAS = json.loads(SPEC_SCHEMAS.read_text(encoding="utf-8"))["components"]["schemas"]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


def from_spec(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values a JSON schema allows, for the keywords the fine-tuning schemas use."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        return st.text(max_size=12)
    if kind == "integer":  # no minimum, no maximum: negative and beyond 64 bits too
        return st.integers() | st.integers(min_value=-(2**70), max_value=2**70)
    if kind == "number":
        return st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    if kind == "object":
        properties = schema.get("properties")
        if not properties:
            return st.dictionaries(st.text(max_size=6), _JSON, max_size=4)
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {name: from_spec(sub) for name, sub in properties.items() if name in required},
            optional={
                name: from_spec(sub) for name, sub in properties.items() if name not in required
            },
        ).flatmap(lambda value: st.permutations(list(value.items())).map(dict))
    return _JSON


def _item(name: str, id_pattern: str) -> st.SearchStrategy[dict[str, Any]]:
    """Objects the schema allows, with a non-empty id (an id is what an archive keys by)."""
    schema = {k: v for k, v in _SCHEMAS[name].items() if not k.startswith("x-")}
    schema["properties"] = {**schema["properties"], "id": {"type": "string"}}
    ids = st.from_regex(id_pattern, fullmatch=True)
    return st.tuples(from_spec(schema), ids).map(lambda pair: {**pair[0], "id": pair[1]})


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list({item["id"]: item for item in items}.values())


events_lists = st.lists(_item("FineTuningJobEvent", r"^ftevent-[a-z0-9]{1,8}$"), max_size=8).map(
    _unique
)
checkpoint_lists = st.lists(
    _item("FineTuningJobCheckpoint", r"^ftckpt_[a-z0-9]{1,8}$"), max_size=5
).map(_unique)
