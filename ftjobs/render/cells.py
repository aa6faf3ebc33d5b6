"""Values as the text of one cell or line: times, counts, fields of jobs and stored records, and
stored text made safe for a terminal."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ftjobs.api.times import iso_time

if TYPE_CHECKING:
    from ftjobs.store.rows import ListedJob

# Control characters (ESC above all) would let stored text drive the terminal; a table shows
# U+FFFD for them instead. Newlines stay (a cell may hold several lines).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str | None) -> str:
    """Stored text as a terminal may show it: control characters as U+FFFD, tabs as spaces."""
    return _CONTROL.sub("\ufffd", (text or "").replace("\t", " "))


def second_time(timestamp: int | None) -> str:
    """2024-07-23 20:00:05: events come seconds apart."""
    return iso_time(timestamp).replace("T", " ").rstrip("Z")


def short_time(timestamp: int | None) -> str:
    """2024-07-23 20:00: minutes are enough to tell jobs apart at a glance (a time no date can
    show stays the whole number)."""
    text = iso_time(timestamp)
    return text.replace("T", " ")[:16] if text.endswith("Z") else text


def plural(count: int, noun: str) -> str:
    """1 job, 2 jobs, 1,234 jobs."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def field_text(job: ListedJob, name: str) -> str:
    """One of LIST_FIELDS (or metadata.KEY) of a job as text: times in ISO-8601, lists
    comma-separated, objects as compact JSON as the API has them (the keys a job has, as
    `--json` shows it), nothing as the empty string."""
    head, _, rest = name.partition(".")
    value: Any = getattr(job, head)
    if rest:
        value = value.get(rest) if isinstance(value, dict) else None
    return value_text(value, time=not rest and head in _JOB_TIMES)


_JOB_TIMES = frozenset({"created_at", "finished_at", "estimated_finish"})


def value_text(value: Any, *, time: bool = False) -> str:
    """A value of a field as one cell: a time (time=True, Unix seconds) in ISO-8601, a list of
    strings comma-separated, an object as compact JSON, nothing as the empty string."""
    if time and (value is None or (isinstance(value, int) and not isinstance(value, bool))):
        return iso_time(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ",".join(value)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def record_field_text(record: Mapping[str, Any], name: str) -> str:
    """A field of a stored API object (an event, a checkpoint) as text, as field_text gives a
    job's: name is a key or KEY.SUBKEY (data.step, metrics.train_loss)."""
    head, _, rest = name.partition(".")
    value = record.get(head)
    if rest:
        value = value.get(rest) if isinstance(value, dict) else None
    return value_text(value, time=not rest and head == "created_at")


def record_rows(texts: Iterable[str], fields: Sequence[str]) -> list[list[str]]:
    """Stored objects' (events', checkpoints') cells of the --fields, as list's are shown."""
    rows = []
    for text in texts:
        record = json.loads(text)
        rows.append([record_field_text(record if isinstance(record, dict) else {}, name)
                     for name in fields])  # fmt: skip
    return rows
