"""ftjobs.sync.client against a real HTTP server (tests/support/fake_api.py) through the real
openai SDK."""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.fake_api import FakeFineTuningApi, reindent
from support.remote import JOB_TEXT, event_text
from support.strategies import json_values

from ftjobs.errors import FtjobsError
from ftjobs.jsonio.stream import compact_json, split_list_body
from ftjobs.sync.client import FineTuningApi
from ftjobs.sync.config import (
    ApiConfig,
    ApiError,
    AuthenticationFailed,
    MalformedResponse,
    NotFoundError,
    PermissionDenied,
    RateLimited,
    ServerError,
    Unreachable,
    config_from_env,
    redact,
)
from ftjobs.sync.ratelimit import retry_after_seconds


def job_text(n: int, created_at: int | None = None) -> str:
    created = 1_700_000_000 + n if created_at is None else created_at
    return (
        f'{{"object":"fine_tuning.job","id":"ftjob-{n:03d}","created_at":{created},'
        f'"status":"running","hyperparameters":{{"learning_rate_multiplier":0.{n}5}}}}'
    )


def checkpoint_text(n: int) -> str:
    return (
        f'{{"object":"fine_tuning.job.checkpoint","id":"ftckpt_{n:03d}","created_at":{n},'
        f'"fine_tuned_model_checkpoint":"ft:gpt-4o-mini:org::abc:ckpt-step-{n}",'
        f'"fine_tuning_job_id":"ftjob-exact","step_number":{n},'
        f'"metrics":{{"step":{n}.0,"train_loss":0.25}}}}'
    )


@pytest.fixture
def fake() -> Iterator[FakeFineTuningApi]:
    with FakeFineTuningApi() as server:
        yield server


def make_api(fake: FakeFineTuningApi, **kwargs: object) -> FineTuningApi:
    return FineTuningApi(config_from_env(fake.env()), **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- raw JSON helpers --------------------------------------------------------------------------
def test_compact_json_drops_space_between_tokens_only() -> None:
    pretty = reindent(JOB_TEXT)
    assert "\n  " in pretty
    assert compact_json(pretty) == JOB_TEXT
    assert compact_json('{ "a" : [ 1 , 2.50 ] ,\n\t"b c" : "x  y\\" z" }') == (
        '{"a":[1,2.50],"b c":"x  y\\" z"}'
    )
    assert compact_json('"\\\\"  ') == '"\\\\"'


@settings(max_examples=200, deadline=None)
@given(value=json_values, indent=st.sampled_from([None, 0, 2, "\t", " \r\n "]), ascii=st.booleans())
def test_compact_json_of_any_layout_is_the_compact_encoding(
    value: object, indent: int | str | None, ascii: bool
) -> None:
    written = json.dumps(value, indent=indent, ensure_ascii=ascii)
    assert compact_json(written) == json.dumps(value, separators=(",", ":"), ensure_ascii=ascii)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=' \t\n\r"\\ab{}:,1\u00a0\x0b\u2028', max_size=40))
def test_compact_json_drops_json_white_space_outside_strings_whatever_the_text(text: str) -> None:
    """Even in text that is not JSON: what the earlier re.sub did, character for character."""
    string_or_space = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")|[ \t\n\r]+', re.DOTALL)
    assert compact_json(text) == string_or_space.sub(r"\1", text)


def test_split_list_body_cuts_elements_as_written() -> None:
    body = '{ "object": "list", "data": [ {"id": "a", "x": 1.0} ,{"id":"b"} ], "has_more": false }'
    envelope, texts = split_list_body(body)
    assert texts == ['{"id": "a", "x": 1.0}', '{"id":"b"}']
    assert envelope == {
        "object": "list",
        "data": [{"id": "a", "x": 1.0}, {"id": "b"}],
        "has_more": False,
    }
    assert split_list_body('{"data":[]}') == ({"data": []}, [])
    # The last `data` wins, as in json.loads.
    assert split_list_body('{"data":[1],"data":[2, 3]}')[1] == ["2", "3"]
    for bad in ['{"data": 1}', '{"object":"list"}', "[]", '{"data":[1,]}', '{"data":[]} x', ""]:
        with pytest.raises(ValueError):
            split_list_body(bad)


