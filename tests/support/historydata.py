"""A realistic job history for the tests: a 240-step supervised job as the API sends it.

One metrics event per step (valid loss every 10 steps, full valid loss at the end), three
events a second, the lifecycle messages around them, three checkpoints, and the result file's
CSV (with blank cells, as `1,3.63265,0.5,,`) plain and base64-encoded. Every text is built
here, so each test knows exactly what went in.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

JOB_ID = "ftjob-HistoryJob240StepsAbcd"
MODEL = "ft:gpt-4o-mini-2024-07-18:acme::Hx240abc"
RESULT_FILE = "file-Result240StepsAbcdEfgh"
STEPS = 240
START = 1_721_764_800

# Spellings that must survive the archive: a float written as the API writes it, and a step
# as Azure sends it.
TINY_LOSS = "1.805623287509661e-5"
STEP_AS_FLOAT = "240.0"


def job(**changes: Any) -> dict[str, Any]:
    return {
        "object": "fine_tuning.job",
        "id": JOB_ID,
        "model": "gpt-4o-mini-2024-07-18",
        "created_at": START,
        "finished_at": START + 200,
        "fine_tuned_model": MODEL,
        "organization_id": "org-acme",
        "result_files": [RESULT_FILE],
        "status": "succeeded",
        "validation_file": "file-valid",
        "training_file": "file-train",
        "hyperparameters": {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8},
        "trained_tokens": 123_456,
        "seed": 7,
        **changes,
    }


def train_loss(step: int) -> float:
    return round(3.6 * math.exp(-step / 50) + 0.06 + 0.04 * math.sin(step), 5)


def valid_loss(step: int) -> float:
    """Lowest at step 160, rising after it (a little overfitting)."""
    return round(0.4 + ((step - 160) / 120) ** 2, 5)


def accuracy(step: int) -> float:
    return round(0.5 + 0.45 * (1 - math.exp(-step / 60)), 5)


def _event(number: int, created_at: int, message: str, data: Any, kind: str, level: str) -> str:
    return json.dumps(
        {
            "object": "fine_tuning.job.event",
            "id": f"ftevent-{number:024d}",
            "created_at": created_at,
            "level": level,
            "message": message,
            "data": data,
            "type": kind,
        },
        separators=(",", ":"),
    )


def event_texts() -> list[str]:
    """The job's events, oldest first, as compact JSON texts (the store's spelling)."""
    texts = []

    def add(at: int, message: str, data: Any = None, kind: str = "message", level: str = "info"):
        texts.append(_event(len(texts) + 1, at, message, data, kind, level))

    add(START, f"Created fine-tuning job: {JOB_ID}", {})
    add(START, "Validating training file: file-train")
    add(START + 1, "Files validated, moving job to queued state")
    add(START + 2, "Fine-tuning job started")
    add(START + 2, "Some examples were skipped: too long", kind="message", level="warn")
    for step in range(1, STEPS + 1):
        data: dict[str, Any] = {
            "step": step,
            "train_loss": train_loss(step),
            "train_mean_token_accuracy": accuracy(step),
            "total_steps": STEPS,
        }
        message = f"Step {step}/{STEPS}: training loss={train_loss(step):.2f}"
        if step % 10 == 0:
            data["valid_loss"] = valid_loss(step)
            data["valid_mean_token_accuracy"] = accuracy(step) - 0.05
            message += f", validation loss={valid_loss(step):.2f}"
        if step == STEPS:
            data["full_valid_loss"] = valid_loss(step) + 0.01
            data["full_valid_mean_token_accuracy"] = accuracy(step) - 0.06
        at = START + 3 + step // 3  # three steps a second: same-second events
        add(at, message, data, kind="metrics")
        if step % 80 == 0:
            add(at, f"Checkpoint created at step {step} with Snapshot ID: {checkpoint_id(step)}")
    end = START + 3 + STEPS // 3
    add(end, f"New fine-tuned model created: {MODEL}")
    add(end, "The job has successfully completed")
    # Two spellings the API uses that a re-encoding would change.
    for step, old, new in (
        (STEPS - 1, f'"train_loss":{train_loss(STEPS - 1)}', f'"train_loss":{TINY_LOSS}'),
        (STEPS, f'"step":{STEPS},', f'"step":{STEP_AS_FLOAT},'),
    ):
        at = next(i for i, text in enumerate(texts) if f'"step":{step},' in text)
        assert old in texts[at]
        texts[at] = texts[at].replace(old, new)
    return texts


def events_list_pages(page_size: int = 100) -> list[str]:
    """The events as the API lists them: newest first, in pages of list responses."""
    newest_first = list(reversed(event_texts()))
    pages = []
    for start in range(0, len(newest_first), page_size):
        data = ",".join(newest_first[start : start + page_size])
        more = "true" if start + page_size < len(newest_first) else "false"
        pages.append(f'{{"object":"list","data":[{data}],"has_more":{more}}}')
    return pages


def checkpoint_id(step: int) -> str:
    return f"ftckpt_step{step:017d}"


def checkpoint_texts() -> list[str]:
    """Checkpoints at steps 80, 160 and 240, oldest first; 240 is the job's model, 160 has the
    lowest valid loss."""
    texts = []
    for step in (80, 160, 240):
        name = MODEL if step == STEPS else f"{MODEL}:ckpt-step-{step}"
        checkpoint = {
            "object": "fine_tuning.job.checkpoint",
            "id": checkpoint_id(step),
            "created_at": START + 3 + step // 3,
            "fine_tuned_model_checkpoint": name,
            "metrics": {
                "step": step,
                "train_loss": train_loss(step),
                "train_mean_token_accuracy": accuracy(step),
                "valid_loss": valid_loss(step),
                "valid_mean_token_accuracy": accuracy(step) - 0.05,
            },
            "fine_tuning_job_id": JOB_ID,
            "step_number": step,
        }
        texts.append(json.dumps(checkpoint, separators=(",", ":")))
    return texts


def result_csv() -> str:
    """The result file: a row per step, valid columns blank but every 10th step."""
    lines = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]
    for step in range(1, STEPS + 1):
        loss = "3.63265" if step == 1 else "6e-05" if step == 200 else f"{train_loss(step)}"
        train_accuracy = "0.5" if step == 1 else f"{accuracy(step)}"
        valid = f"{valid_loss(step)},{round(accuracy(step) - 0.05, 5)}" if step % 10 == 0 else ","
        lines.append(f"{step},{loss},{train_accuracy},{valid}")
    return "\n".join(lines) + "\n"


def result_base64() -> bytes:
    """The result file as the API has returned it since mid-2024."""
    return base64.b64encode(result_csv().encode())
