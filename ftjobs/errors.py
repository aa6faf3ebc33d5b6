"""Errors that end a command with a one-line message instead of a traceback."""

from __future__ import annotations


class FtjobsError(Exception):
    """The command could not do its work (exit status 1)."""

    exit_code = 1


class BadInput(FtjobsError):
    """A value given on the command line or in input data is wrong (exit status 2)."""

    exit_code = 2


class JobNotFound(FtjobsError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job with id {job_id!r}")
        self.job_id = job_id


class JobExists(FtjobsError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"a job with id {job_id!r} already exists")
        self.job_id = job_id


class RuleViolation(FtjobsError):
    """A change that the job's state does not allow (e.g. moving a finished job)."""


class StoreError(FtjobsError):
    """The database cannot be opened, read or written."""
