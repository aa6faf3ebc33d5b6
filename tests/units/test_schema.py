"""The SQLite file itself, read with sqlite3 directly: tables, constraints, pragmas, refusals."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.helpers import REPO_ROOT, Cli, connect, error_line
from typer.testing import CliRunner

from ftjobs.cli import app
from ftjobs.store import SCHEMA_VERSION, JobFilter, Store


@pytest.fixture
def made_db(cli: Cli) -> Path:
    """A database created by the CLI, with one job in it."""
    cli.add("--id", "ftjob-one", "--created-at", 100)
    return cli.db


def test_tables_indexes_and_trigger_exist(made_db: Path) -> None:
    with connect(made_db) as conn:
        objects = {
            (kind, name) for kind, name in conn.execute("SELECT type, name FROM sqlite_master")
        }
    for table in (
        "jobs", "job_errors", "job_hyperparameters", "job_result_files", "integrations",
        "job_integrations",
    ):  # fmt: skip
        assert ("table", table) in objects
    for index in ("jobs_by_created_at", "jobs_by_status", "jobs_by_model", "jobs_by_duration"):
        assert ("index", index) in objects
    assert ("trigger", "integrations_drop_unused") in objects


def test_foreign_keys_are_enforced(made_db: Path) -> None:
    with connect(made_db, foreign_keys=True) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            conn.execute("INSERT INTO job_errors (job_key, code) VALUES (999999, 'x')")
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            conn.execute(
                "INSERT INTO job_result_files (job_key, position, file_id)"
                " VALUES (999999, 0, 'file-1')"
            )
        # The job that exists can have an error row.
        conn.execute(
            "INSERT INTO job_errors (job_key, code)"
            " VALUES ((SELECT job_key FROM jobs WHERE id = 'ftjob-one'), 'x')"
        )


def test_the_cli_leaves_no_foreign_key_violations(cli: Cli) -> None:
    job_id = cli.add("--wandb-project", "p", "--n-epochs", "2")
    cli.ok("update", job_id, "--status", "failed", "--error-code", "c", "--error-message", "m")
    cli.ok("attach", job_id, "file-1")
    other = cli.add("--wandb-project", "p")
    cli.ok("delete", other, "--yes")
    with connect(cli.db) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # Keys lead the WITHOUT ROWID tables, which SQLite 3.40's integrity_check needs to
        # read them right (it reported a false "NULL value in job_result_files.position").
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


HP_KEY = "(SELECT job_key FROM jobs WHERE id = 'ftjob-hp')"


def insert_job(conn: sqlite3.Connection, job_id: str, **columns: object) -> None:
    values = {"id": job_id, "model": "m", "created_at": 0, "status": "queued", **columns}
    names = ", ".join(values)
    marks = ", ".join("?" * len(values))
    conn.execute(f"INSERT INTO jobs ({names}) VALUES ({marks})", list(values.values()))


@pytest.mark.parametrize(
    "columns",
    [
        {"object": "list"},
        {"object": "fine_tuning.job.checkpoint"},
        {"id": ""},
        {"metadata_json": "{not json"},
    ],
)
def test_job_check_constraints_reject(made_db: Path, columns: dict[str, object]) -> None:
    with connect(made_db) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            insert_job(conn, "ftjob-bad", **columns)
        assert conn.execute("SELECT count(*) FROM jobs WHERE id = 'ftjob-bad'").fetchone() == (0,)


@pytest.mark.parametrize("status", ["validating_files", "queued", "running", "succeeded",
                                    "failed", "cancelled", "paused"])  # fmt: skip
def test_job_check_constraints_accept_every_status(made_db: Path, status: str) -> None:
    with connect(made_db) as conn:
        insert_job(conn, "ftjob-ok", status=status)
        assert conn.execute("SELECT object FROM jobs WHERE id = 'ftjob-ok'").fetchone() == (
            "fine_tuning.job",
        )


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("status", "pending"),
        ("status", "Running"),
        ("trained_tokens", -5),
        ("created_at", -1),
        ("finished_at", -86_400),
        ("estimated_finish", -2),
    ],
)
def test_the_archive_keeps_statuses_and_counts_a_provider_sent(
    made_db: Path, column: str, value: object
) -> None:
    """Schema v3: no CHECK refuses what a provider returned (Azure sends status "pending");
    v5: nor a negative time (the spec's integers have no minimum)."""
    with connect(made_db) as conn:
        insert_job(conn, "ftjob-odd", **{column: value})
        assert conn.execute(f"SELECT {column} FROM jobs WHERE id = 'ftjob-odd'").fetchone() == (
            value,
        )


@pytest.mark.parametrize(
    ("column", "value"), [("n_epochs", 0), ("batch_size", -1), ("learning_rate_multiplier", 0)]
)
def test_hyperparameters_a_provider_sent_are_kept_as_sent(
    made_db: Path, column: str, value: object
) -> None:
    with connect(made_db) as conn:
        insert_job(conn, "ftjob-hp")
        conn.execute(
            f"INSERT INTO job_hyperparameters (job_key, {column}) VALUES ({HP_KEY}, ?)", [value]
        )
        assert conn.execute(
            f"SELECT {column} FROM job_hyperparameters WHERE job_key = {HP_KEY}"
        ).fetchone() == (value,)


@pytest.mark.parametrize(
    ("column", "value", "sqlite_type"),
    [
        ("n_epochs", "auto", "text"),
        ("n_epochs", 2, "integer"),
        ("n_epochs", 1, "integer"),
        ("n_epochs", 50, "integer"),
        ("batch_size", "auto", "text"),
        ("batch_size", 256, "integer"),
        ("learning_rate_multiplier", "auto", "text"),
        ("learning_rate_multiplier", 2, "integer"),
        ("learning_rate_multiplier", 2.0, "real"),
        ("learning_rate_multiplier", 0.01, "real"),
    ],
)
def test_hyperparameter_check_constraints_accept_and_keep_the_type(
    made_db: Path, column: str, value: object, sqlite_type: str
) -> None:
    with connect(made_db) as conn:
        insert_job(conn, "ftjob-hp")
        conn.execute(
            f"INSERT INTO job_hyperparameters (job_key, {column}) VALUES ({HP_KEY}, ?)", [value]
        )
        stored = conn.execute(
            f"SELECT {column}, typeof({column}) FROM job_hyperparameters WHERE job_key = {HP_KEY}"
        ).fetchone()
    assert stored == (value, sqlite_type)
    assert type(stored[0]) is type(value)


def test_journal_mode_is_wal(made_db: Path) -> None:
    with connect(made_db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_user_version_matches_store_and_schema_sql(made_db: Path) -> None:
    schema_text = (REPO_ROOT / "schema.sql").read_text(encoding="utf-8")
    declared = re.findall(r"^PRAGMA user_version = (\d+);", schema_text, flags=re.MULTILINE)

    assert declared == [str(SCHEMA_VERSION)]
    with connect(made_db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_database_from_a_newer_ftjobs_is_refused_untouched(cli: Cli, made_db: Path) -> None:
    with connect(made_db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = made_db.read_bytes()

    for args in (["list"], ["show", "ftjob-one"], ["add", "--model", "m", "--training-file", "f"],
                 ["delete", "ftjob-one", "--yes"]):  # fmt: skip
        result = cli.fails(1, *args)
        assert "newer" in error_line(result)
        assert made_db.read_bytes() == before


@pytest.mark.parametrize(
    "content",
    [b"this is not a database\n" * 100, b"SQLite format 3\x00" + b"\xff" * 200],
)
def test_a_file_that_is_not_sqlite_is_refused_untouched(cli: Cli, db: Path, content: bytes) -> None:
    db.write_bytes(content)

    for args in (["list"], ["add", "--model", "m", "--training-file", "f"]):
        result = cli.fails(1, *args)
        assert str(db) in error_line(result)
        assert db.read_bytes() == content


def test_a_sqlite_file_of_another_program_is_refused_untouched(cli: Cli, db: Path) -> None:
    with connect(db) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
    before = db.read_bytes()

    result = cli.fails(1, "add", "--model", "m", "--training-file", "f")

    assert "ftjobs" in error_line(result)
    assert db.read_bytes() == before
    with connect(db) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master")]
    assert tables == ["notes"]


def test_a_directory_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "somewhere"
    directory.mkdir()
    cli = Cli(directory)

    result = cli.fails(1, "list")

    assert "directory" in error_line(result)
    assert list(directory.iterdir()) == []


def test_a_new_database_is_private_and_only_the_default_ones_folder_is_made(
    tmp_path: Path,
) -> None:
    """Issue 16: `--db /no/such/dir/x.db add` made the folders; a --db names a file in a folder
    that must exist (else it is a mistyped path), while the default store's folder is ftjobs'
    own to make."""
    db = tmp_path / "new" / "dir" / "jobs.db"
    result = Cli(db).fails(1, "add", "--model", "m", "--training-file", "f")
    assert "no folder" in error_line(result) and not (tmp_path / "new").exists()
    runner = CliRunner()
    env = {"FTJOBS_DB": None, "XDG_DATA_HOME": str(tmp_path / "data")}
    made = runner.invoke(app, ["add", "--model", "m", "--training-file", "f"], env=env)
    assert made.exit_code == 0, made.output
    default = tmp_path / "data" / "ftjobs" / "jobs.db"
    assert stat.S_IMODE(default.stat().st_mode) == 0o600


def test_the_private_mode_does_not_depend_on_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        Cli(tmp_path / "jobs.db").add()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "jobs.db").stat().st_mode) == 0o600


# -- the list query and its indexes --------------------------------------------------------


def list_query_plan(db: Path, query: JobFilter) -> list[str]:
    """EXPLAIN QUERY PLAN of the SQL that Store.list_jobs runs for query."""
    statements: list[str] = []
    with Store.open(db) as store:
        store.db.conn.set_trace_callback(statements.append)
        list(store.list_jobs(query))
        store.db.conn.set_trace_callback(None)
        # the list's own statement (--model first looks up the names it matches)
        (select,) = [s for s in statements if re.search(r"\bFROM jobs\s+LEFT JOIN job_errors", s)]
        return [row[3] for row in store.db.conn.execute("EXPLAIN QUERY PLAN " + select)]


@pytest.fixture
def many_jobs(cli: Cli) -> Iterator[Path]:
    for n, status in enumerate(["running", "queued", "running", "failed", "succeeded"]):
        cli.add("--status", status, "--created-at", 1000 + n)
    yield cli.db


def test_status_filtered_list_uses_an_index(many_jobs: Path) -> None:
    plan = list_query_plan(many_jobs, JobFilter(statuses=("running",), limit=20))

    jobs_steps = [step for step in plan if re.search(r"\bjobs\b", step)]
    assert jobs_steps, plan
    assert any("USING INDEX jobs_by_status" in step for step in jobs_steps), plan
    assert not any(re.match(r"SCAN jobs\b", step) for step in jobs_steps), plan


def test_model_filtered_list_uses_an_index(many_jobs: Path) -> None:
    plan = list_query_plan(many_jobs, JobFilter(model="gpt-4o-mini", limit=20))
    assert any("USING INDEX jobs_by_model" in step for step in plan), plan
    assert not any(re.match(r"SCAN jobs\b", step) for step in plan), plan


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (JobFilter(limit=20), "jobs_by_created_at"),
        (JobFilter(statuses=("running",), limit=20), "jobs_by_status"),
    ],
)
def test_newest_first_list_reads_the_index_in_order_without_sorting(
    many_jobs: Path, query: JobFilter, index: str
) -> None:
    plan = list_query_plan(many_jobs, query)
    assert any(f"USING INDEX {index}" in step for step in plan), plan
    assert not any("TEMP B-TREE FOR ORDER BY" in step for step in plan), plan
