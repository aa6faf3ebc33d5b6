"""What the API answers, as ftjobs keeps it: each object's JSON text exactly as the server
wrote it (compacted), beside its parsed value; a list page judged item by item."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ftjobs.jsonio.stream import compact_json, split_list_body


@dataclass(frozen=True)
class RawObject:
    """One API object: ``text`` is its JSON exactly as the server wrote it (key order, number
    spellings and string contents kept) with the white space between tokens removed; ``value``
    is ``json.loads(text)``."""

    id: str | None
    value: dict[str, Any]
    text: str


@dataclass(frozen=True)
class Page:
    """One page of a list endpoint. ``extra`` holds the envelope's other keys (``object``,
    ``first_id``, ``last_id``, ...); ``refused`` says which items could not be taken at all (not
    an object, no string id): judged item by item, they never cost the rest of the page."""

    items: list[RawObject]
    has_more: bool
    extra: dict[str, Any] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)


def _raw_object(text: str, value: Any, what: str) -> RawObject:
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    object_id = value.get("id")
    if not isinstance(object_id, str) or not object_id:
        raise ValueError(f"{what} has no string 'id'")
    return RawObject(id=object_id, value=value, text=compact_json(text))


def parse_list_body(body: bytes) -> Page:
    """A list response body as a :class:`Page` (raises ``ValueError`` if the page itself is
    malformed). An item that is not an object or has no string id cannot be archived: it is
    named in ``refused`` and the others are kept."""
    text = body.decode("utf-8")
    envelope, elements = split_list_body(text)
    has_more = envelope.pop("has_more", None)
    if not isinstance(has_more, bool):
        raise ValueError("'has_more' is missing or not true/false")
    values = envelope.pop("data")
    items: list[RawObject] = []
    refused: list[str] = []
    for n, (raw, value) in enumerate(zip(elements, values, strict=True)):
        try:
            items.append(_raw_object(raw, value, f"item {n + 1} of the page"))
        except ValueError as error:
            refused.append(f"{error}: {raw[:80]}")
    return Page(items=items, has_more=has_more, extra=envelope, refused=refused)


def parse_object_body(body: bytes) -> RawObject:
    """A single-object response body as a :class:`RawObject` (raises ``ValueError``)."""
    text = body.decode("utf-8").strip()
    value = json.loads(text)
    return _raw_object(text, value, "the object")
