"""Time as the domain records it: ISO 8601 strings in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def parse_time(iso: str) -> datetime | None:
    """An ISO 8601 string as an aware datetime (UTC when it names no zone); None if malformed."""
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def working_days_between(start: datetime, end: datetime) -> int:
    """Whole working days (Monday–Friday) from start to end; public holidays are not known."""
    days = 0
    day = start.date()
    last = end.date()
    while day < last:
        day = day.fromordinal(day.toordinal() + 1)
        if day.weekday() < 5:
            days += 1
    return days
