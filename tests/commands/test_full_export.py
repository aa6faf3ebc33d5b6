"""`ftjobs export --full` and its import: a store holding every kind of object, built by the real
CLI (a real sync against tests/fake_api.py, imports, a person's add, update and attach), goes
through one JSON Lines stream into an empty store and comes out again as the same bytes; the
restored store holds the same rows and passes `ftjobs check`."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from support.fake_api import FakeFineTuningApi
from support.helpers import Cli, connect, error_line
from support.spec_strategies import checkpoint_lists, events_lists
from support.sync import OPENAI_ENV
from support.syncdata import RESULT_CSV, T0, event_text, fill, job_text

JOB_1, JOB_2, JOB_3 = (f"ftjob-{n:024d}" for n in (1, 2, 3))
FAILED = "ftjob-000000000000000000000004"
IMPORTED = "ftjob-000000000000000000000007"
MODEL_1 = "ft:gpt-4o-mini-2024-07-18:org::00000001"
MODEL_2 = "ft:gpt-4o-mini-2024-07-18:org::00000002"
MODEL_3 = "ft:gpt-4o-mini-2024-07-18:org::00000003"  # never served: checked, deleted
TRAIN_TEXT = (
    '{"object":"file","id":"file-train","purpose":"fine-tune","filename":"train.jsonl",'
    f'"bytes":48213117,"created_at":{T0 - 3600},"status":"processed"}}'
)
VALID_TEXT = (
    '{"object":"file","id":"file-valid","purpose":"fine-tune","filename":"valid.jsonl",'
    f'"bytes":512,"created_at":{T0 - 1800}}}'
)
# Not UTF-8, not a CSV: kept as the server sent it ("unreadable").
UNREADABLE = b"\x89PNG\r\n\x1a\n\x00\xff result"

# Every table that holds what an archive keeps, as the rows a round trip must give back (keys
# the store picks itself, event_key and the like, left out; a job by its id).
TABLE_ROWS = {
    # (a job a person added or changed has no raw_json: its text is built from its columns,
    # and comes back as a job with that text; what it says is compared by show --json)
    "jobs": "SELECT id, status, model, fine_tuned_model FROM jobs ORDER BY job_key",
    "job_events": "SELECT jobs.id, e.id, e.created_at, e.level, e.type, e.message, e.raw_json"
    " FROM job_events AS e JOIN jobs USING (job_key) ORDER BY jobs.job_key, e.created_at, e.seq",
    "job_checkpoints": "SELECT jobs.id, c.id, c.step_number, c.raw_json FROM job_checkpoints"
    " AS c JOIN jobs USING (job_key) ORDER BY jobs.id, c.id",
    "result_file_contents": "SELECT * FROM result_file_contents ORDER BY file_id",
    "file_objects": "SELECT * FROM file_objects ORDER BY file_id",
    "model_states": "SELECT * FROM model_states ORDER BY model_id",
}


def rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    with connect(db) as conn:
        return {table: conn.execute(sql).fetchall() for table, sql in TABLE_ROWS.items()}


def count(db: Path, table: str) -> int:
    with connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def sync_ok(cli: Cli, fake: FakeFineTuningApi, *args: str) -> None:
    result = cli("sync", "--timeout", "2", *args, env={**OPENAI_ENV, **fake.env()})
    assert result.exit_code == 0, result.stderr


def build_store(tmp: Path) -> Path:
    """A store holding every kind of object, each the way it really arrives:

    - a sync: three succeeded jobs with events, checkpoints and result files (base64, and one
      'unreadable'), a failed job whose training file was deleted, file objects (one found,
      then deleted on a later sync: kept with found 0), models (one found, one deleted);
    - a plain import of a job with its events (import --job);
    - a job a person added, one a person updated, a CSV result file a person attached.
    """
    cli = Cli(tmp / "every-kind.db")
    with FakeFineTuningApi(page_cap=3) as fake:
        fill(fake, range(1, 4), events=7)
        fake.files["file-result-2"] = UNREADABLE
        fake.add_job(job_text(4, "failed", training_file="file-gone", validation_file="file-valid"))
        fake.files_meta["file-train"] = TRAIN_TEXT
        fake.files_meta["file-valid"] = VALID_TEXT
        fake.models[MODEL_1] = f'{{"id":"{MODEL_1}","object":"model","created":{T0}}}'
        fake.models[MODEL_2] = f'{{"id":"{MODEL_2}","object":"model","created":{T0}}}'
        sync_ok(cli, fake)
        del fake.files_meta["file-valid"], fake.models[MODEL_2]  # deleted since
        sync_ok(cli, fake, "--full")
    cli.ok("import", "-", input=job_text(7, "running", training_file="file-other"))
    events = "\n".join(event_text(7, n, metrics=n % 2 == 0) for n in range(4, 0, -1))
    cli.ok("import", "--job", IMPORTED, "-", input=events)
    added = cli.add("--suffix", "by-hand")
    cli.ok("update", JOB_3, "--metadata", "team=search")
    csv = tmp / "results.csv"
    csv.write_bytes(RESULT_CSV)
    cli.ok("attach", added, "file-by-hand", "--content", csv)
    return cli.db


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("full-export"))


@pytest.fixture
def source(store: Path, tmp_path: Path) -> Cli:
    """A copy of the store for this test (tests that import into it change it)."""
    shutil.copy(store, tmp_path / "source.db")
    return Cli(tmp_path / "source.db")


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def kinds(text: str) -> list[str]:
    return [line["object"] for line in lines(text)]


def test_a_full_round_trip_restores_every_kind_and_exports_the_same_bytes(
    source: Cli, tmp_path: Path
) -> None:
    exported = source.ok("export", "--full").stdout
    present = set(kinds(exported))
    assert present == {
        "ftjobs.export", "fine_tuning.job", "ftjobs.event", "ftjobs.checkpoint",
        "ftjobs.result_file", "ftjobs.file_object", "ftjobs.model_state",
    }  # fmt: skip
    parsed = lines(exported)
    # the stored bytes of each result file: the base64 as sent, the CSV, the unreadable bytes
    encodings = {line["file_id"]: line["encoding"] for line in parsed if "encoding" in line}
    assert encodings == {
        "file-result-1": "base64", "file-result-3": "base64",
        "file-result-2": "unreadable", "file-by-hand": "plain",
    }  # fmt: skip
    file_lines = {line["file_id"]: line for line in parsed if "fetched_at" in line}
    assert file_lines["file-valid"]["found"] is False  # deleted, its object kept
    assert file_lines["file-valid"]["data"]["filename"] == "valid.jsonl"
    assert file_lines["file-gone"]["data"] is None

    path = tmp_path / "archive.jsonl"
    path.write_text(exported, encoding="utf-8")
    restored = Cli(tmp_path / "restored.db")
    result = restored.ok("import", path)
    assert "4 result files, 3 file objects, 3 model states" in result.stderr

    assert rows(restored.db) == rows(source.db)
    assert restored.ok("export", "--full").stdout == exported
    # the plain export, the list and show say the same as the source's
    assert restored.ok("export").stdout == source.ok("export").stdout
    added = next(i for i in source.list_ids("--all") if not i.startswith("ftjob-0000"))
    for job_id in (JOB_1, JOB_3, IMPORTED, added):
        for command in (("show", job_id, "--json"), ("metrics", job_id, "--json")):
            assert restored.ok(*command).stdout == source.ok(*command).stdout, command
    assert restored.ok("check").stdout.endswith("The archive is sound.\n")
    # What sync remembers stays with the machine that synced.
    assert count(source.db, "sync_sources") == 1 and count(source.db, "job_sync") > 0
    for table in ("sync_sources", "job_sources", "job_sync"):
        assert count(restored.db, table) == 0, table


def test_gzip_and_dash_write_the_same_stream(source: Cli, tmp_path: Path) -> None:
    plain = source.ok("export", "--full").stdout
    assert source.ok("export", "--full", "-o", "-").stdout == plain
    packed = tmp_path / "archive.jsonl.gz"
    result = source.ok("export", "--full", "-o", packed)
    assert result.stdout == ""
    assert "Exported 6 jobs with " in result.stderr and "3 model states" in result.stderr
    assert gzip.decompress(packed.read_bytes()).decode("utf-8") == plain
    restored = Cli(tmp_path / "restored.db")
    restored.ok("import", packed)
    assert restored.ok("export", "--full").stdout == plain


def test_the_plain_export_stays_jobs_only(source: Cli) -> None:
    assert set(kinds(source.ok("export").stdout)) == {"fine_tuning.job"}


def test_full_is_json_lines_only(source: Cli) -> None:
    result = source.fails(2, "export", "--full", "--format", "json")
    assert "--full writes JSON Lines only" in error_line(result)


def test_filters_pick_jobs_and_only_their_history(source: Cli, tmp_path: Path) -> None:
    picked = source.ok("export", "--full", "--status", "succeeded").stdout
    jobs = {line["id"] for line in lines(picked) if line["object"] == "fine_tuning.job"}
    assert jobs == {JOB_1, JOB_2, JOB_3}
    named = {line["job"] for line in lines(picked) if "job" in line}
    assert named == jobs
    files = {line["file_id"] for line in lines(picked) if line["object"] == "ftjobs.file_object"}
    assert files == {"file-train"}  # not the failed job's files, nor the imported one's
    models = {line["model_id"] for line in lines(picked) if "model_id" in line}
    assert models == {MODEL_1, MODEL_2, MODEL_3}
    restored = Cli(tmp_path / "restored.db")
    restored.ok("import", "-", input=picked)
    assert restored.ok("export", "--full").stdout == picked
    assert restored.ok("check").exit_code == 0
    one = source.ok("export", "--full", "--model", "gpt-4o-mini", "--until", str(T0 + 150))
    assert {line.get("job", line.get("id")) for line in lines(one.stdout)[1:]} - {None} == {JOB_1}


def compact(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


ODD_EVENT = (
    '{"object":"ftjobs.event","job":"ftjob-x","data":{"object":"fine_tuning.job.event",'
    '"created_at":1}}'
)


@pytest.mark.parametrize(
    ("kind", "damage", "expected"),
    [
        ("ftjobs.event", lambda line: '{"object":"ftjobs.bogus","job":"x"}',
         'unknown kind of line "ftjobs.bogus"'),
        ("ftjobs.event", lambda line: compact({**line, "job": "ftjob-missing"}),
         "no job with id 'ftjob-missing' in the store"),
        ("ftjobs.event", lambda line: ODD_EVENT, "ftjob-x: data.id: must be a non-empty string"),
        ("ftjobs.event", lambda line: '{"object":"ftjobs.event","job":"ftjob-x"', "invalid JSON"),
        ("ftjobs.export", lambda line: '{"object":"ftjobs.export","version":2,"schema":9}',
         "reads up to version 1"),
        ("ftjobs.result_file", lambda line: compact({**line, "file_id": "file-other"}),
         "result file file-other is not one of job ftjob-"),
    ],
)  # fmt: skip
def test_a_damaged_line_is_named_and_nothing_changes(
    source: Cli, tmp_path: Path, kind: str, damage: Any, expected: str
) -> None:
    """The first line of a kind replaced by a damaged one: one Error naming file:line, and the
    store as it was."""
    exported = source.ok("export", "--full").stdout.splitlines()
    index = next(i for i, text in enumerate(exported) if json.loads(text)["object"] == kind)
    exported[index] = damage(json.loads(exported[index]))
    path = tmp_path / "damaged.jsonl"
    path.write_text("\n".join(exported) + "\n", encoding="utf-8")
    target = Cli(tmp_path / "target.db")
    target.ok("import", "-", input=job_text(9))  # not empty: must stay as it is
    before = rows(target.db)
    message = target.fails(1, "import", path).stderr.splitlines()[0]
    assert message.startswith(f"Error: {path}:{index + 1}:"), message
    assert expected in message, message
    assert rows(target.db) == before


def test_an_item_the_model_refuses_is_kept_as_sent_with_a_warning(
    source: Cli, tmp_path: Path
) -> None:
    """As sync archives it: an archive keeps what the server sent."""
    text = (
        '{"object":"fine_tuning.job.event","id":"ftevent-odd","created_at":"soon",'
        '"level":"info","message":"NaN loss","type":"message"}'
    )
    line = f'{{"object":"ftjobs.event","job":"{JOB_1}","data":{text}}}'
    path = tmp_path / "odd.jsonl"
    path.write_text(source.ok("export", "--full").stdout + line + "\n", encoding="utf-8")
    number = path.read_text(encoding="utf-8").count("\n")
    restored = Cli(tmp_path / "restored.db")
    result = restored.ok("import", path)
    assert f"Warning: {path}:{number}: {JOB_1}: event ftevent-odd: created_at:" in result.stderr
    with connect(restored.db) as conn:
        stored = conn.execute("SELECT raw_json FROM job_events WHERE id = 'ftevent-odd'")
        assert stored.fetchall() == [(text,)]
    assert line in restored.ok("export", "--full").stdout.splitlines()


def test_conflicts_follow_on_conflict(source: Cli, tmp_path: Path) -> None:
    exported = source.ok("export", "--full").stdout
    # A store that knows JOB_1 as a job alone, and another model state for MODEL_2.
    target = Cli(tmp_path / "target.db")
    target.ok("import", "-", input=json.dumps(source.show(JOB_1)))
    before = rows(target.db)

    skip = target.ok("import", "--on-conflict", "skip", "-", input=exported)
    assert "1 skipped" in skip.stderr and "history items of skipped jobs left out" in skip.stderr
    assert count(target.db, "job_events") == count(source.db, "job_events") - 7
    with connect(target.db) as conn:
        assert conn.execute(
            "SELECT count(*) FROM job_events JOIN jobs USING (job_key) WHERE jobs.id = ?", [JOB_1]
        ).fetchone() == (0,)

    # fail: a stored job ends it; nothing changes
    after_skip = rows(target.db)
    assert before != after_skip
    failed = target.fails(1, "import", "--on-conflict", "fail", "-", input=exported)
    assert "--on-conflict fail" in error_line(failed)
    assert rows(target.db) == after_skip

    # update: the stored job gets its history; everything is then as in the source
    target.ok("import", "-", input=exported)
    assert sorted(rows(target.db)["job_events"]) == sorted(rows(source.db)["job_events"])
    again = target.ok("import", "-", input=exported)
    assert "0 of 6 jobs" in again.stderr and "already stored" in again.stderr


def test_a_dry_run_counts_and_writes_nothing(source: Cli, tmp_path: Path) -> None:
    target = Cli(tmp_path / "target.db")
    target.ok("import", "-", input=job_text(9))
    before = rows(target.db)
    result = target.ok("import", "--dry-run", "-", input=source.ok("export", "--full").stdout)
    assert result.stderr.startswith("Would import 6 jobs: 6 inserted")
    assert "4 result files, 3 file objects, 3 model states" in result.stderr
    assert rows(target.db) == before


def test_a_line_rewritten_by_hand_still_imports(source: Cli, tmp_path: Path) -> None:
    """Keys in another order (as a script might write them): read whole, data re-encoded."""
    exported = lines(source.ok("export", "--full").stdout)
    rewritten = [
        {"data": line["data"], "job": line["job"], "object": line["object"]}
        if line["object"] == "ftjobs.event"
        else line
        for line in exported
    ]
    restored = Cli(tmp_path / "restored.db")
    restored.ok("import", "-", input="\n".join(json.dumps(line) for line in rewritten))
    assert count(restored.db, "job_events") == count(source.db, "job_events")
    assert restored.ok("check").exit_code == 0


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_jq_reads_the_stream(source: Cli, tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl"
    path.write_text(source.ok("export", "--full").stdout, encoding="utf-8")

    def jq(program: str) -> str:
        done = subprocess.run(
            ["jq", "-c", program, str(path)], capture_output=True, text=True, check=True
        )
        return done.stdout

    events = jq(f'select(.object == "ftjobs.event" and .job == "{JOB_1}") | .data')
    expected = source.ok("events", JOB_1, "--jsonl").stdout
    # newest first, as the API lists them (events --jsonl: oldest first)
    assert lines(events) == lines(expected)[::-1] and events.count("\n") == 7
    names = jq('select(.object == "ftjobs.file_object") | .data.filename')
    assert names.split() == ["null", '"train.jsonl"', '"valid.jsonl"']  # by id: file-gone first
    assert jq('select(.object == "fine_tuning.job") | .id').count("\n") == 6


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=events_lists, checkpoints=checkpoint_lists)
def test_generated_histories_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    events: list[dict[str, Any]],
    checkpoints: list[dict[str, Any]],
) -> None:
    """Events and checkpoints the spec allows (any time, any text, any metrics, keys in any
    order), synced as the server sends them, then exported, imported and exported again."""
    tmp = tmp_path_factory.mktemp("generated")
    synced = Cli(tmp / "synced.db")
    with FakeFineTuningApi(page_cap=3) as fake:
        job_id = fake.add_job(job_text(1, "running"))
        fake.add_events(job_id, [json.dumps(event, ensure_ascii=False) for event in events])
        fake.add_checkpoints(job_id, [json.dumps(checkpoint) for checkpoint in checkpoints])
        sync_ok(synced, fake)
    exported = synced.ok("export", "--full").stdout
    restored = Cli(tmp / "restored.db")
    restored.ok("import", "-", input=exported)
    assert rows(restored.db) == rows(synced.db)
    assert restored.ok("export", "--full").stdout == exported
    assert (
        restored.ok("metrics", job_id, "--json").stdout
        == synced.ok("metrics", job_id, "--json").stdout
    )


def test_a_restored_store_syncs_as_one_that_never_synced(tmp_path: Path) -> None:
    """No sync cursors travel: the first sync of the restored store lists the jobs again and
    fetches their history, finding what the import stored already there."""
    synced = Cli(tmp_path / "synced.db")
    with FakeFineTuningApi(page_cap=3) as fake:
        fill(fake, range(1, 4), events=5)
        sync_ok(synced, fake)
        restored = Cli(tmp_path / "restored.db")
        restored.ok("import", "-", input=synced.ok("export", "--full").stdout)
        result = restored("sync", "--timeout", "2", env={**OPENAI_ENV, **fake.env()})
    assert result.exit_code == 0, result.stderr
    assert "3 unchanged" in result.stderr and "added 0 events, 0 checkpoints" in result.stderr
    assert rows(restored.db) == rows(synced.db)
    assert count(restored.db, "sync_sources") == 1
