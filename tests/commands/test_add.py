"""`ftjobs add`: a new job record, its id, and what its options become."""

from __future__ import annotations

import re
import time

import pytest
from support.helpers import JOB_ID_RE, Cli, dump, error_line


def test_add_prints_a_new_api_shaped_id(cli: Cli) -> None:
    result = cli.ok("add", "--model", "gpt-4o-mini", "--training-file", "file-abc123")

    assert JOB_ID_RE.fullmatch(result.stdout.rstrip("\n")), result.stdout
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1
    job = cli.show(result.stdout.strip())
    assert job["model"] == "gpt-4o-mini"
    assert job["training_file"] == "file-abc123"
    assert job["object"] == "fine_tuning.job"
    assert job["status"] == "validating_files"


def test_each_add_gets_a_different_id(cli: Cli) -> None:
    ids = {cli.add() for _ in range(3)}
    assert len(ids) == 3
    assert sorted(ids) == sorted(cli.list_ids())


def test_add_with_given_id(cli: Cli) -> None:
    assert cli.add("--id", "ftjob-mine") == "ftjob-mine"
    assert cli.show("ftjob-mine")["id"] == "ftjob-mine"


def test_add_duplicate_id_is_refused_and_changes_nothing(cli: Cli) -> None:
    cli.add("--id", "ftjob-dup", model="first-model")
    before = dump(cli.db)

    result = cli.fails(
        1, "add", "--id", "ftjob-dup", "--model", "second-model", "--training-file", "f"
    )

    assert "ftjob-dup" in error_line(result)
    assert dump(cli.db) == before
    assert cli.show("ftjob-dup")["model"] == "first-model"


def test_add_json_prints_the_job_object(cli: Cli) -> None:
    job = cli.json(
        "add", "--model", "gpt-4o-mini", "--training-file", "file-t", "--validation-file",
        "file-v", "--created-at", "1721764800", "--status", "queued", "--json",
    )  # fmt: skip

    assert JOB_ID_RE.fullmatch(job["id"])
    assert job["object"] == "fine_tuning.job"
    assert job["model"] == "gpt-4o-mini"
    assert job["training_file"] == "file-t"
    assert job["validation_file"] == "file-v"
    assert job["created_at"] == 1721764800
    assert job["status"] == "queued"
    assert job["finished_at"] is None
    assert job["fine_tuned_model"] is None
    assert job["trained_tokens"] is None
    assert job["result_files"] == []
    assert job["error"] is None
    assert job["hyperparameters"] == {
        "n_epochs": "auto",
        "batch_size": "auto",
        "learning_rate_multiplier": "auto",
    }
    # What was printed is what was stored.
    assert cli.show(job["id"]) == job


@pytest.mark.parametrize(
    ("option", "text", "field", "expected"),
    [
        ("--n-epochs", "3", "n_epochs", 3),
        ("--n-epochs", "auto", "n_epochs", "auto"),
        ("--batch-size", "16", "batch_size", 16),
        ("--batch-size", "auto", "batch_size", "auto"),
        ("--learning-rate-multiplier", "0.5", "learning_rate_multiplier", 0.5),
        ("--learning-rate-multiplier", "2", "learning_rate_multiplier", 2),
        ("--learning-rate-multiplier", "auto", "learning_rate_multiplier", "auto"),
    ],
)
def test_hyperparameter_flags_keep_their_json_type(
    cli: Cli, option: str, text: str, field: str, expected: object
) -> None:
    printed = cli.json("add", "--model", "m", "--training-file", "f", option, text, "--json")
    stored = cli.show(printed["id"])

    for job in (printed, stored):
        value = job["hyperparameters"][field]
        assert value == expected
        assert type(value) is type(expected), f"{field}: {value!r} should be {expected!r}"
        assert job["method"]["supervised"]["hyperparameters"][field] == expected
    # The others stay "auto".
    others = {k: v for k, v in stored["hyperparameters"].items() if k != field}
    assert set(others.values()) == {"auto"}


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--n-epochs", "0", "n_epochs"),
        ("--n-epochs", "51", "n_epochs"),
        ("--batch-size", "300", "batch_size"),
        ("--batch-size", "0", "batch_size"),
        ("--learning-rate-multiplier", "0", "learning_rate_multiplier"),
        ("--learning-rate-multiplier", "-1", "learning_rate_multiplier"),
    ],
)
def test_out_of_range_hyperparameter_is_refused(
    cli: Cli, option: str, value: str, field: str
) -> None:
    result = cli.fails(2, "add", "--model", "m", "--training-file", "f", option, value)

    line = error_line(result)
    assert field in line
    # The value, as a number of its own (not the 0 of "50").
    assert re.search(rf"(?<![\d.]){re.escape(value)}(?![\d.])", line), line
    assert cli.stored_ids() == []


