"""Hostile and broken input: every case ends in a clean `Error:` line (no traceback), the
documented exit status and a byte-for-byte unchanged store, or, when the text is valid after all
(quotes, SQL, emoji, NUL bytes, a megabyte), in that text stored and returned exactly."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.helpers import Cli, describe, dump, error_line
from support.jobdata import make_job, write_jsonl

SQL_FRAGMENTS = [
    "'; DROP TABLE jobs; --",
    '" OR 1=1 --',
    "x') UNION SELECT * FROM sqlite_master --",
    "created_at; DROP TABLE jobs",
    "1; ATTACH DATABASE '/tmp/x' AS x",
]
NASTY_TEXT = st.sampled_from(SQL_FRAGMENTS) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40
)
ODD_NUMBERS = ["nan", "inf", "-inf", "1e999", "", " ", "auto", "0", "-1", "3.5", "NaN", "2",
               "9" * 30, str(2**63), str(-(2**63) - 1), "0x10", "1; DROP TABLE jobs"]  # fmt: skip
NUMBERS = st.sampled_from(ODD_NUMBERS) | st.integers(-(2**70), 2**70).map(str)
NUMERIC_OPTIONS = ["--seed", "--n-epochs", "--batch-size", "--learning-rate-multiplier",
                   "--created-at"]  # fmt: skip
TEXT_OPTIONS = {
    "--model": "model",
    "--training-file": "training_file",
    "--validation-file": "validation_file",
    "--organization-id": "organization_id",
    "--suffix": "user_provided_suffix",
}
HYPOTHESIS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def refused_cleanly(cli: Cli, before: list[str], code: int, *args: Any) -> str:
    """The command fails with `code`, one Error line and no change to the store."""
    result = cli.fails(code, *args)
    line = error_line(result)
    assert dump(cli.db) == before, describe(result)
    return line


# -- add, update, attach ----------------------------------------------------------------------


@HYPOTHESIS
@given(option=st.sampled_from(sorted(TEXT_OPTIONS)), value=NASTY_TEXT)
def test_any_text_is_stored_and_returned_exactly(cli: Cli, option: str, value: str) -> None:
    args = {"--model": "m", "--training-file": "f", option: value}
    job_id = cli.add(*[part for pair in args.items() for part in pair])
    assert cli.show(job_id)[TEXT_OPTIONS[option]] == value


@HYPOTHESIS
@given(option=st.sampled_from(NUMERIC_OPTIONS), value=NUMBERS)
def test_bad_numbers_are_refused_with_exit_2_and_good_ones_kept(
    cli: Cli, option: str, value: str
) -> None:
    cli("add", "--id", "ftjob-anchor", "--model", "m", "--training-file", "f")  # once
    before = dump(cli.db)
    result = cli("add", "--model", "m", "--training-file", "f", option, value)
    if result.exit_code == 0:
        job = cli.show(result.stdout.strip())
        field = {"--seed": job.get("seed"), "--created-at": job["created_at"]}.get(
            option, job["hyperparameters"].get(option[2:].replace("-", "_"))
        )
        assert field == "auto" or (isinstance(field, int | float) and math.isfinite(field))
        assert str(field) in (value.strip(), str(float(value)) if field != "auto" else "auto")
    else:
        assert result.exit_code == 2, describe(result)
        assert result.stdout == "" and "Traceback" not in result.stderr
        error_line(result)
        assert dump(cli.db) == before


@HYPOTHESIS
@given(
    args=st.sampled_from(
        [
            ["--trained-tokens"],
            ["--finished-at"],
            ["--estimated-finish"],
            ["--status", "failed", "--error-code"],
            ["--fine-tuned-model"],
            ["--metadata"],
        ]
    ),
    value=NASTY_TEXT | NUMBERS,
)
def test_update_takes_valid_values_and_refuses_the_rest_without_a_trace(
    cli: Cli, args: list[str], value: str
) -> None:
    job_id = cli.add("--created-at", "0")
    before = dump(cli.db)
    result = cli("update", job_id, *args, value, "--error-message", "m", "--force")
    if result.exit_code == 0:
        assert dump(cli.db) != before
    else:
        assert result.exit_code in (1, 2), describe(result)
        assert result.stdout == "" and "Traceback" not in result.stderr
        error_line(result)
        assert dump(cli.db) == before


@HYPOTHESIS
@given(files=st.lists(NASTY_TEXT, min_size=1, max_size=4))
def test_attach_stores_any_file_ids_exactly(cli: Cli, files: list[str]) -> None:
    job_id = cli.add()
    cli.ok("attach", job_id, "--", *files)  # "--": an id may start with "-"
    assert cli.show(job_id)["result_files"] == list(dict.fromkeys(files))


@pytest.mark.parametrize("value", [*SQL_FRAGMENTS, "created_at desc", "id,status"])
def test_sql_in_sort_and_filters_is_refused_or_bound(cli: Cli, value: str) -> None:
    cli.add("--model", "gpt")
    before = dump(cli.db)
    refused_cleanly(cli, before, 2, "list", "--sort", value)
    refused_cleanly(cli, before, 2, "list", "--status", value)
    refused_cleanly(cli, before, 2, "list", "--since", value)
    assert cli.ok("list", "--model", value).stdout == ""  # a value, never SQL
    assert len(cli.list_ids("--model", "gpt")) == 1


def test_huge_and_negative_values_on_the_command_line(cli: Cli) -> None:
    job_id = cli.add()
    before = dump(cli.db)
    for args in (
        ["add", "--model", "m", "--training-file", "f", "--created-at", "-5"],
        ["add", "--model", "m", "--training-file", "f", "--seed", str(2**64)],
        ["update", job_id, "--trained-tokens", str(2**64)],
        ["update", job_id, "--finished-at", str(10**20)],
        ["list", "--limit", str(2**64)],
    ):
        refused_cleanly(cli, before, 2, *args)


def test_a_megabyte_of_text_with_nul_bytes_round_trips(cli: Cli, tmp_path: Path) -> None:
    big = "x\x00y" * (1 << 18) + "😀"
    job = make_job(1, model=big, metadata={"k": "\x00"}, x_note=big)
    cli.ok("import", write_jsonl(tmp_path / "big.jsonl", [job]))
    back = cli.show(job["id"])
    assert back["model"] == big and back["x_note"] == big and back["metadata"] == {"k": "\x00"}


# -- import -----------------------------------------------------------------------------------

BAD_VALUES = st.sampled_from(
    [None, True, False, -1, 2**64, -(2**70), 1.5, "", "yesterday", [], {}, [1], {"a": 1},
     "'; DROP TABLE jobs; --", 10**400]
)  # fmt: skip
KNOWN_FIELDS = ["id", "object", "model", "created_at", "finished_at", "status", "trained_tokens",
                "seed", "result_files", "hyperparameters", "error", "integrations", "method",
                "metadata", "estimated_finish", "organization_id"]  # fmt: skip


@HYPOTHESIS
@given(field=st.sampled_from(KNOWN_FIELDS), value=BAD_VALUES, drop=st.booleans())
def test_import_of_a_broken_record_changes_nothing_or_keeps_it_exactly(
    cli: Cli, tmp_path: Path, field: str, value: Any, drop: bool
) -> None:
    cli.ok("import", write_jsonl(tmp_path / "seed.jsonl", [make_job(0)]))
    before = dump(cli.db)
    job = make_job(1)
    if drop:
        del job[field]
    else:
        job[field] = value
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(make_job(2)) + "\n" + json.dumps(job) + "\n")
    result = cli("import", path)
    if result.exit_code == 0:
        stored = cli.show(job["id"])
        assert all(stored[key] == job[key] for key in job if key != "error")
    else:
        assert result.exit_code == 1, describe(result)
        assert result.stdout == "" and "Traceback" not in result.stderr
        first = result.stderr.splitlines()[0]
        assert first.startswith(f"Error: {path}:2: ")
        assert field in first, first
        assert dump(cli.db) == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.json", b"", "empty input"),
        ("blank.jsonl", b"\n\n  \n", "empty input"),
        ("garbage.bin", bytes(range(256)) * 4, "not UTF-8"),
        ("latin1.jsonl", b'{"id": "ftjob-\xe9", "model": "m"}\n', "not UTF-8"),
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (
            "deep.jsonl",
            b'{"id": "x", "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
            "nested too deeply",
        ),
        ("truncated.json", json.dumps([make_job(1), make_job(2)]).encode()[:-30], "JSON"),
        ("truncated.jsonl", json.dumps(make_job(1)).encode()[:-30] + b"\n", "invalid JSON"),
        ("nan.jsonl", json.dumps(make_job(1)).replace("1.8", "NaN").encode() + b"\n", "NaN"),
        ("inf.json", json.dumps([make_job(1)]).replace("1.8", "Infinity").encode(), "Infinity"),
        ("scalar.json", b"42", "expected a JSON object or array"),
        ("strings.json", b'["a", "b"]', "expected a job object, got a string"),
    ],
)
def test_broken_files_are_refused_cleanly(
    cli: Cli, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    cli.ok("import", write_jsonl(tmp_path / "seed.jsonl", [make_job(0)]))
    before = dump(cli.db)
    path = tmp_path / name
    path.write_bytes(content)
    result = cli.fails(1, "import", path)
    assert result.stderr.startswith(f"Error: {path}:")
    assert message in result.stderr, result.stderr
    assert dump(cli.db) == before


def test_duplicate_keys_take_the_last_value_as_json_parsers_do(cli: Cli, tmp_path: Path) -> None:
    """RFC 8259 leaves duplicate names to the parser; ftjobs, like jq and Python's json, keeps
    the last. (Refusing them would cost every import a slower parser; see the README.)"""
    text = json.dumps(make_job(1))[:-1] + ', "status": "cancelled"}'
    assert text.count('"status"') == 2
    path = tmp_path / "dup.jsonl"
    path.write_text(text + "\n")
    cli.ok("import", path)
    assert cli.show(make_job(1)["id"])["status"] == "cancelled"


# -- the database file ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["directory", "not sqlite", "under a file", "in /proc"])
def test_a_bad_db_path_is_a_clear_error_and_never_overwritten(tmp_path: Path, kind: str) -> None:
    target = {
        "directory": tmp_path,
        "not sqlite": tmp_path / "notes.txt",
        "under a file": tmp_path / "notes.txt" / "jobs.db",
        "in /proc": Path("/proc/ftjobs-test/jobs.db"),
    }[kind]
    (tmp_path / "notes.txt").write_text("my notes, not a database\n" * 100)
    before = (tmp_path / "notes.txt").read_bytes()
    result = Cli(target).fails(1, "list")
    line = error_line(result)
    assert str(target) in line
    assert (tmp_path / "notes.txt").read_bytes() == before


def test_a_new_database_file_is_private(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    Cli(db).add()
    assert db.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "args",
    [
        ["add", "--model", "", "--training-file", "f"],
        ["add", "--model", "m", "--training-file", ""],
        ["attach", "ftjob-anchor", ""],
    ],
)
def test_empty_names_are_refused(cli: Cli, args: list[str]) -> None:
    """An unset shell variable ("$MODEL") must not make a record with no model or file."""
    cli.add("--id", "ftjob-anchor")
    before = dump(cli.db)
    assert "at least 1 character" in refused_cleanly(cli, before, 2, *args)
