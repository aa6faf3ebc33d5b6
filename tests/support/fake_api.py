"""A fake OpenAI fine-tuning API: a real HTTP server on 127.0.0.1, for tests of the fetch side.

Usage::

    with FakeFineTuningApi(page_cap=3) as fake:
        job_id = fake.add_job('{"object":"fine_tuning.job","id":"ftjob-1","created_at":1700000000}')
        fake.add_events(job_id, [event_text_newest, ..., event_text_oldest])
        fake.add_checkpoints(job_id, [checkpoint_text_newest, ...])
        fake.files["file-abc"] = b"step,train_loss\\n1,0.5\\n"
        config = config_from_env(fake.env())          # OPENAI_API_KEY + OPENAI_BASE_URL
        ...
        assert fake.count("/fine_tuning/jobs") == 4   # requests whose path ends so

State (set it from the test; safe to change between requests):
- ``add_job(text)``: a job as raw JSON text (key order and number spellings are the test's);
  jobs are listed newest first by ``created_at`` (ties: the later added first).
  ``remove_job(id)`` drops one (its id then becomes a cursor the server no longer knows).
- ``add_events(job_id, texts)`` / ``add_checkpoints(job_id, texts)``: raw texts, newest first,
  added below those there; ``add_newer_events(job_id, texts)`` puts them on top.
- ``files[file_id] = bytes``: what ``GET /files/{id}/content`` returns, byte for byte.
- ``files_meta[file_id] = text``: the file object ``GET /files/{id}`` returns (raw JSON text);
  ``models[model_id] = text``: the model object ``GET /models/{id}`` returns. An id not there
  gets 404 with an OpenAI-shaped body (a deleted file or model).

Endpoints (under ``/v1`` or, with ``azure=True``, under ``/openai`` with ``?api-version=``):
``GET /fine_tuning/jobs``, ``/fine_tuning/jobs/{id}``, ``/fine_tuning/jobs/{id}/events``,
``/fine_tuning/jobs/{id}/checkpoints`` (pages carry ``first_id``/``last_id``),
``/files/{id}/content``. Lists take ``after=<id>`` and ``limit`` (default 20, 10 for
checkpoints), capped at ``page_cap`` items a page. JSON bodies are pretty-printed with a 2-space
indent, as OpenAI's are, from the stored raw texts. An unknown ``after`` gets
``unknown_cursor_status`` (400 by default) with an OpenAI-shaped error body.
Single objects: ``GET /files/{id}`` (from ``files_meta``) and ``/models/{id}`` (from ``models``).

Projects: ``add_job(text, project="proj_b")`` puts a job in a project, and
``add_project_key(key, "proj_b")`` makes a key that sees that project's jobs only (its list, and
404 for the others by id), as OpenAI's project keys do; ``env(key=...)`` points a client at the
server with it. The default ``api_key`` sees every job (an organization-wide key).

Auth: ``Authorization: Bearer <api_key>`` (OpenAI) or ``api-key: <api_key>`` (Azure); a wrong
or missing key gets 401 with ``{"error": {"message", "type", "param", "code"}}``, the message
echoing the presented key masked as OpenAI does (first 8 characters, stars, last 4).

Faults (switch on per test):
- ``fail(status, times=1, path_contains="", headers=None, code=None, message=None)``: the next
  ``times`` matching requests (``None``: all) get that status and an error body;
  ``path_contains`` is matched against the path and its query (``after=ftjob-5``).
  Shorthands: ``rate_limit(times, retry_after="1")``, ``forbid()`` (403
  ``training_not_available``), ``not_found(path_contains)``.
- ``malformed(body, path_contains="", times=None)``: 200 with this body instead.
- ``repeat_cursor = True``: every list returns its first page whatever ``after`` says.
- ``hang = True``: accept the request and never answer (until the server stops).
- ``delay = 0.5``: answer every request this many seconds late.
- ``limit_in_flight = 2``: a request beyond that many at once gets 429 with ``retry-after-ms``
  (``retry_after_ms``, default 50) and ``x-ratelimit-remaining-requests: 0``, as a rate limit
  would; ``peak_serving`` is the most requests ever served at once, ``limited`` the 429s sent.

Log: ``requests`` is a list of ``LoggedRequest(method, path, query, headers)`` (header names in
lower case), one per request received, faults included; ``count(suffix)`` counts by path end.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

DEFAULT_KEY = "sk-fake-Q8m2Rv7TzL0pN4xKd9WXYZ"
DEFAULT_API_VERSION = "2025-04-01-preview"


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class _Fault:
    status: int
    times: int | None
    path_contains: str
    headers: dict[str, str]
    body: bytes


@dataclass
class _Job:
    id: str
    created_at: int
    text: str
    order: int
    project: str | None = None
    events: list[str] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)


def reindent(text: str, indent: int = 2) -> str:
    """Pretty-print JSON text without parsing it (key order and number spellings are kept)."""
    out: list[str] = []
    depth = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
            continue
        if c in " \t\r\n":
            i += 1
            continue
        if c in "{[":
            k = i + 1
            while k < n and text[k] in " \t\r\n":
                k += 1
            if k < n and text[k] in "}]":
                out.append(c + text[k])
                i = k + 1
                continue
            depth += 1
            out.append(c + "\n" + " " * (indent * depth))
        elif c in "}]":
            depth -= 1
            out.append("\n" + " " * (indent * depth) + c)
        elif c == ",":
            out.append(",\n" + " " * (indent * depth))
        elif c == ":":
            out.append(": ")
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _error_body(message: str, type_: str, code: str | None, param: str | None = None) -> bytes:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return (json.dumps(body, indent=2) + "\n").encode()


def _mask(key: str) -> str:
    return key[:8] + "*" * max(len(key) - 12, 3) + key[-4:] if len(key) > 12 else "*" * len(key)


class FakeFineTuningApi:
    """The fake server; a context manager (starts on enter, stops on exit)."""

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_KEY,
        page_cap: int = 100,
        azure: bool = False,
        api_version: str = DEFAULT_API_VERSION,
        unknown_cursor_status: int = 400,
    ) -> None:
        self.api_key = api_key
        self.page_cap = page_cap
        self.azure = azure
        self.api_version = api_version
        self.unknown_cursor_status = unknown_cursor_status
        self.files: dict[str, bytes] = {}
        # key -> the project it sees (None: every project)
        self.keys: dict[str, str | None] = {api_key: None}
        self.files_meta: dict[str, str] = {}
        self.models: dict[str, str] = {}
        self.requests: list[LoggedRequest] = []
        self.repeat_cursor = False
        self.hang = False
        self.delay = 0.0
        self.limit_in_flight: int | None = None
        self.retry_after_ms = 50
        self.serving = 0
        self.peak_serving = 0
        self.limited = 0
        self._jobs: dict[str, _Job] = {}
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self) -> FakeFineTuningApi:
        fake = self

        class Handler(_Handler):
            api = fake

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="fake-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeFineTuningApi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT (the Azure endpoint)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What OPENAI_BASE_URL would be: http://127.0.0.1:PORT/v1."""
        return self.url + "/v1"

    def env(self, key: str | None = None) -> dict[str, str]:
        """Environment variables that point a client at this server with the right key (or
        with key, one of add_project_key's)."""
        key = key or self.api_key
        if self.azure:
            return {
                "AZURE_OPENAI_ENDPOINT": self.url,
                "AZURE_OPENAI_API_KEY": key,
                "OPENAI_API_VERSION": self.api_version,
            }
        return {"OPENAI_API_KEY": key, "OPENAI_BASE_URL": self.base_url}

    # ---- state ----------------------------------------------------------------------------
    def add_project_key(self, key: str, project: str) -> None:
        """A key that sees only the jobs of project."""
        with self._lock:
            self.keys[key] = project

    def add_job(self, text: str, *, project: str | None = None) -> str:
        value = json.loads(text)
        job_id = value["id"]
        with self._lock:
            old = self._jobs.get(job_id)
            self._jobs[job_id] = _Job(
                id=job_id,
                created_at=int(value.get("created_at") or 0),
                text=text,
                order=len(self._jobs),
                project=project if project is not None else (old.project if old else None),
                events=old.events if old else [],
                checkpoints=old.checkpoints if old else [],
            )
        return str(job_id)

    def remove_job(self, job_id: str) -> None:
        with self._lock:
            del self._jobs[job_id]

    def add_events(self, job_id: str, texts: list[str]) -> None:
        with self._lock:
            self._jobs[job_id].events.extend(texts)

    def add_newer_events(self, job_id: str, texts: list[str]) -> None:
        """Events that happened since (newest first): they go on top of the list, as a
        running job's do."""
        with self._lock:
            self._jobs[job_id].events[:0] = texts

    def add_checkpoints(self, job_id: str, texts: list[str]) -> None:
        with self._lock:
            self._jobs[job_id].checkpoints.extend(texts)

    # ---- faults ---------------------------------------------------------------------------
    def fail(
        self,
        status: int,
        *,
        times: int | None = 1,
        path_contains: str = "",
        headers: dict[str, str] | None = None,
        code: str | None = None,
        message: str | None = None,
        type_: str = "invalid_request_error",
    ) -> None:
        body = _error_body(message or f"fake error {status}", type_, code)
        with self._lock:
            self._faults.append(_Fault(status, times, path_contains, dict(headers or {}), body))

    def rate_limit(
        self, times: int | None = 1, retry_after: str = "1", header: str = "retry-after"
    ) -> None:
        self.fail(
            429,
            times=times,
            headers={header: retry_after},
            code="rate_limit_exceeded",
            message="Rate limit reached for requests",
            type_="requests",
        )

    def forbid(
        self,
        code: str = "training_not_available",
        message: str = "Fine-tuning is no longer available for this organization.",
    ) -> None:
        self.fail(403, times=None, code=code, message=message)

    def not_found(self, path_contains: str) -> None:
        self.fail(404, times=None, path_contains=path_contains, message="Not found.")

    def malformed(self, body: bytes, *, path_contains: str = "", times: int | None = None) -> None:
        with self._lock:
            self._faults.append(_Fault(200, times, path_contains, {}, body))

    # ---- log ------------------------------------------------------------------------------
    def count(self, suffix: str = "") -> int:
        """Requests received whose path ends with ``suffix`` (all requests for "")."""
        return sum(1 for r in self.requests if r.path.endswith(suffix))

    # ---- serving (called from handler threads) ---------------------------------------------
    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path_contains in path and (fault.times is None or fault.times > 0):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def _respond(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        prefix = "/openai" if self.azure else "/v1"
        if self.azure:
            if query.get("api-version") != self.api_version:
                return 404, {}, _error_body("Resource not found", "invalid_request_error", "404")
            presented = headers.get("api-key", "")
            if presented not in self.keys:
                return (
                    401,
                    {},
                    _error_body(
                        "Access denied due to invalid subscription key or wrong API endpoint.",
                        "invalid_request_error",
                        "401",
                    ),
                )
        else:
            auth = headers.get("authorization", "")
            presented = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
            if presented not in self.keys:
                message = (
                    f"Incorrect API key provided: {_mask(presented)}. You can find your API key"
                    " at https://platform.openai.com/account/api-keys."
                    if presented
                    else "You didn't provide an API key."
                )
                return 401, {}, _error_body(message, "invalid_request_error", "invalid_api_key")
        target = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        fault = self._take_fault(target)
        if fault is not None:
            return fault.status, fault.headers, fault.body
        if method != "GET":
            return 405, {}, _error_body("Method not allowed", "invalid_request_error", None)
        if not path.startswith(prefix + "/"):
            return 404, {}, _error_body("Not found", "invalid_request_error", None)
        parts = [unquote(p) for p in path[len(prefix) + 1 :].split("/")]
        with self._lock:
            return self._route(parts, query, self.keys[presented])

    def _route(
        self, parts: list[str], query: dict[str, str], project: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """The answer to a GET, as a key that sees project (None: every project) gets it."""
        not_found = (404, {}, _error_body("Not found", "invalid_request_error", None))
        if len(parts) == 3 and parts[0] == "files" and parts[2] == "content":
            content = self.files.get(parts[1])
            if content is None:
                return (
                    404,
                    {},
                    _error_body(f"No such File object: {parts[1]}", "invalid_request_error", None),
                )
            return 200, {"content-type": "application/octet-stream"}, content
        if len(parts) == 2 and parts[0] in ("files", "models"):
            return self._object(parts[0], parts[1])
        if parts[:2] != ["fine_tuning", "jobs"]:
            return not_found
        visible = {
            job_id: job
            for job_id, job in self._jobs.items()
            if project is None or job.project == project
        }
        if len(parts) == 2:
            jobs = sorted(visible.values(), key=lambda j: (-j.created_at, -j.order))
            return self._page([j.text for j in jobs], [j.id for j in jobs], query, 20, False)
        job = visible.get(parts[2])
        if job is None:
            message = f"Could not find fine-tune: {parts[2]}"
            return 404, {}, _error_body(message, "invalid_request_error", "fine_tune_not_found")
        if len(parts) == 3:
            return 200, {"content-type": "application/json"}, reindent(job.text).encode() + b"\n"
        if len(parts) == 4 and parts[3] == "events":
            return self._page(job.events, _ids(job.events), query, 20, False)
        if len(parts) == 4 and parts[3] == "checkpoints":
            return self._page(job.checkpoints, _ids(job.checkpoints), query, 10, True)
        return not_found

    def _object(self, kind: str, object_id: str) -> tuple[int, dict[str, str], bytes]:
        """GET /files/{id} or /models/{id}: the stored text, or 404 as OpenAI words it."""
        text = (self.files_meta if kind == "files" else self.models).get(object_id)
        if text is not None:
            return 200, {"content-type": "application/json"}, reindent(text).encode() + b"\n"
        if kind == "files":
            message = f"No such File object: {object_id}"
            body = _error_body(message, "invalid_request_error", None, "id")
        else:
            message = f"The model '{object_id}' does not exist"
            body = _error_body(message, "invalid_request_error", "model_not_found", "model")
        return 404, {}, body

    def _page(
        self,
        texts: list[str],
        ids: list[str],
        query: dict[str, str],
        default_limit: int,
        ends: bool,
    ) -> tuple[int, dict[str, str], bytes]:
        limit = min(int(query.get("limit", default_limit)), self.page_cap)
        start = 0
        after = query.get("after")
        if after is not None and not self.repeat_cursor:
            if after not in ids:
                status = self.unknown_cursor_status
                message = f"Invalid 'after': no object with id {after!r}."
                return status, {}, _error_body(message, "invalid_request_error", None, "after")
            start = ids.index(after) + 1
        chosen = texts[start : start + limit]
        chosen_ids = ids[start : start + limit]
        has_more = start + limit < len(texts)
        parts = ['{"object":"list","data":[', ",".join(chosen), "]"]
        if ends:
            parts.append(f',"first_id":{json.dumps(chosen_ids[0] if chosen_ids else None)}')
            parts.append(f',"last_id":{json.dumps(chosen_ids[-1] if chosen_ids else None)}')
        parts.append(f',"has_more":{"true" if has_more else "false"}}}')
        body = reindent("".join(parts)) + "\n"
        return 200, {"content-type": "application/json"}, body.encode()


def _ids(texts: list[str]) -> list[str]:
    return [str(json.loads(t).get("id")) for t in texts]


class _Handler(BaseHTTPRequestHandler):
    api: FakeFineTuningApi
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self._serve()

    def _serve(self) -> None:
        api = self.api
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        api.requests.append(LoggedRequest(self.command, split.path, query, headers))
        with api._lock:
            api.serving += 1
            api.peak_serving = max(api.peak_serving, api.serving)
            over = api.limit_in_flight is not None and api.serving > api.limit_in_flight
            if over:
                api.limited += 1
        try:
            if api.hang:
                api._stopping.wait()
                self.close_connection = True
                return
            if api.delay:
                api._stopping.wait(api.delay)
            if over:
                status, extra, body = (
                    429,
                    {
                        "retry-after-ms": str(api.retry_after_ms),
                        "x-ratelimit-remaining-requests": "0",
                        "x-ratelimit-reset-requests": f"{api.retry_after_ms}ms",
                    },
                    _error_body(
                        "Rate limit reached for requests", "requests", "rate_limit_exceeded"
                    ),
                )
            else:
                status, extra, body = api._respond(self.command, split.path, query, headers)
        finally:
            with api._lock:
                api.serving -= 1
        self.send_response(status)
        extra = {k.lower(): v for k, v in extra.items()}
        self.send_header("content-type", extra.pop("content-type", "application/json"))
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass
