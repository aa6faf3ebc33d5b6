"""`ftjobs show`: one job, as JSON or as plain label/value lines when piped."""

from __future__ import annotations

from support.helpers import ANSI_RE, BOX_CHARS, Cli, dump, error_line


def test_show_json_is_the_job_object(cli: Cli) -> None:
    added = cli.json(
        "add", "--model", "gpt-4o-mini", "--training-file", "file-abc123", "--seed", "7",
        "--n-epochs", "2", "--metadata", "k=v", "--json",
    )  # fmt: skip

    shown = cli.show(added["id"])

    assert shown == added
    assert shown["seed"] == 7
    assert shown["hyperparameters"]["n_epochs"] == 2
    assert shown["metadata"] == {"k": "v"}


def test_show_when_piped_is_plain_label_value_lines(cli: Cli) -> None:
    job_id = cli.add(
        "--created-at", "2024-07-23T20:00:00Z", "--seed", "42", "--metadata", "team=nlp",
        "--wandb-project", "proj", model="gpt-4o-mini",
    )  # fmt: skip

    out = cli.ok("show", job_id).stdout

    assert not ANSI_RE.search(out)
    assert not BOX_CHARS & set(out)
    rows = dict(line.split("\t", 1) for line in out.splitlines())
    assert all(line.count("\t") == 1 for line in out.splitlines())
    assert rows["id"] == job_id
    assert rows["status"] == "validating_files"
    assert rows["model"] == "gpt-4o-mini"
    assert rows["created_at"] == "2024-07-23T20:00:00Z"
    assert rows["finished_at"] == ""
    assert rows["seed"] == "42"
    assert rows["metadata.team"] == "nlp"
    assert "proj" in rows["integration"]


def test_show_unknown_id_is_an_error(cli: Cli) -> None:
    cli.add()
    before = dump(cli.db)

    result = cli.fails(1, "show", "ftjob-missing")

    assert "ftjob-missing" in error_line(result)
    assert dump(cli.db) == before


def test_show_unknown_id_with_json_is_an_error_too(cli: Cli) -> None:
    cli.create_store()
    result = cli.fails(1, "show", "ftjob-missing", "--json")
    assert "ftjob-missing" in error_line(result)
