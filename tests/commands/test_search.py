"""search: what it finds (ids, models, suffixes, errors, metadata, event messages), in which
order, in list's output modes, and an index that every write keeps current."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from support.helpers import Cli, connect, dump
from support.jobdata import make_job, write_jsonl
from support.stores import index_is_current
from support.terminal import run_in_terminal


def _event(n: int, message: str, kind: str = "message") -> dict[str, object]:
    return {
        "object": "fine_tuning.job.event",
        "id": f"ftevent-{n:024d}",
        "created_at": 1_721_764_900 + n,
        "level": "info",
        "message": message,
        "data": {},
        "type": kind,
    }


def ids(cli: Cli, *words: str) -> list[str]:
    return [line.split("\t")[0] for line in cli.ok("search", *words).stdout.splitlines()]


@pytest.fixture
def store(tmp_path: Path, cli: Cli) -> Cli:
    jobs = [
        make_job(1, fine_tuned_model="ft:gpt-4o-mini:acme::Zebra42", status="succeeded"),
        make_job(2, user_provided_suffix="walrus-bot", model="gpt-4.1-nano"),
        make_job(3, status="failed",
                 error={"code": "invalid_n_examples", "message": "Training file has too few"
                        " examples", "param": "training_file"}),
        make_job(4, metadata={"team": "platypus", "ticket": "JIRA-7"}),
    ]  # fmt: skip
    cli.ok("import", write_jsonl(tmp_path / "jobs.jsonl", jobs))
    events = [
        _event(1, "Fine-tuning job started, dataset narwhal validated"),
        _event(2, "Step 10/100: training loss=0.5 narwhal", kind="metrics"),
        _event(3, "Step 20/100: training loss=0.4 ocelot", kind="metrics"),
    ]
    cli.ok("import", "--job", make_job(4)["id"], write_jsonl(tmp_path / "ev.jsonl", events))
    return cli


J = {n: make_job(n)["id"] for n in range(1, 6)}


@pytest.mark.parametrize(
    ("words", "found"),
    [
        ([J[2]], [J[2]]),  # a whole id
        (["zebr"], [J[1]]),  # the start of a word (ftjob-abc finds ftjob-abc123)
        (["gpt-4.1-nano"], [J[2]]),  # a base model
        (["ft:gpt-4o-mini:acme::Zebra42"], [J[1]]),  # a fine-tuned model, as written
        (["zebra42"], [J[1]]),  # any case
        (["walrus-bot"], [J[2]]),  # the suffix (kept in extra_json)
        (["invalid_n_examples"], [J[3]]),  # an error code
        (["too", "few"], [J[3]]),  # words of an error message, all of them
        (["platypus"], [J[4]]),  # a metadata value
        (["jira-7"], [J[4]]),
        (["narwhal"], [J[4]]),  # an event message
        (["ocelot"], []),  # metrics events are not indexed
        (["too", "platypus"], []),  # every word must match the same job's row
    ],
)
def test_search_finds_jobs_by_their_text(store: Cli, words: list[str], found: list[str]) -> None:
    assert ids(store, *words) == found


def test_best_matches_first_and_list_output_modes(store: Cli) -> None:
    # "narwhal" three times in job 1's text; once in job 4's short event message; once in job
    # 2's long text (bm25: more often, and in shorter text, is better).
    store.ok("update", J[2], "--metadata", "x=narwhal")
    store.ok("update", J[1], "--metadata", "x=narwhal narwhal narwhal")
    assert ids(store, "narwhal") == [J[1], J[4], J[2]]
    everyone = ids(store, "ftjob")
    assert sorted(everyone) == [J[1], J[2], J[3], J[4]]
    as_json = store.json("search", "zebra42", "--json")
    assert as_json == [store.show(J[1])]
    lines = store.ok("search", "ftjob", "--jsonl").stdout.splitlines()
    assert [json.loads(line)["id"] for line in lines] == everyone
    assert ids(store, "ftjob", "--limit", "2") == everyone[:2]
    assert ids(store, "ftjob", "--limit", "2", "--all") == everyone


def test_search_on_a_terminal(store: Cli) -> None:
    screen = run_in_terminal(store.db, "search", "ftjob", "--limit", "3")
    assert screen.exit_code == 0 and "Traceback" not in screen.text
    assert sum(job_id in screen.text for job_id in J.values()) == 3
    assert "Showing 3 of 4 jobs" in screen.text


def test_search_needs_a_word(store: Cli) -> None:
    store.fails(2, "search", ":: --")
    store.fails(2, "search", "x", "--json", "--jsonl")


def test_odd_text_is_searched_for_not_run(store: Cli) -> None:
    for text in ['"', 'a" OR "b', "NEAR(a b)", "zebra42*", "-", "col:umn", "'); DROP TABLE jobs"]:
        result = store("search", text)
        assert result.exit_code in (0, 2), (text, result.stderr)
        assert "Traceback" not in result.stderr
    assert ids(store, "zebra42*") == [J[1]]


def test_every_write_keeps_the_index_current(store: Cli, tmp_path: Path) -> None:
    index_is_current(store.db)
    store.ok("update", J[4], "--metadata", "team=quokka")
    assert ids(store, "quokka") == [J[4]] and ids(store, "platypus") == []
    store.ok("update", J[2], "--status", "failed", "--force", "--error-code", "rate_limit_exceeded",
             "--error-message", "Slow down")  # fmt: skip
    assert ids(store, "rate_limit_exceeded") == [J[2]]
    # import over a stored job replaces its parts: the error goes, the new model comes
    replaced = make_job(3, model="babbage-002", error=None, status="running")
    store.ok("import", write_jsonl(tmp_path / "again.jsonl", [replaced]))
    assert ids(store, "invalid_n_examples") == [] and ids(store, "babbage") == [J[3]]
    index_is_current(store.db)
    store.ok("delete", J[4], "--yes")
    assert ids(store, "narwhal") == [] and ids(store, "quokka") == []
    new = store.add("--suffix", "capybara")
    assert ids(store, "capybara") == [new]
    index_is_current(store.db)
    with connect(store.db) as conn:
        assert conn.execute("INSERT INTO jobs_fts(jobs_fts) VALUES ('integrity-check')")


def test_a_refused_import_leaves_the_index_as_it_was(store: Cli, tmp_path: Path) -> None:
    before = dump(store.db)
    bad = [make_job(10, metadata={"team": "axolotl"}), {"id": "ftjob-broken"}]
    store.fails(1, "import", write_jsonl(tmp_path / "bad.jsonl", bad))
    assert dump(store.db) == before
    assert ids(store, "axolotl") == []


def test_the_index_needs_fts5() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5 (a)")  # the SQLite Python ships has it


def test_a_migrated_store_is_searchable(tmp_path: Path) -> None:
    from support.stores import v2_database

    db = v2_database(tmp_path / "old.db")
    cli = Cli(db)
    assert ids(cli, "ftjob-abc123") == ["ftjob-abc123"]
    index_is_current(db)