@pytest.mark.parametrize(
    "body",
    [
        '{"data": null, "data": [1]}',
        '{"data": [1], "data": null}',
        '{"id": "page-1", "data": [1, {"a": NaN}], "has_more": true}',
        '{"data": [{"data": [2]}], "object": "list"}',
        '{"data": [1]} {"data": [2]}',
        '{"data": [1]}\n',
    ],
)
def test_split_list_body_reads_as_json_loads_does(body: str) -> None:
    """The scanner files use, cutting a list body: the same envelope json.loads gives for one
    document (a repeated key: the last wins; NaN as a provider may send it), or ValueError where
    json.loads fails or the data is no array."""
    try:
        expected = json.loads(body)
    except ValueError:
        expected = None
    if not isinstance(expected, dict) or not isinstance(expected.get("data"), list):
        with pytest.raises(ValueError):
            split_list_body(body)
        return
    envelope, texts = split_list_body(body)
    assert json.dumps(envelope, sort_keys=True) == json.dumps(expected, sort_keys=True)
    assert [json.dumps(json.loads(text)) for text in texts] == [
        json.dumps(item) for item in expected["data"]
    ]


def test_redact_keeps_at_most_the_last_four_characters() -> None:
    key = "sk-proj-abcdefghijklmnopWXYZ"
    text = f"bad key {key}; Incorrect API key provided: sk-proj-********************WXYZ."
    out = redact(text, key)
    assert "WXYZ" in out
    assert "sk-proj" not in out
    assert not any(key[i : i + 5] in out for i in range(len(key) - 4))


def test_retry_after_seconds_reads_ms_seconds_and_dates() -> None:
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after_seconds({"Retry-After": "2"}) == 2.0
    assert retry_after_seconds({}) is None
    assert retry_after_seconds({"retry-after": "soon"}) is None
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 300))
    seconds = retry_after_seconds({"retry-after": date})
    assert seconds is not None and 290 < seconds <= 300


# ---- configuration -----------------------------------------------------------------------------
def test_config_from_env_openai() -> None:
    config = config_from_env(
        {
            "OPENAI_API_KEY": "sk-secret-0123456789ABCD",
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
            "OPENAI_ORG_ID": "org-1",
            "OPENAI_PROJECT_ID": "proj_1",
            "AZURE_OPENAI_ENDPOINT": "https://ignored.example",
        }
    )
    assert not config.azure
    assert (config.base_url, config.organization, config.project) == (
        "http://127.0.0.1:9/v1",
        "org-1",
        "proj_1",
    )
    assert "sk-secret" not in repr(config) and "ABCD" not in repr(config)
    assert config.key_hint == "key ending ...ABCD"


def test_config_from_env_azure() -> None:
    env = {
        "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com",
        "AZURE_OPENAI_API_KEY": "0123456789abcdef",
        "OPENAI_API_VERSION": "2024-10-21",
    }
    config = config_from_env(env)
    assert config.azure and config.api_version == "2024-10-21"
    assert config.key_variable == "AZURE_OPENAI_API_KEY"
    with pytest.raises(FtjobsError, match="OPENAI_API_VERSION"):
        config_from_env({k: v for k, v in env.items() if k != "OPENAI_API_VERSION"})
    with pytest.raises(FtjobsError, match="AZURE_OPENAI_API_KEY"):
        config_from_env({k: v for k, v in env.items() if k != "AZURE_OPENAI_API_KEY"})


@pytest.mark.parametrize("env", [{}, {"OPENAI_API_KEY": ""}, {"OPENAI_API_KEY": "  "}])
def test_config_from_env_without_a_key_names_the_variables(env: dict[str, str]) -> None:
    with pytest.raises(FtjobsError) as caught:
        config_from_env(env)
    message = str(caught.value)
    assert "OPENAI_API_KEY" in message and "AZURE_OPENAI_ENDPOINT" in message
    assert "\n" not in message and "admin" not in message.lower()


