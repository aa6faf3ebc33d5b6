"""The records the store hands to the layers above it (and the counts its writes return):
plain dataclasses, importable without SQLite or pydantic, so that renderers and commands
never reach into the modules that hold the SQL."""

from __future__ import annotations

from dataclasses import dataclass

from ftjobs.api.history import Metrics

__all__ = [
    "HistoryCounts",
    "HistorySummary",
    "Metrics",
    "StoredCheckpoint",
    "StoredEvent",
]


@dataclass
class HistoryCounts:
    """What an import or a sync added to jobs' histories, found already there (known: stored
    before this command), and left out as repeated (an id that came earlier in this command)."""

    events_added: int = 0
    events_known: int = 0
    events_repeated: int = 0
    checkpoints_added: int = 0
    checkpoints_known: int = 0
    checkpoints_repeated: int = 0
    files_added: int = 0

    def __iadd__(self, other: HistoryCounts) -> HistoryCounts:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


@dataclass(frozen=True)
class StoredEvent:
    created_at: int
    level: str | None
    type: str | None
    message: str | None
    text: str
    key: int = 0  # the row's event_key: rows stored later have higher keys (events --follow)


@dataclass(frozen=True)
class StoredCheckpoint:
    created_at: int
    step_number: int | None
    fine_tuned_model_checkpoint: str | None
    text: str


@dataclass(frozen=True)
class HistorySummary:
    events: int
    last_event: StoredEvent | None
    checkpoints: int
    metric_sources: list[str]
