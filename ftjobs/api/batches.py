"""Reading batches of jobs from files or stdin, whatever shape the API's data came in.

Accepted, detected from the content: one job object; a JSON array of jobs; the API's list
envelope ``{"object": "list", "data": [...]}``; JSON Lines, where a line may itself be a list
envelope (a paginated dump saved page by page); any of these gzip-compressed. Nothing is held in
memory but the record at hand: JSON Lines go line by line, arrays and envelopes record by record
(ftjobs.jsonio.stream).

Every record is validated by the same model the rest of the tool uses, and kept with its text as
it stands in the input, compacted (a job's raw_json, an event's or checkpoint's): what the
archive gives back. Problems are collected on the side, each pointing at its source, line or
record index, and job id.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import ValidationError

from ftjobs.api import archive
from ftjobs.api.history import CheckpointRecord, EventRecord, Repeated
from ftjobs.api.models import (
    KNOWN_FINITE,
    FineTuningJob,
    JobCheckpoint,
    JobEvent,
    JobRecord,
    describe_validation_error,
    item_range_problems,
    range_problems,
)
from ftjobs.jsonio.stream import JsonRecords, compact_json, reject_constant

Record = JobRecord | EventRecord | CheckpointRecord | archive.ArchiveRecord
EVENT_OBJECT = "fine_tuning.job.event"
CHECKPOINT_OBJECT = "fine_tuning.job.checkpoint"
# Lines naming one of these are history records (or odd jobs): parsed, then sent by "object".
_EVENT_MARKER, _CHECKPOINT_MARKER = b'"fine_tuning.job.event"', b'"fine_tuning.job.checkpoint"'

InputFormat = Literal["json", "jsonl"]

MAX_REPORTED_PROBLEMS = 20
_PEEK_BYTES = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Problem:
    """One record that could not be imported, and where it is."""

    source: str
    location: str
    job_id: str | None
    message: str

    def __str__(self) -> str:
        job = f" {self.job_id}:" if self.job_id else ""
        location = f"{self.location}:" if self.location else ""
        return f"{self.source}:{location}{job} {self.message}"


@dataclass
class Problems:
    """The first few problems in full, and how many there were in all."""

    first: list[Problem] = field(default_factory=list)
    count: int = 0

    def add(self, problem: Problem) -> None:
        self.count += 1
        if len(self.first) < MAX_REPORTED_PROBLEMS:
            self.first.append(problem)

    def __bool__(self) -> bool:
        return self.count > 0


def _loads(text: bytes | str) -> Any:
    """json.loads without NaN/Infinity, which JSON does not have."""
    return json.loads(text, parse_constant=reject_constant)


def _first_line(message: str) -> str:
    return " ".join(message.strip().splitlines()[:1]) or "invalid JSON"


class JobReader:
    """Validated jobs from a list of inputs ("-" is stdin), problems collected in .problems.

    With stop_at_problem (all-or-nothing imports), no job is handed out after the first
    problem, but the rest is still read so that every problem is counted. events_job is the
    job the events belong to (import --job), named in warnings about them.
    """

    def __init__(
        self,
        paths: Iterable[str],
        *,
        input_format: InputFormat | None = None,
        stop_at_problem: bool = False,
        on_progress: Callable[[int], None] | None = None,
        events_job: str | None = None,
    ) -> None:
        self.paths = list(paths)
        self.input_format = input_format
        self.events_job = events_job
        self.stop_at_problem = stop_at_problem
        self.on_progress = on_progress
        self.problems = Problems()
        # Values of the right type outside the documented ranges: kept as sent, named here.
        self.warnings = Problems()
        # Inputs whose last list envelope said "has_more": true: pages are missing.
        self.unfinished_pages: list[str] = []

    # -- the stream of jobs ------------------------------------------------------------------

    def records(self) -> Iterator[Record]:
        """Jobs, events and checkpoints, in input order."""
        for path in self.paths:
            source = "<stdin>" if path == "-" else path
            for record in self._records_from(path, source):
                if not (self.stop_at_problem and self.problems):
                    yield record

    def _records_from(self, path: str, source: str) -> Iterator[Record]:
        try:
            raw = sys.stdin.buffer if path == "-" else Path(path).open("rb")  # noqa: SIM115
        except OSError as error:
            self._problem(source, "0", None, f"cannot read: {error.strerror}")
            return
        try:
            stream = _decompressed(raw)
            head = stream.peek(_PEEK_BYTES)[:_PEEK_BYTES]
            layout = self._layout(head)
            if layout is None:
                self._problem(source, "1", None, "empty input: no JSON found")
            elif layout == "jsonl":
                yield from self._from_lines(stream, source, raw)
            else:
                yield from self._from_document(stream, source)
        except (OSError, EOFError, gzip.BadGzipFile) as error:
            self._problem(source, "-", None, f"cannot read: {error}")
        finally:
            if raw is not sys.stdin.buffer:
                raw.close()

    def _layout(self, head: bytes) -> str | None:
        """How the input is laid out: "jsonl" or "document" (None: there is nothing)."""
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not text:
            return None
        if self.input_format == "jsonl":
            return "jsonl"
        if text[:1] == b"{" and self.input_format is None:
            first_line, newline, _ = text.partition(b"\n")
            if newline or len(head) < _PEEK_BYTES:
                try:
                    json.loads(first_line)  # lenient: a NaN is reported per line, later
                    return "jsonl"
                except (ValueError, RecursionError):
                    pass
        return "document"

    # -- JSON Lines ----------------------------------------------------------------------------

    def _from_lines(self, stream: IO[bytes], source: str, raw: IO[bytes]) -> Iterator[Record]:
        validate_json = FineTuningJob.model_validate_json
        for line_number, line in enumerate(stream, 1):
            if self.on_progress is not None and line_number % 4096 == 0:
                self._report_progress(raw)
            if line_number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark
            if not line.strip():
                continue
            if archive.MARKER in line and archive.is_archive_line(line):  # export --full's kinds
                yield from self._from_archive_line(line, source, str(line_number))
                continue
            # Two plain tests, not any() over a generator: this runs for every line (the
            # generator showed as 1.5% of a 20,000-job import in cProfile; timeit: 2/3 the time).
            if _EVENT_MARKER in line or _CHECKPOINT_MARKER in line:
                yield from self._from_history_line(line, source, str(line_number))
                continue
            # pydantic's JSON parser takes NaN and Infinity, which JSON has not; a line that
            # cannot hold them skips the model's check for them.
            finite = b"NaN" not in line and b"Infinity" not in line
            try:
                job = validate_json(line, context=KNOWN_FINITE if finite else None)
            except ValidationError as error:
                # Not a plain job: maybe a list envelope, or a job with something wrong.
                yield from self._from_odd_line(line, source, str(line_number), error)
                continue
            # (pydantic's parser refuses text that is not UTF-8: this decodes)
            yield self._job(job, source, str(line_number), line.decode("utf-8"))

    def _from_history_line(self, line: bytes, source: str, location: str) -> Iterator[Record]:
        """A line holding events or checkpoints: one object, or a list or envelope of them,
        read with their text as it stands in the line."""
        value = self._parse_line(line, source, location)
        if isinstance(value, dict) and not _is_envelope(value):
            yield from self._validated(value, source, location, line.decode("utf-8"))
        elif value is not None:
            yield from self._from_document(io.BytesIO(line), source, prefix=f"{location}:")

    def _from_archive_line(self, line: bytes, source: str, location: str) -> Iterator[Record]:
        try:
            record = archive.read_archive_line(line, source, location)
        except archive.LineProblem as problem:
            self._problem(source, location, problem.job_id, str(problem))
            return
        if isinstance(record, (archive.OwnedEvent, archive.OwnedCheckpoint)) and record.warning:
            self.warnings.add(Problem(source, location, record.job_id, record.warning))
        elif isinstance(record, archive.OwnedEvent):
            item = f"event {record.record.event.id}"
            self._warn(source, location, record.job_id, item, record.record.event)
        elif isinstance(record, archive.OwnedCheckpoint):
            item = f"checkpoint {record.record.checkpoint.id}"
            self._warn(source, location, record.job_id, item, record.record.checkpoint)
        if record is not None:
            yield record

    def _parse_line(self, line: bytes, source: str, location: str) -> Any:
        try:
            return _loads(line)
        except RecursionError:
            self._problem(source, location, None, "invalid JSON: nested too deeply")
        except ValueError as parse_error:
            self._problem(source, location, None, f"invalid JSON: {_first_line(str(parse_error))}")
        return None

    def _from_odd_line(
        self, line: bytes, source: str, location: str, error: ValidationError
    ) -> Iterator[Record]:
        value = self._parse_line(line, source, location)
        if value is None:
            return
        if (_is_envelope(value) and isinstance(value["data"], list)) or isinstance(value, list):
            # Read again, record by record, for each one's text as it stands in the line
            # (JsonRecords names them data[3], or [3] in an array).
            prefix = f"{location}:" if isinstance(value, dict) else location
            yield from self._from_document(io.BytesIO(line), source, prefix=prefix)
        elif _is_envelope(value):
            self._note_page(source, value.get("has_more") is True)
            yield from self._from_values(value["data"], source, f"{location}:data")
        else:
            self._problem(
                source, location, _job_id(value), describe_validation_error(error, limit=3)
            )

    # -- JSON documents (arrays, envelopes, objects) ------------------------------------------

    def _from_document(self, stream: IO[bytes], source: str, prefix: str = "") -> Iterator[Record]:
        records = JsonRecords(stream)
        try:
            for where, value in records:
                if _is_envelope(value):  # a small envelope that came whole
                    self._note_page(source, value.get("has_more") is True)
                    yield from self._from_values(value["data"], source, f"{prefix}{where}:data")
                else:
                    yield from self._validated(
                        value, source, f"{prefix}{where}", records.value_text
                    )
            if records.has_more is not None:
                self._note_page(source, records.has_more)
        except UnicodeDecodeError as error:
            self._problem(source, records.where, None, f"not UTF-8 text: {error.reason}")
        except json.JSONDecodeError as error:
            self._problem(source, records.where, None, f"invalid or truncated JSON: {error.msg}")
        except RecursionError:
            self._problem(source, records.where, None, "invalid JSON: nested too deeply")
        except ValueError as error:
            self._problem(source, records.where, None, f"invalid JSON: {_first_line(str(error))}")

    def _from_values(self, values: Any, source: str, label: str) -> Iterator[Record]:
        if not isinstance(values, list):
            self._problem(source, label or "1", None, "expected a list of job objects")
            return
        for index, value in enumerate(values):
            yield from self._validated(value, source, f"{label}[{index}]")

    def _validated(
        self, value: Any, source: str, location: str, text: str | None = None
    ) -> Iterator[Record]:
        """A job, event or checkpoint, by its "object"; text is the record as it came in,
        which it is archived as (when it is not known, which only an envelope that came whole
        leaves: events and checkpoints re-encoded, a job's JSON built from its columns)."""
        if not isinstance(value, dict):
            self._problem(source, location, None, f"expected a job object, got {_kind(value)}")
            return
        try:
            # Parsed by JsonRecords or _loads, which both refuse NaN and Infinity.
            kind = value.get("object")
            if archive.is_archive_kind(kind):
                self._problem(
                    source,
                    location,
                    None,
                    f"a {kind} record is read from a full export's JSON"
                    " Lines only (ftjobs export --full), one a line",
                )
                return
            if kind == EVENT_OBJECT:
                event = JobEvent.model_validate(value, context=KNOWN_FINITE)
                self._warn(source, location, self.events_job, f"event {event.id}", event)
                yield EventRecord(event, compact_json(text or _reencoded(value)), source, location)
            elif kind == CHECKPOINT_OBJECT:
                checkpoint = JobCheckpoint.model_validate(value, context=KNOWN_FINITE)
                job_id = checkpoint.fine_tuning_job_id
                self._warn(source, location, job_id, f"checkpoint {checkpoint.id}", checkpoint)
                yield CheckpointRecord(
                    checkpoint, compact_json(text or _reencoded(value)), source, location
                )
            else:
                job = FineTuningJob.model_validate(value, context=KNOWN_FINITE)
                yield self._job(job, source, location, text)
        except ValidationError as error:
            self._problem(
                source, location, _job_id(value), describe_validation_error(error, limit=3)
            )

    def _job(self, job: FineTuningJob, source: str, location: str, text: str | None) -> JobRecord:
        """A job as read, with its text compacted (the archive keeps it as sent); its values
        outside the documented ranges named as warnings."""
        for problem in range_problems(job):
            self.warnings.add(Problem(source, location, job.id, f"{problem} (kept as sent)"))
        return JobRecord(job, None if text is None else compact_json(text))

    def _warn(
        self,
        source: str,
        location: str,
        job_id: str | None,
        item: str,
        record: JobEvent | JobCheckpoint,
    ) -> None:
        """An event's or checkpoint's values outside the documented ranges, as warnings naming
        the job, the item and the field."""
        for problem in item_range_problems(record):
            message = f"{item}: {problem} (kept as sent)"
            self.warnings.add(Problem(source, location, job_id, message))

    # -- bookkeeping ---------------------------------------------------------------------------

    def note_repeat(self, repeat: Repeated) -> None:
        """Warn of an event or checkpoint the store left out because its id came earlier in
        this import: the store keeps the first, and the user should know which one went."""
        if repeat.same:
            outcome = "it is stored once"
        else:
            outcome = "with different content; the first is kept, this one is not stored"
        self.warnings.add(
            Problem(
                repeat.source,
                repeat.location,
                repeat.job_id,
                f"{repeat.kind} {repeat.record_id} came earlier in this import"
                f"{';' if repeat.same else ''} {outcome}",
            )
        )

    def _note_page(self, source: str, has_more: bool) -> None:
        """Keep track of whether a source's last page of a list said more pages follow."""
        if has_more and source not in self.unfinished_pages:
            self.unfinished_pages.append(source)
        elif not has_more and source in self.unfinished_pages:
            self.unfinished_pages.remove(source)

    def _problem(self, source: str, location: str, job_id: str | None, message: str) -> None:
        self.problems.add(Problem(source, location, job_id, message))

    def _report_progress(self, raw: IO[bytes]) -> None:
        assert self.on_progress is not None
        with contextlib.suppress(OSError):
            self.on_progress(raw.tell())


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the garbage collector's youngest generation 50 times less often meanwhile.

    An import holds a batch of a few thousand job models, each several objects, all tracked by
    the collector, and allocates fast: at the default threshold the collections that walk them
    took about as long as validating the jobs did. The jobs hold no reference cycles, so
    collecting less often frees the same memory, later.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0] * 50, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _decompressed(raw: IO[bytes]) -> io.BufferedReader[Any]:
    """A buffered stream with peek(), gunzipping when the data starts with gzip's magic bytes."""
    buffered: io.BufferedReader[Any] = (
        raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)
    )
    if buffered.peek(2)[:2] == _GZIP_MAGIC:
        return io.BufferedReader(gzip.GzipFile(fileobj=buffered), buffer_size=1 << 16)
    return buffered


def _reencoded(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _is_envelope(value: Any) -> bool:
    return isinstance(value, dict) and value.get("object") == "list" and "data" in value


def _job_id(value: Any) -> str | None:
    """The record's id, when it has a usable one, to point at it in a problem report."""
    job_id = value.get("id") if isinstance(value, dict) else None
    return job_id if isinstance(job_id, str) and job_id else None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else type(value).__name__


def input_size(paths: Iterable[str]) -> int | None:
    """Total bytes of the named files, for a progress bar; None when reading stdin."""
    total = 0
    for path in paths:
        if path == "-":
            return None
        try:
            total += Path(path).stat().st_size
        except OSError:
            return None
    return total
