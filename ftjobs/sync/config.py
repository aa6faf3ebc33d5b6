"""Where sync connects, and how it fails: the API's settings read from the environment as
OpenAI's own tools read them (OpenAI, or Azure OpenAI), the errors a request ends in, and the
redaction that keeps a key out of every message."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ftjobs.errors import BadInput, FtjobsError

OPENAI_BASE_URL = "https://api.openai.com/v1"


# ---- errors -----------------------------------------------------------------------------------
class ApiError(FtjobsError):
    """The API did not give what was asked for. ``status`` is the HTTP status (None if there was
    no answer); ``path`` the endpoint, relative to the base URL (e.g. ``/fine_tuning/jobs``);
    ``code`` the server's ``error.code``, if any."""

    def __init__(
        self, message: str, *, path: str, status: int | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.status = status
        self.code = code


class AuthenticationFailed(ApiError):
    """HTTP 401: the key is wrong, revoked or missing."""


class PermissionDenied(ApiError):
    """HTTP 403, e.g. ``training_not_available`` once an organization lost fine-tuning."""


class NotFoundError(ApiError):
    """HTTP 404: the caller decides whether that is a gap (a deleted file) or an error."""


class RateLimited(ApiError):
    """HTTP 429 after the retries, or a ``Retry-After`` longer than ``max_wait``."""


class ServerError(ApiError):
    """HTTP 5xx after the retries."""


class Unreachable(ApiError):
    """No answer: connection refused, DNS failure or timeouts, after the retries."""


class MalformedResponse(ApiError):
    """A 200 answer that is not what the endpoint documents (not JSON, no ``data`` list, an item
    without a string ``id``)."""


@dataclass(frozen=True)
class ApiConfig:
    """Where and how to connect. ``repr`` never shows the key; ``key_hint`` shows its last four
    characters at most."""

    api_key: str = field(repr=False)
    base_url: str | None = None
    organization: str | None = None
    project: str | None = None
    azure_endpoint: str | None = None
    api_version: str | None = None

    @property
    def azure(self) -> bool:
        return self.azure_endpoint is not None

    @property
    def key_variable(self) -> str:
        return "AZURE_OPENAI_API_KEY" if self.azure else "OPENAI_API_KEY"

    @property
    def key_hint(self) -> str:
        """``key ending ...WXYZ`` (nothing of a key shorter than 12 characters)."""
        if len(self.api_key) < 12:
            return f"key of {len(self.api_key)} characters"
        return f"key ending ...{self.api_key[-4:]}"

    @property
    def target(self) -> str:
        """Where requests go, for messages."""
        return self.azure_endpoint or self.base_url or OPENAI_BASE_URL

    @property
    def source(self) -> str:
        """What identifies the jobs this configuration can see, so that sync walks each
        source's list apart (see schema.sql, sync_sources). An Azure resource is its endpoint;
        an OpenAI key sees its organization's project: the endpoint, org and project as set,
        and, when no project is named, a fingerprint of the key (a project key sees its own
        project only; the key itself is never kept)."""
        if self.azure_endpoint is not None:
            return f"azure {self.azure_endpoint.rstrip('/')}"
        parts = [f"openai {self.target.rstrip('/')}"]
        if self.organization:
            parts.append(f"org={self.organization}")
        if self.project:
            parts.append(f"project={self.project}")
        else:
            digest = hashlib.sha256(self.api_key.encode("utf-8")).hexdigest()[:16]
            parts.append(f"key=sha256:{digest}")
        return " ".join(parts)

    @property
    def source_label(self) -> str:
        """The source for people: where, which organization and project, which key."""
        parts = [("Azure " if self.azure else "") + self.target.rstrip("/")]
        if self.organization:
            parts.append(f"organization {self.organization}")
        if self.project:
            parts.append(f"project {self.project}")
        parts.append(self.key_hint)
        return ", ".join(parts)


_SCHEME = re.compile(r"https?://", re.IGNORECASE)


def config_from_env(environ: Mapping[str, str]) -> ApiConfig:
    """Configuration as OpenAI's tools read it: ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``,
    ``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID``. With ``AZURE_OPENAI_ENDPOINT`` set and no
    ``OPENAI_API_KEY``: Azure OpenAI, with ``AZURE_OPENAI_API_KEY`` and ``OPENAI_API_VERSION``.
    Empty values count as unset."""

    def get(name: str) -> str | None:
        value = environ.get(name, "").strip()
        return value or None

    key = get("OPENAI_API_KEY")
    endpoint = get("AZURE_OPENAI_ENDPOINT")
    for name, url in (
        ("OPENAI_BASE_URL", get("OPENAI_BASE_URL")),
        ("AZURE_OPENAI_ENDPOINT", endpoint),
    ):
        if url is not None and not _SCHEME.match(url):
            # httpx cannot send to it: say so now, not after three attempts.
            raise BadInput(
                f"{name} {url} has no http:// or https://: set it to https://{url}"
                f" (or http:// for a server on this machine)"
            )
    if key is None and endpoint is not None:
        azure_key = get("AZURE_OPENAI_API_KEY")
        if azure_key is None:
            raise FtjobsError(
                "AZURE_OPENAI_ENDPOINT is set but AZURE_OPENAI_API_KEY is not: "
                "set AZURE_OPENAI_API_KEY to the resource's key"
            )
        version = get("OPENAI_API_VERSION")
        if version is None:
            raise FtjobsError(
                "Azure OpenAI needs an API version: set OPENAI_API_VERSION (e.g. 2024-10-21)"
            )
        return ApiConfig(
            api_key=azure_key,
            azure_endpoint=endpoint,
            api_version=version,
            organization=get("OPENAI_ORG_ID"),
            project=get("OPENAI_PROJECT_ID"),
        )
    if key is None:
        raise FtjobsError(
            "no API key: set OPENAI_API_KEY (or, for Azure OpenAI, AZURE_OPENAI_ENDPOINT, "
            "AZURE_OPENAI_API_KEY and OPENAI_API_VERSION)"
        )
    return ApiConfig(
        api_key=key,
        base_url=get("OPENAI_BASE_URL"),
        organization=get("OPENAI_ORG_ID"),
        project=get("OPENAI_PROJECT_ID"),
    )


# ---- secrets ----------------------------------------------------------------------------------
# Things that look like (masked) keys: sk-..., runs of stars with letters around them.
_KEYLIKE = re.compile(r"\bsk-[A-Za-z0-9_\-*]+|[A-Za-z0-9_\-]*\*{3,}[A-Za-z0-9_\-*]*")


def redact(text: str, key: str) -> str:
    """``text`` with the key, and anything that looks like a key or a masked key, replaced by
    ``...`` and at most its last four characters."""
    if key:
        text = text.replace(key, "..." + key[-4:])

    def hide(match: re.Match[str]) -> str:
        tail = match.group()[-4:]
        return "..." + tail if tail.isalnum() else "[redacted]"

    return _KEYLIKE.sub(hide, text)


def _v1_hint(config: ApiConfig, path: str) -> str:
    """A 404 for the job list or a job, from an OPENAI_BASE_URL without /v1: the likely
    cause (OpenAI's API and most compatible ones are under /v1), said with the error."""
    base = config.base_url
    if config.azure or base is None or not path.startswith("/fine_tuning/jobs"):
        return ""
    if path.count("/") > 3 or urlsplit(base).path.rstrip("/").endswith("/v1"):
        return ""  # (a job's events or checkpoints: a gap, not a wrong address)
    return f"; OPENAI_BASE_URL {base} has no /v1: did you mean {base.rstrip('/')}/v1?"


def status_error(
    config: ApiConfig, path: str, status: int, body: str, *, attempts: int
) -> ApiError:
    """The error an HTTP status ends a request in, worded for the person who can fix it (the
    key, the project, the address), with the API's own code and message, the key redacted."""
    key = config.api_key
    code, message = _error_fields(body)
    code = redact(code, key) if code else None
    message = redact(message, key) if message else ""
    said = f": {message}" if message else ""
    tries = f"after {attempts} attempts"
    if status == 401:
        return AuthenticationFailed(
            f"the API rejected the {config.key_hint} (HTTP 401{said}): "
            f"set {config.key_variable} to a valid key",
            path=path,
            status=status,
            code=code,
        )
    if status == 403:
        return PermissionDenied(
            f"access denied to GET {path} (HTTP 403 {code or 'forbidden'}{said}): "
            "check the key's organization and project (OPENAI_ORG_ID, OPENAI_PROJECT_ID) "
            "and their access to fine-tuning",
            path=path,
            status=status,
            code=code,
        )
    if status == 404:
        return NotFoundError(
            f"not found: GET {path} (HTTP 404{said}){_v1_hint(config, path)}",
            path=path,
            status=status,
            code=code,
        )
    if status == 429:
        return RateLimited(
            f"rate limited on GET {path} {tries} (HTTP 429{said}): try again in a few minutes",
            path=path,
            status=status,
            code=code,
        )
    if status >= 500:
        return ServerError(
            f"the API failed on GET {path} {tries} (HTTP {status}{said}): try again later",
            path=path,
            status=status,
            code=code,
        )
    return ApiError(
        f"GET {path} was refused (HTTP {status}{' ' + code if code else ''}{said})",
        path=path,
        status=status,
        code=code,
    )


def _error_fields(body: str) -> tuple[str | None, str | None]:
    """``error.code`` and ``error.message`` of an error body, as strings (None if absent)."""
    try:
        value = json.loads(body)
    except ValueError:
        return None, body.strip()[:200] or None
    error = value.get("error", value) if isinstance(value, dict) else None
    if not isinstance(error, dict):
        return None, None
    code, message = error.get("code"), error.get("message")
    return (
        str(code) if code is not None else None,
        str(message) if message is not None else None,
    )
