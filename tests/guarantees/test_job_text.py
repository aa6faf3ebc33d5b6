"""A job's text is kept as its provider sent it (schema v5, jobs.raw_json): import (and sync)
store the object compact, key order, number spellings, "error": {} and unknown keys as they
came; show --json (re-indented, never re-encoded), export, list --json and search --json give
it back byte for byte. A job a person writes or changes (add, update, attach) has no text: its
JSON is built from the columns, as before."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from support.helpers import FIXTURES, Cli, connect, dump
from support.jobdata import make_job, write_jsonl
from support.stores import v2_database

from ftjobs.api.models import FineTuningJob
from ftjobs.jsonio.stream import reindent_json

JOB_ID = "ftjob-TextAsSent000000000000001"

# A job as a provider might send it: keys in no order the model has, hyperparameters' keys
# turned around, "error": {} (no error), numbers spelled as json and pydantic would not spell
# them (0.10, 2.50E+1, 240.0, 1.805623287509661e-5), unknown keys, escapes in a string.
PAIRS = [
    ('"id"', f'"{JOB_ID}"'),
    ('"status"', '"succeeded"'),
    ('"object"', '"fine_tuning.job"'),
    ('"model"', '"gpt-4o-mini-2024-07-18"'),
    ('"created_at"', "1721764800"),
    ('"finished_at"', "1721768400"),
    ('"hyperparameters"', '{"learning_rate_multiplier":0.10,"batch_size":"auto","n_epochs":3}'),
    ('"error"', "{}"),
    ('"usage_metrics"', '{"loss":1.805623287509661e-5,"ratio":2.50E+1,"step":240.0,"x":[]}'),
    ('"result_files"', '["file-r1"]'),
    ('"training_file"', '"file-t"'),
    ('"fine_tuned_model"', '"ft:gpt-4o-mini:org::x1"'),
    ('"organization_id"', '"org-1"'),
    ('"validation_file"', "null"),
    ('"trained_tokens"', "5768"),
    ('"integrations"', "[]"),
    ('"seed"', "7"),
    ('"metadata"', '{"team":"search"}'),
    ('"user_provided_suffix"', '"x \\u00e9 \\"q\\""'),
]
COMPACT = "{" + ",".join(f"{key}:{value}" for key, value in PAIRS) + "}"
# The same job laid out as an API's pretty-printed response (spaces, newlines, tabs).
PRETTY = "{\n" + ",\n".join(f"\t{key} :  {value}" for key, value in PAIRS) + "\n}\n"
SPELLINGS = [
    '"learning_rate_multiplier": 0.10',
    '"error": {}',
    '"loss": 1.805623287509661e-5',
    '"ratio": 2.50E+1',
    '"step": 240.0',
    '"user_provided_suffix": "x \\u00e9 \\"q\\""',
]


def stored_text(db: Path, job_id: str = JOB_ID) -> str | None:
    with connect(db) as conn:
        row = conn.execute("SELECT raw_json FROM jobs WHERE id = ?", [job_id]).fetchone()
    text: str | None = row[0]
    return text


def assert_given_back_as_sent(cli: Cli) -> None:
    """Every way a job's JSON goes out gives the text as it came in."""
    assert stored_text(cli.db) == COMPACT
    shown = cli.ok("show", JOB_ID, "--json").stdout
    assert shown == reindent_json(COMPACT) + "\n"
    for spelling in SPELLINGS:
        assert spelling in shown
    assert list(json.loads(shown)) == [json.loads(key) for key, _ in PAIRS]  # key order
    assert cli.ok("export").stdout == COMPACT + "\n"
    assert cli.ok("export", "--format", "json").stdout == f"[\n{COMPACT}\n]\n"
    assert cli.ok("export", "--format", "list").stdout == (
        f'{{"object":"list","data":[\n{COMPACT}\n],"has_more":false}}\n'
    )
    assert cli.ok("list", "--json").stdout == f"[\n{COMPACT}\n]\n"
    assert cli.ok("list", "--jsonl", "--status", "succeeded").stdout == COMPACT + "\n"
    assert cli.ok("search", "search", "--json").stdout == f"[\n{COMPACT}\n]\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


INPUTS = {
    "jsonl line": lambda: PRETTY.replace("\n", " ") + "\n",
    "compact jsonl": lambda: COMPACT + "\n",
    "pretty object": lambda: PRETTY,
    "array": lambda: f"[\n{json.dumps(make_job(1), indent=2)},\n  {PRETTY}]\n",
    "envelope": lambda: f'{{"object": "list",\n "data": [ {PRETTY} ],\n "has_more": false}}\n',
    "envelope on a line": lambda: f'{{"object":"list","data":[{COMPACT}],"has_more":false}}\n',
    # JSON Lines whose second line is an array (read again record by record for their texts)
    "array on a line": lambda: (
        f"{json.dumps(make_job(1))}\n[{json.dumps(make_job(2))}, {COMPACT}]\n"
    ),
}


@pytest.mark.parametrize("shape", INPUTS)
def test_an_imported_job_comes_back_byte_for_byte(cli: Cli, tmp_path: Path, shape: str) -> None:
    path = write(tmp_path / "input", INPUTS[shape]())
    cli.ok("import", path)
    others = [job_id for job_id in cli.list_ids("--all") if job_id != JOB_ID]
    if others:  # (list and export would hold them too)
        cli.ok("delete", *others, "--yes")
    assert_given_back_as_sent(cli)


def test_gzip_and_stdin_keep_the_text_too(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "job.json.gz").write_bytes(gzip.compress(PRETTY.encode()))
    cli.ok("import", tmp_path / "job.json.gz")
    assert_given_back_as_sent(cli)
    other = Cli(tmp_path / "other.db")
    other.ok("import", "-", input=PRETTY)
    assert_given_back_as_sent(other)


def test_export_import_export_gives_the_same_bytes(cli: Cli, tmp_path: Path) -> None:
    cli.ok("import", write(tmp_path / "job.json", PRETTY))
    cli.ok("import", write_jsonl(tmp_path / "more.jsonl", [make_job(n) for n in range(3)]))
    cli.ok("add", "--model", "m", "--training-file", "f", "--id", "ftjob-added")
    first = cli.ok("export").stdout
    again = Cli(tmp_path / "again.db")
    again.ok("import", write(tmp_path / "first.jsonl", first))
    assert again.ok("export").stdout == first
    assert stored_text(again.db) == COMPACT


# -- unchanged, updated -----------------------------------------------------------------------


def test_the_same_text_again_is_unchanged_and_another_text_is_kept(
    cli: Cli, tmp_path: Path
) -> None:
    cli.ok("import", write(tmp_path / "job.json", PRETTY))
    before = dump(cli.db)
    # The same text, laid out another way: the same compact text, nothing written.
    result = cli.ok("import", write(tmp_path / "again.jsonl", COMPACT + "\n"))
    assert "0 inserted, 0 updated, 1 unchanged" in result.stderr
    assert dump(cli.db) == before
    # The same job with its hyperparameters' keys in another order: the model sees no change,
    # the archive does, and keeps the new text.
    reordered = COMPACT.replace(
        '{"learning_rate_multiplier":0.10,"batch_size":"auto","n_epochs":3}',
        '{"n_epochs":3,"batch_size":"auto","learning_rate_multiplier":0.10}',
    )
    assert reordered != COMPACT
    result = cli.ok("import", write(tmp_path / "reordered.jsonl", reordered + "\n"))
    assert "0 inserted, 1 updated, 0 unchanged" in result.stderr
    assert cli.ok("export").stdout == reordered + "\n"
    # 0.10 as 0.1: the same number, another spelling: kept.
    respelled = reordered.replace("0.10", "0.1")
    assert "1 updated" in cli.ok("import", write(tmp_path / "r.jsonl", respelled + "\n")).stderr
    assert stored_text(cli.db) == respelled


