"""ftjobs.sync.transport: after the SDK's first request, GETs go straight to its httpx client. What
the server sees must not change: each request sent that way is compared, header by header, with
the one the real openai SDK sends for the same call (tests/support/fake_api.py logs both)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support.fake_api import FakeFineTuningApi
from support.remote import JOB_TEXT, event_text

from ftjobs.sync.client import FineTuningApi
from ftjobs.sync.config import ApiError, ServerError, config_from_env
from ftjobs.sync.transport import is_plain_path, retry_delay, should_retry

MODEL_ID = "ft:gpt-4o-mini-2024-07-18:my-org:custom:9rXaBcDe"
CHECKPOINT_TEXT = (
    '{"object":"fine_tuning.job.checkpoint","id":"ftckpt-1","created_at":1722000100,'
    '"fine_tuned_model_checkpoint":"ft:gpt-4o-mini:org::ckpt-step-10","step_number":10,'
    '"metrics":{"train_loss":0.5},"fine_tuning_job_id":"ftjob-exact"}'
)

CALLS: dict[str, Callable[[FineTuningApi], object]] = {
    "jobs list": lambda api: api.list_jobs(limit=5),
    "jobs list after": lambda api: api.list_jobs(after="ftjob-exact", limit=5),
    "job": lambda api: api.retrieve_job("ftjob-exact"),
    "events": lambda api: api.list_events("ftjob-exact", limit=100),
    "checkpoints": lambda api: api.list_checkpoints("ftjob-exact", after="ftckpt-1", limit=10),
    "file content": lambda api: api.file_content("file-1"),
    "file object": lambda api: api.retrieve_file("file-1"),
    "model": lambda api: api.retrieve_model(MODEL_ID),
}


def _filled(fake: FakeFineTuningApi) -> FakeFineTuningApi:
    fake.add_job(JOB_TEXT)
    fake.add_events("ftjob-exact", [event_text(1)])
    fake.add_checkpoints("ftjob-exact", [CHECKPOINT_TEXT])
    fake.files["file-1"] = b"step,train_loss\n1,0.5\n"
    fake.files_meta["file-1"] = '{"object":"file","id":"file-1","filename":"r.csv"}'
    fake.models[MODEL_ID] = f'{{"object":"model","id":"{MODEL_ID}","owned_by":"org"}}'
    return fake


@pytest.mark.parametrize("azure", [False, True], ids=["openai", "azure"])
@pytest.mark.parametrize("call", list(CALLS))
def test_direct_requests_are_the_sdks_byte_for_byte(call: str, azure: bool) -> None:
    """Each endpoint twice on a new client: the first request is built by the SDK, the second
    by ftjobs.sync.transport; method, path, query and every header must be the same (with an
    organization and a project set, so their headers are there to compare)."""
    key = "0123456789abcdef0123456789abcdef" if azure else "sk-test-0123456789abcdef"
    with _filled(FakeFineTuningApi(azure=azure, api_key=key)) as fake:
        env = {**fake.env(), "OPENAI_ORG_ID": "org-1", "OPENAI_PROJECT_ID": "proj_1"}
        with FineTuningApi(config_from_env(env)) as api:
            first = CALLS[call](api)
            assert api._template is not None  # the second goes the direct way
            second = CALLS[call](api)
        assert first == second
        by_sdk, direct = fake.requests
        assert direct == by_sdk
        assert direct.headers["x-stainless-retry-count"] == "0"
        if azure:
            assert direct.query["api-version"] == fake.api_version
            assert direct.headers["api-key"] == key and "authorization" not in direct.headers
        else:
            assert direct.headers["authorization"] == f"Bearer {key}"
            assert direct.headers["openai-project"] == "proj_1"


def test_direct_requests_retry_as_the_sdk_does() -> None:
    """A 500 then a success: retried with the attempt number in x-stainless-retry-count, as the
    SDK numbers it; after three 500s (two retries) the same ServerError as through the SDK."""
    with _filled(FakeFineTuningApi()) as fake, FineTuningApi(config_from_env(fake.env())) as api:
        api.list_jobs()
        fake.fail(500, times=1, path_contains="/events", headers={"retry-after-ms": "10"})
        assert api.list_events("ftjob-exact").items[0].text == event_text(1)
        attempts = [r for r in fake.requests if r.path.endswith("/events")]
        assert [r.headers["x-stainless-retry-count"] for r in attempts] == ["0", "1"]
        assert api.requests == 3

        fake.fail(500, times=3, path_contains="/checkpoints", headers={"retry-after-ms": "10"})
        with pytest.raises(ServerError, match=r"after 3 attempts \(HTTP 500"):
            api.list_checkpoints("ftjob-exact")


def test_odd_ids_still_go_through_the_sdk() -> None:
    """An id the SDK would refuse or encode is left to it: the same refusal as before."""
    assert is_plain_path("/fine_tuning/jobs/ftjob-abc/events")
    assert is_plain_path(f"/models/{MODEL_ID}")
    for path in ("/fine_tuning/jobs/", "/fine_tuning/jobs/..", "/files/a b", "/files/x?y=1"):
        assert not is_plain_path(path)
    with _filled(FakeFineTuningApi()) as fake, FineTuningApi(config_from_env(fake.env())) as api:
        api.list_jobs()
        with pytest.raises(ApiError, match=r"GET /fine_tuning/jobs/\.\."):
            api.retrieve_job("..")
        with pytest.raises(ApiError, match="GET /fine_tuning/jobs/"):
            api.retrieve_job("")


def test_retry_rules_are_the_sdks() -> None:
    limit = 120.0
    assert should_retry(500, {}, limit) and should_retry(429, {}, limit)
    assert should_retry(408, {}, limit) and should_retry(409, {}, limit)
    assert not should_retry(404, {}, limit) and not should_retry(400, {}, limit)
    assert not should_retry(500, {"x-should-retry": "false"}, limit)
    assert should_retry(400, {"x-should-retry": "true"}, limit)
    assert not should_retry(429, {"retry-after": "600"}, limit)  # longer than the SDK waits
    assert retry_delay(0, {"retry-after-ms": "250"}, limit) == 0.25
    for taken, most in ((0, 0.5), (1, 1.0), (2, 2.0), (9, 8.0)):
        assert most * 0.75 <= retry_delay(taken, None, limit) <= most
