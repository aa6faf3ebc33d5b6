"""Hypothesis strategies for fine-tuning job objects as the API (and real data) sends them:
sparse or full, with unknown keys at every depth, "auto" or numbers, every error form."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

STATUSES = ["validating_files", "queued", "running", "succeeded", "failed", "cancelled", "paused"]
ID_CHARS = string.ascii_letters + string.digits

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),  # no lone surrogates: not UTF-8
    max_size=12,
)
nonempty_text = text.filter(bool)
timestamps = st.integers(min_value=0, max_value=2_000_000_000)
json_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | text
json_scalars |= st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
# Keys outside the spec: prefixed so they never collide with a known field.
unknown_keys = st.dictionaries(st.text(ID_CHARS, min_size=1, max_size=8).map("x_".__add__),
                               json_values, max_size=2)  # fmt: skip


def _with_unknown(known: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda k, u: {**k, **u}, known, unknown_keys)


def _optional_keys(
    required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(required, optional=optional)


hyperparameters = _with_unknown(
    _optional_keys(
        {},
        {
            "n_epochs": st.just("auto") | st.integers(1, 50),
            "batch_size": st.just("auto") | st.integers(1, 256) | st.none(),
            "learning_rate_multiplier": st.just("auto")
            | st.integers(1, 10)
            | st.floats(min_value=1e-6, max_value=100, allow_nan=False),
        },
    )
)
errors = st.none() | st.just({}) | st.just({"code": None, "message": None, "param": None})
errors |= _with_unknown(
    st.fixed_dictionaries({"code": text, "message": text, "param": st.none() | text})
)
wandb = _with_unknown(
    _optional_keys(
        {"project": text},
        {"name": st.none() | text, "entity": st.none() | text, "tags": st.lists(text, max_size=3)},
    )
)
integrations = st.none() | st.lists(
    _with_unknown(st.fixed_dictionaries({"type": st.just("wandb"), "wandb": wandb})), max_size=3
)
methods = st.none() | _with_unknown(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["supervised", "dpo", "reinforcement"])},
        optional={"supervised": st.dictionaries(text, json_values, max_size=2)},
    )
)

jobs = _with_unknown(
    _optional_keys(
        {
            "id": st.text(ID_CHARS, min_size=1, max_size=10).map("ftjob-".__add__),
            "model": nonempty_text,
            "created_at": timestamps,
            "status": st.sampled_from(STATUSES),
        },
        {
            "object": st.just("fine_tuning.job"),
            "error": errors,
            "fine_tuned_model": st.none() | text,
            "finished_at": st.none() | timestamps,
            "hyperparameters": st.none() | hyperparameters,
            "organization_id": text,
            "result_files": st.lists(nonempty_text, max_size=3, unique=True),
            "trained_tokens": st.none() | st.integers(0, 2**63 - 1),
            "training_file": nonempty_text,
            "validation_file": st.none() | text,
            "seed": st.integers(0, 2**31 - 1),
            "integrations": integrations,
            "estimated_finish": st.none() | timestamps,
            "method": methods,
            "metadata": st.none() | st.dictionaries(text, text, max_size=3),
        },
    )
)
