"""What the API says about the files and models a job names: file objects (filename, size,
purpose) and whether each fine-tuned model still exists. Both are kept by file or model id, not
by job: many jobs train on one file, and deleting a job leaves what was learnt of its file.

The JSON texts come in as the API sent them (compacted by ftjobs.sync.client); the columns are read
from them here so that show and list need no JSON parsing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ftjobs.errors import JobNotFound
from ftjobs.store.base import StoreBase, sqlite_errors

FILE_ROLES = ("training", "validation")


@dataclass(frozen=True)
class FileObject:
    """A stored file object. found is False once the API said 404; what was archived before
    that (filename, bytes, ...) is kept."""

    file_id: str
    found: bool
    filename: str | None
    bytes: int | None
    purpose: str | None
    created_at: int | None
    fetched_at: int


@dataclass(frozen=True)
class ModelState:
    """Whether a fine-tuned model answered when last asked (checked_at), and when it last did
    (last_seen_at: None if it never did)."""

    model_id: str
    found: bool
    last_seen_at: int | None
    checked_at: int


@dataclass(frozen=True)
class JobFile:
    """A job's training or validation file (role: one of FILE_ROLES)."""

    job_id: str
    role: str
    file_id: str


@dataclass(frozen=True)
class JobModel:
    job_id: str
    model_id: str


@dataclass(frozen=True)
class JobResources:
    """What show prints beside a job: its files' objects and its model's state, where stored."""

    files: dict[str, FileObject]
    model: ModelState | None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def file_columns(text: str) -> tuple[str | None, int | None, str | None, int | None]:
    """filename, bytes, purpose, created_at of a file object's text; a value of another type
    than the API documents is left to raw_json."""
    value = json.loads(text)
    if not isinstance(value, dict):
        return None, None, None, None
    return (
        _str(value.get("filename")),
        _int(value.get("bytes")),
        _str(value.get("purpose")),
        _int(value.get("created_at")),
    )


def _file_object(row: Sequence[Any]) -> FileObject:
    return FileObject(row[0], bool(row[1]), row[2], row[3], row[4], row[5], row[6])


def _model_state(row: Sequence[Any]) -> ModelState:
    return ModelState(row[0], bool(row[1]), row[2], row[3])


