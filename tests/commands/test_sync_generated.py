"""Events and checkpoints generated from the published schema (SPEC_SCHEMAS), served by a real
HTTP server and synced by the real CLI: whatever the spec allows (any integer time, any string,
any metrics object, optional keys absent, keys in any order) is archived, each item's text as
sent, and at worst warned about: never refused, never costing its list.

(hypothesis-jsonschema 0.23.1, the last release, fails on hypothesis 6.170's internals, so
the schema is read by the small generator below: the types these two schemas use.)"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.fake_api import FakeFineTuningApi
from support.helpers import SPEC_SCHEMAS, Cli
from support.sync import OPENAI_ENV, stored_checkpoints, stored_events
from support.syncdata import job_text

from ftjobs.jsonio.stream import compact_json

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


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=events_lists, checkpoints=checkpoint_lists)
def test_every_item_the_spec_allows_is_archived_as_sent(
    tmp_path_factory: Any, events: list[dict[str, Any]], checkpoints: list[dict[str, Any]]
) -> None:
    db = tmp_path_factory.mktemp("generated") / "jobs.db"
    with FakeFineTuningApi(page_cap=3) as fake:
        job_id = fake.add_job(job_text(1, "running"))
        event_texts = [json.dumps(event, ensure_ascii=False) for event in events]
        checkpoint_texts = [json.dumps(checkpoint) for checkpoint in checkpoints]
        fake.add_events(job_id, event_texts)
        fake.add_checkpoints(job_id, checkpoint_texts)
        result = Cli(db)("sync", "--timeout", "2", env={**OPENAI_ENV, **fake.env()})
    assert result.exit_code == 0, result.stderr
    assert "Gap:" not in result.stderr and "Error:" not in result.stderr
    assert sorted(stored_events(db, job_id)) == sorted(map(compact_json, event_texts))
    assert stored_checkpoints(db, job_id) == sorted(map(compact_json, checkpoint_texts))
    cli = Cli(db)
    assert cli.ok("events", job_id, "--jsonl").stdout.count("\n") == len(events)
    cli.ok("checkpoints", job_id)
    cli.ok("metrics", job_id, "--json")
