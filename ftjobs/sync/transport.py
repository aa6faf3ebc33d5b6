"""GET requests sent on the SDK's own httpx client, shaped by the SDK's first request.

Why: the openai SDK builds every request anew (its options copied and validated, headers merged,
the URL re-derived, the response wrapped): more CPU a request than httpx itself spends sending
it, over the tens of thousands of requests of a first sync (bench/README.md, "Results: sync's
CPU"). Its first request shows exactly what it sends (the
key, as ``Authorization`` or Azure's ``api-key``; organization and project; User-Agent and
platform headers); :class:`RequestTemplate` keeps that, and later GETs reuse it on the same
connection pool, with the SDK's retry rules (:func:`should_retry`, :func:`retry_delay`) and its
exception types, so that the caller maps failures in one place whichever way a request went.

Only paths whose segments are plain ids (letters, digits, ``_ - . :``, no ``.``/``..``) go
this way; anything else (an empty id, a ``..``) is left to the SDK, which refuses or encodes it
as it always has.
"""

from __future__ import annotations

import math
import random
import re
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ftjobs.sync.ratelimit import retry_after_seconds

# The SDK's backoff (openai._constants): 0.5 s doubling to at most 8 s, less up to 25% jitter.
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# Headers the SDK sets per attempt or that httpx sets per request: not part of the template.
_PER_REQUEST = frozenset({"x-stainless-retry-count", "host", "content-length"})
# A path the SDK would send unchanged: "/"-separated plain segments, none of them "." or "..".
_PLAIN_PATH = re.compile(r"(?:/[A-Za-z0-9_:\-][A-Za-z0-9_.:\-]*)+")


def is_plain_path(path: str) -> bool:
    """Whether path can be sent as it stands (what the SDK would send for it, byte for byte)."""
    return _PLAIN_PATH.fullmatch(path) is not None


@dataclass(frozen=True)
class RequestTemplate:
    """What every GET of one client shares: the SDK's base URL (with its trailing slash), its
    default query (Azure's ``api-version``) and the headers its first request carried."""

    base_url: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]

    @classmethod
    def capture(cls, sdk_client: Any, request: Any) -> RequestTemplate:
        """From the SDK client (its public ``base_url`` and ``default_query``) and a request it
        built (seen by the httpx ``request`` event hook)."""
        base_url = str(sdk_client.base_url)
        if not base_url.endswith("/"):
            base_url += "/"
        query = tuple((str(k), str(v)) for k, v in dict(sdk_client.default_query).items())
        headers = tuple(
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in _PER_REQUEST
        )
        return cls(base_url, query, headers)

    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def params(self, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        return [*self.query, *((k, str(v)) for k, v in params.items())]

    def headers_for(self, retries_taken: int) -> list[tuple[str, str]]:
        return [*self.headers, ("x-stainless-retry-count", str(retries_taken))]


def should_retry(status: int, headers: Mapping[str, str], retry_after_limit: float) -> bool:
    """The SDK's rule: never past a Retry-After longer than it waits; else as ``x-should-retry``
    says; else 408, 409, 429 and 5xx."""
    wait = retry_after_seconds(headers)
    if wait is not None and wait > retry_after_limit:
        return False
    said = headers.get("x-should-retry")
    if said == "true":
        return True
    if said == "false":
        return False
    return status in (408, 409, 429) or status >= 500


def retry_delay(
    retries_taken: int, headers: Mapping[str, str] | None, retry_after_limit: float
) -> float:
    """The SDK's wait before the next attempt: the server's Retry-After when it is within what
    the SDK honours, else exponential backoff with jitter."""
    wait = retry_after_seconds(headers) if headers is not None else None
    if wait is not None and math.isfinite(wait) and 0 < wait <= retry_after_limit:
        return wait
    backoff = min(INITIAL_RETRY_DELAY * 2.0 ** min(retries_taken, 1000), MAX_RETRY_DELAY)
    return max(backoff * (1 - 0.25 * random.random()), 0.0)


def send_get(
    http_client: Any,
    template: RequestTemplate,
    path: str,
    params: Mapping[str, Any],
    *,
    max_retries: int,
    retry_after_limit: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """GET path, retried as the SDK retries; the response (2xx), or the SDK's exception:
    ``APIStatusError`` for another status, ``APITimeoutError``, ``APIConnectionError``."""
    import httpx2
    import openai

    url, query = template.url(path), template.params(params)
    for retries_taken in range(max_retries + 1):
        remaining = max_retries - retries_taken
        request = http_client.build_request(
            "GET", url, params=query, headers=template.headers_for(retries_taken)
        )
        try:
            response = http_client.send(request)
        except httpx2.TimeoutException as err:
            if remaining > 0:
                sleep(retry_delay(retries_taken, None, retry_after_limit))
                continue
            raise openai.APITimeoutError(request=request) from err
        except (httpx2.RequestError, ssl.SSLError) as err:
            if remaining > 0:
                sleep(retry_delay(retries_taken, None, retry_after_limit))
                continue
            raise openai.APIConnectionError(request=request) from err
        status = response.status_code
        if 200 <= status < 300:
            return response
        if remaining > 0 and should_retry(status, response.headers, retry_after_limit):
            response.close()
            sleep(retry_delay(retries_taken, response.headers, retry_after_limit))
            continue
        raise openai.APIStatusError(f"Error code: {status}", response=response, body=None)
    raise AssertionError("unreachable: the last attempt returns or raises")
