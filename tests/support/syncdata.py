"""Jobs and their history as a fine-tuning API would send them, as raw JSON text (key order and
number spellings of the test's choosing), for the sync tests' fake server."""

from __future__ import annotations

import base64
import json
from typing import Any

from .fake_api import FakeFineTuningApi

T0 = 1_721_764_800  # 2024-07-23T20:00:00Z


def job_text(number: int, status: str = "succeeded", **changes: Any) -> str:
    """A full job; succeeded ones have a result file. Key order as OpenAI sends it, an unknown
    key, and a float spelt as the server does."""
    job_id = f"ftjob-{number:024d}"
    finished = status in ("succeeded", "failed", "cancelled")
    job: dict[str, Any] = {
        "object": "fine_tuning.job",
        "id": job_id,
        "model": "gpt-4o-mini-2024-07-18",
        "created_at": T0 + number * 100,
        "finished_at": T0 + number * 100 + 50 if finished else None,
        "fine_tuned_model": f"ft:gpt-4o-mini-2024-07-18:org::{number:08d}"
        if status == "succeeded"
        else None,
        "organization_id": "org-123",
        "result_files": [f"file-result-{number}"] if status == "succeeded" else [],
        "status": status,
        "validation_file": None,
        "training_file": "file-train",
        "hyperparameters": {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8},
        "trained_tokens": 5768 if finished else None,
        "error": {},
        "user_provided_suffix": None,
        "seed": 42,
        "estimated_finish": None,
        "integrations": [],
        "metadata": None,
        "usage_metrics": None,
        "shared_with_openai": False,
        "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
    }
    job.update(changes)
    return json.dumps(job)


def event_text(job_number: int, n: int, *, metrics: bool = True) -> str:
    """Event n of a job (n grows with time); metrics events spell step as 240.0 on odd steps."""
    created_at = T0 + job_number * 100 + n // 2  # two events a second
    event_id = f"ftevent-{job_number:08d}{n:016d}"
    if metrics:
        step = f"{n}.0" if n % 2 else str(n)
        data = f'{{"step":{step},"train_loss":1.805623287509661e-5,"train_mean_token_accuracy":1}}'
        return (
            f'{{"object":"fine_tuning.job.event","id":"{event_id}","created_at":{created_at},'
            f'"level":"info","message":"Step {n}: training loss=0.00","data":{data},'
            '"type":"metrics"}'
        )
    return (
        f'{{"object":"fine_tuning.job.event","id":"{event_id}","created_at":{created_at},'
        f'"level":"info","message":"Event {n}","data":null,"type":"message"}}'
    )


def checkpoint_text(job_number: int, step: int) -> str:
    return (
        '{"object":"fine_tuning.job.checkpoint",'
        f'"id":"ftckpt_{job_number:08d}{step:016d}","created_at":{T0 + job_number * 100 + step},'
        f'"fine_tuned_model_checkpoint":"ft:gpt-4o-mini:org::x:ckpt-step-{step}",'
        f'"fine_tuning_job_id":"ftjob-{job_number:024d}",'
        f'"metrics":{{"step":{step}.0,"train_loss":0.5,"valid_loss":0.25}},"step_number":{step}}}'
    )


RESULT_CSV = (
    b"step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n"
    b"1,3.63265,0.5,,\n2,6e-05,1.0,0.25,0.5\n"
)


def fill(
    fake: FakeFineTuningApi,
    numbers: range,
    *,
    events: int = 5,
    status: str = "succeeded",
    project: str | None = None,
) -> None:
    """Jobs with events (newest first), two checkpoints each, and base64 result files (in
    project, if given: see FakeFineTuningApi.add_project_key)."""
    for number in numbers:
        job_id = fake.add_job(job_text(number, status), project=project)
        fake.add_events(
            job_id, [event_text(number, n, metrics=n % 3 != 0) for n in range(events, 0, -1)]
        )
        fake.add_checkpoints(job_id, [checkpoint_text(number, s) for s in (20, 10)])
        if status == "succeeded":
            fake.files[f"file-result-{number}"] = base64.b64encode(RESULT_CSV)
