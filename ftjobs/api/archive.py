"""The full export's format (`ftjobs export --full`): one JSON Lines stream holding a store's
jobs and everything kept beside them, written from the store's rows and read back by `import`.

Every line says what it is by its "object". The stream opens with a header, then the jobs
(each line exactly the job's stored text, as a plain export writes it), then each job's
history in the jobs' order, then the file objects and model states::

    {"object":"ftjobs.export","version":1,"schema":5}
    {"object":"fine_tuning.job","id":"ftjob-1",...}
    {"object":"ftjobs.event","job":"ftjob-1","data":{...the event as stored...}}
    {"object":"ftjobs.checkpoint","job":"ftjob-1","data":{...the checkpoint as stored...}}
    {"object":"ftjobs.result_file","job":"ftjob-1","file_id":"file-r","encoding":"base64",
     "content":"c3RlcCx0cmFpbl9sb3Nz..."}
    {"object":"ftjobs.file_object","file_id":"file-t","found":true,"fetched_at":1722000000,
     "data":{...GET /files/{id} as stored, or null...}}
    {"object":"ftjobs.model_state","model_id":"ft:...","found":false,"last_seen_at":1722000000,
     "checked_at":1723000000,"data":{...GET /models/{id} as stored, or null...}}

A history item is wrapped, not changed: "data" is the item's stored text byte for byte, and the
wrapper names the job it is kept under (an event does not name its job; a checkpoint's
fine_tuning_job_id is what the server said, not where it is kept). "data" comes last, so a
reader finds its text without re-encoding it (read_archive_line). Events run newest first,
as the API lists them, checkpoints in the order they were archived: what import writes in that
order reads the same per-step metrics from them as sync did. A result file's "content" is the
stored bytes as text (the CSV, or the base64 as the API sent it); bytes that are not UTF-8
come as "content_base64".
Nothing in the stream depends on when it was written: exporting the same store again gives
the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ftjobs.jsonio.stream import compact_json, reject_constant

if TYPE_CHECKING:
    from ftjobs.api.history import CheckpointRecord, EventRecord, ResultFile

VERSION = 1
HEADER = "ftjobs.export"
EVENT = "ftjobs.event"
CHECKPOINT = "ftjobs.checkpoint"
RESULT_FILE = "ftjobs.result_file"
FILE_OBJECT = "ftjobs.file_object"
MODEL_STATE = "ftjobs.model_state"
KINDS = (HEADER, EVENT, CHECKPOINT, RESULT_FILE, FILE_OBJECT, MODEL_STATE)
# What marks a line of this format (a line of another kind holding it is read whole to see).
MARKER = b'"ftjobs.'
_DATA_KEY = b',"data":'
# A job line is stored text; the rest are counted under these names (the export's summary).
COUNTED = {
    "job": "job",
    "event": "event",
    "checkpoint": "checkpoint",
    "result_file": "result file",
    "file_object": "file object",
    "model_state": "model state",
}


class LineProblem(ValueError):
    """A full-export line that cannot be imported; job_id: the job it names, if any."""

    def __init__(self, message: str, job_id: str | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id


# -- records read back --------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnedEvent:
    """An event and the job it is kept under (events run newest first in a full export)."""

    job_id: str
    record: EventRecord
    # what the model refused, when it did: the item is kept as sent all the same, as sync
    # archived it (ftjobs.api.history.loose_fields)
    warning: str | None = None


@dataclass(frozen=True)
class OwnedCheckpoint:
    """A checkpoint and the job it is kept under (warning: as OwnedEvent's)."""

    job_id: str
    record: CheckpointRecord
    warning: str | None = None


@dataclass(frozen=True)
class ResultFileRecord:
    """A result file's stored content, under the job that lists it."""

    job_id: str
    content: ResultFile
    where: str


@dataclass(frozen=True)
class FileObjectRecord:
    """A file_objects row: found, when it was fetched, the object's text (None: never had)."""

    file_id: str
    found: bool
    fetched_at: int
    text: str | None
    where: str


@dataclass(frozen=True)
class ModelStateRecord:
    """A model_states row, as FileObjectRecord."""

    model_id: str
    found: bool
    last_seen_at: int | None
    checked_at: int
    text: str | None
    where: str


ArchiveRecord = (
    OwnedEvent | OwnedCheckpoint | ResultFileRecord | FileObjectRecord | ModelStateRecord
)


# -- writing --------------------------------------------------------------------------------------


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _number(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def _flag(value: Any) -> str:
    return "true" if value else "false"


def header_line(schema: int) -> str:
    return f'{{"object":"{HEADER}","version":{VERSION},"schema":{schema}}}'


def export_lines(items: Iterable[tuple[Any, ...]], counts: Counter[str]) -> Iterator[str]:
    """The lines (without their newline) of the items Store.export_full gives, each counted
    in counts by its kind."""
    for item in items:
        kind = item[0]
        if kind == "header":
            yield header_line(item[1])
            continue
        counts[kind] += 1
        if kind == "job":
            yield item[1]
        elif kind in ("event", "checkpoint"):
            _, job_id, text = item
            yield f'{{"object":"ftjobs.{kind}","job":{_string(job_id)},"data":{text}}}'
        elif kind == "result_file":
            _, job_id, file_id, encoding, raw = item
            yield (
                f'{{"object":"{RESULT_FILE}","job":{_string(job_id)},"file_id":{_string(file_id)},'
                f'"encoding":{_string(encoding)},{_content(bytes(raw))}}}'
            )
        elif kind == "file_object":
            _, file_id, found, fetched_at, text = item
            yield (
                f'{{"object":"{FILE_OBJECT}","file_id":{_string(file_id)},"found":{_flag(found)},'
                f'"fetched_at":{_number(fetched_at)},"data":{text or "null"}}}'
            )
        else:
            _, model_id, found, last_seen_at, checked_at, text = item
            yield (  # a model state
                f'{{"object":"{MODEL_STATE}","model_id":{_string(model_id)},'
                f'"found":{_flag(found)},"last_seen_at":{_number(last_seen_at)},'
                f'"checked_at":{_number(checked_at)},"data":{text or "null"}}}'
            )


def _content(raw: bytes) -> str:
    try:
        return f'"content":{_string(raw.decode("utf-8"))}'
    except UnicodeDecodeError:
        return f'"content_base64":"{base64.b64encode(raw).decode("ascii")}"'


# -- reading --------------------------------------------------------------------------------------


def is_archive_kind(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("ftjobs.")


def is_archive_line(line: bytes) -> bool:
    """Whether a line holding MARKER is one of a full export's own kinds (not a job whose text
    merely holds the marker)."""
    if line.startswith(b'{"object":"ftjobs.'):
        return True
    try:
        value = _loads(line)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and is_archive_kind(value.get("object"))


def read_archive_line(line: bytes, source: str, location: str) -> ArchiveRecord | None:
    """The record of one full-export line (None: the header, checked here), or LineProblem.

    A line as export writes it has "data" last: its text is taken from the line as it stands
    (the archive keeps an item's text as it came in) and validated as it is parsed. A line laid
    out otherwise (edited by hand, by jq) is read whole, and its "data" re-encoded compactly.
    """
    where = f"{source}:{location}"
    line = line.strip()
    head: Any = None
    data_text: str | None = None
    cut = line.find(_DATA_KEY)
    if cut > 0 and line.endswith(b"}"):
        try:
            head = _loads(line[:cut] + b"}")
        except (ValueError, RecursionError):
            head = None
        try:
            if isinstance(head, dict) and "data" not in head:
                data_text = line[cut + len(_DATA_KEY) : -1].decode("utf-8")
            else:
                head = None
        except UnicodeDecodeError:
            raise LineProblem("not UTF-8 text") from None
    if head is None:
        head = _parsed(line)
    kind = head.get("object")
    if kind == HEADER:
        version = head.get("version")
        if type(version) is not int or version < 1:
            raise LineProblem(f"version: must be a whole number from 1, got {_show(version)}")
        if version > VERSION:
            raise LineProblem(
                f"a full export of version {version}: this ftjobs reads up to version {VERSION};"
                " upgrade ftjobs to import it"
            )
        return None
    if kind in (EVENT, CHECKPOINT):
        return _history_item(kind, head, data_text, line, source, location)
    if kind == RESULT_FILE:
        return _result_file(head, where)
    if kind == FILE_OBJECT:
        file_id = _text_field(head, "file_id")
        found, text = _resource_data(head, data_text, line, file_id)
        return FileObjectRecord(file_id, found, _time(head, "fetched_at"), text, where)
    if kind == MODEL_STATE:
        model_id = _text_field(head, "model_id")
        found, text = _resource_data(head, data_text, line, model_id)
        last_seen = head.get("last_seen_at")
        if last_seen is not None:
            last_seen = _time(head, "last_seen_at")
        return ModelStateRecord(model_id, found, last_seen, _time(head, "checked_at"), text, where)
    raise LineProblem(
        f"unknown kind of line {_show(kind)} (a full export's lines are jobs and"
        f" {', '.join(KINDS)}); written by a newer ftjobs?"
    )


def _history_item(
    kind: str, head: dict[str, Any], data_text: str | None, line: bytes, source: str, location: str
) -> OwnedEvent | OwnedCheckpoint:
    from pydantic import ValidationError

    from ftjobs.api.history import CheckpointRecord, EventRecord, loose_fields
    from ftjobs.api.models import KNOWN_FINITE, JobCheckpoint, JobEvent, describe_validation_error

    job_id = _text_field(head, "job")
    model = JobEvent if kind == EVENT else JobCheckpoint
    noun: Literal["event", "checkpoint"] = "event" if kind == EVENT else "checkpoint"
    item: JobEvent | JobCheckpoint | None = None
    warning: str | None = None
    if data_text is not None and "NaN" not in data_text and "Infinity" not in data_text:
        try:
            item = model.model_validate_json(data_text, context=KNOWN_FINITE)
        except ValidationError:
            item = None  # maybe not the data alone: read the line whole, for the real error
    if item is None:
        # Read as sync read the server's answer (json.loads: NaN and Infinity taken), so that
        # whatever a sync archived comes back; the model then says what it refuses.
        value = _parsed(line, lenient=True).get("data")
        if not isinstance(value, dict):
            raise LineProblem(f"data: expected the {noun} object, got {_show(value)}", job_id)
        non_finite = b"NaN" in line or b"Infinity" in line
        item_id = value.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise LineProblem(f"data.id: must be a non-empty string, got {_show(item_id)}", job_id)
        try:
            item = model.model_validate(value, context=None if non_finite else KNOWN_FINITE)
        except ValidationError as error:
            # Archived as sent by a sync that warned of it: kept so again (its columns as
            # close as they can hold it), with the same warning.
            item = model.model_construct(**loose_fields(noun, value))
            problem = describe_validation_error(error, limit=3)
            warning = f"{noun} {item_id}: {problem} (kept as sent)"
        if data_text is not None and not _same_value(data_text, value):
            data_text = None  # not the data's text alone (a line laid out by hand)
        if data_text is None:
            data_text = _reencoded(value)
    assert data_text is not None
    text = compact_json(data_text)
    if isinstance(item, JobEvent):
        return OwnedEvent(job_id, EventRecord(item, text, source, location), warning)
    return OwnedCheckpoint(job_id, CheckpointRecord(item, text, source, location), warning)


def _result_file(head: dict[str, Any], where: str) -> ResultFileRecord:
    from ftjobs.api.history import result_file_as_sent

    job_id = _text_field(head, "job")
    file_id = _text_field(head, "file_id", job_id)
    encoding = head.get("encoding")
    if encoding not in ("plain", "base64", "unreadable"):
        raise LineProblem(
            f"encoding: must be plain, base64 or unreadable, got {_show(encoding)}", job_id
        )
    content, encoded = head.get("content"), head.get("content_base64")
    if isinstance(content, str) and encoded is None:
        raw = content.encode("utf-8")
    elif isinstance(encoded, str) and content is None:
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise LineProblem("content_base64: not base64", job_id) from None
    else:
        raise LineProblem("expected one of content (text) or content_base64", job_id)
    read = result_file_as_sent(file_id, raw)
    if read.encoding != encoding:
        raise LineProblem(
            f"result file {file_id}: the content reads as {read.encoding}, not {encoding}"
            " as the line says",
            job_id,
        )
    return ResultFileRecord(job_id, read, where)


def _resource_data(
    head: dict[str, Any], data_text: str | None, line: bytes, object_id: str
) -> tuple[bool, str | None]:
    """found, and the object's text (as it stands in the line), which must name object_id."""
    found = head.get("found")
    if type(found) is not bool:
        raise LineProblem(f"found: must be true or false, got {_show(found)}")
    value: Any = None
    if data_text is not None:
        try:
            value = _loads(data_text)
        except (ValueError, RecursionError):
            data_text = None  # not the data alone: read the line whole
    if data_text is None:
        value = _parsed(line).get("data")
    if value is None:
        if found:
            raise LineProblem(f"{object_id}: found is true but data is null")
        return found, None
    if not isinstance(value, dict) or value.get("id") != object_id:
        raise LineProblem(f"data: expected an object with id {_show(object_id)}")
    return found, compact_json(data_text) if data_text is not None else _reencoded(value)


def _text_field(head: dict[str, Any], name: str, job_id: str | None = None) -> str:
    value = head.get(name)
    if not isinstance(value, str) or not value:
        raise LineProblem(f"{name}: must be a non-empty string, got {_show(value)}", job_id)
    return value


def _time(head: dict[str, Any], name: str) -> int:
    value = head.get(name)
    if type(value) is not int or not -(2**63) <= value < 2**63:
        raise LineProblem(f"{name}: must be a Unix time in seconds, got {_show(value)}")
    return value


def _loads(text: bytes | str) -> Any:
    return json.loads(text, parse_constant=reject_constant)


def _parsed(line: bytes, *, lenient: bool = False) -> dict[str, Any]:
    try:
        value = json.loads(line) if lenient else _loads(line)
    except RecursionError:
        raise LineProblem("invalid JSON: nested too deeply") from None
    except ValueError as error:
        first = " ".join(str(error).strip().splitlines()[:1])
        raise LineProblem(f"invalid JSON: {first}") from None
    if not isinstance(value, dict):
        raise LineProblem("expected a JSON object")
    return value


def _same_value(text: str, value: Any) -> bool:
    """Whether text is value's (compared as JSON text: NaN is not equal to itself)."""
    try:
        return _reencoded(json.loads(text)) == _reencoded(value)
    except (ValueError, RecursionError):
        return False


def _reencoded(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _show(value: Any, width: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 3] + "..."
