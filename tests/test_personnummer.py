"""Tests for personnummer and samordningsnummer detection."""

from __future__ import annotations

import pytest

from domain.personnummer import contains_identity_number, find_identity_numbers


def luhn_digit(nine_digits: str) -> str:
    """Compute the Luhn check digit for YYMMDDNNN."""
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return str((10 - total % 10) % 10)


def make(date6: str, serial3: str = "123") -> str:
    """A made-up number (not a real person's): YYMMDD + serial + Luhn digit."""
    return date6 + serial3 + luhn_digit(date6 + serial3)


def wrong_check(ten: str) -> str:
    """The same number with a wrong check digit."""
    return ten[:9] + str((int(ten[9]) + 1) % 10)


VALID = make("500415")  # 1950-04-15
SAMORDNING = make("500475")  # day 15 + 60


@pytest.mark.parametrize(
    "text",
    [
        f"{VALID[:6]}-{VALID[6:]}",
        VALID,
        f"19{VALID[:6]}-{VALID[6:]}",
        f"19{VALID}",
        f"{VALID[:6]}+{VALID[6:]}",
        f"{VALID[:6]} {VALID[6:]}",
        f"{VALID[:6]} - {VALID[6:]}",
        f"{SAMORDNING[:6]}-{SAMORDNING[6:]}",
    ],
)
def test_valid_forms_are_found(text: str) -> None:
    assert find_identity_numbers(f"Patienten ({text}) kom i går.") == [text]


def test_leap_day_is_a_valid_date() -> None:
    number = make("000229")
    assert find_identity_numbers(f"nr {number}") == [number]


@pytest.mark.parametrize(
    "text",
    [
        wrong_check(VALID),
        f"{wrong_check(VALID)[:6]}-{wrong_check(VALID)[6:]}",
        make("501315"),  # month 13
        make("500431"),  # 31 April
        make("500230"),  # 30 February
        make("500400"),  # day 0
        make("500495"),  # samordning day 35
        "Ring 0701234567 eller 070-123 45 67",
        "Ärende 12345678901234",
        "Möte 2026-03-01 kl 10",
        f"17{VALID}",  # no such century
    ],
)
def test_invalid_numbers_are_not_found(text: str) -> None:
    assert find_identity_numbers(text) == []


def test_several_numbers_are_all_found() -> None:
    other = make("991231", "456")
    text = f"{VALID} och {other[:6]}-{other[6:]}"
    assert find_identity_numbers(text) == [VALID, f"{other[:6]}-{other[6:]}"]


def test_contains_identity_number() -> None:
    assert (contains_identity_number(f"pnr {VALID}"), contains_identity_number("inget här")) == (
        True,
        False,
    )


# ----- however it is written (issue 16 item 4) -------------------------------------------------

# Every separator the probe got a number through, and the ones next to them.
SEPARATORS = {
    "no-break space": "\u00a0",
    "narrow no-break space": "\u202f",
    "figure space": "\u2007",
    "thin space": "\u2009",
    "ideographic space": "\u3000",
    "hyphen": "\u2010",
    "non-breaking hyphen": "\u2011",
    "figure dash": "\u2012",
    "en dash": "\u2013",
    "em dash": "\u2014",
    "minus sign": "\u2212",
    "full-width hyphen-minus": "\uff0d",
    "newline": "\n",
    "carriage return and newline": "\r\n",
    "tab": "\t",
    "line separator": "\u2028",
    "slash": "/",
    "full-width slash": "\uff0f",
    "fraction slash": "\u2044",
    "backslash": "\\",
    "colon": ":",
    "underscore": "_",
    "full stop": ".",
    "spaces around a dash": " \u2013 ",
    "HTML no-break space": "&nbsp;",
    "HTML line break": "<br>",
    "HTML entity of a non-breaking hyphen": "&#8209;",
}
INVISIBLE = {
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "left-to-right mark": "\u200e",
    "right-to-left override": "\u202e",
}


@pytest.mark.parametrize("number", [VALID, SAMORDNING], ids=["personnummer", "samordning"])
@pytest.mark.parametrize("separator", SEPARATORS.values(), ids=SEPARATORS.keys())
def test_any_separator_before_the_last_four_digits(number: str, separator: str) -> None:
    assert contains_identity_number(f"Det gäller {number[:6]}{separator}{number[6:]} i går.")


@pytest.mark.parametrize("number", [VALID, SAMORDNING], ids=["personnummer", "samordning"])
@pytest.mark.parametrize("invisible", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_invisible_characters_between_the_digits_are_ignored(number: str, invisible: str) -> None:
    hidden = invisible.join(number[:6]) + "-" + invisible.join(number[6:])
    assert contains_identity_number(f"nr {hidden}")


@pytest.mark.parametrize(
    "form",
    [
        "19{d[0]}{d[1]}-{d[2]}{d[3]}-{d[4]}{d[5]}-{t}",  # dashes inside the date
        "{d[0]}{d[1]} {d[2]}{d[3]} {d[4]}{d[5]}-{t}",  # spaces inside the date
        "{d[0]}{d[1]} {d[2]}{d[3]} {d[4]}{d[5]} {t}",
        "19{d[0]}{d[1]}\u2013{d[2]}{d[3]}\u2013{d[4]}{d[5]}\u2013{t}",
        "{d[0]}{d[1]}\u202f{d[2]}{d[3]}\u202f{d[4]}{d[5]}\u2011{t}",
        "{d[0]}{d[1]}.{d[2]}{d[3]}.{d[4]}{d[5]}/{t}",
        "\uff11\uff19{d[0]}{d[1]}{d[2]}{d[3]}{d[4]}{d[5]}{t}",  # full-width century digits
    ],
)
@pytest.mark.parametrize("number", [VALID, SAMORDNING], ids=["personnummer", "samordning"])
def test_separators_inside_the_date(form: str, number: str) -> None:
    text = form.format(d=number[:6], t=number[6:])
    assert contains_identity_number(f"Patient {text}."), text


def test_a_lookalike_in_front_does_not_hide_the_real_number() -> None:
    # "05 05 90 0101" reads as a date and four digits too; the real number starts after it.
    assert find_identity_numbers(f"05 05 {VALID[:6]} {VALID[6:]}") == [f"{VALID[:6]} {VALID[6:]}"]


@pytest.mark.parametrize(
    "text",
    [
        "OH-2026-0001",
        "Ärende OH-2026-0123 och OH-2025-1234",
        "Ring 031-123 45 67, 08-123 456 78 eller +46 70 123 45 67",
        "+46701234567 / 0046701234567",
        "070-1234567",
        "kl 10:00–12:00 den 2026-11-22",
        "2026-01-01–2026-03-31",
        "2026-01-01 \u2013 2026-12-31",
        "20260101-20261231",
        "Budget 1 200 000 kr för 2026",
        "Version 1.2.3.4567",
    ],
)
def test_phone_numbers_ids_dates_and_ranges_are_not_personnummer(text: str) -> None:
    assert find_identity_numbers(text) == []


def test_no_date_range_of_a_year_is_taken_for_a_personnummer() -> None:
    # Before the range rule, about one in ten ranges "YYYY-MM-DD–YYYY-MM-DD" was flagged.
    from datetime import date, timedelta

    start = date(2026, 1, 1)
    ranges = [
        f"{start + timedelta(days):%Y-%m-%d}{dash}{start + timedelta(days + length):%Y-%m-%d}"
        for days in range(365)
        for length in (30, 90)
        for dash in ("\u2013", " - ")
    ]
    assert [text for text in ranges if contains_identity_number(text)] == []
