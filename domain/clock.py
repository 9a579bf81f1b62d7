"""Time as the domain records it: ISO 8601 strings in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")
