"""Which checkpoint is "final" (or "latest") and which "best valid": decided in ftjobs.api,
not by the table that shows the marks, so these run without a renderer or a store."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from ftjobs.api.checkpoints import (
    BEST_VALID,
    FINAL,
    LATEST,
    first_key,
    lowest,
    mark_checkpoints,
    valid_loss_key,
)


@dataclass(frozen=True)
class Checkpoint:
    """What the decision reads of a stored checkpoint (as ftjobs.store.records has it)."""

    step_number: int | None
    created_at: int
    fine_tuned_model_checkpoint: str | None
    text: str


def checkpoint(step: int, model: str, **metrics: Any) -> Checkpoint:
    text = json.dumps({"id": f"cp-{step}", "step_number": step, "metrics": metrics})
    return Checkpoint(step, 1_700_000_000 + step, model, text)


def marks(checkpoints: list[Checkpoint], status: str, model: str | None) -> list[list[str]]:
    marked = mark_checkpoints(checkpoints, job_status=status, fine_tuned_model=model)
    return [row.marks for row in marked]


def test_the_last_step_is_final_once_the_job_succeeded_or_is_the_jobs_model() -> None:
    steps = [checkpoint(1, "ft:m:ckpt-step-1"), checkpoint(2, "ft:m")]
    assert marks(steps, "succeeded", None) == [[], [FINAL]]
    assert marks(steps, "running", "ft:m") == [[], [FINAL]]  # its name is the job's model
    assert marks(steps, "running", "ft:other") == [[], [LATEST]]
    assert marks(steps, "failed", None) == [[], [LATEST]]


def test_no_checkpoints_no_marks() -> None:
    assert mark_checkpoints([], job_status="succeeded", fine_tuned_model="ft:m") == []
    assert valid_loss_key([]) is None


def test_best_valid_is_the_lowest_full_valid_loss_where_any_checkpoint_has_one() -> None:
    steps = [
        checkpoint(1, "a", valid_loss=0.1, full_valid_loss=0.5),
        checkpoint(2, "b", valid_loss=0.9),  # no full_valid_loss: not a candidate
        checkpoint(3, "c", valid_loss=0.4, full_valid_loss=0.3),
        checkpoint(4, "d", valid_loss=0.2, full_valid_loss=0.6),
    ]
    marked = mark_checkpoints(steps, job_status="succeeded", fine_tuned_model="d")
    assert valid_loss_key(marked) == "full_valid_loss"
    assert [row.marks for row in marked] == [[], [], [BEST_VALID], [FINAL]]


def test_else_the_lowest_valid_loss_and_a_tie_goes_to_the_earliest() -> None:
    steps = [
        checkpoint(1, "a", valid_loss=0.3),
        checkpoint(2, "b", valid_loss=0.2),
        checkpoint(3, "c", valid_loss=0.2),
    ]
    assert marks(steps, "running", None) == [[], [BEST_VALID], [LATEST]]


def test_the_best_can_be_the_final_one_too() -> None:
    steps = [checkpoint(1, "a", valid_loss=0.5), checkpoint(2, "b", valid_loss=0.1)]
    assert marks(steps, "succeeded", "b") == [[], [FINAL, BEST_VALID]]


def test_what_is_not_a_finite_number_is_never_best() -> None:
    steps = [
        checkpoint(1, "a", valid_loss=True),  # JSON true is not 1
        checkpoint(2, "b", valid_loss="0.01"),
        checkpoint(3, "c", valid_loss=None),
        checkpoint(4, "d", valid_loss=0.7),
        checkpoint(5, "e", train_loss=0.01),
    ]
    assert marks(steps, "running", None) == [[], [], [], [BEST_VALID], [LATEST]]
    # Only values nobody can compare: no best at all, and no valid loss to name.
    assert marks(steps[:3], "running", None) == [[], [], [LATEST]]
    assert (
        valid_loss_key(mark_checkpoints(steps[:3], job_status="x", fine_tuned_model=None)) is None
    )


def test_stored_text_without_metrics_reads_as_none() -> None:
    bare = Checkpoint(7, 1, None, json.dumps({"id": "cp-7", "metrics": "n/a"}))
    (row,) = mark_checkpoints([bare], job_status="succeeded", fine_tuned_model=None)
    assert (row.step, row.model, row.metrics, row.marks) == (7, "", {}, [FINAL])


def test_lowest_and_first_key() -> None:
    assert lowest([3, 1.5, math.nan, -math.inf, 1.5]) == 1
    assert lowest([None, "1", False]) is None
    assert lowest([]) is None
    metrics = [{"train_loss": math.inf}, {"train_accuracy": 0.5}]
    assert first_key(metrics, "train_loss", "train_accuracy") == "train_accuracy"
    assert first_key(metrics, "valid_loss") is None
