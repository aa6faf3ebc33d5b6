"""The fetch side of `ftjobs sync`: read fine-tuning jobs, events, checkpoints and result files
from the OpenAI (or Azure OpenAI) API, keeping each object's JSON text exactly as the server wrote
it.

The official ``openai`` SDK does the talking (auth headers, env configuration, retries with
backoff and ``Retry-After``, Azure's paths and ``api-key`` header): its client builds the first
request, and later GETs reuse what that request carried on the SDK's own httpx client, with the
SDK's retry rules (:mod:`ftjobs.sync.transport`: the same requests for a fraction of the
CPU; a path the SDK would refuse or encode still goes through it). It is imported lazily, inside
:class:`FineTuningApi`, because importing it costs about half a second:
``import ftjobs.sync.client`` stays cheap and the commands that never talk to the API never
pay for it.

Only the SDK's raw-response API is used (``client.fine_tuning.jobs.with_raw_response.list(...)``
and friends), never its models, ``to_dict()`` or paging helpers: those reorder keys and respell
floats (``1.805623287509661e-5`` becomes ``1.805623287509661e-05``). Each list item's text is cut
out of the response body by :func:`split_list_body` and compacted by :func:`compact_json`.

Limits (the SDK's own default lets a silent server hold one request for 600 s):

- connect timeout 5 s, read/write/pool timeout 15 s, 2 retries (3 attempts) by the SDK with its
  backoff (0.5 s, 1 s, with jitter): a server that cannot be reached fails in about 2 s (refused)
  to 17 s (connect timeouts), and one that accepts but never answers in about 47 s (3 x 15 s plus
  backoff), inside a minute. A page of OpenAI's list endpoints normally comes in well under a
  second, so 15 s of silence already means something is wrong.
- ``Retry-After`` (or ``retry-after-ms``) up to 120 s is waited out by the SDK itself. A longer
  one makes the SDK give up at once; :class:`FineTuningApi` then calls ``on_wait(seconds,
  reason)``, sleeps (in 1 s steps, so Ctrl-C stops it at once) and tries again, as long as the
  total of such waits stays within ``max_wait`` (900 s: 15 minutes, as long as it is reasonable
  to leave a terminal waiting); past it, :class:`RateLimited` says when to try again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import Any

from ftjobs.sync.config import (
    OPENAI_BASE_URL,
    ApiConfig,
    ApiError,
    MalformedResponse,
    RateLimited,
    Unreachable,
    redact,
    status_error,
)
from ftjobs.sync.pages import Page, RawObject, parse_list_body, parse_object_body
from ftjobs.sync.ratelimit import Throttle, retry_after_seconds
from ftjobs.sync.transport import RequestTemplate, is_plain_path, send_get

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 15.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_WAIT = 900.0
# What the SDK waits out by itself, if openai._constants.MAX_RETRY_AFTER_DELAY is gone.
SDK_MAX_RETRY_AFTER = 120.0
# Statuses the SDK retries; with a long Retry-After it raises them at once instead.
_RETRYABLE = frozenset({408, 409, 429})


# ---- waiting ----------------------------------------------------------------------------------
def interruptible_sleep(seconds: float) -> None:
    """Sleep in steps of at most 1 s, so that Ctrl-C ends the wait at once everywhere."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 1.0))


# ---- the client -------------------------------------------------------------------------------
OnRequest = Callable[[str, str], None]
OnWait = Callable[[float, str], None]


