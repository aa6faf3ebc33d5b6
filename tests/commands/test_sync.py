"""`ftjobs sync` against a real HTTP server on 127.0.0.1 that behaves like the fine-tuning API
(tests/support/fake_api.py): the real CLI, the real openai SDK, a real SQLite file. No mocks."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from support.fake_api import DEFAULT_KEY, FakeFineTuningApi
from support.helpers import Cli, connect, dump, error_line
from support.sync import (
    OPENAI_ENV,
    assert_archive_equals_server,
    requests_since,
    stored_checkpoints,
    stored_events,
)
from support.syncdata import RESULT_CSV, checkpoint_text, event_text, fill, job_text
from typer.testing import Result


@pytest.fixture
def fake() -> Iterator[FakeFineTuningApi]:
    with FakeFineTuningApi(page_cap=3) as server:
        yield server


def sync(
    cli: Cli, fake: FakeFineTuningApi, *args: Any, env: dict[str, str] | None = None
) -> Result:
    return cli("sync", "--timeout", "2", *args, env={**OPENAI_ENV, **fake.env(), **(env or {})})


def sync_ok(cli: Cli, fake: FakeFineTuningApi, *args: Any) -> Result:
    result = sync(cli, fake, *args)
    assert result.exit_code == 0, f"{result.exit_code}\n{result.stderr}"
    assert result.stdout == ""
    return result


# -- a first sync, and the next ones -----------------------------------------------------------


def test_a_first_sync_archives_exactly_what_the_server_holds(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    fill(fake, range(1, 8))
    fill(fake, range(8, 10), status="running")
    result = sync_ok(cli, fake)
    assert_archive_equals_server(cli, fake)
    summary = result.stderr.splitlines()[-1]
    assert summary.startswith("Synced 9 jobs: 9 new, 0 updated, 0 unchanged; added 45 events,")
    assert "18 checkpoints and 7 result files" in summary
    # A metrics event's step 3.0 and train_loss 1.805623287509661e-5 are kept as written.
    first = stored_events(cli.db, "ftjob-000000000000000000000001")[0]
    assert '"step":1.0' in first and "1.805623287509661e-5" in first
    with connect(cli.db) as conn:
        assert conn.execute(
            "SELECT encoding, csv FROM result_file_contents LIMIT 1"
        ).fetchone() == (
            "base64",
            RESULT_CSV.decode(),
        )


def test_an_unchanged_second_sync_reads_one_page_and_the_unfinished_jobs(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    fill(fake, range(1, 8))
    fill(fake, range(8, 10), status="running")
    sync_ok(cli, fake)
    start = len(fake.requests)
    result = sync_ok(cli, fake)
    paths = requests_since(fake, start)
    # One page of the list (3 jobs: the 2 running ones are on it), then one page of events and
    # one of checkpoints for each running job. No finished job's history is read again.
    assert paths.count("/v1/fine_tuning/jobs") == 1
    assert len(paths) == 1 + 2 * 2, paths
    assert all("000000009" in p or "000000008" in p for p in paths[1:]), paths
    assert "0 new, 0 updated, 3 unchanged" in result.stderr  # the jobs on the page
    assert_archive_equals_server(cli, fake)


def test_a_job_that_finishes_between_syncs_gets_its_new_events_and_result_file(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    fill(fake, range(1, 4))
    fill(fake, range(4, 5), status="running")
    sync_ok(cli, fake)
    running = "ftjob-000000000000000000000004"
    fake.add_job(job_text(4, "succeeded"))
    fake.add_newer_events(running, [event_text(4, 7, metrics=False), event_text(4, 6)])
    fake.files["file-result-4"] = RESULT_CSV  # plain text, as before mid-2024
    start = len(fake.requests)
    result = sync_ok(cli, fake)
    assert "0 new, 1 updated" in result.stderr and "added 2 events" in result.stderr
    assert requests_since(fake, start).count(f"/v1/fine_tuning/jobs/{running}/events") == 1
    assert_archive_equals_server(cli, fake)
    # Finished and unchanged now: the third sync reads one page and nothing else.
    start = len(fake.requests)
    sync_ok(cli, fake)
    assert requests_since(fake, start) == ["/v1/fine_tuning/jobs"]


def test_new_jobs_on_top_are_found_and_the_walk_stops_at_the_archive(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    fill(fake, range(1, 11))
    sync_ok(cli, fake)
    fill(fake, range(11, 16))
    start = len(fake.requests)
    result = sync_ok(cli, fake)
    assert "5 new, 0 updated" in result.stderr
    lists = [p for p in requests_since(fake, start) if p == "/v1/fine_tuning/jobs"]
    assert len(lists) == 2  # 5 new jobs at 3 a page: the second page reaches the archive
    assert_archive_equals_server(cli, fake)


def test_sync_never_deletes_what_it_archived(cli: Cli, fake: FakeFineTuningApi) -> None:
    fill(fake, range(1, 2), status="running")
    sync_ok(cli, fake)
    job_id = "ftjob-000000000000000000000001"
    # The server keeps only the last checkpoints, and the job may vanish from the list.
    fake._jobs[job_id].checkpoints[:] = [checkpoint_text(1, 30)]
    sync_ok(cli, fake)
    assert len(stored_checkpoints(cli.db, job_id)) == 3
    fake.remove_job(job_id)
    sync(cli, fake)
    assert cli.show(job_id)["id"] == job_id


def test_no_history_then_a_plain_sync_fetches_the_history(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    fill(fake, range(1, 5))
    result = sync_ok(cli, fake, "--no-history")
    assert "4 new" in result.stderr and "added 0 events" in result.stderr
    assert not any("/events" in r.path for r in fake.requests)
    result = sync_ok(cli, fake)
    assert "added 20 events" in result.stderr
    assert_archive_equals_server(cli, fake)


def test_job_syncs_only_the_named_jobs(cli: Cli, fake: FakeFineTuningApi) -> None:
    fill(fake, range(1, 5))
    sync_ok(cli, fake, "--job", "ftjob-000000000000000000000002")
    assert [job["id"] for job in cli.json("list", "--json")] == ["ftjob-000000000000000000000002"]
    assert not any(r.path == "/v1/fine_tuning/jobs" for r in fake.requests)


def test_full_walks_everything_again_and_adds_nothing_twice(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    fill(fake, range(1, 5))
    sync_ok(cli, fake)
    before = dump(cli.db)
    start = len(fake.requests)
    result = sync_ok(cli, fake, "--full")
    # The same content fetched again is no "added" result file (it said 4 before issue 14).
    assert "0 new, 0 updated, 4 unchanged; added 0 events, 0 checkpoints and 0 result files" in (
        result.stderr
    )
    assert requests_since(fake, start).count("/v1/fine_tuning/jobs") == 2  # every page
    # every page of every job's events: 5 events at 3 a page
    assert sum("/events" in p for p in requests_since(fake, start)) == 8
    # (Sync's own bookkeeping and the model checks --full makes again carry the time.)
    moving = ("sync", "sources", "model_states", "file_objects")
    assert [line for line in dump(cli.db) if not any(word in line for word in moving)] == [
        line for line in before if not any(word in line for word in moving)
    ]


def test_what_providers_send_is_archived_with_a_warning(cli: Cli, fake: FakeFineTuningApi) -> None:
    """Azure: status "pending", batch_size -1, result_files null, a key no schema lists."""
    text = job_text(
        1, "pending", result_files=None, organization_id=None,
        hyperparameters={"n_epochs": 1, "batch_size": -1, "learning_rate_multiplier": 1},
        future_key={"nested": [1.50, None]},
    )  # fmt: skip
    fake.add_job(text)
    result = sync_ok(cli, fake)
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 2 and all("ftjob-000000000000000000000001" in w for w in warnings)
    # Kept as sent, "error": {} included (issue 14: it came out as null before).
    assert cli.show("ftjob-000000000000000000000001") == json.loads(text)


# -- interrupted, resumed ------------------------------------------------------------------------


def test_an_interrupted_walk_is_resumed_where_it_stopped(cli: Cli, fake: FakeFineTuningApi) -> None:
    fill(fake, range(1, 11))  # 10 jobs: 4 pages of 3
    fake.fail(500, times=None, path_contains="after=ftjob-000000000000000000000005")
    result = sync(cli, fake)
    assert result.exit_code == 1 and "HTTP 500" in error_line(result)
    assert len(cli.json("list", "--all", "--json")) == 6  # two pages kept
    fake._faults.clear()
    start = len(fake.requests)
    result = sync_ok(cli, fake)
    assert "4 new" in result.stderr
    lists = [r for r in fake.requests[start:] if r.path == "/v1/fine_tuning/jobs"]
    # The top of the list (the mark is the newest job: nothing new), then on from the cursor.
    assert [r.query.get("after") for r in lists] == [
        None, "ftjob-000000000000000000000005", "ftjob-000000000000000000000002",
    ]  # fmt: skip
    assert_archive_equals_server(cli, fake)


def test_a_saved_cursor_the_server_no_longer_knows_restarts_the_walk(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    fill(fake, range(1, 11))
    fake.fail(500, times=None, path_contains="after=ftjob-000000000000000000000005")
    sync(cli, fake)
    fake._faults.clear()
    fake.remove_job("ftjob-000000000000000000000005")  # the cursor's job is gone
    result = sync_ok(cli, fake)
    assert "no longer knows where the last sync stopped" in result.stderr
    assert len(cli.json("list", "--all", "--json")) == 10


# -- errors ------------------------------------------------------------------------------------


def test_no_key_is_one_clear_line(cli: Cli) -> None:
    result = cli.fails(1, "sync", env=OPENAI_ENV)
    assert "OPENAI_API_KEY" in error_line(result) and "AZURE_OPENAI_ENDPOINT" in error_line(result)


def test_a_base_url_without_a_scheme_is_refused_before_any_request(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    """httpx cannot send to `127.0.0.1:PORT/v1`: one line saying how to write it, at once (not
    after three attempts), exit 2, no store made, nothing asked of the server."""
    bare = fake.base_url.removeprefix("http://")
    result = cli.fails(2, "sync", env={**OPENAI_ENV, **fake.env(), "OPENAI_BASE_URL": bare})
    assert error_line(result) == (
        f"Error: OPENAI_BASE_URL {bare} has no http:// or https://: set it to https://{bare}"
        " (or http:// for a server on this machine)"
    )
    assert fake.requests == [] and not cli.db.exists()


def test_a_404_from_a_base_url_without_v1_says_what_is_likely_missing(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    fill(fake, range(1, 3))
    result = sync(cli, fake, env={"OPENAI_BASE_URL": fake.url})
    assert result.exit_code == 1
    assert error_line(result) == (
        "Error: not found: GET /fine_tuning/jobs (HTTP 404: Not found); OPENAI_BASE_URL"
        f" {fake.url} has no /v1: did you mean {fake.url}/v1?"
    )
    sync_ok(cli, fake)  # with /v1, and a job's 404 (a gap) gets no such hint
    fake.not_found("/events")
    fake.add_job(job_text(9, status="running"))
    gaps = sync(cli, fake).stderr
    assert "Gap:" in gaps and "/v1" not in gaps


def test_a_bad_key_is_refused_and_never_shown_nor_stored(cli: Cli, fake: FakeFineTuningApi) -> None:
    fill(fake, range(1, 3))
    sync_ok(cli, fake)
    wrong = "sk-proj-WRONGwrongWRONGwrong1234"
    before = dump(cli.db)
    result = sync(cli, fake, env={"OPENAI_API_KEY": wrong})
    line = error_line(result)
    assert result.exit_code == 1 and "401" in line and "...1234" in line
    assert wrong[:-4] not in result.stderr + result.stdout
    assert dump(cli.db) == before
    for path in cli.db.parent.iterdir():  # the database, its WAL and shared memory
        assert DEFAULT_KEY.encode() not in path.read_bytes()
        assert wrong.encode() not in path.read_bytes()


def test_training_not_available_is_one_line(cli: Cli, fake: FakeFineTuningApi) -> None:
    fake.forbid()
    result = sync(cli, fake)
    assert result.exit_code == 1 and "training_not_available" in error_line(result)


def test_a_server_that_cannot_be_reached(cli: Cli) -> None:
    with FakeFineTuningApi() as server:
        env = server.env()
    result = cli("sync", "--timeout", "1", env={**OPENAI_ENV, **env})  # the port is closed now
    assert result.exit_code == 1 and "cannot reach" in error_line(result)


def test_a_malformed_page_is_one_line(cli: Cli, fake: FakeFineTuningApi) -> None:
    fake.malformed(b"<html>gateway</html>")
    result = sync(cli, fake)
    assert result.exit_code == 1 and "malformed response" in error_line(result)


def test_a_repeating_cursor_is_an_error_not_a_loop(cli: Cli, fake: FakeFineTuningApi) -> None:
    fill(fake, range(1, 11))
    fake.repeat_cursor = True
    result = sync(cli, fake)
    assert result.exit_code == 1 and "does not move on" in error_line(result)
    assert len(fake.requests) < 40


def test_rate_limits_and_a_server_error_are_retried(cli: Cli, fake: FakeFineTuningApi) -> None:
    fill(fake, range(1, 3))
    fake.rate_limit(times=1, retry_after="1")
    fake.fail(500, times=1, path_contains="/events")
    sync_ok(cli, fake)
    assert_archive_equals_server(cli, fake)


def test_a_retry_after_beyond_max_wait_says_when_to_come_back(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    fake.rate_limit(times=None, retry_after="3600")
    result = sync(cli, fake, "--max-wait", "60")
    assert result.exit_code == 1 and "try again after" in error_line(result)


def test_a_404_on_one_jobs_events_is_a_gap_retried_next_time(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    fill(fake, range(1, 4))
    gone = "ftjob-000000000000000000000002"
    fake.not_found(f"{gone}/events")
    fake.not_found("/files/file-result-3")
    result = sync(cli, fake)
    assert result.exit_code == 1
    gaps = [line for line in result.stderr.splitlines() if line.startswith("Gap:")]
    assert gaps == [  # newest job first, as the list goes
        "Gap: ftjob-000000000000000000000003: result file file-result-3: HTTP 404 (asked again"
        " next sync)",
        f"Gap: {gone}: events: HTTP 404 (asked again next sync)",
    ]
    assert stored_checkpoints(cli.db, gone)  # the rest of that job's history is kept
    assert len(cli.json("list", "--all", "--json")) == 3
    fake._faults.clear()
    start = len(fake.requests)
    sync_ok(cli, fake)
    assert f"/v1/fine_tuning/jobs/{gone}/events" in requests_since(fake, start)
    assert_archive_equals_server(cli, fake)


def test_azure_openai(cli: Cli) -> None:
    with FakeFineTuningApi(azure=True, page_cap=2) as fake:
        fill(fake, range(1, 4))
        env = {**OPENAI_ENV, **fake.env()}
        result = cli("sync", env=env)
        assert result.exit_code == 0, result.stderr
        assert_archive_equals_server(cli, fake)
        assert all(r.path.startswith("/openai/") for r in fake.requests)
        assert all(r.query.get("api-version") == fake.api_version for r in fake.requests)
        assert all(r.headers.get("api-key") == fake.api_key for r in fake.requests)


def test_a_result_file_that_is_not_a_csv_is_kept_as_sent_and_not_asked_again(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    """Issue 14: content that is neither CSV nor base64 of one was not kept, and asked for on
    every sync; the archive keeps the bytes as sent, warns once, and metrics says why not."""
    fill(fake, range(1, 2))
    fake.files["file-result-1"] = content = base64.b64encode(b"\x00\x01binary")
    result = sync_ok(cli, fake)
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert "file-result-1" in warning and "kept as sent" in warning
    with connect(cli.db) as conn:
        assert conn.execute(
            "SELECT encoding, raw, csv FROM result_file_contents WHERE file_id = 'file-result-1'"
        ).fetchone() == ("unreadable", content, None)
    start = len(fake.requests)
    sync_ok(cli, fake)
    assert not any("/files/" in path for path in requests_since(fake, start))
    job_id = next(iter(fake._jobs))
    said = cli("metrics", job_id, "--file", "file-result-1", "--csv")
    assert said.stdout == "" and "neither a CSV nor base64" in said.stderr


def test_a_sync_stopped_before_its_first_page_was_done_starts_again_from_the_top(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    """Found by the kill -9 test: the mark (the newest job) is set as the first walk starts;
    stopped before its first page was saved, the next sync must not take the walk for done."""
    fill(fake, range(1, 11))
    fake.fail(500, times=None, path_contains="/events")
    assert sync(cli, fake).exit_code == 1
    fake._faults.clear()
    result = sync_ok(cli, fake)
    assert "10 new" in result.stderr
    assert_archive_equals_server(cli, fake)
