"""`ftjobs attach` (result files, in order) and `ftjobs delete` (everything linked goes too)."""

from __future__ import annotations

from support.helpers import JOB_TABLES, Cli, connect, dump, error_line, row_counts

# -- attach --------------------------------------------------------------------------------


def test_attach_appends_in_order(cli: Cli) -> None:
    job_id = cli.add()

    cli.ok("attach", job_id, "file-c", "file-a")
    cli.ok("attach", job_id, "file-b")

    assert cli.show(job_id)["result_files"] == ["file-c", "file-a", "file-b"]


def test_attaching_a_file_the_job_has_is_a_no_op(cli: Cli) -> None:
    job_id = cli.add()
    cli.ok("attach", job_id, "file-1", "file-2")

    cli.ok("attach", job_id, "file-2", "file-3", "file-1", "file-3")

    assert cli.show(job_id)["result_files"] == ["file-1", "file-2", "file-3"]
    with connect(cli.db) as conn:
        rows = conn.execute(
            "SELECT file_id FROM job_result_files JOIN jobs USING (job_key)"
            " WHERE jobs.id = ? ORDER BY position",
            [job_id],
        ).fetchall()
    assert rows == [("file-1",), ("file-2",), ("file-3",)]


def test_attach_only_known_files_changes_nothing(cli: Cli) -> None:
    job_id = cli.add()
    cli.ok("attach", job_id, "file-1")
    before = dump(cli.db)
    cli.ok("attach", job_id, "file-1")
    assert dump(cli.db) == before


def test_attach_json_prints_the_job(cli: Cli) -> None:
    job_id = cli.add()
    printed = cli.json("attach", job_id, "file-x", "--json")
    assert printed["result_files"] == ["file-x"]
    assert printed == cli.show(job_id)


def test_attach_to_unknown_job_is_an_error(cli: Cli) -> None:
    cli.add()
    before = dump(cli.db)
    result = cli.fails(1, "attach", "ftjob-missing", "file-1")
    assert "ftjob-missing" in error_line(result)
    assert dump(cli.db) == before


def test_attach_needs_a_file(cli: Cli) -> None:
    job_id = cli.add()
    cli.fails(2, "attach", job_id)


# -- delete --------------------------------------------------------------------------------


def make_full_job(cli: Cli, project: str) -> str:
    """A job with a row in every table: error, hyperparameters, files, integration."""
    job_id = cli.add("--wandb-project", project, "--wandb-tag", "t", "--n-epochs", "3")
    cli.ok("update", job_id, "--status", "failed", "--error-code", "c", "--error-message", "m")
    cli.ok("attach", job_id, "file-1", "file-2")
    return job_id


def test_delete_yes_removes_every_row_of_the_jobs(cli: Cli) -> None:
    first = make_full_job(cli, "project-1")
    second = make_full_job(cli, "project-2")
    assert all(row_counts(cli.db)[table] > 0 for table in (*JOB_TABLES, "integrations"))

    result = cli.ok("delete", first, second, "--yes")

    assert result.stdout == ""
    assert "2" in result.stderr
    assert row_counts(cli.db) == dict.fromkeys((*JOB_TABLES, "integrations"), 0)
    assert cli.stored_ids() == []


def test_delete_keeps_other_jobs(cli: Cli) -> None:
    doomed = make_full_job(cli, "project-1")
    kept = make_full_job(cli, "project-2")
    kept_before = cli.show(kept)

    cli.ok("delete", "-y", doomed)

    assert cli.list_ids() == [kept]
    assert cli.show(kept) == kept_before
    with connect(cli.db) as conn:
        for table in JOB_TABLES[1:]:
            ids = {
                row[0]
                for row in conn.execute(f"SELECT jobs.id FROM {table} JOIN jobs USING (job_key)")
            }
            assert ids == {kept}, table
        assert conn.execute("SELECT wandb_project FROM integrations").fetchall() == [("project-2",)]


def test_delete_same_id_twice_deletes_it_once(cli: Cli) -> None:
    job_id = cli.add()
    cli.ok("delete", job_id, job_id, "--yes")
    assert cli.stored_ids() == []


def test_delete_without_yes_off_a_terminal_is_refused(cli: Cli) -> None:
    job_id = make_full_job(cli, "p")
    before = dump(cli.db)

    result = cli.fails(2, "delete", job_id, input="y\n")

    assert "--yes" in error_line(result)
    assert dump(cli.db) == before
    assert cli.list_ids() == [job_id]


def test_delete_with_one_unknown_id_deletes_nothing(cli: Cli) -> None:
    first = make_full_job(cli, "p1")
    second = make_full_job(cli, "p2")
    before = dump(cli.db)

    result = cli.fails(1, "delete", first, "ftjob-missing", second, "--yes")

    assert "ftjob-missing" in error_line(result)
    assert dump(cli.db) == before


def test_shared_integration_survives_deleting_one_of_its_jobs(cli: Cli) -> None:
    options = ("--wandb-project", "shared", "--wandb-entity", "team", "--wandb-tag", "x")
    first = cli.add(*options)
    second = cli.add(*options)
    with connect(cli.db) as conn:
        assert conn.execute("SELECT count(*) FROM integrations").fetchone()[0] == 1
    second_before = cli.show(second)

    cli.ok("delete", first, "--yes")

    with connect(cli.db) as conn:
        assert conn.execute("SELECT wandb_project FROM integrations").fetchall() == [("shared",)]
        linked = "SELECT jobs.id FROM job_integrations JOIN jobs USING (job_key)"
        assert conn.execute(linked).fetchall() == [(second,)]
    assert cli.show(second) == second_before

    cli.ok("delete", second, "--yes")
    assert row_counts(cli.db)["integrations"] == 0


def test_update_of_a_job_with_a_shared_integration_keeps_it_shared(cli: Cli) -> None:
    first = cli.add("--wandb-project", "shared")
    second = cli.add("--wandb-project", "shared")
    cli.ok("update", first, "--status", "running")
    cli.ok("attach", second, "file-1")

    with connect(cli.db) as conn:
        assert conn.execute("SELECT count(*) FROM integrations").fetchone()[0] == 1
        linked = conn.execute("SELECT count(DISTINCT integration_id) FROM job_integrations")
        assert linked.fetchone()[0] == 1
    assert cli.show(first)["integrations"] == cli.show(second)["integrations"]
