"""Tests for the proposal model: export format, storage round trip, field validation."""

from __future__ import annotations

import pytest

from domain.fields import LONG_TEXT_MAX, TITLE_MAX
from domain.proposal import (
    Decision,
    Endorsement,
    Event,
    Initiator,
    Proposal,
    ProposalFormatError,
    Status,
    format_proposal_id,
)
from domain.validation import validate_field
from presentation.problems import format_error_text, problem_text
from presentation.texts import Texts
from tests.builders import luhn_personnummer

TEXTS = Texts.load()


def _message(name: str, value: object) -> str | None:
    """What the user reads for a value of a field, or None when it is fine."""
    problem = validate_field(name, value)
    return None if problem is None else problem_text(TEXTS, problem)


REQUIRED_EXPORT_KEYS = {
    "title",
    "background",
    "description",
    "organisations",
    "target_groups",
    "goal_properties",
    "success_factors",
    "expected_effects",
    "follow_up",
    "initiator",
    "rug_endorsement",
}


# A made-up, Luhn-valid YYMMDDNNNC (not a real person's).
PNR = luhn_personnummer("500415", "123", separator="")


def full_proposal() -> Proposal:
    """A proposal with every field set."""
    p = Proposal(
        title="Gemensamt utskrivningsteam",
        background="Bakgrund.",
        description="Beskrivning.",
        organisations=["Region Halland", "Varberg"],
        target_groups=["De mest sjuka äldre"],
        goal_properties=["Personcentrerad"],
        success_factors={"Trygg": "Personen vet vem som gör vad."},
        expected_effects="Färre återinskrivningar.",
        follow_up="Uppföljning efter sex månader.",
        resources="Två sjuksköterskor.",
        time_plan="Hösten 2026.",
        initiator=Initiator("Ida Idé", "ida@example.org", "Varbergs kommun", "aad-1"),
        rug_endorsement=Endorsement(
            "Rut Rug", "2026-03-01T10:00:00+01:00", "rut@example.org", "aad-2"
        ),
        id=format_proposal_id(2026, 7),
        status=Status.APPROVED,
        created_at="2026-02-01T09:00:00+01:00",
        updated_at="2026-02-01T09:00:00+01:00",
        decision=Decision("bifallen", "RUG", "2026-03-15T13:00:00+01:00", "Bra initiativ."),
    )
    p.record("2026-03-15T13:00:00+01:00", "RUG", "beslut", "Bifallen")
    return p


def test_format_proposal_id() -> None:
    assert (format_proposal_id(2026, 7), format_proposal_id(2027, 1234)) == (
        "OH-2026-0007",
        "OH-2027-1234",
    )


def test_record_appends_and_touches() -> None:
    p = Proposal()
    event = p.record("2026-01-01T00:00:00Z", "Ida", "skapat")
    assert (p.history, p.updated_at) == ([event], "2026-01-01T00:00:00Z")
    assert event == Event("2026-01-01T00:00:00Z", "Ida", "skapat", "")


def test_export_has_the_agreed_keys() -> None:
    exported = full_proposal().to_export()
    assert REQUIRED_EXPORT_KEYS - exported.keys() == set()
    assert (exported["initiator"], exported["rug_endorsement"]["name"]) == (
        {
            "name": "Ida Idé",
            "email": "ida@example.org",
            "organisation": "Varbergs kommun",
            "aad_object_id": "aad-1",
        },
        "Rut Rug",
    )
    assert exported["success_factors"] == {"Trygg": "Personen vet vem som gör vad."}


def test_export_round_trip() -> None:
    p = full_proposal()
    back = Proposal.from_export(p.to_export())
    assert (back.to_export(), back.decision, back.history) == (p.to_export(), p.decision, p.history)


def test_dict_round_trip_is_complete() -> None:
    p = full_proposal()
    assert Proposal.from_dict(p.to_dict()) == p


def test_no_endorsement_exports_null() -> None:
    assert Proposal().to_export()["rug_endorsement"] is None


def test_from_export_fills_defaults() -> None:
    p = Proposal.from_export({"title": " Idé "})
    assert p == Proposal(title="Idé")


def test_from_export_accepts_nulls() -> None:
    p = Proposal.from_export({"title": None, "organisations": None, "rug_endorsement": None})
    assert p == Proposal()


def test_success_factors_as_list_of_names() -> None:
    p = Proposal.from_export({"success_factors": ["Trygg", "Enkel"]})
    assert p.success_factors == {"Trygg": "", "Enkel": ""}


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"organisations": "Region Halland"}, "organisations"),
        ({"organisations": ["Region Halland", 3]}, "organisations"),
        ({"target_groups": {"a": 1}}, "target_groups"),
        ({"title": 5}, "title"),
        ({"success_factors": "Trygg"}, "success_factors"),
        ({"success_factors": {"Trygg": 1}}, "success_factors"),
        ({"initiator": "Ida"}, "initiator"),
        ({"initiator": {"name": 1}}, "initiator.name"),
        ({"rug_endorsement": ["Rut"]}, "rug_endorsement"),
        ({"history": {}}, "history"),
    ],
)
def test_wrong_types_name_the_field_in_both_languages(
    document: dict[str, object], field: str
) -> None:
    with pytest.raises(ProposalFormatError) as info:
        Proposal.from_export(document)
    assert info.value.field == field
    assert f"Fältet »{field}« har fel form" in format_error_text(TEXTS, info.value, "sv")
    assert f"Field '{field}' has the wrong form" in format_error_text(TEXTS, info.value, "en")


def test_unknown_status_is_an_error() -> None:
    with pytest.raises(ProposalFormatError):
        Proposal.from_export({"status": "klar"})


def test_status_values() -> None:
    assert Status.ALL == (
        "utkast",
        "vantar_pa_forankring",
        "hos_rug",
        "komplettering_begard",
        "bifallen",
        "avslagen",
    )


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("title", "Kort rubrik", None),
        ("title", "", "Rubriken behöver fyllas i."),
        (
            "title",
            "x" * (TITLE_MAX + 1),
            f"Rubriken får vara högst {TITLE_MAX} tecken, nu är det "
            f"{TITLE_MAX + 1}. Korta texten lite.",
        ),
        ("description", "x" * LONG_TEXT_MAX, None),
        (
            "description",
            "x" * (LONG_TEXT_MAX + 1),
            f"Beskrivningen får vara högst {LONG_TEXT_MAX} "
            f"tecken, nu är det {LONG_TEXT_MAX + 1}. Korta texten lite.",
        ),
        ("resources", "", None),
        ("organisations", ["Region Halland", "Varberg"], None),
        ("organisations", ["Region Halland", 3], "Organisationerna ska vara texter."),
        ("title", 7, "Rubriken ska vara en text."),
    ],
)
def test_validate_field(name: str, value: object, expected: str | None) -> None:
    assert _message(name, value) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("background", f"Patienten {PNR} skrevs ut."),
        (
            "title",
            f"Fallet {PNR[:6]}-{PNR[6:]}",
        ),
        ("target_groups", [f"äldre {PNR}"]),
        (
            "success_factors",
            {"Trygg": f"Som för {PNR}"},
        ),
    ],
)
def test_validate_field_refuses_identity_numbers(name: str, value: object) -> None:
    problem = validate_field(name, value)
    assert problem is not None and problem.code == "identity_number"
    assert _message(name, value) == TEXTS.get("general.identity_number")
