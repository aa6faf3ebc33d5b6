"""Issue 14: one archive of a whole organization. Several sources (project keys, endpoints)
synced alternately into one store, interrupted and resumed; what servers send that the models
find odd; pages that repeat; answers about the wrong job; counts that add up. The real CLI, the
real SDK, a real HTTP server on 127.0.0.1 (tests/support/fake_api.py), a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from support.fake_api import FakeFineTuningApi
from support.helpers import Cli, connect, dump, error_line
from support.sync import OPENAI_ENV, assert_archive_equals_server, requests_since, stored_events
from support.syncdata import checkpoint_text, event_text, fill, job_text
from support.terminal import run_in_terminal
from typer.testing import Result

from ftjobs.jsonio.stream import compact_json

KEY_A = "sk-proj-AAAAaaaaAAAAaaaaAAAAkeyA"
KEY_B = "sk-proj-BBBBbbbbBBBBbbbbBBBBkeyB"


@pytest.fixture
def fake() -> Iterator[FakeFineTuningApi]:
    with FakeFineTuningApi(page_cap=3) as server:
        server.add_project_key(KEY_A, "proj_a")
        server.add_project_key(KEY_B, "proj_b")
        yield server


def sync_with(cli: Cli, fake: FakeFineTuningApi, key: str, *args: str) -> Result:
    return cli("sync", "--timeout", "2", *args, env={**OPENAI_ENV, **fake.env(key)})


def ok(result: Result) -> Result:
    assert result.exit_code == 0, f"{result.exit_code}\n{result.stderr}"
    return result


def stored_ids(cli: Cli) -> set[str]:
    return {job["id"] for job in cli.json("list", "--all", "--json")}


def interleaved(fake: FakeFineTuningApi, count: int = 30) -> tuple[set[str], set[str]]:
    """count jobs in each project, their created_at interleaving (A's odd, B's even)."""
    fill(fake, range(1, 2 * count, 2), events=2, project="proj_a")
    fill(fake, range(2, 2 * count + 1, 2), events=2, project="proj_b")
    a = {f"ftjob-{n:024d}" for n in range(1, 2 * count, 2)}
    b = {f"ftjob-{n:024d}" for n in range(2, 2 * count + 1, 2)}
    return a, b


def test_a_second_projects_key_archives_every_one_of_its_jobs(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    """The defect: B's walk stopped at the mark A left, 20 of B's 30 jobs never fetched, exit 0
    and "Synced 10 jobs"."""
    a, b = interleaved(fake)
    assert "30 new" in ok(sync_with(cli, fake, KEY_A)).stderr
    result = ok(sync_with(cli, fake, KEY_B))
    assert "Synced 30 jobs: 30 new" in result.stderr
    assert stored_ids(cli) == a | b
    assert_archive_equals_server(cli, fake)
    info = cli.json("info", "--json")
    assert sorted((source["label"], source["jobs"]) for source in info["sources"]) == [
        (f"{fake.base_url}, key ending ...keyA", 30),
        (f"{fake.base_url}, key ending ...keyB", 30),
    ]
    assert all(source["last_synced_at"] for source in info["sources"])


def test_an_unchanged_resync_of_either_source_fetches_nothing_again(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    interleaved(fake, 6)
    ok(sync_with(cli, fake, KEY_A))
    ok(sync_with(cli, fake, KEY_B))
    before = [line for line in dump(cli.db) if "sources" not in line]
    for key in (KEY_A, KEY_B):
        start = len(fake.requests)
        result = ok(sync_with(cli, fake, key))
        # One page of the list, down to the source's own mark; no job, event, checkpoint or
        # file asked for again, and no job of the other source asked for by id.
        assert requests_since(fake, start) == ["/v1/fine_tuning/jobs"]
        assert "0 new, 0 updated, 3 unchanged" in result.stderr
    assert [line for line in dump(cli.db) if "sources" not in line] == before


def test_two_sources_interrupted_and_resumed_alternately_archive_everything(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    """Each source's walk is cut off part way (the server fails on one page), the other source
    synced in between; each resumes from its own place, and in the end every job of both is
    archived once, with nothing fetched twice."""
    a, b = interleaved(fake, 10)  # 10 jobs each: four pages of 3
    a_sorted = sorted(a, reverse=True)
    b_sorted = sorted(b, reverse=True)
    fake.fail(500, times=None, path_contains=f"after={a_sorted[5]}")  # A's third page
    assert sync_with(cli, fake, KEY_A).exit_code == 1
    fake.fail(500, times=None, path_contains=f"after={b_sorted[2]}")  # B's second page
    assert sync_with(cli, fake, KEY_B).exit_code == 1
    assert stored_ids(cli) == set(a_sorted[:6]) | set(b_sorted[:3])
    walks = {s["label"][-4:]: s["walk_unfinished"] for s in cli.json("info", "--json")["sources"]}
    assert walks == {"keyA": True, "keyB": True}
    fake._faults.clear()
    start = len(fake.requests)
    result = ok(sync_with(cli, fake, KEY_A))
    assert "4 new" in result.stderr and "Synced 4 jobs" not in result.stderr
    asked = [r.query.get("after") for r in fake.requests[start:] if r.path.endswith("/jobs")]
    assert asked[-2:] == [a_sorted[5], a_sorted[8]]  # gone on from where A stopped
    assert stored_ids(cli) == a | set(b_sorted[:3])
    result = ok(sync_with(cli, fake, KEY_B))
    assert "7 new" in result.stderr
    assert stored_ids(cli) == a | b
    assert_archive_equals_server(cli, fake)
    # Nothing was fetched twice: each job's events were asked for once (2 events, one page).
    events_asked = [r.path for r in fake.requests if r.path.endswith("/events")]
    assert sorted(events_asked) == sorted(set(events_asked)) and len(events_asked) == 20
    for key in (KEY_A, KEY_B):
        start = len(fake.requests)
        ok(sync_with(cli, fake, key))
        assert requests_since(fake, start) == ["/v1/fine_tuning/jobs"]


def test_another_endpoint_is_another_source(cli: Cli, fake: FakeFineTuningApi) -> None:
    """Two servers (say OpenAI and an OpenAI-compatible endpoint, or Azure) with jobs whose
    times interleave, the same key name on both: each walked whole."""
    fill(fake, range(1, 20, 2), events=1)
    with FakeFineTuningApi(page_cap=3) as other:
        fill(other, range(2, 21, 2), events=1)
        ok(cli("sync", "--timeout", "2", env={**OPENAI_ENV, **fake.env()}))
        result = ok(cli("sync", "--timeout", "2", env={**OPENAI_ENV, **other.env()}))
        assert "10 new" in result.stderr
    assert len(stored_ids(cli)) == 20


def test_a_source_revisits_only_its_own_unfinished_jobs(cli: Cli, fake: FakeFineTuningApi) -> None:
    """A's running job is not asked for with B's key (it would be a 404 gap every sync)."""
    fake.add_job(job_text(1, "running"), project="proj_a")
    fill(fake, range(2, 8), events=1, project="proj_b")
    ok(sync_with(cli, fake, KEY_A))
    start = len(fake.requests)
    result = ok(sync_with(cli, fake, KEY_B))
    assert "Gap:" not in result.stderr
    assert not any(f"{1:024d}" in path for path in requests_since(fake, start))
    # A's own sync still follows it (by the list here: it is on A's first page).
    start = len(fake.requests)
    ok(sync_with(cli, fake, KEY_A))
    assert f"/v1/fine_tuning/jobs/ftjob-{1:024d}/events" in requests_since(fake, start)


def test_a_wrong_key_leaves_the_store_as_it_was(cli: Cli, fake: FakeFineTuningApi) -> None:
    interleaved(fake, 2)
    ok(sync_with(cli, fake, KEY_A))
    before = dump(cli.db)
    assert sync_with(cli, fake, "sk-proj-WRONGwrongWRONGwrong9999").exit_code == 1
    assert dump(cli.db) == before  # no source row for a key that got nothing


def test_an_old_stores_mark_is_not_taken_for_any_sources(cli: Cli, fake: FakeFineTuningApi) -> None:
    """A store synced before schema v5 had one mark, whoever's it was: the upgrade drops it,
    so every source's first sync walks its whole list (and fetches no history again)."""
    interleaved(fake, 4)
    ok(sync_with(cli, fake, KEY_A))
    with connect(cli.db) as conn:  # as v4 left it: one mark, no sources
        conn.execute("DELETE FROM sync_sources")
        conn.commit()
    start = len(fake.requests)
    ok(sync_with(cli, fake, KEY_A))
    assert requests_since(fake, start) == ["/v1/fine_tuning/jobs"] * 2  # the whole list
    assert "4 new" in ok(sync_with(cli, fake, KEY_B)).stderr


