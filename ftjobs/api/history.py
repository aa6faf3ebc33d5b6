"""A job's history as data: events, checkpoints and result files, and the per-step metrics read
from them. Pure functions and small records; the store writes them, the CLI shows them.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ftjobs.errors import BadInput

if TYPE_CHECKING:
    from ftjobs.api.models import JobCheckpoint, JobEvent

# "unreadable": neither CSV nor base64 of one, kept as the server sent it all the same.
Encoding = Literal["plain", "base64", "unreadable"]

# Where per-step metrics come from, in the order `metrics` prefers them.
EVENTS_SOURCE = "events"
CHECKPOINTS_SOURCE = "checkpoints"
FILE_SOURCE_PREFIX = "file:"


def file_source(file_id: str) -> str:
    return f"{FILE_SOURCE_PREFIX}{file_id}"


@dataclass(frozen=True)
class EventRecord:
    """An event to archive: the validated object and its text as it came in (compacted), and
    where it came from (a file and its line or place in it), so that messages can point at it."""

    event: JobEvent
    text: str
    source: str = ""
    location: str = ""

    @property
    def where(self) -> str:
        return located(self.source, self.location)


@dataclass(frozen=True)
class CheckpointRecord:
    """A checkpoint to archive: the validated object and its text as it came in (compacted),
    and where it came from, as for EventRecord."""

    checkpoint: JobCheckpoint
    text: str
    source: str = ""
    location: str = ""

    @property
    def where(self) -> str:
        return located(self.source, self.location)


@dataclass(frozen=True)
class Repeated:
    """An event or checkpoint not stored because a record with its id came earlier in the same
    command (the first is kept); same says whether the two texts are the same."""

    kind: Literal["event", "checkpoint"]
    record_id: str
    job_id: str
    source: str
    location: str
    same: bool


def located(source: str, location: str) -> str:
    """file:line (or file:[3], a document's fourth record), as import's messages name a record;
    empty for records that came from no file (sync)."""
    return f"{source}:{location}" if location else source


@dataclass(frozen=True)
class ResultFile:
    """A result file's content: the bytes as received, how they were encoded, the CSV (None
    when they are neither a CSV nor base64 of one)."""

    file_id: str
    encoding: Encoding
    raw: bytes
    csv: str | None


@dataclass
class FetchedHistory:
    """What sync fetched of a job's history: events newest first, as the API lists them.
    events_whole: the events are the API's whole list, those already stored included, so their
    order settles the order of every stored one (after a gap, older events come after newer
    ones already stored)."""

    events: list[EventRecord] = field(default_factory=list)
    events_whole: bool = False
    checkpoints: list[CheckpointRecord] = field(default_factory=list)
    files: list[ResultFile] = field(default_factory=list)


@dataclass(frozen=True)
class Metrics:
    """One source's per-step metrics as stored: the columns, then a row of values per step."""

    source: str
    columns: list[str]
    rows: list[list[Any]]


