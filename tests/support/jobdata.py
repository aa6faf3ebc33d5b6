"""Job payloads for the tests, and how to compare what went in with what came out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def make_job(number: int, **changes: Any) -> dict[str, Any]:
    """A realistic, full job; number makes the id and created_at unique."""
    job: dict[str, Any] = {
        "object": "fine_tuning.job",
        "id": f"ftjob-{number:024d}",
        "model": "gpt-4o-mini-2024-07-18",
        "created_at": 1_721_764_800 + number,
        "finished_at": None,
        "fine_tuned_model": None,
        "organization_id": "org-123",
        "result_files": [f"file-{number}-a", f"file-{number}-b"][: number % 3],
        "status": ["queued", "running", "succeeded", "failed"][number % 4],
        "validation_file": None,
        "training_file": "file-abc123",
        "hyperparameters": {"n_epochs": number % 50 + 1, "batch_size": "auto",
                            "learning_rate_multiplier": 1.8},
        "trained_tokens": None,
        "integrations": [{"type": "wandb", "wandb": {"project": f"p{number % 3}", "name": None,
                                                     "entity": None, "tags": ["t"],
                                                     "run_id": "r1"}}],
        "seed": number,
        "estimated_finish": None,
        "method": {"type": "supervised",
                   "supervised": {"hyperparameters": {"n_epochs": 2, "batch_size": "auto",
                                                      "learning_rate_multiplier": "auto"}}},
        "metadata": {"n": str(number)},
        "error": None,
        "user_provided_suffix": None,
        "shared_with_openai": False,
    }  # fmt: skip
    job.update(changes)
    return job


def write_jsonl(path: Path, jobs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(job) + "\n" for job in jobs), encoding="utf-8")
    return path


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON, types included: 1 is not 1.0 and not true."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def assert_preserved(given: Any, got: Any, where: str = "job") -> None:
    """Every key and value that came in came out, same JSON types; keys that did not come in
    may come out only as null or []."""
    if isinstance(given, dict):
        assert isinstance(got, dict), where
        for key, value in given.items():
            assert key in got, f"{where}.{key} lost"
            assert_preserved(value, got[key], f"{where}.{key}")
        for key in got.keys() - given.keys():
            assert got[key] in (None, []), f"{where}.{key} appeared as {got[key]!r}"
    elif isinstance(given, list):
        assert isinstance(got, list) and len(got) == len(given), where
        for index, (a, b) in enumerate(zip(given, got, strict=True)):
            assert_preserved(a, b, f"{where}[{index}]")
    else:
        assert same_json(given, got), f"{where}: {given!r} came back as {got!r}"


def normalised(job: dict[str, Any]) -> dict[str, Any]:
    """What ftjobs may give back for job: the three "no error" forms come out as null."""
    error = job.get("error")
    fields = ("code", "message", "param")
    no_error = isinstance(error, dict) and set(error) <= set(fields)
    if no_error and all(error.get(key) is None for key in fields):
        return {**job, "error": None}
    return job