def test_skip_and_dry_run_leave_the_stored_text(cli: Cli, tmp_path: Path) -> None:
    cli.ok("import", write(tmp_path / "job.json", PRETTY))
    other = write(tmp_path / "other.jsonl", COMPACT.replace('"search"', '"ranking"') + "\n")
    assert "1 skipped" in cli.ok("import", "--on-conflict", "skip", other).stderr
    assert "1 updated" in cli.ok("import", "--dry-run", other).stderr
    assert stored_text(cli.db) == COMPACT


def test_a_person_s_job_exported_and_imported_again_is_unchanged(cli: Cli, tmp_path: Path) -> None:
    """A job add wrote has no text; its export is the JSON its columns give, so importing that
    export back changes nothing (and stores nothing)."""
    cli.add("--id", "ftjob-added", "--metadata", "k=v")
    exported = write(tmp_path / "out.jsonl", cli.ok("export").stdout)
    result = cli.ok("import", exported)
    assert "0 inserted, 0 updated, 1 unchanged" in result.stderr
    assert stored_text(cli.db, "ftjob-added") is None


# -- a person's change: the columns' JSON ------------------------------------------------------


def columns_json(data: dict[str, Any], indent: int | None = None) -> str:
    """What a job's JSON built from its columns is: FineTuningJob's, keys in the model's order
    (unknown ones last), the "no error" forms as null, numbers as pydantic-core writes them."""
    return FineTuningJob.model_validate(data).to_json(indent=indent)


def test_update_makes_the_job_the_person_s_and_its_json_the_columns(
    cli: Cli, tmp_path: Path
) -> None:
    cli.ok("import", write(tmp_path / "job.json", PRETTY))
    cli.ok("update", JOB_ID, "--metadata", "team=ranking")
    assert stored_text(cli.db) is None
    changed = {**json.loads(COMPACT), "metadata": {"team": "ranking"}}
    shown = cli.ok("show", JOB_ID, "--json").stdout
    assert shown == columns_json(changed, indent=2) + "\n"
    assert '"error": null' in shown and '"learning_rate_multiplier": 0.1\n' in shown
    assert cli.ok("export").stdout == columns_json(changed) + "\n"
    assert cli.ok("list", "--json").stdout == f"[\n{columns_json(changed)}\n]\n"
    # ... and importing the provider's text again makes it the provider's again.
    assert "1 updated" in cli.ok("import", tmp_path / "job.json").stderr
    assert_given_back_as_sent(cli)


def test_attach_and_attach_content_make_the_job_the_person_s(cli: Cli, tmp_path: Path) -> None:
    cli.ok("import", write(tmp_path / "job.json", PRETTY))
    cli.ok("attach", JOB_ID, "file-r1")  # already listed: nothing changes, the text stays
    assert stored_text(cli.db) == COMPACT
    cli.ok("attach", JOB_ID, "file-r2")
    assert stored_text(cli.db) is None
    assert cli.show(JOB_ID)["result_files"] == ["file-r1", "file-r2"]
    cli.ok("import", tmp_path / "job.json")
    csv = write(tmp_path / "r.csv", "step,train_loss\n1,0.5\n")
    cli.ok("attach", JOB_ID, "file-r3", "--content", csv)
    assert stored_text(cli.db) is None
    assert cli.show(JOB_ID)["result_files"] == ["file-r1", "file-r3"]


def test_add_stores_no_text(cli: Cli) -> None:
    job_id = cli.add("--metadata", "k=v")
    assert stored_text(cli.db, job_id) is None
    job = cli.json("show", job_id, "--json")
    assert cli.ok("show", job_id, "--json").stdout == columns_json(job, indent=2) + "\n"


