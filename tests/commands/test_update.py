"""`ftjobs update`: a job's life cycle rules, and that a refused change changes nothing."""

from __future__ import annotations

import time

import pytest
from support.helpers import Cli, dump, error_line

CREATED = 1721764800  # 2024-07-23T20:00:00Z
FINAL = ("succeeded", "failed", "cancelled")


@pytest.fixture
def job_id(cli: Cli) -> str:
    return cli.add("--id", "ftjob-upd", "--created-at", CREATED, "--metadata", "a=1",
                   "--metadata", "b=2")  # fmt: skip


def make_failed(cli: Cli, job_id: str) -> None:
    cli.ok(
        "update", job_id, "--status", "failed", "--error-code", "invalid_n_examples",
        "--error-message", "Training file has 3 example(s)", "--error-param", "training_file",
    )  # fmt: skip


def test_status_running(cli: Cli, job_id: str) -> None:
    result = cli.ok("update", job_id, "--status", "running")

    job = cli.show(job_id)
    assert job["status"] == "running"
    assert job["finished_at"] is None
    assert job_id in result.stderr
    assert result.stdout == ""


def test_update_json_prints_the_updated_job(cli: Cli, job_id: str) -> None:
    printed = cli.json("update", job_id, "--status", "queued", "--json")
    assert printed["status"] == "queued"
    assert printed == cli.show(job_id)


@pytest.mark.parametrize("status", FINAL)
def test_moving_to_a_final_state_stamps_finished_at_now(cli: Cli, job_id: str, status: str) -> None:
    before = int(time.time())
    cli.ok("update", job_id, "--status", status)
    after = int(time.time())

    job = cli.show(job_id)
    assert job["status"] == status
    assert before <= job["finished_at"] <= after


@pytest.mark.parametrize("status", FINAL)
def test_given_finished_at_is_kept(cli: Cli, job_id: str, status: str) -> None:
    cli.ok("update", job_id, "--status", status, "--finished-at", "2024-07-24")
    assert cli.show(job_id)["finished_at"] == 1721779200


def test_outcome_fields(cli: Cli, job_id: str) -> None:
    cli.ok(
        "update", job_id, "--status", "succeeded", "--fine-tuned-model",
        "ft:gpt-4o-mini:org::abc", "--trained-tokens", "5768", "--estimated-finish",
        CREATED + 60, "--finished-at", CREATED + 120,
    )  # fmt: skip
    job = cli.show(job_id)
    assert job["fine_tuned_model"] == "ft:gpt-4o-mini:org::abc"
    assert job["trained_tokens"] == 5768
    assert job["estimated_finish"] == CREATED + 60
    assert job["finished_at"] == CREATED + 120


@pytest.mark.parametrize(
    ("final", "target"),
    [
        (final, target)
        for final in FINAL
        for target in ("running", "queued", "paused", *FINAL)
        if target != final
    ],
)
def test_final_job_refuses_a_status_change_without_force(
    cli: Cli, job_id: str, final: str, target: str
) -> None:
    cli.ok("update", job_id, "--status", final)
    before_json, before_db = cli.show(job_id), dump(cli.db)

    result = cli.fails(1, "update", job_id, "--status", target)

    line = error_line(result)
    assert job_id in line
    assert "--force" in line
    assert cli.show(job_id) == before_json
    assert dump(cli.db) == before_db


@pytest.mark.parametrize("final", FINAL)
def test_force_moves_out_of_a_final_state_and_clears_finished_at(
    cli: Cli, job_id: str, final: str
) -> None:
    cli.ok("update", job_id, "--status", final)

    cli.ok("update", job_id, "--status", "running", "--force")

    job = cli.show(job_id)
    assert job["status"] == "running"
    assert job["finished_at"] is None


def test_force_between_final_states_restamps_finished_at(cli: Cli, job_id: str) -> None:
    cli.ok("update", job_id, "--status", "succeeded", "--finished-at", CREATED + 5)
    before = int(time.time())
    cli.ok("update", job_id, "--status", "cancelled", "--force")
    job = cli.show(job_id)
    assert job["status"] == "cancelled"
    assert before <= job["finished_at"] <= int(time.time())


def test_same_final_status_again_is_not_a_change(cli: Cli, job_id: str) -> None:
    cli.ok("update", job_id, "--status", "succeeded", "--finished-at", CREATED + 5)
    cli.ok("update", job_id, "--status", "succeeded")
    assert cli.show(job_id)["finished_at"] == CREATED + 5


def test_failed_with_error_details(cli: Cli, job_id: str) -> None:
    make_failed(cli, job_id)
    job = cli.show(job_id)
    assert job["status"] == "failed"
    assert job["error"] == {
        "code": "invalid_n_examples",
        "message": "Training file has 3 example(s)",
        "param": "training_file",
    }
    assert job["finished_at"] is not None


def test_failed_error_param_may_be_left_out(cli: Cli, job_id: str) -> None:
    cli.ok("update", job_id, "--status", "failed", "--error-code", "c", "--error-message", "m")
    assert cli.show(job_id)["error"] == {"code": "c", "message": "m", "param": None}


@pytest.mark.parametrize(
    "flags",
    [
        ["--error-code", "c", "--error-message", "m"],
        ["--error-param", "training_file"],
        ["--status", "succeeded", "--error-code", "c", "--error-message", "m"],
        ["--status", "running", "--error-message", "m"],
    ],
)
def test_error_details_need_status_failed(cli: Cli, job_id: str, flags: list[str]) -> None:
    before_json, before_db = cli.show(job_id), dump(cli.db)

    result = cli.fails(1, "update", job_id, *flags)

    assert "failed" in error_line(result)
    assert cli.show(job_id) == before_json
    assert dump(cli.db) == before_db


