"""Times as the API gives them (Unix seconds, any 64-bit integer a provider sent) in words
people read: one spelling for every layer that shows or checks one."""

from __future__ import annotations

from datetime import datetime, timedelta

_EPOCH = datetime(1970, 1, 1)  # naive: UTC, as every stored time is


def iso_time(timestamp: int | None) -> str:
    """Unix seconds as ISO-8601 UTC (2024-07-23T20:00:00Z); empty for None. A provider's time
    that no date can show (before the year 1 or after 9999: any 64-bit integer is archived)
    is the number itself. Counted from the epoch rather than by fromtimestamp, which refuses
    negative times on some systems; isoformat keeps four digits of a year before 1000."""
    if timestamp is None:
        return ""
    try:
        return (_EPOCH + timedelta(seconds=timestamp)).isoformat() + "Z"
    except OverflowError:
        return str(timestamp)