class FineTuningApi:
    """The fine-tuning endpoints, read-only, over one SDK client. Use it as a context manager
    (the client's connections are closed on exit).

    ``requests`` counts the HTTP requests sent, the SDK's retries included; ``on_request(method,
    path)`` is called before each (for a progress display). ``on_wait(seconds, reason)`` is
    called before a wait for a ``Retry-After`` longer than the SDK honours; ``sleep`` does the
    waiting (tests pass a fake)."""

    def __init__(
        self,
        config: ApiConfig,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_wait: float = DEFAULT_MAX_WAIT,
        on_request: OnRequest | None = None,
        on_wait: OnWait | None = None,
        sleep: Callable[[float], None] = interruptible_sleep,
        concurrency: int = 1,
    ) -> None:
        self.config = config
        self.requests = 0
        self._lock = threading.Lock()  # requests and waited, from every thread
        self._waiting_until = 0.0  # (monotonic) when the waits under way end
        # At most `concurrency` requests in flight, fewer after a 429 (see ftjobs.sync.ratelimit).
        self.throttle = Throttle(concurrency)
        self.waited = 0.0
        self.max_wait = max_wait
        self.read_timeout = read_timeout
        self.connect_timeout = connect_timeout
        self.max_retries = max_retries
        self.on_request = on_request
        self.on_wait = on_wait
        self._sleep = sleep
        self._template: RequestTemplate | None = None  # from the SDK's first request
        self._client, self._http = _make_client(
            config,
            connect_timeout,
            read_timeout,
            max_retries,
            self._count_request,
            self._observe_response,
            pool_size=concurrency,
        )
        self._retry_after_limit = _sdk_retry_after_limit()

    def _count_request(self, request: Any) -> None:
        with self._lock:
            self.requests += 1
            if self._template is None:
                self._template = RequestTemplate.capture(self._client, request)
        if self.on_request is not None:
            self.on_request(str(request.method), str(request.url.path))

    def _observe_response(self, response: Any) -> None:
        self.throttle.observe(int(response.status_code), response.headers)

    # ---- lifecycle
    def close(self) -> None:
        self.throttle.close()
        self._client.close()

    def __enter__(self) -> FineTuningApi:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---- endpoints
    def list_jobs(self, after: str | None = None, limit: int = 20) -> Page:
        """One page of jobs, newest first (``after``: the last id of the previous page)."""
        jobs = self._client.fine_tuning.jobs.with_raw_response
        paging = _paging(after, limit)
        path = "/fine_tuning/jobs"
        return self._page(path, self._get(path, paging, lambda: jobs.list(**paging)))

    def retrieve_job(self, job_id: str) -> RawObject:
        """One job."""
        jobs = self._client.fine_tuning.jobs.with_raw_response
        path = f"/fine_tuning/jobs/{job_id}"
        return self._object(path, self._get(path, {}, lambda: jobs.retrieve(job_id)))

    def list_events(self, job_id: str, after: str | None = None, limit: int = 20) -> Page:
        """One page of a job's events, newest first."""
        jobs = self._client.fine_tuning.jobs.with_raw_response
        paging = _paging(after, limit)
        path = f"/fine_tuning/jobs/{job_id}/events"
        return self._page(path, self._get(path, paging, lambda: jobs.list_events(job_id, **paging)))

    def list_checkpoints(self, job_id: str, after: str | None = None, limit: int = 10) -> Page:
        """One page of a job's checkpoints, newest first (``extra`` has first_id/last_id)."""
        checkpoints = self._client.fine_tuning.jobs.checkpoints.with_raw_response
        paging = _paging(after, limit)
        path = f"/fine_tuning/jobs/{job_id}/checkpoints"
        return self._page(path, self._get(path, paging, lambda: checkpoints.list(job_id, **paging)))

    def file_content(self, file_id: str) -> bytes:
        """A file's content, the body bytes as received (result files are often base64)."""
        files = self._client.files.with_raw_response
        path = f"/files/{file_id}/content"
        return self._call(path, self._get(path, {}, lambda: files.content(file_id)))

    def retrieve_file(self, file_id: str) -> RawObject:
        """A file object (filename, bytes, purpose, created_at), not its content: the filename
        is what links a job back to the user's own data set."""
        files = self._client.files.with_raw_response
        path = f"/files/{file_id}"
        return self._object(path, self._get(path, {}, lambda: files.retrieve(file_id)))

    def retrieve_model(self, model_id: str) -> RawObject:
        """A model object; a 404 (NotFoundError) means the fine-tuned model was deleted."""
        models = self._client.models.with_raw_response
        path = f"/models/{model_id}"
        return self._object(path, self._get(path, {}, lambda: models.retrieve(model_id)))

    # ---- machinery
    def _get(
        self, path: str, params: Mapping[str, Any], via_sdk: Callable[[], Any]
    ) -> Callable[[], Any]:
        """How to send GET path: through the SDK for the first request (which shows what it
        sends) and for a path it would change or refuse; else directly on its httpx client,
        the same request for a fraction of the CPU (see ftjobs.sync.transport)."""
        template = self._template
        if template is None or not is_plain_path(path):
            return via_sdk
        return lambda: send_get(
            self._http,
            template,
            path,
            params,
            max_retries=self.max_retries,
            retry_after_limit=self._retry_after_limit,
            sleep=self._retry_sleep,
        )

    def _retry_sleep(self, seconds: float) -> None:
        """The SDK's wait before a retry, then any pause the throttle holds every thread in."""
        time.sleep(seconds)
        self.throttle.sit_out_pause()

    def _page(self, path: str, send: Callable[[], Any]) -> Page:
        body = self._call(path, send)
        try:
            return parse_list_body(body)
        except ValueError as err:
            raise self._malformed(path, err) from None

    def _object(self, path: str, send: Callable[[], Any]) -> RawObject:
        """One object, as retrieve_job reads it. The SDK refuses some ids before sending (empty,
        or a path segment such as '..') with a ValueError: an ApiError here, not a traceback."""

        def checked() -> Any:
            try:
                return send()
            except ValueError as err:
                raise ApiError(f"GET {path}: {err}", path=path) from None

        body = self._call(path, checked)
        try:
            return parse_object_body(body)
        except ValueError as err:
            raise self._malformed(path, err) from None

    def _malformed(self, path: str, err: ValueError) -> MalformedResponse:
        reason = "not UTF-8" if isinstance(err, UnicodeDecodeError) else str(err)
        return MalformedResponse(
            f"malformed response from GET {path} ({reason}): is {self.config.target} "
            "an OpenAI-compatible API?",
            path=path,
            status=200,
        )

    def _call(self, path: str, send: Callable[[], Any]) -> bytes:
        """Send (through the SDK and its retries), wait out long Retry-Afters, map errors."""
        import openai

        while True:
            try:
                with self.throttle.slot():
                    response = send()
                return bytes(response.content)
            except openai.APIStatusError as err:
                status = int(err.response.status_code)
                wait = retry_after_seconds(dict(err.response.headers))
                if (
                    (status in _RETRYABLE or status >= 500)
                    and wait is not None
                    and wait > self._retry_after_limit
                ):
                    self._wait(path, status, wait)
                    continue
                raise status_error(
                    self.config, path, status, err.response.text, attempts=self.max_retries + 1
                ) from None
            except openai.APITimeoutError:
                raise Unreachable(
                    f"no answer from {self.config.target} within {self.read_timeout:g} s "
                    f"({self.max_retries + 1} attempts) for GET {path}: try again later, or check "
                    f"{'AZURE_OPENAI_ENDPOINT' if self.config.azure else 'OPENAI_BASE_URL'}",
                    path=path,
                ) from None
            except openai.APIConnectionError as err:
                cause = err.__cause__
                detail = redact(str(cause), self.config.api_key) if cause else "connection error"
                raise Unreachable(
                    f"cannot reach {self.config.target} ({detail}; "
                    f"{self.max_retries + 1} attempts): check the network and "
                    f"{'AZURE_OPENAI_ENDPOINT' if self.config.azure else 'OPENAI_BASE_URL'}",
                    path=path,
                ) from None
            except openai.OpenAIError as err:  # raised before sending (e.g. an empty id)
                detail = redact(str(err).splitlines()[0] if str(err) else "", self.config.api_key)
                raise ApiError(f"GET {path}: {detail}", path=path) from None

    def _wait(self, path: str, status: int, seconds: float) -> None:
        with self._lock:
            # Threads that wait at the same time wait once: only the time past the end of the
            # waits already under way counts toward max_wait.
            until = time.monotonic() + seconds
            extra = max(0.0, until - max(self._waiting_until, time.monotonic()))
            total = self.waited + extra
            if total <= self.max_wait:
                self.waited = total
                self._waiting_until = max(self._waiting_until, until)
        if total > self.max_wait:
            when = datetime.now(timezone.utc) + timedelta(seconds=seconds)
            raise RateLimited(
                f"the API asks to wait {seconds:.0f} s before GET {path} (HTTP {status}), more "
                f"than the {self.max_wait:.0f} s ftjobs waits: try again after "
                f"{when:%Y-%m-%d %H:%M} UTC",
                path=path,
                status=status,
            )
        reason = "rate limited" if status == 429 else f"HTTP {status}"
        if self.on_wait is not None:
            self.on_wait(seconds, f"{reason}: the API asks to wait before GET {path}")
        self._sleep(seconds)
        self.throttle.resume()