@pytest.mark.parametrize("text", ["x", "three", "1.2.3", ""])
def test_hyperparameter_that_is_not_a_number_is_a_usage_error(cli: Cli, text: str) -> None:
    result = cli.fails(2, "add", "--model", "m", "--training-file", "f", "--n-epochs", text)
    assert "--n-epochs" in result.stderr
    assert cli.stored_ids() == []


def test_wandb_options_make_an_integration(cli: Cli) -> None:
    job = cli.json(
        "add", "--model", "m", "--training-file", "f", "--wandb-project", "my-project",
        "--wandb-name", "run-1", "--wandb-entity", "my-team", "--wandb-tag", "a",
        "--wandb-tag", "b", "--json",
    )  # fmt: skip

    expected = [
        {
            "type": "wandb",
            "wandb": {"project": "my-project", "name": "run-1", "entity": "my-team",
                      "tags": ["a", "b"]},
        }
    ]  # fmt: skip
    assert job["integrations"] == expected
    assert cli.show(job["id"])["integrations"] == expected


def test_wandb_project_alone(cli: Cli) -> None:
    job = cli.json("add", "--model", "m", "--training-file", "f", "--wandb-project", "p", "--json")
    (integration,) = job["integrations"]
    assert integration["type"] == "wandb"
    assert integration["wandb"]["project"] == "p"
    assert not integration["wandb"].get("tags")


def test_no_wandb_options_no_integrations(cli: Cli) -> None:
    job = cli.show(cli.add())
    assert job["integrations"] == []


def test_wandb_details_without_project_are_refused(cli: Cli) -> None:
    result = cli.fails(2, "add", "--model", "m", "--training-file", "f", "--wandb-name", "run-1")
    assert "--wandb-project" in error_line(result)
    assert cli.stored_ids() == []


def test_metadata_is_repeatable(cli: Cli) -> None:
    job_id = cli.add("--metadata", "team=nlp", "--metadata", "query=a=b", "--metadata", "empty=")
    assert cli.show(job_id)["metadata"] == {"team": "nlp", "query": "a=b", "empty": ""}


def test_no_metadata_is_null(cli: Cli) -> None:
    assert cli.show(cli.add())["metadata"] is None


@pytest.mark.parametrize("pair", ["bad", "=value"])
def test_metadata_without_key_and_value_is_a_usage_error(cli: Cli, pair: str) -> None:
    result = cli.fails(2, "add", "--model", "m", "--training-file", "f", "--metadata", pair)
    assert "--metadata" in result.stderr
    assert cli.stored_ids() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1721764800", 1721764800),
        ("0", 0),
        ("2024-07-23", 1721692800),
        ("2024-07-23T20:00:00Z", 1721764800),
        ("2024-07-23T20:00:00", 1721764800),
        ("2024-07-23T22:00:00+02:00", 1721764800),
    ],
)
def test_created_at_takes_unix_seconds_and_iso_dates(cli: Cli, text: str, expected: int) -> None:
    job_id = cli.add("--created-at", text)
    assert cli.show(job_id)["created_at"] == expected


def test_created_at_defaults_to_now(cli: Cli) -> None:
    before = int(time.time())
    job_id = cli.add()
    after = int(time.time())
    assert before <= cli.show(job_id)["created_at"] <= after


def test_created_at_that_is_not_a_time_is_a_usage_error(cli: Cli) -> None:
    result = cli.fails(
        2, "add", "--model", "m", "--training-file", "f", "--created-at", "yesterday"
    )
    assert "--created-at" in result.stderr


