"""JSON text as ftjobs stores and prints it, without importing pydantic (only pydantic-core):
read-only commands use this and never build a model (see ftjobs.store's read path)."""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import to_json


def json_text(value: Any) -> str:
    """Compact JSON text, refusing NaN and Infinity (JSON has neither) with ValueError: how
    free-form parts are stored. pydantic-core's encoder is several times faster than json's; the
    standard library settles the rare text that might hold one of them."""
    text = to_json(value, inf_nan_mode="constants").decode()
    if "NaN" in text or "Infinity" in text:
        json.dumps(value, allow_nan=False)
    return text
