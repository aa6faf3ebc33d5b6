"""How many requests sync keeps in flight, and when it holds back: one throttle shared by every
thread of a sync.

At most ``limit`` requests are in flight, never more than the ``--concurrency`` asked for. A 429
halves the limit and pauses every thread for the wait the answer asks for (``Retry-After``,
``retry-after-ms``, else ``x-ratelimit-reset-requests``, else a second); an answer that says
the window is spent (``x-ratelimit-remaining-requests: 0``) pauses until its reset. Each run of
answers without a 429 as long as the limit raises it by one again, back up to the ceiling
(additive increase, multiplicative decrease, as TCP does), so a sync recovers on its own once
the API is willing again.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone

from ftjobs.errors import FtjobsError

# A pause no answer can make longer: Retry-Afters beyond it are FineTuningApi's to wait out
# (or refuse), in the one thread that got them.
MAX_PAUSE = 60.0
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class ThrottleClosed(FtjobsError):
    """The sync is stopping: no new request starts."""


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait a response asks for: ``retry-after-ms``, else ``retry-after`` in seconds or as an
    HTTP date (None when absent or unreadable)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = lowered.get(name)
        if raw is None:
            continue
        try:
            seconds = float(raw) / divisor
        except ValueError:
            continue
        return seconds if math.isfinite(seconds) else None
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    import email.utils  # slow to import, and rarely needed (a Retry-After as a date)

    try:
        parsed = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return (parsed - datetime.now(timezone.utc)).total_seconds()


def reset_seconds(text: str | None) -> float | None:
    """OpenAI's ``x-ratelimit-reset-requests`` ("1s", "6m0s", "20ms", "1.5s") in seconds."""
    if not text:
        return None
    parts = _DURATION.findall(text.strip())
    if not parts or "".join(f"{n}{u}" for n, u in parts) != text.strip():
        return None
    return sum(float(number) * _UNIT[unit] for number, unit in parts)


class Throttle:
    """A gate every request passes (``with throttle.slot(): ...``) and every answer reports to
    (``observe``). Thread-safe; ``close()`` wakes and refuses every waiting thread."""

    def __init__(self, ceiling: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if ceiling < 1:
            raise ValueError("at least one request must be allowed in flight")
        self.ceiling = ceiling
        self.limit = ceiling
        self.in_flight = 0
        self.peak = 0  # the most requests ever in flight at once
        self.rate_limited = 0  # 429s seen
        self.pauses = 0  # times every thread was held back
        self._clock = clock
        self._paused_until = 0.0
        self._run = 0  # answers without a 429 since the limit last moved
        self._closed = False
        self._cond = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Wait for a place (and for any pause to end), hold it while the request runs."""
        with self._cond:
            while True:
                if self._closed:
                    raise ThrottleClosed("the sync is stopping")
                wait = self._paused_until - self._clock()
                if wait <= 0 and self.in_flight < self.limit:
                    break
                self._cond.wait(min(wait, 1.0) if wait > 0 else 1.0)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            yield
        finally:
            with self._cond:
                self.in_flight -= 1
                self._cond.notify_all()

    def sit_out_pause(self) -> None:
        """Before a request retries in the slot it holds: wait while every thread is held back
        (a 429 for one is a slow-down for all, its own retries included)."""
        with self._cond:
            while not self._closed and (left := self._paused_until - self._clock()) > 0:
                self._cond.wait(min(left, 1.0))

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """An answer came (the SDK's retries included): adjust the limit and any pause."""

        with self._cond:
            if status == 429:
                self.rate_limited += 1
                self.limit = max(1, self.limit // 2)
                self._run = 0
                wait = retry_after_seconds(headers)
                if wait is None:
                    wait = reset_seconds(_header(headers, "x-ratelimit-reset-requests"))
                self._pause(1.0 if wait is None else wait)
            elif status < 400:
                if (_header(headers, "x-ratelimit-remaining-requests") or "").strip() == "0":
                    wait = reset_seconds(_header(headers, "x-ratelimit-reset-requests"))
                    if wait is not None:
                        self._pause(wait)
                self._run += 1
                if self.limit < self.ceiling and self._run >= self.limit:
                    self.limit += 1
                    self._run = 0
                    self._cond.notify_all()  # (room for one more: only then may a waiter go)

    def _pause(self, seconds: float) -> None:
        until = self._clock() + min(max(seconds, 0.0), MAX_PAUSE)
        if until > self._paused_until:
            self._paused_until = until
            self.pauses += 1

    @property
    def closed(self) -> bool:
        return self._closed

    def check_open(self) -> None:
        """Raise ThrottleClosed once the sync is stopping: a long wait on a worker thread
        checks it as it counts down, so Ctrl-C is not held up by it."""
        if self._closed:
            raise ThrottleClosed("the sync is stopping")

    def resume(self) -> None:
        """The wait asked for has been waited out (by the thread that got it, counting it down
        for the person watching): every thread may go on."""
        with self._cond:
            self._paused_until = 0.0
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by its lower-case name: httpx's headers look it up in any case themselves (every
    response passes here, so they are not copied); a plain mapping is searched."""
    value = headers.get(name)
    if value is None and isinstance(headers, dict):
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value