# -- judged item by item ------------------------------------------------------------------------


def test_odd_events_and_checkpoints_are_kept_as_sent_with_a_warning(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    """The defect: one event the model refused (a negative created_at, which the spec allows)
    made the job's whole events list a gap. Each item is judged alone: kept as sent, warned
    about by job, item and field; only what has no id or is no object is refused."""
    fill(fake, range(1, 2), events=4)
    job_id = f"ftjob-{1:024d}"
    odd_event = event_text(1, 9).replace('"created_at":', '"created_at":-', 1)
    typed_event = event_text(1, 8).replace('"level":"info"', '"level":7')
    fake.add_newer_events(job_id, [odd_event, typed_event])
    odd_checkpoint = checkpoint_text(1, 30).replace('"step_number":30', '"step_number":"30"')
    fake.add_checkpoints(job_id, [odd_checkpoint])
    result = sync_with(cli, fake, fake.api_key)
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert any(
        job_id in w and f"event ftevent-{1:08d}{9:016d}" in w and "created_at" in w
        for w in warnings
    )
    assert any(f"event ftevent-{1:08d}{8:016d}" in w and "level" in w for w in warnings)
    assert any(f"checkpoint ftckpt_{1:08d}{30:016d}" in w and "step_number" in w for w in warnings)
    assert "Gap:" not in result.stderr
    # Every text as sent (the negative time sorts first: events are kept oldest first).
    assert sorted(stored_events(cli.db, job_id)) == sorted(
        compact_json(text) for text in fake._jobs[job_id].events
    )
    assert cli.ok("events", job_id).stdout  # and they read back
    assert cli.ok("checkpoints", job_id).stdout


def test_an_item_without_an_id_is_refused_alone(cli: Cli, fake: FakeFineTuningApi) -> None:
    fill(fake, range(1, 2), events=3)
    job_id = f"ftjob-{1:024d}"
    fake.add_newer_events(job_id, ['{"object":"fine_tuning.job.event","message":"no id"}'])
    result = sync_with(cli, fake, fake.api_key)
    assert result.exit_code == 1
    assert any("no string 'id'" in line and job_id in line for line in result.stderr.splitlines())
    assert len(stored_events(cli.db, job_id)) == 3


# -- pages that repeat ----------------------------------------------------------------------


def test_an_id_repeated_on_a_later_page_is_taken_once(cli: Cli, fake: FakeFineTuningApi) -> None:
    """The defect: "the API sent the same ... again" threw the job away when one id reappeared
    on the next page though the cursor moved on (servers do that when items are added)."""
    fill(fake, range(1, 2), events=0)
    job_id = f"ftjob-{1:024d}"
    texts = [event_text(1, n) for n in range(6, 0, -1)]
    fake.add_events(job_id, [*texts[:3], texts[2], *texts[3:]])  # page 2 starts with page 1's last
    result = ok(sync_with(cli, fake, fake.api_key))
    assert "added 6 events" in result.stderr and "Gap:" not in result.stderr
    assert len(stored_events(cli.db, job_id)) == 6


def test_a_looping_events_list_is_a_gap_for_that_part_only(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    fill(fake, range(1, 4), events=7)
    job_id = f"ftjob-{2:024d}"
    first_page = (
        '{"object":"list","data":['
        + ",".join(event_text(2, n, metrics=n % 3 != 0) for n in (7, 6, 5))
        + '],"has_more":true}'
    )
    fake.malformed(first_page.encode(), path_contains=f"{job_id}/events")
    result = sync_with(cli, fake, fake.api_key)
    assert result.exit_code == 1
    [gap] = [line for line in result.stderr.splitlines() if line.startswith("Gap:")]
    assert job_id in gap and "events" in gap and "does not move on" in gap
    assert "Error:" not in result.stderr
    assert len(stored_events(cli.db, job_id)) == 3  # what came is kept
    assert len(stored_ids(cli)) == 3  # and the other jobs, and this one's checkpoints
    fake._faults.clear()
    result = ok(sync_with(cli, fake, fake.api_key))
    assert "added 4 events" in result.stderr  # the next sync walks that part whole
    assert_archive_equals_server(cli, fake)


# -- answers about the wrong job ------------------------------------------------------------


def test_an_answer_about_another_job_is_a_gap_and_stores_nothing(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    fill(fake, range(1, 3), events=1)
    asked, other = f"ftjob-{1:024d}", f"ftjob-{2:024d}"
    fake.malformed(job_text(2).encode(), path_contains=f"/jobs/{asked}")
    before = dump(cli.db) if cli.db.exists() else None
    result = sync_with(cli, fake, fake.api_key, "--job", asked)
    assert result.exit_code == 1
    [gap] = [line for line in result.stderr.splitlines() if line.startswith("Gap:")]
    assert asked in gap and other in gap
    assert before is None or dump(cli.db) == before
    assert not cli.db.exists() or stored_ids(cli) == set()


# -- result files ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 406])
def test_a_result_file_the_server_fails_on_is_an_error_not_a_gap(
    cli: Cli, fake: FakeFineTuningApi, status: int
) -> None:
    """Only a 404 or 403 is a gap (a deleted file); a server failing is an error, as it is for
    every other request, and the next sync completes the archive."""
    fill(fake, range(1, 3), events=1)
    fake.fail(status, times=None, path_contains="/files/")
    result = sync_with(cli, fake, fake.api_key)
    assert result.exit_code == 1 and "Gap:" not in result.stderr
    assert str(status) in error_line(result)
    fake._faults.clear()
    ok(sync_with(cli, fake, fake.api_key))
    assert_archive_equals_server(cli, fake)


# -- counts that add up ---------------------------------------------------------------------


def test_a_resumed_sync_counts_each_job_once(cli: Cli, fake: FakeFineTuningApi) -> None:
    """The defect: a sync resumed after an interruption in its first page walked the list twice
    and reported 4 jobs for 2."""
    fill(fake, range(1, 3), events=1)
    fake.fail(500, times=None, path_contains=f"ftjob-{1:024d}/events")
    assert sync_with(cli, fake, fake.api_key).exit_code == 1
    fake._faults.clear()
    result = ok(sync_with(cli, fake, fake.api_key))
    assert "Synced 2 jobs: 1 new, 0 updated, 1 unchanged" in result.stderr


def test_job_text_is_what_the_server_sent(cli: Cli, fake: FakeFineTuningApi) -> None:
    fill(fake, range(1, 2), events=1)
    ok(sync_with(cli, fake, fake.api_key))
    with connect(cli.db) as conn:
        [text] = conn.execute("SELECT raw_json FROM jobs").fetchone()
    assert json.loads(text) == json.loads(job_text(1))
    assert list(json.loads(text)) == list(json.loads(job_text(1)))  # key order as sent


# -- what the user needs after the shutdown: file objects, model states ---------------------


def test_sync_archives_file_objects_and_whether_models_still_exist(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    fill(fake, range(1, 3), events=1)
    fake.files_meta["file-train"] = json.dumps(
        {"object": "file", "id": "file-train", "bytes": 48_213, "created_at": 1721760000,
         "filename": "support-train.jsonl", "purpose": "fine-tune", "status": "processed"}
    )  # fmt: skip
    model = f"ft:gpt-4o-mini-2024-07-18:org::{1:08d}"
    fake.models[model] = json.dumps({"id": model, "object": "model", "created": 1721764950})
    result = ok(sync_with(cli, fake, fake.api_key))
    assert "1 file object archived" in result.stderr
    assert "2 models checked (1 deleted)" in result.stderr
    screen = run_in_terminal(cli.db, "show", f"ftjob-{1:024d}", columns=80)
    assert "support-train.jsonl" in screen.text and "exists (checked" in screen.text
    assert "Traceback" not in screen.text
    # Within a day nothing is asked again; --full asks, and sees the model deleted.
    del fake.models[model]
    start = len(fake.requests)
    ok(sync_with(cli, fake, fake.api_key))
    assert not any("/models/" in path or "/files/file-train" in path
                   for path in requests_since(fake, start))  # fmt: skip
    result = ok(sync_with(cli, fake, fake.api_key, "--full"))
    assert "2 models checked (2 deleted)" in result.stderr
    listed = cli("list", "--fine-tuned-model", model)
    assert "deleted" in listed.stderr


def test_a_job_with_a_negative_finished_at_is_archived_with_a_warning(
    cli: Cli, fake: FakeFineTuningApi
) -> None:
    """The defect: such a job was not archived at all (the spec's integer has no minimum)."""
    fake.add_job(job_text(1, "failed", finished_at=-86_400))
    result = ok(sync_with(cli, fake, fake.api_key))
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert f"ftjob-{1:024d}" in warning and "finished_at" in warning and "-86400" in warning
    assert cli.show(f"ftjob-{1:024d}") == json.loads(job_text(1, "failed", finished_at=-86_400))
    assert "Traceback" not in run_in_terminal(cli.db, "list", columns=80).text