def finite(value: Any) -> float | None:
    """A metric's value as a number to compare or draw: None for what is not one (text,
    true/false, a blank) and for NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass
class MetricTable:
    """Per-step metrics: column names in the order first seen ("step" first), and one row per
    step, {column position: value}; a blank cell is None."""

    columns: list[str] = field(default_factory=list)
    rows: dict[int | float, dict[int, Any]] = field(default_factory=dict)
    # Each name's first position, for the columns[:_indexed] it was built from: a sync adds
    # about 200,000 values per 1,000 jobs, and columns.index() was a tenth of its saving.
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    _indexed: int = field(default=0, repr=False, compare=False)

    def position(self, name: str) -> int:
        columns = self.columns
        if self._indexed != len(columns):  # (columns is also assigned whole, from outside)
            self._index = {}
            for position, column in enumerate(columns):
                self._index.setdefault(column, position)
            self._indexed = len(columns)
        found = self._index.get(name)
        if found is None:
            found = self._index[name] = len(columns)
            columns.append(name)
            self._indexed += 1
        return found

    def add(self, step: int | float, values: dict[str, Any]) -> None:
        row = self.rows.setdefault(step, {self.position("step"): step})
        for name, value in values.items():
            row[self.position(name)] = value


# -- result files -----------------------------------------------------------------------------


def decode_result_file(file_id: str, raw: bytes) -> ResultFile:
    """Plain CSV, or the base64 of one that the API has returned since mid-2024 (the content
    endpoint's body, or a file saved from it). Plain text starts with its header (``step,...``
    for every method seen so far); base64 of a CSV starting ``step,`` begins ``c3RlcC``.
    Anything else is refused: it is not a result file (a person's file, given to attach)."""
    content = result_file_as_sent(file_id, raw)
    if content.csv is None:
        raise BadInput(f"{file_id}: {UNREADABLE_RESULT_FILE}")
    return content


UNREADABLE_RESULT_FILE = (
    "the content is neither a CSV result file (starting with its header, e.g."
    " 'step,train_loss,...') nor base64 of one"
)


def result_file_as_sent(file_id: str, raw: bytes) -> ResultFile:
    """What the API sent as a result file's content, decoded where it can be (see
    decode_result_file); content that is neither kept as "unreadable", never refused: the
    archive keeps what the server sent."""
    text = _utf8(raw)
    if text is not None and _looks_like_csv(text):
        return ResultFile(file_id, "plain", raw, text)
    compact = b"".join(raw.split())
    try:
        decoded = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        decoded = None
    decoded_text = _utf8(decoded) if decoded else None
    if decoded_text is not None and _looks_like_csv(decoded_text):
        return ResultFile(file_id, "base64", raw, decoded_text)
    return ResultFile(file_id, "unreadable", raw, None)


def _utf8(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _looks_like_csv(text: str) -> bool:
    header = text.lstrip("\ufeff").partition("\n")[0].strip()
    return header.startswith("step") or ("," in header and header.isprintable())


def metrics_from_csv(text: str) -> MetricTable:
    """The CSV's rows by step, columns as its header names them (never assumed). Cells are
    numbers where they read as numbers, blanks None, anything else kept as text."""
    table = MetricTable()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if not header or "step" not in header:
        return table  # kept as a file; no steps to read from it
    table.columns = list(header)
    step_at = header.index("step")
    for cells in reader:
        if not cells:
            continue
        step = _number(cells[step_at]) if step_at < len(cells) else None
        if not isinstance(step, (int, float)):
            continue
        table.rows[step] = {
            position: _number(cells[position]) if position < len(cells) else None
            for position in range(len(header))
        }
    return table


def _number(cell: str) -> int | float | str | None:
    cell = cell.strip()
    if not cell:
        return None
    if cell.isascii() and not cell.isdigit():  # most cells: a float (int() would raise)
        first = cell[0]
        if "." in cell and (first.isdigit() or first in "+-.") and "_" not in cell:
            try:
                value = float(cell)
            except ValueError:
                return cell
            return value if math.isfinite(value) else cell
    try:
        return _storable(int(cell))
    except ValueError:
        pass
    try:
        value = float(cell)
    except ValueError:
        return cell
    return value if math.isfinite(value) else cell


# -- events and checkpoints -------------------------------------------------------------------


def metric_step(value: Any) -> int | float | None:
    """A step as a number: 240 and 240.0 (Azure) are the same step."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return _storable(value)


def _storable(value: int | float) -> int | float:
    """A number SQLite can hold: an integer beyond 64 bits becomes the nearest float (the
    item's text keeps it exactly; this is the derived per-step table)."""
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        return float(value)
    return value


def flat_metrics(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """The numeric leaves of a metrics object, nested names joined with "/" as reinforcement
    result files do (``usage/graders/...``); lists and text are left out."""
    for key, value in data.items():
        kind = type(value)  # (exact types first: a sync reads 200,000 of these per 1,000 jobs)
        if kind is float:
            yield prefix + key, value
        elif kind is int:
            yield prefix + key, value if -(2**63) <= value < 2**63 else float(value)
        elif isinstance(value, dict):
            yield from flat_metrics(value, f"{prefix}{key}/")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield f"{prefix}{key}", _storable(value)


def event_metrics(event: JobEvent) -> tuple[int | float, dict[str, Any]] | None:
    """(step, metrics) of a metrics event; None for any other event."""
    data = event.data
    if event.type != "metrics" or not isinstance(data, dict):
        return None
    step = metric_step(data.get("step"))
    if step is None:
        return None
    return step, {name: value for name, value in flat_metrics(data) if name != "step"}


def loose_fields(kind: Literal["event", "checkpoint"], value: dict[str, Any]) -> dict[str, Any]:
    """What of an item the store's columns can hold when the model refuses one of its fields:
    text where text belongs, whole numbers where they do (0 for a time that is none), the rest
    None. The item's text is archived as sent beside them (sync, and import of a full export:
    model_construct(**loose_fields(...)))."""

    def text(name: str) -> str | None:
        found = value.get(name)
        return found if isinstance(found, str) else None

    def integer(name: str) -> int | None:
        found = value.get(name)
        return found if type(found) is int and -(2**63) <= found < 2**63 else None

    fields: dict[str, Any] = {
        "object": value.get("object"),
        "id": value.get("id"),
        "created_at": integer("created_at") or 0,
    }
    if kind == "event":
        fields.update(level=text("level"), message=text("message"), type=text("type"))
        fields["data"] = value.get("data")
    else:
        metrics = value.get("metrics")
        fields.update(
            fine_tuning_job_id=text("fine_tuning_job_id"),
            fine_tuned_model_checkpoint=text("fine_tuned_model_checkpoint"),
            step_number=integer("step_number"),
            metrics=metrics if isinstance(metrics, dict) else None,
        )
    return fields


def checkpoint_metrics(checkpoint: JobCheckpoint) -> tuple[int | float, dict[str, Any]] | None:
    """(step, metrics) of a checkpoint, its step from metrics.step or step_number."""
    metrics = checkpoint.metrics or {}
    step = metric_step(metrics.get("step"))
    if step is None:
        step = metric_step(checkpoint.step_number)
    if step is None:
        return None
    return step, {name: value for name, value in flat_metrics(metrics) if name != "step"}
