"""Reading and writing whole jobs: get, add, modify, delete, and the writes import and sync
share."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ftjobs.errors import JobExists, JobNotFound
from ftjobs.jsonio.stream import reindent_json
from ftjobs.jsonio.text import JsonCodec
from ftjobs.store.base import StoreBase, sqlite_errors
from ftjobs.store.rows import (
    INSERT_ERROR,
    INSERT_HYPERPARAMETERS,
    INSERT_INTEGRATION,
    INSERT_RESULT_FILE,
    JOB_PART_TABLES,
    LINK_INTEGRATION,
    RAW_JSON,
    SELECT_JOBS,
    WRITE_JOB,
    ListedJob,
    job_data,
    job_from_row,
    rows_for,
)

if TYPE_CHECKING:
    from ftjobs.api.models import FineTuningJob, JobRecord


class Jobs(StoreBase):
    """Whole jobs in and out."""

    def get(self, job_id: str) -> FineTuningJob:
        for job in self._select("WHERE jobs.id = ?", [job_id]):
            return job
        raise JobNotFound(job_id)

    def get_json(self, job_id: str, *, indent: int | None = None) -> str:
        """One job as the API's JSON text: as its provider sent it, re-indented with indent (not
        re-encoded), when the store has that text; else built from its columns, byte for byte
        what FineTuningJob.to_json gives."""
        for text in self._select_json("WHERE jobs.id = ?", [job_id], indent=indent):
            return text
        raise JobNotFound(job_id)

    def _select(self, tail: str, params: Sequence[Any]) -> Iterator[FineTuningJob]:
        from_json = JsonCodec(switch_after=0).loads  # (pydantic is imported for the models)
        with sqlite_errors(self.path):
            # Plain tuples, not sqlite-utils' dicts: this loop is export's hot path.
            for row in self.conn.execute(SELECT_JOBS + tail, params):
                yield job_from_row(row, self._integration, from_json)

    def _select_listed(self, tail: str, params: Sequence[Any]) -> Iterator[ListedJob]:
        """Stored jobs as ListedJob: their data as _select_json reads it, not yet text."""
        codec = JsonCodec()
        with sqlite_errors(self.path):
            for row in self.conn.execute(SELECT_JOBS + tail, params):
                yield ListedJob(job_data(row, self._integration, codec.loads))

    def _select_json(
        self, tail: str, params: Sequence[Any], *, indent: int | None = None
    ) -> Iterator[str]:
        """Stored jobs straight to JSON text, without building models: what every job's JSON
        going out is made of (show --json, list --json, search --json, export).

        A job kept as its provider sent it (raw_json: sync, import) is that text, compact, or
        re-indented without parsing; the archive gives back what came in, key order, number
        spellings and "error": {} included. A job a person wrote or changed is built from its
        columns: every stored job was validated on its way in, and validating it again on the
        way out changes nothing (the values pass through unchanged; the "no error" forms are
        never stored). The codec writes what model_dump_json writes (pydantic-core's encoder,
        or json where that is the same), byte for byte (tests/guarantees/test_json_contract.py,
        test_import_export.py, test_jsontext.py)."""
        codec = JsonCodec()
        with sqlite_errors(self.path):
            for row in self.conn.execute(SELECT_JOBS + tail, params):
                raw = row[RAW_JSON]
                if raw is not None:
                    yield raw if indent is None else reindent_json(raw, indent)
                else:
                    data = job_data(row, self._integration, codec.loads)
                    yield codec.dumps(data, indent=indent)

    def _unchanged(
        self, conn: sqlite3.Connection, records: Sequence[JobRecord], ids_json: str
    ) -> set[str]:
        """Ids of the records (of stored jobs, ids_json their ids) the store already holds as
        they are, so that writing them would change nothing: the same text as the stored one
        (raw_json, or the JSON built from the columns when it is NULL), or for a record without
        text, the same JSON as its model's. A job whose text differs only in key order or
        spacing is not the same: its new text is kept."""
        codec = JsonCodec(switch_after=0)  # (pydantic is imported: these are models)
        stored = {
            row[1]: row
            for row in conn.execute(
                SELECT_JOBS + "WHERE jobs.id IN (SELECT value FROM json_each(?))",  # noqa: S608
                [ids_json],
            )
        }
        same: set[str] = set()
        for record in records:
            row = stored[record.job.id]
            raw = row[RAW_JSON]
            if record.text is not None and raw is not None:
                unchanged = record.text == raw  # (no model or columns needed)
            else:
                # The JSON the columns give, which FineTuningJob.to_json writes byte for byte.
                columns = codec.dumps(job_data(row, self._integration, codec.loads))
                text = record.job.to_json() if record.text is None else record.text
                unchanged = text == columns
            if unchanged:
                same.add(record.job.id)
        return same

    def _integration(self, integration_id: int) -> dict[str, Any]:
        cached = self._integrations.get(integration_id)
        if cached is None:
            cursor = self.conn.execute("SELECT * FROM integrations WHERE id = ?", [integration_id])
            names = [column[0] for column in cursor.description]
            row = dict(zip(names, cursor.fetchone(), strict=True))
            cached = {"type": row["type"]}
            if row["wandb_is_null"]:
                cached["wandb"] = None
            else:
                tags = row["wandb_tags_json"]
                wandb = {
                    "project": row["wandb_project"],
                    "name": row["wandb_name"],
                    "entity": row["wandb_entity"],
                    "tags": None if tags is None else json.loads(tags),
                }
                if row["wandb_extra_json"]:
                    wandb.update(json.loads(row["wandb_extra_json"]))
                cached["wandb"] = wandb
            if row["extra_json"]:
                cached.update(json.loads(row["extra_json"]))
            for name in row["absent_fields"].split(",") if row["absent_fields"] else ():
                if name.startswith("wandb."):
                    del cached["wandb"][name.removeprefix("wandb.")]
                else:
                    del cached[name]
            self._integrations[integration_id] = cached
        return cached

    def add(self, job: FineTuningJob) -> FineTuningJob:
        """Insert a new job; an id that exists is an error, never an overwrite."""
        with self._transaction() as conn:
            if self._exists(conn, job.id):
                raise JobExists(job.id)
            self._write(conn, self._new_keys(conn, [job]), {})
        return self.get(job.id)

    def modify(
        self, job_id: str, change: Callable[[FineTuningJob], FineTuningJob]
    ) -> FineTuningJob:
        """Read a job, apply change, write the result back: all inside one write transaction, so
        concurrent changes to the same job queue up instead of overwriting each other."""
        with self._transaction() as conn:
            current = self.get(job_id)
            changed = change(current)
            if changed.id != job_id:
                raise ValueError("a change must not alter the job's id")
            if changed.to_json() != current.to_json():
                self._write(conn, [(self._key_of(conn, job_id), changed)], {}, replacing=True)
        return self.get(job_id)

    def delete(self, job_ids: Sequence[str]) -> int:
        """Delete jobs and everything linked to them; all named jobs must exist."""
        with self._transaction() as conn:
            for job_id in job_ids:
                if not self._exists(conn, job_id):
                    raise JobNotFound(job_id)
            return self._delete(conn, list(dict.fromkeys(job_ids)))

    def history_counts(self, job_ids: Sequence[str]) -> dict[str, int]:
        """How much history goes with these jobs (delete names it before asking): their
        events, checkpoints and result files."""
        marks = ", ".join("?" * len(job_ids))
        counts = {}
        for name, table in (
            ("events", "job_events"),
            ("checkpoints", "job_checkpoints"),
            ("result files", "job_result_files"),
        ):
            row = self.conn.execute(
                f"SELECT count(*) FROM {table} JOIN jobs USING (job_key)"  # noqa: S608 (fixed names)
                f" WHERE jobs.id IN ({marks})",
                list(job_ids),
            ).fetchone()
            counts[name] = int(row[0])
        return counts

    def _delete(self, conn: sqlite3.Connection, job_ids: list[str]) -> int:
        """Delete jobs; their rows in every other table go with them (foreign keys cascade),
        and so does the stored content of result files no remaining job lists."""
        deleted = 0
        for job_id in job_ids:
            files = [
                row[0]
                for row in conn.execute(
                    "SELECT file_id FROM job_result_files JOIN jobs USING (job_key)"
                    " WHERE jobs.id = ?",
                    [job_id],
                )
            ]
            deleted += conn.execute("DELETE FROM jobs WHERE id = ?", [job_id]).rowcount
            conn.executemany(
                "DELETE FROM result_file_contents WHERE file_id = ?"
                " AND NOT EXISTS (SELECT 1 FROM job_result_files WHERE file_id = ?)",
                [(file_id, file_id) for file_id in files],
            )
        self._integrations.clear()  # ids of integrations no job uses any more may be reused
        return deleted

    def _write(
        self,
        conn: sqlite3.Connection,
        keyed: Sequence[tuple[int, FineTuningJob]],
        fingerprints: dict[tuple[Any, ...], str],
        *,
        replacing: bool = False,
        texts: Sequence[str | None] | None = None,
    ) -> None:
        """Write jobs under their keys: new ones appended, or (replacing) stored ones rewritten
        in place, the job row updated and its own parts replaced, so that nothing pointing at
        a job (its history) is lost and export keeps the order jobs were first recorded in.
        texts, one per job, are the jobs as their provider sent them, compact (raw_json);
        without them (add, update, attach) raw_json is NULL: the job is now the person's, and
        its JSON is built from the columns."""
        jobs, errors, hyperparameters, files, integrations, links = [], [], [], [], [], []
        if texts is None:
            texts = [None] * len(keyed)
        for (key, job), text in zip(keyed, texts, strict=True):
            rows = rows_for(job, key, fingerprints, text)
            jobs.append(rows.job)
            if rows.error:
                errors.append(rows.error)
            if rows.hyperparameters:
                hyperparameters.append(rows.hyperparameters)
            files.extend(rows.result_files)
            integrations.extend(rows.integrations)
            links.extend(rows.integration_links)
        if replacing:
            keys = [(key,) for key, _ in keyed]
            for table in JOB_PART_TABLES:
                # table: one of a fixed tuple of names, never user text
                conn.executemany(f"DELETE FROM {table} WHERE job_key = ?", keys)  # noqa: S608
            # An integration no job uses any more was just removed, and its id may be given to
            # a new one: what was cached under that id is stale.
            self._integrations.clear()
        conn.executemany(WRITE_JOB, jobs)
        conn.executemany(INSERT_ERROR, errors)
        conn.executemany(INSERT_HYPERPARAMETERS, hyperparameters)
        conn.executemany(INSERT_RESULT_FILE, files)
        if integrations:
            conn.executemany(INSERT_INTEGRATION, integrations)
            conn.executemany(LINK_INTEGRATION, links)