class Resources(StoreBase):
    """file_objects and model_states: their writes (sync's) and reads (show's and list's)."""

    def save_file_object(self, file_id: str, text: str | None, *, now: int) -> None:
        """Store what GET /files/{id} gave: the object's text, or None for a 404. A 404 after
        the file was archived keeps its filename and the rest: the name outlives the file."""
        with self._transaction() as conn:
            if text is None:
                conn.execute(
                    "INSERT INTO file_objects (file_id, found, fetched_at) VALUES (?, 0, ?)"
                    " ON CONFLICT (file_id) DO UPDATE SET found = 0,"
                    " fetched_at = excluded.fetched_at",
                    [file_id, now],
                )
                return
            conn.execute(
                "INSERT INTO file_objects (file_id, found, filename, bytes, purpose, created_at,"
                " raw_json, fetched_at) VALUES (?, 1, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (file_id) DO UPDATE SET found = 1, filename = excluded.filename,"
                " bytes = excluded.bytes, purpose = excluded.purpose,"
                " created_at = excluded.created_at, raw_json = excluded.raw_json,"
                " fetched_at = excluded.fetched_at",
                [file_id, *file_columns(text), text, now],
            )

    def save_model_state(self, model_id: str, text: str | None, *, now: int) -> None:
        """Store what GET /models/{id} gave: the object's text (seen now), or None for a 404
        (deleted: when it was last seen, and its text then, are kept)."""
        with self._transaction() as conn:
            if text is None:
                conn.execute(
                    "INSERT INTO model_states (model_id, found, checked_at) VALUES (?, 0, ?)"
                    " ON CONFLICT (model_id) DO UPDATE SET found = 0,"
                    " checked_at = excluded.checked_at",
                    [model_id, now],
                )
                return
            conn.execute(
                "INSERT INTO model_states (model_id, found, raw_json, last_seen_at, checked_at)"
                " VALUES (?, 1, ?, ?, ?)"
                " ON CONFLICT (model_id) DO UPDATE SET found = 1, raw_json = excluded.raw_json,"
                " last_seen_at = excluded.last_seen_at, checked_at = excluded.checked_at",
                [model_id, text, now, now],
            )

    def job_files(self, job_ids: Sequence[str], *, unarchived_only: bool = True) -> list[JobFile]:
        """The training and validation files of the stored ones of these jobs, newest job
        first; with unarchived_only, only files with no file_objects row (never asked, or
        asked and refused with something other than a 404)."""
        with sqlite_errors(self.path):
            rows = self.conn.execute(
                """
                SELECT job_id, role, file_id FROM (
                    SELECT id AS job_id, 'training' AS role, training_file AS file_id, created_at
                    FROM jobs WHERE id IN (SELECT value FROM json_each(?1)) AND training_file <> ''
                    UNION ALL
                    SELECT id, 'validation', validation_file, created_at
                    FROM jobs WHERE id IN (SELECT value FROM json_each(?1))
                    AND validation_file <> ''
                )
                WHERE NOT ?2 OR file_id NOT IN (SELECT file_id FROM file_objects)
                ORDER BY created_at DESC, job_id DESC, role
                """,
                [json.dumps(list(job_ids)), unarchived_only],
            ).fetchall()
        return [JobFile(*row) for row in rows]

    def models_due(self, job_ids: Sequence[str], *, checked_before: int | None) -> list[JobModel]:
        """The fine-tuned models of the stored ones of these jobs that are due a check: never
        checked, or last checked before checked_before (None: all of them), newest job first."""
        with sqlite_errors(self.path):
            rows = self.conn.execute(
                "SELECT jobs.id, jobs.fine_tuned_model FROM jobs"
                " LEFT JOIN model_states ON model_states.model_id = jobs.fine_tuned_model"
                " WHERE jobs.id IN (SELECT value FROM json_each(?1))"
                " AND jobs.fine_tuned_model <> ''"
                " AND (?2 IS NULL OR model_states.checked_at IS NULL"
                " OR model_states.checked_at < ?2)"
                " ORDER BY jobs.created_at DESC, jobs.id DESC",
                [json.dumps(list(job_ids)), checked_before],
            ).fetchall()
        return [JobModel(*row) for row in rows]

    def file_objects(self, file_ids: Sequence[str]) -> dict[str, FileObject]:
        """The stored ones of these file objects, by id."""
        with sqlite_errors(self.path):
            rows = self.conn.execute(
                "SELECT file_id, found, filename, bytes, purpose, created_at, fetched_at"
                " FROM file_objects WHERE file_id IN (SELECT value FROM json_each(?))",
                [json.dumps(list(file_ids))],
            ).fetchall()
        return {row[0]: _file_object(row) for row in rows}

    def model_state(self, model_id: str) -> ModelState | None:
        """What the last check of this model found (None: never checked)."""
        with sqlite_errors(self.path):
            row = self.conn.execute(
                "SELECT model_id, found, last_seen_at, checked_at FROM model_states"
                " WHERE model_id = ?",
                [model_id],
            ).fetchone()
        return None if row is None else _model_state(row)

    def job_resources(self, job_id: str) -> JobResources:
        """The stored file objects of a job's training and validation files, and its fine-tuned
        model's state (raises JobNotFound for an unknown job)."""
        with sqlite_errors(self.path):
            row = self.conn.execute(
                "SELECT training_file, validation_file, fine_tuned_model FROM jobs WHERE id = ?",
                [job_id],
            ).fetchone()
        if row is None:
            raise JobNotFound(job_id)
        files = self.file_objects([file_id for file_id in row[:2] if file_id])
        return JobResources(files, self.model_state(row[2]) if row[2] else None)
