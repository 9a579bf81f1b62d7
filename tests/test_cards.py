"""Adaptive Cards the bot sends parse cleanly in the adaptivecards library, at version 1.5."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cardcheck import card_warnings, check_versions, validate_cards

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


def _card(
    body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None, version: str = "1.5"
) -> dict[str, Any]:
    """Build a minimal card around body and actions."""
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": version,
        "body": body,
    }
    if actions is not None:
        card["actions"] = actions
    return card


GOOD_CARDS: list[tuple[str, dict[str, Any]]] = [
    ("text", _card([{"type": "TextBlock", "text": "Hej! Jag heter Omtanke.", "wrap": True}])),
    (
        "form",
        _card(
            [
                {
                    "type": "Input.Text",
                    "id": "title",
                    "label": "Vad heter idén?",
                    "isRequired": True,
                    "errorMessage": "Skriv ett namn på idén",
                },
                {
                    "type": "Input.ChoiceSet",
                    "id": "groups",
                    "label": "Målgrupper",
                    "isMultiSelect": True,
                    "style": "expanded",
                    "choices": [
                        {"title": "Multisjuka äldre", "value": "aldre"},
                        {"title": "Barn och unga", "value": "barn"},
                    ],
                },
                {
                    "type": "Input.Toggle",
                    "id": "both",
                    "title": "Både region och kommun",
                    "value": "true",
                },
            ],
            [
                {"type": "Action.Submit", "title": "Nästa", "data": {"action": "proposal.next"}},
                {
                    "type": "Action.OpenUrl",
                    "title": "Läs mer",
                    "url": "https://www.regionhalland.se/",
                },
            ],
        ),
    ),
    (
        "facts",
        _card(
            [
                {"type": "FactSet", "facts": [{"title": "Status", "value": "Hos RUG"}]},
                {
                    "type": "ColumnSet",
                    "columns": [
                        {
                            "type": "Column",
                            "width": "stretch",
                            "items": [{"type": "TextBlock", "text": "x"}],
                        }
                    ],
                },
            ],
            [
                {
                    "type": "Action.ShowCard",
                    "title": "Fråga",
                    "card": {
                        "type": "AdaptiveCard",
                        "body": [{"type": "Input.Text", "id": "question", "label": "Din fråga"}],
                        "actions": [
                            {
                                "type": "Action.Submit",
                                "title": "Skicka",
                                "data": {"action": "rug.ask"},
                            }
                        ],
                    },
                }
            ],
        ),
    ),
]


def test_good_fixture_cards_have_no_errors() -> None:
    """The validator accepts ordinary cards built from 1.5 elements."""
    assert validate_cards(GOOD_CARDS) == {name: [] for name, _ in GOOD_CARDS}
    assert check_versions(GOOD_CARDS) == {name: [] for name, _ in GOOD_CARDS}


def test_every_sample_card_is_valid() -> None:
    """Every card the bot can send, bound with realistic data, parses without errors."""
    from tests.card_samples import all_sample_cards

    cards = all_sample_cards()
    assert cards, "all_sample_cards() returned no cards"
    assert validate_cards(cards) == {name: [] for name, _ in cards}
    assert check_versions(cards) == {name: [] for name, _ in cards}


def test_unknown_element_is_an_error() -> None:
    """A misspelt element type is reported by the parser."""
    errors = validate_cards([("bad", _card([{"type": "TextBlok", "text": "Hej"}]))])["bad"]
    assert len(errors) == 1
    assert errors[0].startswith("UnknownElementType:")
    assert '"TextBlok"' in errors[0]


def test_element_newer_than_1_5_is_an_error() -> None:
    """An element Teams cannot render at 1.5 (Carousel is 1.6) counts as unknown."""
    errors = validate_cards([("bad", _card([{"type": "Carousel", "pages": []}]))])["bad"]
    assert [e.split(":")[0] for e in errors] == ["UnknownElementType"]


def test_unknown_action_is_an_error() -> None:
    """A misspelt action type is reported by the parser."""
    card = _card([], [{"type": "Action.Sumbit", "title": "Skicka"}])
    errors = validate_cards([("bad", card)])["bad"]
    assert len(errors) == 1
    assert errors[0].startswith("UnknownActionType:")
    assert '"Action.Sumbit"' in errors[0]


def test_input_without_id_is_an_error() -> None:
    """An input without id cannot be read back on submit."""
    card = _card([{"type": "Input.Text", "label": "Titel"}])
    assert validate_cards([("bad", card)]) == {
        "bad": ["PropertyCantBeNull: Input.Text: All inputs must have a unique Id."]
    }


def test_duplicate_id_is_an_error() -> None:
    """Two elements with one id would overwrite each other's value on submit."""
    card = _card(
        [
            {"type": "Input.Text", "id": "a", "label": "A"},
            {"type": "Input.Toggle", "id": "a", "title": "B"},
        ]
    )
    assert validate_cards([("bad", card)]) == {
        "bad": ['DuplicateId: Input.Toggle id="a": Duplicate Id "a".']
    }


def test_version_above_1_5_is_an_error() -> None:
    """Teams renders at most 1.5: both the parser and check_versions reject 1.6."""
    card = _card([{"type": "TextBlock", "text": "x"}], version="1.6")
    errors = validate_cards([("bad", card)])["bad"]
    assert [e.split(":")[0] for e in errors] == ["UnsupportedCardVersion"]
    assert check_versions([("bad", card)]) == {
        "bad": ["version 1.6 is above 1.5, the highest Teams renders"]
    }


def test_check_versions_wants_type_and_schema() -> None:
    """A card without $schema, type or version is reported by check_versions."""
    assert check_versions([("bad", {"body": []})]) == {
        "bad": [
            "type is None, must be 'AdaptiveCard'",
            "$schema is missing",
            "version None is not a version like '1.5'",
        ]
    }


def test_misspelt_property_is_a_warning() -> None:
    """Unknown properties are ignored by Teams, so they are warnings, not errors."""
    card = _card([{"type": "TextBlock", "text": "x", "wieght": "Bolder"}])
    assert validate_cards([("typo", card)]) == {"typo": []}
    assert card_warnings([("typo", card)]) == {
        "typo": ['UnknownProperty: TextBlock: property "wieght" is not known']
    }


def test_missing_node_modules_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Without `npm ci` the helper fails loudly instead of passing or skipping."""
    import tests.cardcheck as cardcheck

    monkeypatch.setattr(cardcheck, "ADAPTIVECARDS", tmp_path / "adaptivecards.js")
    with pytest.raises(cardcheck.CardCheckError, match="npm ci"):
        validate_cards(GOOD_CARDS)