@pytest.mark.parametrize(
    ("flags", "missing"),
    [
        (["--error-code", "c"], ["--error-message"]),
        (["--error-message", "m"], ["--error-code"]),
        (["--error-param", "p"], ["--error-code", "--error-message"]),
    ],
)
def test_failed_needs_error_code_and_message(
    cli: Cli, job_id: str, flags: list[str], missing: list[str]
) -> None:
    before_json, before_db = cli.show(job_id), dump(cli.db)

    result = cli.fails(2, "update", job_id, "--status", "failed", *flags)

    line = error_line(result)
    for option in missing:
        assert option in line
    assert cli.show(job_id) == before_json
    assert dump(cli.db) == before_db


def test_error_details_on_a_failed_job_are_merged(cli: Cli, job_id: str) -> None:
    make_failed(cli, job_id)
    cli.ok("update", job_id, "--error-message", "Now explained better")
    assert cli.show(job_id)["error"] == {
        "code": "invalid_n_examples",
        "message": "Now explained better",
        "param": "training_file",
    }


def test_clear_error(cli: Cli, job_id: str) -> None:
    make_failed(cli, job_id)
    cli.ok("update", job_id, "--clear-error")
    job = cli.show(job_id)
    assert job["error"] is None
    assert job["status"] == "failed"


def test_clear_error_with_error_details_is_refused(cli: Cli, job_id: str) -> None:
    make_failed(cli, job_id)
    before_json = cli.show(job_id)
    cli.fails(2, "update", job_id, "--clear-error", "--error-code", "other")
    assert cli.show(job_id) == before_json


@pytest.mark.parametrize("target", ["running", "succeeded", "queued", "cancelled"])
def test_leaving_failed_clears_the_error(cli: Cli, job_id: str, target: str) -> None:
    make_failed(cli, job_id)
    cli.ok("update", job_id, "--status", target, "--force")
    job = cli.show(job_id)
    assert job["status"] == target
    assert job["error"] is None


def test_zero_values_are_values(cli: Cli, job_id: str) -> None:
    cli.ok("update", job_id, "--trained-tokens", "0")
    assert cli.show(job_id)["trained_tokens"] == 0


def test_metadata_is_merged(cli: Cli, job_id: str) -> None:
    cli.ok("update", job_id, "--metadata", "b=20", "--metadata", "c=30")
    assert cli.show(job_id)["metadata"] == {"a": "1", "b": "20", "c": "30"}


def test_metadata_on_a_job_without_any(cli: Cli) -> None:
    job_id = cli.add()
    cli.ok("update", job_id, "--metadata", "k=v")
    assert cli.show(job_id)["metadata"] == {"k": "v"}


def test_update_without_options_is_refused(cli: Cli, job_id: str) -> None:
    before_db = dump(cli.db)
    result = cli.fails(2, "update", job_id)
    assert error_line(result)
    assert dump(cli.db) == before_db


@pytest.mark.parametrize(
    "flags",
    [
        ["--finished-at", CREATED - 1],
        ["--status", "succeeded", "--finished-at", "2024-07-22"],
    ],
)
def test_finished_at_before_created_at_is_refused(
    cli: Cli, job_id: str, flags: list[object]
) -> None:
    before_json, before_db = cli.show(job_id), dump(cli.db)

    result = cli.fails(2, "update", job_id, *flags)

    line = error_line(result)
    assert "finished_at" in line
    assert "created_at" in line
    assert cli.show(job_id) == before_json
    assert dump(cli.db) == before_db


def test_update_unknown_job_is_an_error(cli: Cli, job_id: str) -> None:
    before_db = dump(cli.db)
    result = cli.fails(1, "update", "ftjob-missing", "--status", "running")
    assert "ftjob-missing" in error_line(result)
    assert dump(cli.db) == before_db


@pytest.mark.parametrize(
    ("code", "flags"),
    [
        (1, ["--status", "running"]),  # final state without --force
        (1, ["--error-param", "p"]),  # error details on a succeeded job
        (2, ["--clear-error", "--error-code", "c"]),
        (2, ["--finished-at", CREATED - 10]),
        (2, ["--trained-tokens", "-1"]),
        (2, ["--metadata", "no-equals-sign"]),
        (2, ["--status", "bogus"]),
        (2, ["--finished-at", "not-a-time"]),
    ],
)
def test_refused_update_of_a_finished_job_changes_nothing(
    cli: Cli, job_id: str, code: int, flags: list[object]
) -> None:
    cli.ok("update", job_id, "--status", "succeeded", "--finished-at", CREATED + 100,
           "--fine-tuned-model", "ft:m", "--trained-tokens", 10)  # fmt: skip
    cli.ok("attach", job_id, "file-r1")
    before_json, before_db = cli.show(job_id), dump(cli.db)

    cli.fails(code, "update", job_id, *flags)

    assert cli.show(job_id) == before_json
    assert dump(cli.db) == before_db


def test_metadata_key_without_a_value_removes_the_key(cli: Cli, job_id: str) -> None:
    cli.ok("update", job_id, "--metadata", "a=", "--metadata", "c=3")
    assert cli.show(job_id)["metadata"] == {"b": "2", "c": "3"}
    cli.ok("update", job_id, "--metadata", "b=", "--metadata", "c=", "--metadata", "zz=")
    assert cli.show(job_id)["metadata"] is None
