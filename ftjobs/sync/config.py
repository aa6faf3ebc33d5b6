"""Where sync connects, and how it fails: the API's settings read from the environment as
OpenAI's own tools read them (OpenAI, or Azure OpenAI), the errors a request ends in, and the
redaction that keeps a key out of every message."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

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
