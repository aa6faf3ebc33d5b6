"""`ftjobs list`: order, filters, limits and the three output forms."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from support.helpers import ANSI_RE, BOX_CHARS, Cli, connect, error_line
from support.jobdata import make_job

DAY = 86_400
JULY_23 = 1721692800  # 2024-07-23T00:00:00Z


def test_newest_first(cli: Cli) -> None:
    cli.add("--id", "ftjob-middle", "--created-at", JULY_23)
    cli.add("--id", "ftjob-newest", "--created-at", JULY_23 + DAY)
    cli.add("--id", "ftjob-oldest", "--created-at", JULY_23 - DAY)

    assert cli.list_ids() == ["ftjob-newest", "ftjob-middle", "ftjob-oldest"]
    assert cli.list_ids("--reverse") == ["ftjob-oldest", "ftjob-middle", "ftjob-newest"]


def test_plain_output_when_piped_is_tab_separated(cli: Cli) -> None:
    cli.add("--id", "ftjob-a", "--created-at", "2024-07-23", model="gpt-4o-mini")
    cli.add("--id", "ftjob-b", "--created-at", "2024-07-24T10:30:00Z", model="gpt-3.5-turbo")
    cli.ok(
        "update", "ftjob-b", "--status", "succeeded", "--finished-at", "2024-07-24T11:00:00Z",
        "--fine-tuned-model", "ft:gpt-3.5-turbo:org::abc",
    )  # fmt: skip

    out = cli.ok("list").stdout

    assert out.splitlines() == [
        "ftjob-b\tsucceeded\tgpt-3.5-turbo\t2024-07-24T10:30:00Z\t2024-07-24T11:00:00Z"
        "\tft:gpt-3.5-turbo:org::abc",
        "ftjob-a\tvalidating_files\tgpt-4o-mini\t2024-07-23T00:00:00Z\t\t",
    ]
    assert out.endswith("\n")
    assert not ANSI_RE.search(out)
    assert not BOX_CHARS & set(out)
    for line in out.splitlines():
        # id, status, model, created_at, finished_at, fine_tuned_model
        assert len(line.split("\t")) == 6


def test_plain_output_of_empty_store_is_empty(cli: Cli) -> None:
    cli.create_store()
    result = cli.ok("list")
    assert result.stdout == ""


def test_status_filter_is_repeatable(cli: Cli) -> None:
    cli.add("--id", "ftjob-q", "--status", "queued", "--created-at", 3)
    cli.add("--id", "ftjob-r", "--status", "running", "--created-at", 2)
    cli.add("--id", "ftjob-v", "--status", "validating_files", "--created-at", 1)

    assert cli.list_ids("--status", "running") == ["ftjob-r"]
    assert cli.list_ids("--status", "queued", "--status", "validating_files") == [
        "ftjob-q",
        "ftjob-v",
    ]
    assert cli.list_ids("--status", "failed") == []


def test_unknown_status_filter_is_a_usage_error(cli: Cli) -> None:
    result = cli.fails(2, "list", "--status", "bogus")
    assert "--status" in result.stderr


def test_model_filter(cli: Cli) -> None:
    cli.add("--id", "ftjob-mini", model="gpt-4o-mini")
    cli.add("--id", "ftjob-35", model="gpt-3.5-turbo")

    assert cli.list_ids("--model", "gpt-4o-mini") == ["ftjob-mini"]
    assert cli.list_ids("--model", "gpt-4") == []  # exact, not a prefix


@pytest.fixture
def around_july_23(cli: Cli) -> Cli:
    cli.add("--id", "ftjob-before", "--created-at", JULY_23 - 1)
    cli.add("--id", "ftjob-start", "--created-at", JULY_23)
    cli.add("--id", "ftjob-noon", "--created-at", JULY_23 + DAY // 2)
    cli.add("--id", "ftjob-end", "--created-at", JULY_23 + DAY)
    return cli


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("2024-07-23", "2024-07-24"),
        (str(JULY_23), str(JULY_23 + DAY)),
        ("2024-07-23T00:00:00Z", "2024-07-24T00:00:00Z"),
    ],
)
def test_since_is_inclusive_until_is_exclusive(around_july_23: Cli, since: str, until: str) -> None:
    cli = around_july_23
    assert cli.list_ids("--since", since, "--until", until) == ["ftjob-noon", "ftjob-start"]
    assert cli.list_ids("--since", since) == ["ftjob-end", "ftjob-noon", "ftjob-start"]
    assert cli.list_ids("--until", until) == ["ftjob-noon", "ftjob-start", "ftjob-before"]


def test_filters_combine(cli: Cli) -> None:
    cli.add("--id", "ftjob-1", "--status", "running", "--created-at", 100, model="a")
    cli.add("--id", "ftjob-2", "--status", "running", "--created-at", 200, model="b")
    cli.add("--id", "ftjob-3", "--status", "queued", "--created-at", 300, model="a")
    cli.add("--id", "ftjob-4", "--status", "running", "--created-at", 400, model="a")

    assert cli.list_ids("--status", "running", "--model", "a", "--until", 400) == ["ftjob-1"]


def test_limit_defaults_to_20_and_all_shows_every_job(cli: Cli) -> None:
    for n in range(25):
        cli.add("--id", f"ftjob-{n:02d}", "--created-at", 1000 + n)
    newest_first = [f"ftjob-{n:02d}" for n in reversed(range(25))]

    assert cli.list_ids() == newest_first[:20]
    assert len(cli.ok("list").stdout.splitlines()) == 20
    assert cli.list_ids("--all") == newest_first
    assert cli.list_ids("--limit", "3") == newest_first[:3]
    assert cli.list_ids("--limit", "3", "--reverse") == newest_first[::-1][:3]


def test_limit_below_one_is_a_usage_error(cli: Cli) -> None:
    result = cli.fails(2, "list", "--limit", "0")
    assert "--limit" in result.stderr


@pytest.fixture
def sortable(cli: Cli) -> Cli:
    """Jobs whose fields sort differently from their creation order."""
    cli.add("--id", "ftjob-c", "--created-at", 300, model="beta")
    cli.add("--id", "ftjob-a", "--created-at", 100, model="gamma")
    cli.add("--id", "ftjob-b", "--created-at", 200, model="alpha")
    cli.add("--id", "ftjob-d", "--created-at", 400, model="delta")
    cli.ok("update", "ftjob-a", "--status", "succeeded", "--finished-at", 1000,
           "--trained-tokens", 50)  # fmt: skip
    cli.ok("update", "ftjob-b", "--status", "failed", "--finished-at", 3000,
           "--trained-tokens", 7)  # fmt: skip
    cli.ok("update", "ftjob-c", "--status", "running", "--trained-tokens", 900)
    return cli


@pytest.mark.parametrize(
    ("field", "largest_first"),
    [
        ("created_at", ["ftjob-d", "ftjob-c", "ftjob-b", "ftjob-a"]),
        ("id", ["ftjob-d", "ftjob-c", "ftjob-b", "ftjob-a"]),
        ("model", ["ftjob-a", "ftjob-d", "ftjob-c", "ftjob-b"]),  # gamma delta beta alpha
        ("status", ["ftjob-d", "ftjob-a", "ftjob-c", "ftjob-b"]),  # validating succeeded ...
    ],
)
def test_sort_fields_and_reverse(sortable: Cli, field: str, largest_first: list[str]) -> None:
    assert sortable.list_ids("--sort", field) == largest_first
    assert sortable.list_ids("--sort", field, "--reverse") == largest_first[::-1]


@pytest.mark.parametrize(
    ("field", "largest_first"),
    [
        ("finished_at", ["ftjob-b", "ftjob-a"]),
        ("trained_tokens", ["ftjob-c", "ftjob-a", "ftjob-b"]),
    ],
)
def test_sort_by_nullable_field_puts_nulls_last_both_ways(
    sortable: Cli, field: str, largest_first: list[str]
) -> None:
    ids = sortable.list_ids("--sort", field)
    reversed_ids = sortable.list_ids("--sort", field, "--reverse")
    n = len(largest_first)

    assert ids[:n] == largest_first
    assert reversed_ids[:n] == largest_first[::-1]
    assert (
        sorted(ids[n:])
        == sorted(reversed_ids[n:])
        == sorted({"ftjob-a", "ftjob-b", "ftjob-c", "ftjob-d"} - set(largest_first))
    )


def test_ties_are_broken_by_id(cli: Cli) -> None:
    for suffix in ("b", "c", "a"):
        cli.add("--id", f"ftjob-{suffix}", "--created-at", 500)
    assert cli.list_ids() == ["ftjob-c", "ftjob-b", "ftjob-a"]
    assert cli.list_ids("--reverse") == ["ftjob-a", "ftjob-b", "ftjob-c"]


@pytest.mark.parametrize(
    "sort", ["created_at; DROP TABLE jobs", "created_at DESC", "jobs.created_at", "bogus", ""]
)
def test_invalid_sort_is_refused_and_the_table_survives(cli: Cli, sort: str) -> None:
    job_id = cli.add()

    result = cli.fails(2, "list", "--sort", sort)

    assert "--sort" in result.stderr
    with connect(cli.db) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert "jobs" in tables
        assert conn.execute("SELECT id FROM jobs").fetchall() == [(job_id,)]


def test_json_output_is_an_array_of_jobs(cli: Cli) -> None:
    older = cli.add("--created-at", 100, "--n-epochs", 3)
    newer = cli.add("--created-at", 200, "--learning-rate-multiplier", "0.5")

    result = cli.ok("list", "--json")

    jobs = json.loads(result.stdout)
    assert isinstance(jobs, list)
    assert jobs == [cli.show(newer), cli.show(older)]


def test_json_output_of_empty_store_is_an_empty_array(cli: Cli) -> None:
    cli.create_store()
    result = cli.ok("list", "--json")
    assert json.loads(result.stdout) == []
    assert result.stdout.strip() == "[]"


def test_jsonl_output_is_one_job_per_line(cli: Cli) -> None:
    older = cli.add("--created-at", 100)
    newer = cli.add("--created-at", 200, "--metadata", "note=two\nlines")

    out = cli.ok("list", "--jsonl").stdout

    lines = out.splitlines()
    assert len(lines) == 2
    assert out.endswith("\n")
    assert [json.loads(line) for line in lines] == [cli.show(newer), cli.show(older)]


def test_jsonl_output_of_empty_store_is_nothing(cli: Cli) -> None:
    cli.create_store()
    result = cli.ok("list", "--jsonl")
    assert result.stdout == ""


def test_json_and_jsonl_together_are_refused(cli: Cli) -> None:
    cli.fails(2, "list", "--json", "--jsonl")


def test_plain_output_keeps_one_row_per_job_whatever_the_values(cli: Cli) -> None:
    cli.add("--id", "ftjob-tab", "--created-at", 100, model="model\twith tab")
    cli.add("--id", "ftjob-nl", "--created-at", 200, model="model\nwith newline")

    lines = cli.ok("list").stdout.splitlines()

    assert len(lines) == 2
    assert [line.split("\t")[:3] for line in lines] == [
        ["ftjob-nl", "validating_files", "model with newline"],
        ["ftjob-tab", "validating_files", "model with tab"],
    ]
    assert all(len(line.split("\t")) == 6 for line in lines)
    # JSON keeps the values as they are.
    assert [job["model"] for job in cli.json("list", "--json")] == [
        "model\nwith newline",
        "model\twith tab",
    ]


@pytest.mark.parametrize(
    "command", [["list"], ["list", "--json"], ["show", "ftjob-x"], ["export"], ["events", "x"]]
)
def test_read_commands_never_create_a_store(cli: Cli, command: list[str]) -> None:
    """A mistyped --db or FTJOBS_DB is an error, not a new empty store."""
    result = cli.fails(1, *command)
    assert error_line(result) == (
        f"Error: no ftjobs store at {cli.db}: check --db or FTJOBS_DB (a store is created by"
        " the first add, import or sync)"
    )
    assert not cli.db.exists()


@pytest.mark.parametrize("mode", [[], ["--json"], ["--jsonl"], ["--csv"], ["--tsv"]])
def test_a_limit_that_hides_jobs_says_so_on_stderr_in_every_mode(cli: Cli, mode: list[str]) -> None:
    for n in range(4):
        cli.add("--id", f"ftjob-{n}", "--created-at", 1000 + n)

    hidden = cli.ok("list", "--limit", "3", *mode)
    assert "Showing 3 of 4 jobs; --all shows every one." in hidden.stderr
    assert "Showing" not in hidden.stdout
    assert cli.ok("list", "--limit", "4", *mode).stderr == ""
    assert cli.ok("list", "--all", *mode).stderr == ""


def test_all_with_a_limit_is_a_usage_error(cli: Cli) -> None:
    cli.create_store()
    assert "--all" in error_line(cli.fails(2, "list", "--all", "--limit", "5"))


def test_csv_and_tsv_have_a_header_row_and_quote(cli: Cli) -> None:
    cli.add("--id", "ftjob-a", "--created-at", "2024-07-23", "--metadata", 'note=a, "quoted"\tone')
    cli.ok(
        "update", "ftjob-a", "--status", "failed", "--finished-at", "2024-07-23T01:00:00Z",
        "--error-code", "invalid_file", "--error-message", "Bad line 3: é",
    )  # fmt: skip

    csv_out = cli.ok("list", "--csv").stdout
    assert csv_out.splitlines() == [
        "id,status,model,created_at,finished_at,fine_tuned_model",
        "ftjob-a,failed,gpt-4o-mini,2024-07-23T00:00:00Z,2024-07-23T01:00:00Z,",
    ]
    fields = "id,error.code,error.message,metadata.note,trained_tokens,training_file"
    rows = list(csv.reader(io.StringIO(cli.ok("list", "--csv", "--fields", fields).stdout)))
    assert rows == [
        fields.split(","),
        ["ftjob-a", "invalid_file", "Bad line 3: é", 'a, "quoted"\tone', "", "file-abc123"],
    ]
    tsv = cli.ok("list", "--tsv", "--fields", fields).stdout
    assert list(csv.reader(io.StringIO(tsv), delimiter="\t")) == rows


def test_fields_pick_the_plain_columns(cli: Cli) -> None:
    cli.add("--id", "ftjob-a", "--metadata", "team=search")
    assert cli.ok("list", "--fields", "metadata.team,id,model").stdout == (
        "search\tftjob-a\tgpt-4o-mini\n"
    )


@pytest.mark.parametrize("fields", ["id,bogus", "", "metadata.", "id;DROP TABLE jobs"])
def test_an_unknown_field_is_a_usage_error_naming_the_choices(cli: Cli, fields: str) -> None:
    cli.add()
    result = cli.fails(2, "list", "--csv", "--fields", fields)
    assert "--fields" in result.stderr and "error.code" in result.stderr


def test_csv_with_json_is_refused(cli: Cli) -> None:
    cli.create_store()
    cli.fails(2, "list", "--csv", "--json")
    cli.fails(2, "list", "--json", "--fields", "id")


def test_model_finds_its_dated_snapshots_and_nothing_else(cli: Cli) -> None:
    for n, model in enumerate(
        ["gpt-4o-mini", "gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06", "gpt-3.5-turbo-0125",
         "gpt-3.5-turbo-16k", "gpt-4o-mini-2024-07-18-x", "gpt-4o-mini.1", "gpt-4o-minix"]
    ):  # fmt: skip
        cli.add("--id", f"ftjob-{n}", "--created-at", 100 - n, model=model)

    assert cli.list_ids("--model", "gpt-4o-mini") == ["ftjob-0", "ftjob-1"]
    assert cli.list_ids("--model", "gpt-4o") == ["ftjob-2"]
    assert cli.list_ids("--model", "gpt-3.5-turbo") == ["ftjob-3"]
    assert cli.list_ids("--model", "gpt-4o*") == [f"ftjob-{n}" for n in (0, 1, 2, 5, 6, 7)]
    assert cli.list_ids("--model", "gpt-?.5-turbo-[0-9][0-9][0-9][0-9]") == ["ftjob-3"]
    assert cli.list_ids("--model", "*-0125") == ["ftjob-3"]
    assert cli.list_ids("--model", "gpt-4o-mini-2024-07-18") == ["ftjob-1"]
    exported = cli.ok("export", "--model", "gpt-4o-mini").stdout.splitlines()
    assert [json.loads(line)["id"] for line in exported] == ["ftjob-0", "ftjob-1"]


def test_more_filters_in_list_and_export(cli: Cli) -> None:
    cli.add("--id", "ftjob-a", "--created-at", 100, "--metadata", "team=search",
            "--metadata", "run=1", training_file="file-one")  # fmt: skip
    cli.add("--id", "ftjob-b", "--created-at", 200, "--metadata", "team=search",
            training_file="file-two")  # fmt: skip
    cli.add("--id", "ftjob-c", "--created-at", 300, training_file="file-one")
    cli.ok("update", "ftjob-a", "--status", "succeeded", "--finished-at", 1000,
           "--fine-tuned-model", "ft:gpt-4o-mini:org::a")  # fmt: skip
    cli.ok("update", "ftjob-b", "--status", "failed", "--finished-at", 2000,
           "--error-code", "invalid_n_examples", "--error-message", "Too few")  # fmt: skip

    cases = {
        ("--fine-tuned-model", "ft:gpt-4o-mini:org::a"): ["ftjob-a"],
        ("--training-file", "file-one"): ["ftjob-c", "ftjob-a"],
        ("--error-code", "invalid_n_examples"): ["ftjob-b"],
        ("--error-code", "other"): [],
        ("--metadata", "team=search"): ["ftjob-b", "ftjob-a"],
        ("--metadata", "team=search", "--metadata", "run=1"): ["ftjob-a"],
        ("--metadata", "team=searc"): [],
        ("--metadata", "team="): [],
        ("--finished-since", "2000"): ["ftjob-b"],
        ("--finished-until", "2000"): ["ftjob-a"],
        ("--finished-since", "1000", "--finished-until", "1970-01-01T00:33:21Z"): [
            "ftjob-b",
            "ftjob-a",
        ],
    }
    for args, ids in cases.items():
        assert cli.list_ids(*args) == ids, args
        exported = [json.loads(line)["id"] for line in cli.ok("export", *args).stdout.splitlines()]
        assert sorted(exported) == sorted(ids), args
    assert "--metadata" in cli.fails(2, "list", "--metadata", "novalue").stderr


def test_the_hidden_jobs_notice_counts_up_to_a_thousand(cli: Cli, tmp_path: Path) -> None:
    """Counting every match of a million-job store took 1.5 s to say how many a limit hid:
    the notice counts up to 1,000 and says "more than" past that."""
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps(make_job(n)) + "\n" for n in range(1_002)))
    cli.ok("import", path)
    result = cli.ok("list", "--json", "--limit", "5")
    assert "Showing 5 of more than 1,000 jobs; --all shows every one." in result.stderr
    result = cli.ok("list", "--json", "--limit", "5", "--status", "queued")
    assert "Showing 5 of 251 jobs" in result.stderr