def test_import_does_not_load_the_sdk() -> None:
    code = (
        "import sys, ftjobs.sync.client\n"
        "loaded = sorted(m for m in ('openai', 'httpx', 'httpx2') if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert out.stdout.strip() == ""


# ---- reading -----------------------------------------------------------------------------------
def test_list_jobs_pages_through_all_with_a_server_cap(fake: FakeFineTuningApi) -> None:
    fake.page_cap = 3
    for n in range(8):
        fake.add_job(job_text(n))
    seen: list[tuple[str, str]] = []
    with make_api(fake, on_request=lambda method, path: seen.append((method, path))) as api:
        ids: list[str | None] = []
        after = None
        while True:
            page = api.list_jobs(after=after, limit=20)
            ids += [item.id for item in page.items]
            if not page.has_more:
                break
            after = page.items[-1].id
        assert api.requests == 3
    assert ids == [f"ftjob-{n:03d}" for n in reversed(range(8))]
    assert fake.count("/v1/fine_tuning/jobs") == 3
    assert [r.query.get("after") for r in fake.requests] == [None, "ftjob-005", "ftjob-002"]
    assert seen == [("GET", "/v1/fine_tuning/jobs")] * 3
    assert page.extra == {"object": "list"}


def test_raw_texts_are_the_servers_bytes(fake: FakeFineTuningApi) -> None:
    fake.add_job(JOB_TEXT)
    with make_api(fake) as api:
        page = api.list_jobs(limit=5)
        job = api.retrieve_job("ftjob-exact")
    (item,) = page.items
    for raw in (item, job):
        assert raw.text == JOB_TEXT
        assert '"learning_rate_multiplier":1.805623287509661e-5' in raw.text
        assert '"trained_tokens":240.0' in raw.text
        assert raw.id == "ftjob-exact"
        assert raw.value == json.loads(JOB_TEXT)
        assert list(raw.value) == list(json.loads(JOB_TEXT))


def test_events_and_checkpoints_page_by_hand(fake: FakeFineTuningApi) -> None:
    fake.page_cap = 3
    fake.add_job(JOB_TEXT)
    fake.add_events("ftjob-exact", [event_text(n) for n in reversed(range(7))])
    fake.add_checkpoints("ftjob-exact", [checkpoint_text(n) for n in (300, 200, 100)])
    with make_api(fake) as api:
        texts: list[str] = []
        after = None
        while True:
            page = api.list_events("ftjob-exact", after=after, limit=100)
            texts += [item.text for item in page.items]
            if not page.has_more:
                break
            after = page.items[-1].id
        assert texts == [event_text(n) for n in reversed(range(7))]
        assert fake.count("/events") == 3

        first = api.list_checkpoints("ftjob-exact", limit=2)
        assert [c.id for c in first.items] == ["ftckpt_300", "ftckpt_200"]
        assert first.has_more
        assert first.extra["first_id"] == "ftckpt_300" and first.extra["last_id"] == "ftckpt_200"
        rest = api.list_checkpoints("ftjob-exact", after="ftckpt_200", limit=2)
        assert [c.text for c in rest.items] == [checkpoint_text(100)]
        assert not rest.has_more
        assert '"metrics":{"step":100.0,' in rest.items[0].text


def test_file_content_is_the_body_bytes(fake: FakeFineTuningApi) -> None:
    csv = b"step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n1,3.63265,0.5,,\n"
    fake.files["file-plain"] = csv
    fake.files["file-b64"] = base64.b64encode(csv)
    fake.files["file-bin"] = bytes(range(256))
    with make_api(fake) as api:
        assert api.file_content("file-plain") == csv
        assert api.file_content("file-b64").startswith(b"c3RlcC")
        assert base64.b64decode(api.file_content("file-b64")) == csv
        assert api.file_content("file-bin") == bytes(range(256))


# ---- errors ------------------------------------------------------------------------------------
def test_401_shows_at_most_the_last_four_characters(fake: FakeFineTuningApi) -> None:
    wrong = "sk-proj-Zt7wQ9vXr2LmN5bKp8sYHJKL"
    config = ApiConfig(api_key=wrong, base_url=fake.base_url)
    with FineTuningApi(config) as api, pytest.raises(AuthenticationFailed) as caught:
        api.list_jobs()
    err = caught.value
    message = str(err)
    assert err.status == 401 and isinstance(err, FtjobsError)
    assert "...HJKL" in message and "OPENAI_API_KEY" in message
    assert not any(wrong[i : i + 5] in message for i in range(len(wrong) - 4)), message
    assert "\n" not in message
    assert err.__cause__ is None and err.__suppress_context__
    assert fake.count() == 1  # 401 is not retried


def test_403_training_not_available(fake: FakeFineTuningApi) -> None:
    fake.forbid()
    with make_api(fake) as api, pytest.raises(PermissionDenied) as caught:
        api.list_jobs()
    assert caught.value.code == "training_not_available"
    assert "training_not_available" in str(caught.value)
    assert "no longer available" in str(caught.value)


def test_404_carries_the_path(fake: FakeFineTuningApi) -> None:
    fake.add_job(JOB_TEXT)
    fake.not_found("/ftjob-exact/events")
    with make_api(fake) as api:
        with pytest.raises(NotFoundError) as caught:
            api.list_events("ftjob-exact")
        assert caught.value.path == "/fine_tuning/jobs/ftjob-exact/events"
        with pytest.raises(NotFoundError) as caught:
            api.file_content("file-gone")
        assert caught.value.path == "/files/file-gone/content"
        with pytest.raises(NotFoundError):
            api.retrieve_job("ftjob-unknown")
    assert fake.count() == 3


def test_unreachable_port() -> None:
    config = ApiConfig(
        api_key="sk-test-0000000000000000", base_url=f"http://127.0.0.1:{free_port()}/v1"
    )
    start = time.monotonic()
    with FineTuningApi(config) as api, pytest.raises(Unreachable) as caught:
        api.list_jobs()
    assert api.requests == 3  # the SDK's 2 retries
    assert time.monotonic() - start < 10
    assert "cannot reach" in str(caught.value) and "OPENAI_BASE_URL" in str(caught.value)


def test_silent_server_times_out(fake: FakeFineTuningApi) -> None:
    fake.hang = True
    start = time.monotonic()
    with (
        make_api(fake, read_timeout=0.3, max_retries=1) as api,
        pytest.raises(Unreachable) as caught,
    ):
        api.list_jobs()
    assert time.monotonic() - start < 5
    assert fake.count() == 2
    assert "no answer" in str(caught.value)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>Bad gateway</html>", "expected"),
        (b'{"object": "list", "has_more": false}', "no 'data' array"),
        (b'{"object": "list", "data": {}, "has_more": false}', "no 'data' array"),
        (b'{"object": "list", "data": []}', "has_more"),
        (b'{"object": "list", "data": [], "has_more": false', "expected"),
        (b'\xff{"data": []}', "not UTF-8"),
    ],
)
def test_malformed_page(fake: FakeFineTuningApi, body: bytes, reason: str) -> None:
    fake.malformed(body)
    with make_api(fake) as api, pytest.raises(MalformedResponse) as caught:
        api.list_jobs()
    assert caught.value.path == "/fine_tuning/jobs"
    assert "GET /fine_tuning/jobs" in str(caught.value)
    assert reason in str(caught.value)


def test_an_item_that_cannot_be_archived_is_refused_alone(fake: FakeFineTuningApi) -> None:
    """Not an object, no string id: that item is named in refused, the page's others kept."""
    fake.malformed(
        b'{"object": "list", "data": [{"object": "x"}, {"id": "ftjob-ok", "created_at": 1},'
        b' {"id": 7}, [], {"id": ""}], "has_more": false}'
    )
    with make_api(fake) as api:
        page = api.list_jobs()
    assert [item.id for item in page.items] == ["ftjob-ok"]
    assert [reason.split(":")[0] for reason in page.refused] == [
        "item 1 of the page has no string 'id'",
        "item 3 of the page has no string 'id'",
        "item 4 of the page is not a JSON object",
        "item 5 of the page has no string 'id'",
    ]


def test_unknown_cursor_is_an_api_error(fake: FakeFineTuningApi) -> None:
    fake.add_job(job_text(1))
    with make_api(fake) as api, pytest.raises(ApiError) as caught:
        api.list_jobs(after="ftjob-forgotten")
    assert caught.value.status == 400
    assert fake.count() == 1


def test_repeating_cursor_fault_returns_the_first_page(fake: FakeFineTuningApi) -> None:
    fake.page_cap = 2
    for n in range(4):
        fake.add_job(job_text(n))
    fake.repeat_cursor = True
    with make_api(fake) as api:
        first = api.list_jobs()
        again = api.list_jobs(after=first.items[-1].id)
    assert [i.id for i in again.items] == [i.id for i in first.items]


