"""The last step of `ftjobs sync`: what the API says about the files and models the synced jobs
name, archived before self-serve fine-tuning ends (2027-01-06).

- A job's training and validation **file objects** (GET /files/{id}): the filename is the only
  link back to the user's own data set (the content of fine-tune files cannot be downloaded,
  and is not asked for). A file object does not change, so each is fetched once; a 404 (the
  file was deleted) is stored too and not asked again.
- Whether each **fine-tuned model** still exists (GET /models/{id}; a 404 means deleted), with
  when it was last seen. Models are deleted at any time, so one is asked again once its last
  check is older than ``model_check_age``.

Kept apart from ftjobs.sync.engine, which calls :func:`archive_files_and_models` at the end of
a run; this module imports neither it nor pydantic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Protocol, TypeVar

from ftjobs.sync.config import ApiError, NotFoundError, PermissionDenied

if TYPE_CHECKING:
    from ftjobs.store import Store
    from ftjobs.sync.client import FineTuningApi
    from ftjobs.sync.pages import RawObject

MapRequests = Callable[
    [
        Callable[[tuple[str, str]], "tuple[str | None, PermissionDenied | None]"],
        Iterable[tuple[str, str]],
    ],
    Iterator["tuple[str | None, PermissionDenied | None]"],
]
T = TypeVar("T")
MODEL_CHECK_AGE = 86_400  # seconds: a model is asked about at most once a day
JOBS_PER_QUERY = 500  # job ids per store query (an organization's first sync sees them all)


class Progress(Protocol):
    """What this step tells the sync's observer (ftjobs.sync.engine.SyncObserver has it)."""

    def fetching(self, what: str) -> None: ...


@dataclass(frozen=True)
class ResourceGap:
    """Something the API refused (HTTP 403): stored nowhere, so the next sync asks again. The
    fields are ftjobs.sync.engine.Gap's: ``Gap(gap.job_id, gap.what, gap.reason)`` makes one."""

    job_id: str
    what: str
    reason: str

    def __str__(self) -> str:
        return f"{self.job_id}: {self.what}: {self.reason}"


@dataclass
class ResourceReport:
    """What one call did: files and models found or found deleted (404), and the refusals."""

    files_found: int = 0
    files_deleted: int = 0
    models_found: int = 0
    models_deleted: int = 0
    gaps: list[ResourceGap] = field(default_factory=list)


def archive_files_and_models(
    store: Store,
    api: FineTuningApi,
    observer: Progress,
    job_ids: Sequence[str],
    *,
    now: int,
    model_check_age: int = MODEL_CHECK_AGE,
    full: bool = False,
    map_requests: MapRequests = map,
) -> ResourceReport:
    """Fetch and store the file objects and model states of these (stored) jobs.

    For each job of ``job_ids`` (ids not in the store are skipped):

    - its training and validation files with no stored file object are fetched (with ``full``,
      all of them, once each per call); a 404 is stored as deleted (``found`` 0), and a 404 for
      a file archived earlier keeps its filename;
    - its fine-tuned model is checked when it never was, or its last check is older than
      ``model_check_age`` seconds before ``now`` (with ``full``, always): found, it is seen
      ``now``; a 404 marks it deleted and keeps when it was last seen.

    Each answer is saved in its own transaction as it comes, so an interrupted call keeps what
    it fetched. A 403 is stored nowhere and returned in ``gaps`` (the caller lists it, and the
    next call asks again). Every other error (401, 429 or 5xx after the retries, timeouts, a
    malformed answer) propagates as an ApiError, as it does for the rest of sync. ``now`` is
    Unix seconds (the sync's clock); ``observer.fetching`` hears of each request.
    ``map_requests`` runs the requests (a thread pool's map runs them at once; they are saved
    here, in order, on the calling thread).
    """
    report = ResourceReport()
    asked_files: set[str] = set()
    asked_models: set[str] = set()
    checked_before = None if full else now - model_check_age
    unique = list(dict.fromkeys(job_ids))
    for start in range(0, len(unique), JOBS_PER_QUERY):
        batch = unique[start : start + JOBS_PER_QUERY]
        files = _first_of_each(
            store.job_files(batch, unarchived_only=not full), asked_files, lambda f: f.file_id
        )
        found, deleted = _ask_and_save(
            [(f.file_id, f.job_id, f"{f.role} file {f.file_id}") for f in files],
            api.retrieve_file,
            partial(store.save_file_object, now=now),
            observer,
            map_requests,
            report.gaps,
        )
        report.files_found += found
        report.files_deleted += deleted
        models = _first_of_each(
            store.models_due(batch, checked_before=checked_before),
            asked_models,
            lambda m: m.model_id,
        )
        found, deleted = _ask_and_save(
            [(m.model_id, m.job_id, f"fine-tuned model {m.model_id}") for m in models],
            api.retrieve_model,
            partial(store.save_model_state, now=now),
            observer,
            map_requests,
            report.gaps,
        )
        report.models_found += found
        report.models_deleted += deleted
    return report


def _ask_and_save(
    asked: list[tuple[str, str, str]],
    retrieve: Callable[[str], RawObject],
    save: Callable[[str, str | None], None],
    observer: Progress,
    map_requests: MapRequests,
    gaps: list[ResourceGap],
) -> tuple[int, int]:
    """Ask for each (object id, job id, what it is) through map_requests, save each answer here
    in order (text, or None for a 404), note a 403 as a gap; (found, deleted)."""
    found = deleted = 0
    answers = map_requests(
        partial(_ask, retrieve, observer),
        [(object_id, f"{what} of {job_id}") for object_id, job_id, what in asked],
    )
    for (object_id, job_id, what), (text, denied) in zip(asked, answers, strict=True):
        if denied is not None:
            gaps.append(_gap(job_id, what, denied))
            continue
        save(object_id, text)
        if text is None:
            deleted += 1
        else:
            found += 1
    return found, deleted


def _first_of_each(items: Iterable[T], asked: set[str], key: Callable[[T], str]) -> list[T]:
    """The items whose key was not asked for yet this call (noting them as asked)."""
    chosen = []
    for item in items:
        if key(item) not in asked:
            asked.add(key(item))
            chosen.append(item)
    return chosen


def _ask(
    retrieve: Callable[[str], RawObject], observer: Progress, asked: tuple[str, str]
) -> tuple[str | None, PermissionDenied | None]:
    """One object's text (None after a 404: deleted), or the 403 that refused it; run on the
    sync's worker threads. asked: the object's id, and what it is for the progress display."""
    object_id, what = asked
    observer.fetching(what)
    try:
        return retrieve(object_id).text, None
    except NotFoundError:
        return None, None
    except PermissionDenied as error:
        return None, error


def _gap(job_id: str, what: str, error: ApiError) -> ResourceGap:
    reason = f"HTTP {error.status}" + (f" {error.code}" if error.code else "")
    return ResourceGap(job_id, what, f"{reason} (asked again next sync)")