def test_suffix_is_user_provided_suffix(cli: Cli) -> None:
    with_suffix = cli.show(cli.add("--suffix", "my-model"))
    without = cli.show(cli.add())

    assert with_suffix["user_provided_suffix"] == "my-model"
    assert "user_provided_suffix" not in without


def test_seed_and_organization(cli: Cli) -> None:
    job = cli.show(cli.add("--seed", "683058546", "--organization-id", "org-123"))
    assert job["seed"] == 683058546
    assert job["organization_id"] == "org-123"


def test_status_option(cli: Cli) -> None:
    assert cli.show(cli.add("--status", "running"))["status"] == "running"
    result = cli.fails(2, "add", "--model", "m", "--training-file", "f", "--status", "bogus")
    assert "--status" in result.stderr


def test_model_and_training_file_are_required(cli: Cli) -> None:
    result = cli.fails(2, "add", "--model", "m")
    assert "--training-file" in result.stderr


def test_non_ascii_text_is_kept(cli: Cli) -> None:
    job_id = cli.add("--metadata", "note=café ✓ 日本", "--suffix", "ñ", model="modèle")
    job = cli.show(job_id)
    assert job["model"] == "modèle"
    assert job["metadata"] == {"note": "café ✓ 日本"}
    assert job["user_provided_suffix"] == "ñ"
    assert "modèle" in cli.ok("list").stdout


def test_a_finished_job_is_recorded_in_one_command(cli: Cli) -> None:
    job_id = cli.add(
        "--created-at", 1000, "--status", "succeeded", "--finished-at", 2000,
        "--fine-tuned-model", "ft:gpt-4o-mini:org::x1", "--trained-tokens", 5768,
    )  # fmt: skip
    job = cli.show(job_id)
    assert (job["status"], job["finished_at"], job["fine_tuned_model"], job["trained_tokens"]) == (
        "succeeded", 2000, "ft:gpt-4o-mini:org::x1", 5768,
    )  # fmt: skip


def test_a_final_status_without_finished_at_stamps_now(cli: Cli) -> None:
    before = int(time.time())
    job = cli.show(cli.add("--status", "cancelled"))
    assert before <= job["finished_at"] <= int(time.time())
    assert cli.show(cli.add("--status", "running"))["finished_at"] is None


def test_finished_before_created_is_refused(cli: Cli) -> None:
    result = cli.fails(2, "add", "--model", "m", "--training-file", "f", "--created-at", 2000,
                       "--finished-at", 1000)  # fmt: skip
    assert "finished_at" in error_line(result)
    assert cli.stored_ids() == []


def test_a_past_finished_at_without_created_at_is_its_start_too(cli: Cli) -> None:
    """`add --status succeeded --finished-at 2024-07-24...` (the README's) records a job done
    in the past: created_at, not given, cannot be today, after it finished."""
    job = cli.show(cli.add("--status", "succeeded", "--finished-at", "2024-07-24T11:00:00Z"))
    assert job["created_at"] == job["finished_at"] == 1721818800
    before = int(time.time())
    future = cli.show(cli.add("--status", "running", "--finished-at", "9999-01-01"))
    assert before <= future["created_at"] <= int(time.time())  # not after now: now


def test_a_finished_at_before_created_at_is_named_in_iso_times(cli: Cli) -> None:
    times = ("--created-at", "2024-07-25", "--finished-at", "2024-07-24T11:00:00Z")
    result = cli.fails(2, "add", "--model", "m", "--training-file", "f", *times)
    assert error_line(result) == (
        "Error: finished_at 2024-07-24T11:00:00Z is before created_at 2024-07-25T00:00:00Z"
    )
    job_id = cli.add("--created-at", "2024-07-25")
    result = cli.fails(2, "update", job_id, "--finished-at", "2024-07-24T11:00:00Z")
    assert error_line(result) == (
        f"Error: job {job_id}: finished_at 2024-07-24T11:00:00Z is before created_at"
        " 2024-07-25T00:00:00Z"
    )
