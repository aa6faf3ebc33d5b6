"""JSON text as ftjobs stores and prints it, without importing pydantic (only pydantic-core, and
that only once there is enough JSON to be worth it): read-only commands never build a model
(see ftjobs.store's read path)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

# Where json's text and pydantic-core's differ: floats json writes in exponent form below 1e-4
# (json: 1e-05, 1.5e-07; pydantic-core: 0.00001, 1.5e-7) and the constants NaN and Infinity.
# A text with none of these is the same from both, byte for byte (tests/units/test_jsontext.py); a
# match may be a string that merely looks so, which costs only the slower, certain path.
_MAY_DIFFER = re.compile(r"[0-9]e-|NaN|Infinity")


def json_text(value: Any) -> str:
    """Compact JSON text, refusing NaN and Infinity (JSON has neither) with ValueError: how
    free-form parts are stored. pydantic-core's encoder is several times faster than json's; the
    standard library settles the rare text that might hold one of them."""
    from pydantic_core import to_json

    text = to_json(value, inf_nan_mode="constants").decode()
    if "NaN" in text or "Infinity" in text:
        json.dumps(value, allow_nan=False)
    return text


def _pydantic_core_dumps(value: Any, indent: int | None) -> str:
    from pydantic_core import to_json

    return to_json(value, indent=indent).decode()


def _stdlib_dumps(value: Any, indent: int | None) -> str:
    """pydantic-core's text (what FineTuningJob.to_json writes), from json when that is the
    same."""
    text = json.dumps(
        value,
        ensure_ascii=False,
        indent=indent,
        separators=(",", ":") if indent is None else (",", ": "),
    )
    if _MAY_DIFFER.search(text):
        return _pydantic_core_dumps(value, indent)
    return text


class JsonCodec:
    """Reads and writes JSON text exactly as pydantic-core does, starting on the standard library.

    pydantic-core reads and writes JSON 3-4x faster than json, but importing it takes about 45 ms,
    a sixth of a small `ftjobs list --json`. A codec starts on json and moves to pydantic-core
    after `switch_after` values, so a few jobs print without the import and a million export at
    pydantic-core's speed. Either way the text is the same.
    """

    def __init__(self, *, switch_after: int = 64) -> None:
        self._left = switch_after
        self.loads: Callable[[str], Any] = json.loads
        self._dumps: Callable[[Any, int | None], str] = _stdlib_dumps
        if switch_after <= 0:  # (a caller that imports pydantic anyway)
            self._switch()

    def dumps(self, value: Any, *, indent: int | None = None) -> str:
        """One value as JSON text (compact, or indented by indent), counting it."""
        if self._left > 0:
            self._left -= 1
            if self._left == 0:
                self._switch()
        return self._dumps(value, indent)

    def _switch(self) -> None:
        from pydantic_core import from_json

        self._left = 0
        self.loads = from_json
        self._dumps = _pydantic_core_dumps
