"""`events --follow`: a job's events as they come, until the job is final.

The store is read again every interval: what another process's `ftjobs sync` saved, or, with
a refresh (events --follow --remote), what this process fetched from the API and saved just
before, as `sync --job` does. Events are told apart by their row keys (rows stored later have
higher ones), so an event is shown once however the polls and the writes interleave. Nothing
here prints: what is new goes to `show`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ftjobs.api.constants import FINAL_STATUSES

if TYPE_CHECKING:
    from ftjobs.store import Store
    from ftjobs.store.records import StoredEvent
    from ftjobs.sync.client import FineTuningApi
    from ftjobs.sync.report import SyncObserver


@dataclass
class EventFollower:
    """Follows one job's events in a store. refresh (if any) brings the job up to date in the
    store before each read; sleep waits between polls (tests pass their own)."""

    store: Store
    job_id: str
    levels: Sequence[str] = ()
    types: Sequence[str] = ()
    refresh: Callable[[], None] | None = None
    sleep: Callable[[float], None] = time.sleep
    last_key: int = field(default=0, init=False)

    def first(self, limit: int | None = None) -> tuple[list[StoredEvent], bool]:
        """The events stored now (with limit, the newest that many), and whether the job is
        already final (then there is nothing to follow)."""
        if self.refresh is not None:
            self.refresh()
        # The status before the events: a write that finishes the job between the two reads
        # shows its events now and the end at the next poll, never the end without them.
        final = self.store.get(self.job_id).status in FINAL_STATUSES
        self.last_key = self.store.last_event_key(self.job_id)
        found = self.store.events(
            self.job_id, levels=self.levels, types=self.types, limit=limit,
            through_key=self.last_key,
        )  # fmt: skip
        return found, final

    def follow(self, interval: float, show: Callable[[list[StoredEvent]], None]) -> None:
        """Every interval seconds, show the events stored since the last read, until the job's
        status is final (succeeded, failed, cancelled)."""
        final = False
        while not final:
            self.sleep(interval)
            if self.refresh is not None:
                self.refresh()
            final = self.store.get(self.job_id).status in FINAL_STATUSES
            found = self.store.events(
                self.job_id, levels=self.levels, types=self.types, after_key=self.last_key
            )
            if found:
                self.last_key = max(event.key for event in found)
                show(found)


def api_refresh(
    store: Store, api: FineTuningApi, job_id: str, observer: SyncObserver
) -> Callable[[], None]:
    """A refresh that fetches the job and what is new of its history from the API and saves
    it into the store, as `ftjobs sync --job JOB` does (the archive keeps what was followed).
    Each gap (a part the API refused) is told once, through observer.warning."""
    from ftjobs.sync.engine import Syncer, SyncOptions

    options = SyncOptions(job_ids=(job_id,), concurrency=1)
    told: set[str] = set()

    def refresh() -> None:
        report = Syncer(store, api, options, observer).run()
        for gap in map(str, report.gaps):
            if gap not in told:
                told.add(gap)
                observer.warning(gap)

    return refresh
