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
