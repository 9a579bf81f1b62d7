"""Detect Swedish personnummer and samordningsnummer in free text, so none is stored."""

from __future__ import annotations

import calendar
import html
import re
import unicodedata

# Written forms fold to one before the check (see normalise): compatibility forms (NFKC:
# full-width digits), HTML entities and tags as Teams may send them, no invisible (format)
# characters, every dash "-", every space, line break or separator " ".
_TAG = re.compile(r"<[^<>]{0,200}>")
_DASH_LIKE = "\u2212\u02d7\u2796\u2e3a\u2e3b"  # minus signs; Pd covers the dashes
_SEPARATOR_LIKE = "/\\:.|\u00b7\u2044\u2215\u2236"  # slashes, colons, dots, bars
_SPACES = re.compile(r" +")
_FOLD_CACHE = 4096  # characters remembered (a text of many rare ones cannot grow it further)


class _Fold(dict[int, str | None]):
    """str.translate table, filled per character on first sight (by Unicode category)."""

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        category = unicodedata.category(char)
        folded: str | None
        if category == "Cf":  # zero-width space/joiners, soft hyphen, word joiner, BOM, bidi
            folded = None
        elif category == "Pd" or char in _DASH_LIKE:
            folded = "-"
        elif category[0] == "Z" or category in ("Cc", "Pc") or char in _SEPARATOR_LIKE:
            folded = " "
        else:
            folded = char
        if len(self) < _FOLD_CACHE:
            self[code] = folded
        return folded


_FOLD = _Fold()
# YY, MM, DD (a "-" or space may sit between them), then an optional "-" or "+" (spaces
# allowed), then NNNN; with or without the century before. Digits right before or after mean
# a longer number, and "-" and digits after mean the start of a date: "2026-01-01–2026-03-31"
# is a date range. Every start is tried, with and without a century (overlapping: a number
# that merely looks like one cannot hide the real one behind it).
_BODY = (
    r"(?P<yy>\d{2})[ -]?(?P<mm>\d{2})[ -]?(?P<dd>\d{2})"
    r" *(?P<sep>[-+])? *(?P<tail>\d{4})(?!\d|-\d)"
)
_CANDIDATES = (
    re.compile(rf"(?<!\d)(?=(?P<all>(?P<century>\d{{2}}){_BODY}))"),
    re.compile(rf"(?<!\d)(?=(?P<all>{_BODY}))"),
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
    """The text as the check reads it: NFKC, entities and tags undone, no invisible
    characters, every dash "-", every run of spaces and separators one space."""
    folded = unicodedata.normalize("NFKC", html.unescape(_TAG.sub(" ", text)))
    return _SPACES.sub(" ", folded.translate(_FOLD))


def find_identity_numbers(text: str) -> list[str]:
    """Return every personnummer or samordningsnummer in the text, normalised."""
    folded = normalise(text)
    found: dict[int, str] = {}
    for candidate in _CANDIDATES:
        for match in candidate.finditer(folded):
            date = match["yy"] + match["mm"] + match["dd"]
            century = match.groupdict().get("century")
            if match.start() not in found and _is_identity_number(century, date, match["tail"]):
                found[match.start()] = match["all"].strip()
    return [found[start] for start in sorted(found)]


def contains_identity_number(text: str) -> bool:
    """True when the text contains a personnummer or samordningsnummer, however written."""
    return bool(find_identity_numbers(text))
