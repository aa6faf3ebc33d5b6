"""What the archive knows of a job's files and fine-tuned model, in words: notes under show's
training_file, validation_file and fine_tuned_model lines, and list --fine-tuned-model's line on
whether that model still exists. Nothing is said of what was never fetched."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ftjobs.api.times import iso_time

if TYPE_CHECKING:
    from ftjobs.api.models import FineTuningJob
    from ftjobs.store.resources import FileObject, JobResources, ModelState

# (text, Rich style) lines shown under a label of show's grid.
Note = tuple[str, str]

DELETED_STYLE = "yellow"

# A filename is the user's own text: control characters (ESC above all) would drive the
# terminal, so they show as U+FFFD.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def when(timestamp: int) -> str:
    """2026-12-05 10:00 UTC: minutes say enough of when something was checked."""
    return iso_time(timestamp).replace("T", " ")[:16] + " UTC"


def file_size(count: int) -> str:
    """512 bytes, 1.2 kB, 34.5 MB, 123 MB, 1.5 GB: decimal units, as OpenAI's pages show them."""
    if abs(count) < 1000:
        return f"{count:,} byte{'' if count == 1 else 's'}"
    size = float(count)
    for unit in ("kB", "MB", "GB", "TB"):
        size /= 1000
        if abs(size) < 999.95 or unit == "TB":
            return f"{size:.1f} {unit}" if abs(size) < 99.95 else f"{size:.0f} {unit}"
    raise AssertionError("unreachable")


def file_notes(file: FileObject) -> list[Note]:
    """The file's name on a line of its own (the most room, so it is seldom folded, and never
    cut), then its size, purpose and upload time; then, if the API said 404, that it was
    deleted (its name stays, when it was archived before)."""
    notes: list[Note] = []
    if file.filename:
        notes.append((_CONTROL.sub("\ufffd", file.filename), ""))
    details = [
        file_size(file.bytes) if file.bytes is not None else None,
        _CONTROL.sub("\ufffd", file.purpose) if file.purpose else None,
        f"uploaded {when(file.created_at)}" if file.created_at is not None else None,
    ]
    if any(details):
        notes.append((", ".join(part for part in details if part), "dim"))
    if not file.found:
        notes.append((f"deleted (checked {when(file.fetched_at)})", DELETED_STYLE))
    return notes


def model_note(state: ModelState) -> Note:
    """exists (checked ...), or deleted (last seen ...; or checked ..., if it never was)."""
    if state.found:
        return f"exists (checked {when(state.checked_at)})", ""
    if state.last_seen_at is not None:
        return f"deleted (last seen {when(state.last_seen_at)})", DELETED_STYLE
    return f"deleted (checked {when(state.checked_at)})", DELETED_STYLE


def job_notes(job: FineTuningJob, resources: JobResources) -> dict[str, list[Note]]:
    """Notes for show's grid, by the label of the line they go under."""
    notes: dict[str, list[Note]] = {}
    for label, file_id in (
        ("training_file", job.training_file),
        ("validation_file", job.validation_file),
    ):
        stored = resources.files.get(file_id) if file_id else None
        if stored is not None and (lines := file_notes(stored)):
            notes[label] = lines
    if job.fine_tuned_model and resources.model is not None:
        notes["fine_tuned_model"] = [model_note(resources.model)]
    return notes


def model_line(state: ModelState) -> str:
    """list --fine-tuned-model's line on stderr: show's note as a sentence. The model is the
    one the user named, so its (long) id is not repeated: the line fits 80 columns."""
    text, _ = model_note(state)
    return f"The fine-tuned model {'still ' if state.found else 'was '}{text}."
