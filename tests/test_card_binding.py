"""The card binder (presentation/cards.py): placeholders, $when, $data, and the template left
as it was, so the same template renders again and again without a copy."""

from __future__ import annotations

import json
from typing import Any

from presentation.cards import bind
from presentation.texts import Texts

TEMPLATE: dict[str, Any] = {
    "type": "AdaptiveCard",
    "body": [
        {"type": "TextBlock", "text": "Hej ${name}!", "wrap": True},
        {"type": "TextBlock", "text": "${t.general.error}"},
        {"type": "TextBlock", "$when": "${late}", "text": "Sent"},
        {"type": "FactSet", "facts": [{"$data": "${rows}", "title": "${.k}", "value": "${.v}"}]},
        {"type": "Container", "items": "${extra}"},
    ],
    "actions": [{"type": "Action.Submit", "title": "OK", "data": {"n": 1, "ok": True}}],
}


def test_placeholders_when_and_data_are_bound() -> None:
    texts = Texts.load()
    scope = {
        "t": texts.table("sv"),
        "name": "Anna",
        "late": False,
        "rows": [{"k": "A", "v": 1}, {"k": "B", "v": None}],
        "extra": [{"type": "TextBlock", "text": "x"}],
    }
    card = bind(TEMPLATE, scope)
    assert card["body"][0]["text"] == "Hej Anna!"
    assert card["body"][1]["text"] == texts.get("general.error", "sv")
    assert [b["type"] for b in card["body"]] == ["TextBlock", "TextBlock", "FactSet", "Container"]
    # A value that is None leaves its property out.
    assert card["body"][2]["facts"] == [{"title": "A", "value": 1}, {"title": "B"}]
    assert card["body"][3]["items"] == [{"type": "TextBlock", "text": "x"}]


def test_binding_never_changes_the_template_and_results_share_nothing_with_it() -> None:
    before = json.dumps(TEMPLATE, sort_keys=True)
    scope = {"t": {"general.error": "fel"}, "name": "A", "late": True, "rows": [{"k": 1, "v": 2}],
             "extra": []}
    first = bind(TEMPLATE, scope)
    first["actions"][0]["data"]["n"] = 99
    first["body"][3]["facts"].append({"title": "added"})
    second = bind(TEMPLATE, scope)
    assert json.dumps(TEMPLATE, sort_keys=True) == before
    assert second["actions"][0]["data"]["n"] == 1
    assert second["body"][3]["facts"] == [{"title": 1, "value": 2}]
