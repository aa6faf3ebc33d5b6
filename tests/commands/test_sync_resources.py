"""Archiving the file objects and fine-tuned model states of synced jobs
(ftjobs.sync.resources), against a real HTTP server on 127.0.0.1
(tests/support/fake_api.py) through the real openai SDK, into a real SQLite file; and what show
and list make of them."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.fake_api import FakeFineTuningApi
from support.helpers import Cli, connect
from support.syncdata import T0, job_text
from support.terminal import run_in_terminal

from ftjobs.render.sync import LineObserver
from ftjobs.store import Store
from ftjobs.sync.client import FineTuningApi
from ftjobs.sync.config import ServerError, config_from_env
from ftjobs.sync.resources import MODEL_CHECK_AGE, archive_files_and_models

DAY = 86_400
NOW = T0 + 100 * DAY
JOB_1 = "ftjob-000000000000000000000001"
JOB_2 = "ftjob-000000000000000000000002"
JOB_3 = "ftjob-000000000000000000000003"
MODEL_1 = "ft:gpt-4o-mini-2024-07-18:org::00000001"
MODEL_2 = "ft:gpt-4o-mini-2024-07-18:org::00000002"
# A file object as OpenAI writes it: key order and spellings are the server's, kept as sent.
TRAIN_TEXT = (
    '{"object":"file","id":"file-train","purpose":"fine-tune",'
    f'"filename":"support-train-2024-07.jsonl","bytes":48213117,"created_at":{T0 - 3600},'
    '"expires_at":null,"status":"processed","status_details":null}'
)
VALID_TEXT = (
    '{"object":"file","id":"file-valid-1","purpose":"fine-tune","filename":"valid.jsonl",'
    f'"bytes":512,"created_at":{T0 - 1800},"status":"processed"}}'
)


def model_text(model_id: str) -> str:
    return f'{{"id":"{model_id}","object":"model","created":{T0 + 500},"owned_by":"org-123"}}'


class Recorder:
    """An observer that keeps what it was told."""

    def __init__(self) -> None:
        self.fetched: list[str] = []

    def fetching(self, what: str) -> None:
        self.fetched.append(what)


@pytest.fixture
def fake() -> Iterator[FakeFineTuningApi]:
    """The server: jobs 1 and 2 trained on one file, job 1 with a validation file; both made a
    model. Job 3 failed (no model) and its training file was deleted."""
    with FakeFineTuningApi() as server:
        server.files_meta["file-train"] = TRAIN_TEXT
        server.files_meta["file-valid-1"] = VALID_TEXT
        server.models[MODEL_1] = model_text(MODEL_1)
        server.models[MODEL_2] = model_text(MODEL_2)
        yield server


@pytest.fixture
def jobs(cli: Cli) -> list[str]:
    """The three jobs, as a sync would have stored them."""
    texts = [
        job_text(1, validation_file="file-valid-1"),
        job_text(2),
        job_text(3, "failed", training_file="file-gone"),
    ]
    cli.ok("import", "-", input="\n".join(texts))
    return [JOB_1, JOB_2, JOB_3]


@pytest.fixture
def store(db: Path, jobs: list[str]) -> Iterator[Store]:
    with Store.open(db) as opened:
        yield opened


@pytest.fixture
def api(fake: FakeFineTuningApi) -> Iterator[FineTuningApi]:
    with FineTuningApi(config_from_env(fake.env()), read_timeout=2) as client:
        yield client


def archive(store: Store, api: FineTuningApi, now: int = NOW, **options: Any) -> Any:
    return archive_files_and_models(
        store, api, Recorder(), [JOB_1, JOB_2, JOB_3], now=now, **options
    )


def asked(fake: FakeFineTuningApi, start: int = 0) -> list[str]:
    """The paths of the requests for file objects and models since start."""
    return [
        r.path for r in fake.requests[start:] if r.path.startswith(("/v1/files/", "/v1/models/"))
    ]


def file_rows(db: Path) -> dict[str, tuple[Any, ...]]:
    with connect(db) as conn:
        rows = conn.execute(
            "SELECT file_id, found, filename, bytes, purpose, created_at, raw_json, fetched_at"
            " FROM file_objects"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def model_rows(db: Path) -> dict[str, tuple[Any, ...]]:
    with connect(db) as conn:
        rows = conn.execute(
            "SELECT model_id, found, raw_json, last_seen_at, checked_at FROM model_states"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


# -- file objects ------------------------------------------------------------------------------


def test_a_file_object_is_stored_as_sent_once_and_not_asked_again(
    db: Path, store: Store, api: FineTuningApi, fake: FakeFineTuningApi
) -> None:
    observer = Recorder()
    report = archive_files_and_models(store, api, observer, [JOB_1, JOB_2, JOB_3], now=NOW)
    # Two jobs share file-train: it is asked for once.
    assert sorted(p for p in asked(fake) if p.startswith("/v1/files/")) == [
        "/v1/files/file-gone",
        "/v1/files/file-train",
        "/v1/files/file-valid-1",
    ]
    assert (report.files_found, report.files_deleted, report.gaps) == (2, 1, [])
    rows = file_rows(db)
    assert rows["file-train"] == (
        1, "support-train-2024-07.jsonl", 48213117, "fine-tune", T0 - 3600, TRAIN_TEXT, NOW,
    )  # fmt: skip
    assert rows["file-valid-1"][:2] == (1, "valid.jsonl")
    assert f"training file file-train of {JOB_2}" in observer.fetched
    assert f"validation file file-valid-1 of {JOB_1}" in observer.fetched
    # A file object does not change: the next call asks for none of them.
    start = len(fake.requests)
    report = archive(store, api, now=NOW + 2 * DAY)
    assert [p for p in asked(fake, start) if p.startswith("/v1/files/")] == []
    assert (report.files_found, report.files_deleted) == (0, 0)
    assert file_rows(db) == rows


def test_a_deleted_file_is_stored_as_deleted_and_not_asked_again_but_with_full(
    db: Path, store: Store, api: FineTuningApi, fake: FakeFineTuningApi
) -> None:
    archive(store, api)
    assert file_rows(db)["file-gone"] == (0, None, None, None, None, None, NOW)
    start = len(fake.requests)
    archive(store, api, now=NOW + DAY)
    assert "/v1/files/file-gone" not in asked(fake, start)
    # --full asks for every file again; one deleted since keeps the name archived before it.
    del fake.files_meta["file-train"]
    start = len(fake.requests)
    report = archive(store, api, now=NOW + 2 * DAY, full=True)
    assert sorted(p for p in asked(fake, start) if p.startswith("/v1/files/")) == [
        "/v1/files/file-gone",
        "/v1/files/file-train",
        "/v1/files/file-valid-1",
    ]
    assert (report.files_found, report.files_deleted) == (1, 2)
    rows = file_rows(db)
    assert rows["file-train"] == (
        0, "support-train-2024-07.jsonl", 48213117, "fine-tune", T0 - 3600, TRAIN_TEXT,
        NOW + 2 * DAY,
    )  # fmt: skip
    assert rows["file-gone"] == (0, None, None, None, None, None, NOW + 2 * DAY)


def test_a_forbidden_file_or_model_is_a_gap_stored_nowhere_and_asked_again(
    db: Path, store: Store, api: FineTuningApi, fake: FakeFineTuningApi
) -> None:
    fake.fail(403, times=None, path_contains="/files/file-valid-1", code="insufficient_scope")
    fake.fail(403, times=None, path_contains="/models/", code="insufficient_scope")
    report = archive(store, api)
    assert [str(gap) for gap in report.gaps] == [
        f"{JOB_1}: validation file file-valid-1: HTTP 403 insufficient_scope"
        " (asked again next sync)",
        f"{JOB_2}: fine-tuned model {MODEL_2}: HTTP 403 insufficient_scope (asked again next sync)",
        f"{JOB_1}: fine-tuned model {MODEL_1}: HTTP 403 insufficient_scope (asked again next sync)",
    ]
    assert "file-valid-1" not in file_rows(db)
    assert model_rows(db) == {}
    start = len(fake.requests)
    archive(store, api, now=NOW + 60)
    assert "/v1/files/file-valid-1" in asked(fake, start)
    assert f"/v1/models/{MODEL_1}" in asked(fake, start)


def test_a_server_error_propagates_and_what_was_fetched_before_stays(
    db: Path, store: Store, api: FineTuningApi, fake: FakeFineTuningApi
) -> None:
    fake.fail(500, times=None, path_contains="/files/file-valid-1")
    with pytest.raises(ServerError, match="HTTP 500"):
        archive(store, api)
    # Three attempts (the SDK's retries); the files asked for before were saved as they came.
    assert asked(fake).count("/v1/files/file-valid-1") == 3
    assert set(file_rows(db)) == {"file-gone", "file-train"}
    assert model_rows(db) == {}


# -- fine-tuned models -------------------------------------------------------------------------


def test_a_model_found_then_deleted_keeps_when_it_was_last_seen(
    db: Path, store: Store, api: FineTuningApi, fake: FakeFineTuningApi
) -> None:
    report = archive(store, api)
    assert (report.models_found, report.models_deleted) == (2, 0)
    assert model_rows(db)[MODEL_1] == (1, model_text(MODEL_1), NOW, NOW)
    del fake.models[MODEL_1]
    later = NOW + 2 * DAY
    report = archive(store, api, now=later)
    assert (report.models_found, report.models_deleted) == (1, 1)
    rows = model_rows(db)
    assert rows[MODEL_1] == (0, model_text(MODEL_1), NOW, later)
    assert rows[MODEL_2] == (1, model_text(MODEL_2), later, later)
    # A model deleted before it was ever seen: no last seen, no text.
    fake.models.clear()
    with connect(db) as conn:
        conn.execute("DELETE FROM model_states WHERE model_id = ?", [MODEL_2])
    archive(store, api, now=later + 2 * DAY)
    assert model_rows(db)[MODEL_2] == (0, None, None, later + 2 * DAY)


def test_a_model_checked_recently_is_not_asked_again_but_with_full(
    store: Store, api: FineTuningApi, fake: FakeFineTuningApi
) -> None:
    archive(store, api)
    start = len(fake.requests)
    archive(store, api, now=NOW + MODEL_CHECK_AGE)  # checked exactly a day ago: not yet due
    assert asked(fake, start) == []
    start = len(fake.requests)
    archive(store, api, now=NOW + MODEL_CHECK_AGE + 1)
    assert sorted(asked(fake, start)) == [f"/v1/models/{MODEL_1}", f"/v1/models/{MODEL_2}"]
    start = len(fake.requests)
    archive(store, api, now=NOW + MODEL_CHECK_AGE + 2, model_check_age=3600)
    assert asked(fake, start) == []
    start = len(fake.requests)
    archive(store, api, now=NOW + MODEL_CHECK_AGE + 3, full=True)
    assert sorted(asked(fake, start)) == [
        "/v1/files/file-gone",
        "/v1/files/file-train",
        "/v1/files/file-valid-1",
        f"/v1/models/{MODEL_1}",
        f"/v1/models/{MODEL_2}",
    ]


def test_only_the_named_stored_jobs_are_looked_at(
    db: Path, store: Store, api: FineTuningApi, fake: FakeFineTuningApi
) -> None:
    """sync's observer takes the progress; an id the store does not hold is skipped; a job
    named twice is looked at once."""
    err = io.StringIO()
    report = archive_files_and_models(
        store, api, LineObserver(err), [JOB_2, "ftjob-unknown", JOB_2], now=NOW
    )
    assert asked(fake) == ["/v1/files/file-train", f"/v1/models/{MODEL_2}"]
    assert (report.files_found, report.models_found) == (1, 1)
    assert err.getvalue() == ""


# -- the data layer ----------------------------------------------------------------------------


def test_rows_outlive_a_deleted_job_and_serve_the_jobs_that_share_them(
    db: Path, cli: Cli, store: Store, api: FineTuningApi
) -> None:
    """File objects and model states are kept by file and model id, not by job: deleting a
    job leaves them, breaks no foreign key, and the jobs that share them still read them."""
    archive(store, api)
    before_files, before_models = file_rows(db), model_rows(db)
    cli.ok("delete", JOB_1, JOB_3, "--yes")
    assert file_rows(db) == before_files and model_rows(db) == before_models
    with connect(db) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    resources = store.job_resources(JOB_2)
    assert set(resources.files) == {"file-train"}
    assert resources.model is not None and resources.model.model_id == MODEL_2
    # A later call skips the deleted jobs and asks for nothing stored already.
    report = archive(store, api, now=NOW + 60)
    assert (report.files_found, report.models_found, report.gaps) == (0, 0, [])
    # The job comes back (re-imported): what was archived of its file and model is there.
    cli.ok("import", "-", input=job_text(1, validation_file="file-valid-1"))
    resources = store.job_resources(JOB_1)
    assert set(resources.files) == {"file-train", "file-valid-1"}
    assert resources.model is not None and resources.model.last_seen_at == NOW
    job = json.loads(job_text(1, validation_file="file-valid-1"))
    assert cli.show(JOB_1) == job  # as imported, "error": {} included


# -- show and list -----------------------------------------------------------------------------


def test_show_names_the_files_and_says_whether_the_model_exists_at_80_columns(
    db: Path, cli: Cli, store: Store, api: FineTuningApi, fake: FakeFineTuningApi
) -> None:
    long_name = "customer-support-conversations-2024-07-cleaned-deduplicated-final.jsonl"
    fake.files_meta["file-train"] = TRAIN_TEXT.replace("support-train-2024-07.jsonl", long_name)
    before = cli.show(JOB_1)
    archive(store, api)
    del fake.models[MODEL_1]
    archive(store, api, now=NOW + 2 * DAY)
    screen = run_in_terminal(db, "show", JOB_1)
    assert screen.exit_code == 0, screen.text
    lines = [line.rstrip() for line in screen.lines]
    assert all(len(line) <= 80 for line in lines), screen.text
    assert "Traceback" not in screen.text
    value = lines[0].index(JOB_1)  # where the value column starts
    under = _under(lines, "fine_tuned_model", value)
    assert under[0] == MODEL_1
    assert under[1:] == ["deleted (last seen 2024-10-31 20:00 UTC)"]
    under = _under(lines, "training_file", value)
    # The id whole on its line, the file name whole (folded, never cut), then its details.
    assert under[0] == "file-train"
    assert "".join(under[1:-1]) == long_name
    assert under[-1] == "48.2 MB, fine-tune, uploaded 2024-07-23 19:00 UTC"
    assert _under(lines, "validation_file", value) == [
        "file-valid-1",
        "valid.jsonl",
        "512 bytes, fine-tune, uploaded 2024-07-23 19:30 UTC",
    ]
    # A deleted file says so; a model that still exists says when it was checked.
    screen = run_in_terminal(db, "show", JOB_3)
    lines = [line.rstrip() for line in screen.lines]
    assert _under(lines, "training_file", value) == [
        "file-gone",
        "deleted (checked 2024-10-31 20:00 UTC)",  # asked once: a 404 is not asked again
    ]
    screen = run_in_terminal(db, "show", JOB_2)
    lines = [line.rstrip() for line in screen.lines]
    assert _under(lines, "fine_tuned_model", value) == [
        MODEL_2,
        "exists (checked 2024-11-02 20:00 UTC)",
    ]
    # --json is the job object, exactly: nothing of the file or model is added to it.
    assert cli.show(JOB_1) == before
    assert before.keys() == json.loads(job_text(1)).keys()


def test_show_says_nothing_of_what_was_never_fetched(db: Path, cli: Cli) -> None:
    job_id = cli.add("--validation-file", "file-v", "--status", "succeeded",
                     "--fine-tuned-model", "ft:gpt-4o-mini:org::x1")  # fmt: skip
    screen = run_in_terminal(db, "show", job_id)
    lines = [line.rstrip() for line in screen.lines]
    value = lines[0].index(job_id)
    assert _under(lines, "training_file", value) == ["file-abc123"]
    assert _under(lines, "validation_file", value) == ["file-v"]
    assert _under(lines, "fine_tuned_model", value) == ["ft:gpt-4o-mini:org::x1"]


def test_list_fine_tuned_model_says_whether_it_still_exists(
    db: Path, cli: Cli, store: Store, api: FineTuningApi, fake: FakeFineTuningApi
) -> None:
    result = cli.ok("list", "--fine-tuned-model", MODEL_1)
    assert result.stderr == ""  # never checked: nothing to say
    archive(store, api)
    result = cli.ok("list", "--fine-tuned-model", MODEL_1)
    assert result.stdout.split("\t")[0] == JOB_1
    assert result.stderr == "The fine-tuned model still exists (checked 2024-10-31 20:00 UTC).\n"
    del fake.models[MODEL_1]
    archive(store, api, now=NOW + 2 * DAY)
    # Any output format: stdout keeps its contract, stderr carries the line.
    result = cli.ok("list", "--fine-tuned-model", MODEL_1, "--json")
    assert [job["id"] for job in json.loads(result.stdout)] == [JOB_1]
    assert result.stderr == "The fine-tuned model was deleted (last seen 2024-10-31 20:00 UTC).\n"
    screen = run_in_terminal(db, "list", "--fine-tuned-model", MODEL_1)
    assert screen.exit_code == 0, screen.text
    lines = [line.rstrip() for line in screen.lines]
    assert all(len(line) <= 80 for line in lines), screen.text
    assert JOB_1 in screen.text
    assert lines[-1] == "The fine-tuned model was deleted (last seen 2024-10-31 20:00 UTC)."


def _under(lines: list[str], label: str, value: int) -> list[str]:
    """The value column of the label's line and of the unlabelled lines under it."""
    start = next(n for n, line in enumerate(lines) if line.startswith(label + " "))
    found = [lines[start][value:]]
    for line in lines[start + 1 :]:
        if line[:value].strip():
            break
        found.append(line[value:])
    return found