# ---- retries and waits -------------------------------------------------------------------------
def test_429_with_retry_after_is_retried(fake: FakeFineTuningApi) -> None:
    fake.add_job(job_text(1))
    fake.rate_limit(times=1, retry_after="1")
    start = time.monotonic()
    with make_api(fake) as api:
        assert len(api.list_jobs().items) == 1
        assert api.requests == 2
    assert time.monotonic() - start >= 0.9


def test_retry_after_ms_is_honoured(fake: FakeFineTuningApi) -> None:
    fake.add_job(job_text(1))
    fake.rate_limit(times=2, retry_after="50", header="retry-after-ms")
    with make_api(fake) as api:
        assert len(api.list_jobs().items) == 1
        assert api.requests == 3


def test_long_retry_after_is_waited_out(fake: FakeFineTuningApi) -> None:
    fake.add_job(job_text(1))
    fake.rate_limit(times=1, retry_after="600")
    fake.rate_limit(times=1, retry_after="200000", header="retry-after-ms")
    waits: list[tuple[float, str]] = []
    slept: list[float] = []
    with make_api(fake, on_wait=lambda s, r: waits.append((s, r)), sleep=slept.append) as api:
        assert len(api.list_jobs().items) == 1
        assert api.requests == 3
    assert [s for s, _ in waits] == [600.0, 200.0] == slept
    assert "rate limited" in waits[0][1]


def test_retry_after_beyond_max_wait_says_when_to_try_again(fake: FakeFineTuningApi) -> None:
    fake.rate_limit(times=1, retry_after="3600")
    slept: list[float] = []
    with make_api(fake, sleep=slept.append) as api, pytest.raises(RateLimited) as caught:
        api.list_jobs()
    assert slept == []
    assert "try again after" in str(caught.value) and "UTC" in str(caught.value)
    assert fake.count() == 1


def test_persistent_429_gives_up_after_the_retries(fake: FakeFineTuningApi) -> None:
    fake.rate_limit(times=None, retry_after="10", header="retry-after-ms")
    with make_api(fake) as api, pytest.raises(RateLimited) as caught:
        api.list_jobs()
    assert fake.count() == 3
    assert "after 3 attempts" in str(caught.value)


def test_500_once_is_retried(fake: FakeFineTuningApi) -> None:
    fake.add_job(job_text(1))
    fake.fail(500, times=1, type_="server_error")
    with make_api(fake) as api:
        assert len(api.list_jobs().items) == 1
        assert api.requests == 2


def test_500_always_is_a_server_error(fake: FakeFineTuningApi) -> None:
    fake.fail(503, times=None, headers={"retry-after-ms": "10"})
    with make_api(fake) as api, pytest.raises(ServerError) as caught:
        api.list_jobs()
    assert caught.value.status == 503 and fake.count() == 3


# ---- Azure -------------------------------------------------------------------------------------
def test_azure_paths_and_api_key_header() -> None:
    with FakeFineTuningApi(azure=True, api_key="0123456789abcdef0123456789abcdef") as fake:
        fake.add_job(JOB_TEXT)
        fake.add_events("ftjob-exact", [event_text(1)])
        fake.files["file-1"] = b"step\n"
        with make_api(fake) as api:
            assert api.list_jobs().items[0].text == JOB_TEXT
            assert api.list_events("ftjob-exact").items[0].text == event_text(1)
            assert api.file_content("file-1") == b"step\n"
        paths = [r.path for r in fake.requests]
        assert paths == [
            "/openai/fine_tuning/jobs",
            "/openai/fine_tuning/jobs/ftjob-exact/events",
            "/openai/files/file-1/content",
        ]
        for request in fake.requests:
            assert request.query["api-version"] == fake.api_version
            assert request.headers["api-key"] == fake.api_key
            assert "authorization" not in request.headers

        wrong = ApiConfig(
            api_key="ffffffffffffffffffffffffffff9876",
            azure_endpoint=fake.url,
            api_version=fake.api_version,
        )
        with FineTuningApi(wrong) as api, pytest.raises(AuthenticationFailed) as caught:
            api.list_jobs()
        assert "...9876" in str(caught.value) and "AZURE_OPENAI_API_KEY" in str(caught.value)