def _sdk_retry_after_limit() -> float:
    """The longest Retry-After the SDK waits out itself (it raises at once beyond)."""
    from openai import _constants

    return float(getattr(_constants, "MAX_RETRY_AFTER_DELAY", SDK_MAX_RETRY_AFTER))


def _paging(after: str | None, limit: int) -> dict[str, Any]:
    return {"limit": limit} if after is None else {"after": after, "limit": limit}


def _make_client(
    config: ApiConfig,
    connect_timeout: float,
    read_timeout: float,
    max_retries: int,
    on_request: Callable[[Any], None],
    on_response: Callable[[Any], None],
    *,
    pool_size: int = 1,
) -> tuple[Any, Any]:
    """The SDK client, and the httpx client it sends on (ftjobs.sync.transport sends on it too)."""
    import httpx2
    import openai

    timeout = httpx2.Timeout(read_timeout, connect=connect_timeout)
    # A kept-alive connection for each request that may be in flight at once.
    limits = httpx2.Limits(
        max_connections=max(pool_size, 1), max_keepalive_connections=max(pool_size, 1)
    )
    http_client = openai.DefaultHttpxClient(
        timeout=timeout,
        limits=limits,
        event_hooks={"request": [on_request], "response": [on_response]},
    )
    # Every value explicit, so the SDK reads nothing more from the environment (but for
    # organization and project left None, where it would read the same OPENAI_ORG_ID and
    # OPENAI_PROJECT_ID that config_from_env reads).
    common: dict[str, Any] = {
        "api_key": config.api_key,
        "organization": config.organization,
        "project": config.project,
        "timeout": timeout,
        "max_retries": max_retries,
        "http_client": http_client,
    }
    if config.azure_endpoint is not None:
        client: Any = openai.AzureOpenAI(
            azure_endpoint=config.azure_endpoint, api_version=config.api_version, **common
        )
    else:
        client = openai.OpenAI(base_url=config.base_url or OPENAI_BASE_URL, **common)
    return client, http_client
