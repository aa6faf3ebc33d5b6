"""Comparing jobs: the losses a run ended with and its best, and what differs between two jobs.

Plain functions over a job and its per-step metrics (the ones `metrics` shows); the CLI reads
them from the store, ftjobs.render.metrics and ftjobs.render.diff show them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ftjobs.api.history import finite

if TYPE_CHECKING:
    from ftjobs.api.history import Metrics
    from ftjobs.api.models import FineTuningJob


@dataclass(frozen=True)
class Losses:
    """A run's losses: the last train and valid loss, and the lowest valid loss (the lowest
    train loss when the run has no valid loss: best_of names which) and its step."""

    final_train: float | None = None
    final_valid: float | None = None
    best: float | None = None
    best_step: int | float | None = None
    best_of: str | None = None


def _points(metrics: Metrics, name: str) -> list[tuple[int | float, float]]:
    step_at = metrics.columns.index("step")
    at = metrics.columns.index(name)
    return [
        (row[step_at], float(row[at]))
        for row in metrics.rows
        if finite(row[step_at]) is not None and finite(row[at]) is not None
    ]


def _loss_column(metrics: Metrics, word: str, preferred: str) -> str | None:
    """The column named `preferred`, else the loss column holding `word` with the most values
    (valid_loss every 10 steps beats full_valid_loss at the end only), as the chart picks."""
    names = [
        name
        for name in metrics.columns
        if word in name.lower() and "loss" in name.lower() and _points(metrics, name)
    ]
    if preferred in names:
        return preferred
    return max(names, key=lambda name: len(_points(metrics, name)), default=None)


def losses(metrics: Metrics | None) -> Losses:
    """The final and best losses of a run's metrics (all None without metrics)."""
    if metrics is None or "step" not in metrics.columns:
        return Losses()
    train = _loss_column(metrics, "train", "train_loss")
    valid = _loss_column(metrics, "valid", "valid_loss")
    train_points = _points(metrics, train) if train else []
    valid_points = _points(metrics, valid) if valid else []
    scored, of = (valid_points, valid) if valid_points else (train_points, train)
    best = min(scored, key=lambda point: point[1], default=None)  # a tie: the earliest
    return Losses(
        final_train=train_points[-1][1] if train_points else None,
        final_valid=valid_points[-1][1] if valid_points else None,
        best=None if best is None else best[1],
        best_step=None if best is None else best[0],
        best_of=of if best is not None else None,
    )


# -- two jobs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """A field whose value differs between two jobs (None: the job has no value for it)."""

    field: str
    a: Any
    b: Any


# Fields in the order a person reads a job; any other field the jobs have follows in its own
# order. Times are left out (every job has its own): their duration is compared instead, and
# result_files (ids of each job's own files) say nothing about how the runs differ.
ORDER = (
    "model",
    "training_file",
    "validation_file",
    "suffix",
    "method.type",
    "hyperparameters.",
    "method.",
    "seed",
    "metadata.",
    "integrations",
    "status",
    "error.",
    "fine_tuned_model",
    "trained_tokens",
    "duration",
    "final_train_loss",
    "final_valid_loss",
    "best_loss_of",
    "best_loss",
    "best_loss_step",
)
LEFT_OUT = frozenset(
    {"id", "object", "created_at", "finished_at", "estimated_finish", "result_files"}
)


def job_fields(job: FineTuningJob, metrics: Metrics | None) -> dict[str, Any]:
    """A job as flat fields to compare: nested objects by dotted name (metadata.team), the
    method's settings without its kind in their names (method.supervised.hyperparameters.
    n_epochs is hyperparameters.n_epochs, so that a DPO and a supervised job compare their
    epochs), lists as compact JSON, the duration in seconds, and the losses."""
    data = job.to_api_dict()
    fields: dict[str, Any] = {}
    method = data.pop("method", None)
    top_hyperparameters = data.pop("hyperparameters", None)
    for name, value in _flat(data):
        if name.split(".")[0] not in LEFT_OUT:
            fields[name] = value
    method_hyperparameters = False
    if isinstance(method, dict):
        kind = method.get("type")
        fields["method.type"] = kind
        settings = method.get(kind) if isinstance(kind, str) else None
        for key, value in method.items():
            if key not in ("type", kind):
                fields.update(_flat({key: value}, "method."))
        if isinstance(settings, dict):
            for name, value in _flat(settings):
                if name.startswith("hyperparameters."):
                    method_hyperparameters = True
                    fields[name] = value
                else:
                    fields[f"method.{name}"] = value
    if not method_hyperparameters and isinstance(top_hyperparameters, dict):
        fields.update(_flat(top_hyperparameters, "hyperparameters."))
    created, finished = data.get("created_at"), data.get("finished_at")
    fields["duration"] = (
        finished - created if isinstance(created, int) and isinstance(finished, int) else None
    )
    found = losses(metrics)
    fields["final_train_loss"] = found.final_train
    fields["final_valid_loss"] = found.final_valid
    fields["best_loss_of"] = found.best_of
    fields["best_loss"] = found.best
    fields["best_loss_step"] = found.best_step
    return fields


def _flat(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from _flat(value, f"{name}.")
        elif isinstance(value, (list, dict)):
            yield name, json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        else:
            yield name, value


def _rank(name: str) -> int:
    for n, head in enumerate(ORDER):
        if name == head or (head.endswith(".") and name.startswith(head)):
            return n
    return len(ORDER)


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[Difference]:
    """The fields whose values differ (a field one job lacks is None there), in ORDER; 1 and
    1.0 are the same value, "auto" and 3 are not."""
    names = list(dict.fromkeys([*a, *b]))
    names.sort(key=_rank)  # stable: within a rank, the order the jobs have them in
    return [
        Difference(name, a.get(name), b.get(name))
        for name in names
        if not _same(a.get(name), b.get(name))
    ]


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, bool) or isinstance(y, bool):
        return x is y
    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
        return x == y
    return type(x) is type(y) and bool(x == y)


def duration_text(seconds: int) -> str:
    """3h 05m, 4m 20s, 12s: a run's length for people."""
    if seconds < 0:
        return f"{seconds}s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours >= 24:
        days, hours = divmod(hours, 24)
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
