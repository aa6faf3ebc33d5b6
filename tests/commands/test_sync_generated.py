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
from support.fake_api import FakeFineTuningApi
from support.helpers import Cli
from support.spec_strategies import checkpoint_lists, events_lists
from support.sync import OPENAI_ENV, stored_checkpoints, stored_events
from support.syncdata import job_text

from ftjobs.jsonio.stream import compact_json


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
