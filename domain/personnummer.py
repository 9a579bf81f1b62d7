"""Detect Swedish personnummer and samordningsnummer in free text, so none is stored."""

from __future__ import annotations

import calendar
import re

# Optional century, YYMMDD, then an optional "-", "+" or dash (spaces allowed), then NNNN.
# Digits right before or after mean it is part of a longer number, so it is skipped.
_CANDIDATE = re.compile(
    r"(?<![\d])(?P<century>\d{2})?(?P<date>\d{6})[ \t]*(?P<sep>[-+–])?[ \t]*(?P<tail>\d{4})(?![\d])"
)
_CENTURIES = (18, 19, 20)
# A samordningsnummer is a personnummer with 60 added to the day.
_SAMORDNING_OFFSET = 60


def _luhn_ok(ten_digits: str) -> bool:
    """Check the Luhn digit over YYMMDDNNNC."""
    total = 0
    for index, char in enumerate(ten_digits[:9]):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10 == int(ten_digits[9])


def _date_ok(years: list[int], month: int, day: int) -> bool:
    """True when the month/day is a real date in any of the possible years."""
    if day > _SAMORDNING_OFFSET:
        day -= _SAMORDNING_OFFSET
    if not 1 <= month <= 12 or day < 1:
        return False
    return any(day <= calendar.monthrange(year, month)[1] for year in years)


def _is_identity_number(century: str | None, date: str, tail: str) -> bool:
    """Validate one candidate: real date (or samordning day) and the Luhn check digit."""
    yy, month, day = int(date[:2]), int(date[2:4]), int(date[4:6])
    if century is not None:
        if int(century) not in _CENTURIES:
            return False
        years = [int(century) * 100 + yy]
    else:
        years = [c * 100 + yy for c in _CENTURIES]
    return _date_ok(years, month, day) and _luhn_ok(date + tail)


def find_identity_numbers(text: str) -> list[str]:
    """Return every personnummer or samordningsnummer in the text, as written."""
    found = []
    for match in _CANDIDATE.finditer(text):
        if _is_identity_number(match["century"], match["date"], match["tail"]):
            found.append(match.group(0).strip())
    return found


def contains_identity_number(text: str) -> bool:
    """True when the text contains a personnummer or samordningsnummer."""
    return bool(find_identity_numbers(text))
