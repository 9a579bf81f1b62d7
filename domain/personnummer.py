"""Detect Swedish personnummer and samordningsnummer in free text, so none is stored."""

from __future__ import annotations

import calendar
import re
import unicodedata

# Written forms fold to one before the check: compatibility forms (NFKC: full-width digits),
# no zero-width characters, every dash "-", every space or separator " ".
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff"))
_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
_SEPARATORS = re.compile(r"[\s\u00a0\u202f\u2007/:_.]+")
# Optional century, YY, MM, DD (a "-" or space may sit between them), then an optional "-"
# or "+" (spaces allowed), then NNNN. Digits right before or after mean a longer number.
_CANDIDATE = re.compile(
    r"(?<![\d])(?P<century>\d{2})?(?P<yy>\d{2})[ -]?(?P<mm>\d{2})[ -]?(?P<dd>\d{2})"
    r" *(?P<sep>[-+])? *(?P<tail>\d{4})(?![\d])"
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


def normalise(text: str) -> str:
    """The text as the check reads it: NFKC, no zero-width characters, one dash, one space."""
    folded = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return _SEPARATORS.sub(" ", _DASHES.sub("-", folded))


def find_identity_numbers(text: str) -> list[str]:
    """Return every personnummer or samordningsnummer in the text, normalised."""
    found = []
    for match in _CANDIDATE.finditer(normalise(text)):
        date = match["yy"] + match["mm"] + match["dd"]
        if _is_identity_number(match["century"], date, match["tail"]):
            found.append(match.group(0).strip())
    return found


def contains_identity_number(text: str) -> bool:
    """True when the text contains a personnummer or samordningsnummer, however written."""
    return bool(find_identity_numbers(text))