def test_list_s_table_and_fields_read_the_columns(cli: Cli, tmp_path: Path) -> None:
    """list's table, TSV, CSV and --fields show the stored job's parts (the columns): an
    object part as the model orders it, not as the text has it."""
    cli.ok("import", write(tmp_path / "job.json", PRETTY))
    [row] = cli.ok("list").stdout.splitlines()
    assert row.split("\t")[:3] == [JOB_ID, "succeeded", "gpt-4o-mini-2024-07-18"]
    csv = cli.ok("list", "--csv", "--fields", "id,hyperparameters,error").stdout
    assert csv.splitlines()[1] == (
        f'{JOB_ID},"{{""n_epochs"":3,""batch_size"":""auto"",""learning_rate_multiplier"":0.1}}",'
    )
    plain = dict(line.split("\t", 1) for line in cli.ok("show", JOB_ID).stdout.splitlines())
    assert plain["hyperparameters"] == "n_epochs=3, batch_size=auto, learning_rate_multiplier=0.1"


# -- a store upgraded to v5: no texts ----------------------------------------------------------


def test_a_store_upgraded_to_v5_shows_its_jobs_as_before(tmp_path: Path) -> None:
    """An old store's jobs have no text (raw_json NULL after the upgrade): their JSON is built
    from the columns, as it was, everywhere it goes out; importing that JSON back finds them
    unchanged, and a provider's own text is then kept."""
    cli = Cli(v2_database(tmp_path / "old.db"))
    expected = json.loads((FIXTURES / "v2-jobs.json").read_text(encoding="utf-8"))
    exported = cli.ok("export").stdout
    assert exported == "".join(columns_json(job) + "\n" for job in expected)
    with connect(cli.db) as conn:
        assert conn.execute("SELECT count(*) FROM jobs WHERE raw_json IS NOT NULL").fetchone() == (
            0,
        )
    for job in expected:
        assert cli.ok("show", job["id"], "--json").stdout == columns_json(job, indent=2) + "\n"
    assert json.loads(cli.ok("list", "--all", "--json").stdout) == sorted(
        expected, key=lambda job: (job["created_at"], job["id"]), reverse=True
    )
    result = cli.ok("import", write(tmp_path / "out.jsonl", exported))
    assert f"0 updated, {len(expected)} unchanged" in result.stderr
    first = expected[0]
    turned = json.dumps(dict(reversed(first.items())), indent=2)  # keys in another order
    assert "1 updated" in cli.ok("import", write(tmp_path / "one.json", turned)).stderr
    assert cli.ok("show", first["id"], "--json").stdout == turned + "\n"


def test_json_after_update_attach_and_add_is_what_show_json_gives(cli: Cli, tmp_path: Path) -> None:
    """--json of a write prints the job as show --json would: a change that changed nothing
    (the metadata it had, a file it lists) leaves the provider's text, and prints it."""
    cli.ok("import", write(tmp_path / "job.json", PRETTY))
    as_sent = reindent_json(COMPACT) + "\n"
    assert cli.ok("update", JOB_ID, "--metadata", "team=search", "--json").stdout == as_sent
    assert cli.ok("attach", JOB_ID, "file-r1", "--json").stdout == as_sent
    csv = write(tmp_path / "r.csv", "step,train_loss\n1,0.5\n")
    assert cli.ok("attach", JOB_ID, "file-r1", "--content", csv, "--json").stdout == as_sent
    assert stored_text(cli.db) == COMPACT
    changed = cli.ok("update", JOB_ID, "--metadata", "team=ranking", "--json").stdout
    assert changed == cli.ok("show", JOB_ID, "--json").stdout
    assert (
        changed == columns_json({**json.loads(COMPACT), "metadata": {"team": "ranking"}}, 2) + "\n"
    )
    added = cli.ok("add", "--model", "m", "--training-file", "f", "--json").stdout
    assert added == cli.ok("show", json.loads(added)["id"], "--json").stdout
