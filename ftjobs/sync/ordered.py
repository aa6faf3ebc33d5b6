"""Work done in order on one thread while fetches run on others: how `ftjobs sync` keeps one
writer and moves the walk's place only past saved jobs.

A fetch is handed out to a worker thread; what it returns is saved on the sync's own thread, in
the order the fetches were handed out, whatever order they finish in. A move of the walk's
cursor or mark is queued like a save and done only once every save queued before it is made,
so a sync killed at any moment leaves a place whose jobs are all archived. With one worker
(``--concurrency 1``) everything runs at once on the calling thread, in the same order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class _Queued:
    """Work waiting for this thread: a save (of what future fetched, if any), or a move of the
    walk's cursor or mark, which may only follow the saves queued before it."""

    action: Callable[[], None]
    future: Future[object] | None = None
    moves_place: bool = False


class InOrder:
    """Fetches on up to ``concurrency`` worker threads, their results handled on this one in
    the order handed out; at most ``4 x concurrency`` fetched results wait at once."""

    def __init__(self, concurrency: int) -> None:
        self._pool = (
            ThreadPoolExecutor(concurrency, thread_name_prefix="ftjobs-sync")
            if concurrency > 1
            else None
        )
        self._queue: deque[_Queued] = deque()
        self._max_queued = 4 * max(concurrency, 1)
        self._unsaved = False  # a queued save failed or was interrupted

    def map(self, function: Callable[[Any], T], items: Iterable[Any]) -> Iterator[T]:
        """function over items on the workers (results in order), for work without saves."""
        if self._pool is None:
            return map(function, items)
        return self._pool.map(function, items)

    def hand_out(self, fetch: Callable[[], T], then: Callable[[T], None]) -> None:
        """fetch on a worker thread (here with --concurrency 1), then(result) on this one, in
        the order handed out."""
        if self._pool is None:
            then(fetch())
            return
        future: Future[T] = self._pool.submit(fetch)
        self._enqueue(_Queued(lambda: then(future.result()), future))  # type: ignore[arg-type]

    def after_saves(self, action: Callable[[], None], *, moves_place: bool = False) -> None:
        """Do action on this thread once everything handed out before it is saved."""
        self._enqueue(_Queued(action, moves_place=moves_place))

    def drain(self, keep: int = 0) -> None:
        """Do what waits, oldest first, until at most keep items wait."""
        while len(self._queue) > keep:
            item = self._queue.popleft()
            try:
                item.action()
            except BaseException:
                # This save (or move) was not made: no later move of the place may be.
                self._unsaved = True
                raise

    def salvage(self, *, wait: bool) -> None:
        """After a failure: save what the workers fetched (with wait, what they are still
        fetching too), moving the walk's cursor and mark as far as the saved jobs reach, and
        no further."""
        queued, self._queue = self._queue, deque()
        whole = not self._unsaved  # every save so far was made: a place move is still true
        for item in queued:
            if item.moves_place:
                if whole:
                    item.action()
                continue
            if item.future is not None and not wait and not item.future.done():
                item.future.cancel()
                whole = False
                continue
            try:
                item.action()
            except Exception:
                whole = False  # (the failure that stopped the sync is the one raised)

    def shutdown(self) -> None:
        """No new fetch starts; the ones in flight end with the client."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _enqueue(self, item: _Queued) -> None:
        if self._pool is None:
            item.action()
            return
        self._queue.append(item)
        self.drain(keep=self._max_queued)
