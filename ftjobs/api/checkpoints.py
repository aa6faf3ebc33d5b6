"""Which of a job's checkpoints is the final one and which the best: decided here, from the
checkpoints and the job, so that every view (the table, the piped lines) shows the same marks."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ftjobs.api.history import finite

FINAL = "final"
LATEST = "latest"
BEST_VALID = "best valid"
# The valid loss a best checkpoint is chosen by: the first any checkpoint has (the two are
# never compared with each other: full_valid_loss is over the whole validation file).
VALID_LOSS_KEYS = ("full_valid_loss", "valid_loss")


class Checkpoint(Protocol):
    """A stored checkpoint as the store reads it (ftjobs.store.records.StoredCheckpoint)."""

    @property
    def step_number(self) -> int | None: ...
    @property
    def created_at(self) -> int: ...
    @property
    def fine_tuned_model_checkpoint(self) -> str | None: ...
    @property
    def text(self) -> str: ...


@dataclass
class MarkedCheckpoint:
    """A checkpoint as views show it: its metrics read from the stored text, and its marks."""

    step: Any
    created_at: int
    model: str
    metrics: dict[str, Any]
    marks: list[str] = field(default_factory=list)


def first_key(metrics: Iterable[Mapping[str, Any]], *keys: str) -> str | None:
    """The first of keys that at least one of the metrics has a finite number for."""
    found = list(metrics)
    for key in keys:
        if any(finite(one.get(key)) is not None for one in found):
            return key
    return None


def lowest(values: Iterable[Any]) -> int | None:
    """The position of the lowest finite number among values (on a tie, the earliest); None
    when there is none."""
    scored = [
        (number, n) for n, value in enumerate(values) if (number := finite(value)) is not None
    ]
    return min(scored)[1] if scored else None


def mark_checkpoints(
    checkpoints: Iterable[Checkpoint], *, job_status: str, fine_tuned_model: str | None
) -> list[MarkedCheckpoint]:
    """The checkpoints (oldest first) with their marks: the last step "final" (or "latest"
    while the job has not succeeded and the name is not the job's model), and the lowest valid
    loss "best valid" (full_valid_loss if any checkpoint has it, else valid_loss)."""
    rows = []
    for checkpoint in checkpoints:
        metrics = json.loads(checkpoint.text).get("metrics")
        rows.append(
            MarkedCheckpoint(
                checkpoint.step_number,
                checkpoint.created_at,
                checkpoint.fine_tuned_model_checkpoint or "",
                metrics if isinstance(metrics, dict) else {},
            )
        )
    if rows:
        last = rows[-1]
        finished = job_status == "succeeded" or (
            fine_tuned_model is not None and last.model == fine_tuned_model
        )
        last.marks.append(FINAL if finished else LATEST)
    valid_loss = valid_loss_key(rows)
    if valid_loss is not None:
        best = lowest(row.metrics.get(valid_loss) for row in rows)
        if best is not None:
            rows[best].marks.append(BEST_VALID)
    return rows


def valid_loss_key(rows: Sequence[MarkedCheckpoint]) -> str | None:
    """The valid loss the checkpoints are compared by (None: none of them has one)."""
    return first_key((row.metrics for row in rows), *VALID_LOSS_KEYS)
