"""Adaptive Cards rendered as readable text, for the terminal chat."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from presentation.texts import DEFAULT_LOCALE, Texts


@dataclass
class CardInput:
    """One input field of a card, as the terminal asks for it."""

    id: str
    kind: str
    label: str
    choices: list[tuple[str, str]] = field(default_factory=list)  # (title, value)
    multi: bool = False
    value_on: str = "true"
    value_off: str = "false"
    # The value the card already holds (a prefilled answer); Teams sends it when left untouched.
    value: str = ""


@dataclass
class CardButton:
    """One action of a card."""

    title: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    uses_inputs: bool = True
    card: dict[str, Any] | None = None


@dataclass
class RenderedCard:
    """The text of a card, its inputs and its buttons."""

    lines: list[str]
    inputs: list[CardInput]
    buttons: list[CardButton]


def render_card(card: dict[str, Any]) -> RenderedCard:
    """Walk a card and collect its text, inputs and buttons."""
    out = RenderedCard([], [], [])
    _walk_elements(card.get("body", []), out)
    for action in card.get("actions", []):
        _collect_action(action, out)
    return out


def _walk_elements(elements: list[Any], out: RenderedCard) -> None:
    for element in elements:
        if not isinstance(element, dict):
            continue
        kind = element.get("type", "")
        if kind == "TextBlock":
            text = str(element.get("text", ""))
            out.lines.append(
                text.upper() if element.get("size") in ("Large", "ExtraLarge") else text
            )
        elif kind == "RichTextBlock":
            out.lines.append(
                "".join(
                    str(r.get("text", ""))
                    for r in element.get("inlines", [])
                    if isinstance(r, dict)
                )
            )
        elif kind == "FactSet":
            for fact in element.get("facts", []):
                out.lines.append(f"  {fact.get('title', '')}: {fact.get('value', '')}")
        elif kind in ("Container", "Column"):
            _walk_elements(element.get("items", []), out)
        elif kind == "ColumnSet":
            _walk_elements(element.get("columns", []), out)
        elif kind == "ActionSet":
            for action in element.get("actions", []):
                _collect_action(action, out)
        elif kind.startswith("Input."):
            _collect_input(element, out)
        if isinstance(element.get("selectAction"), dict):
            _collect_action(element["selectAction"], out)


def _collect_input(element: dict[str, Any], out: RenderedCard) -> None:
    label = str(
        element.get("label")
        or element.get("placeholder")
        or element.get("title")
        or element.get("id")
    )
    raw_value = element.get("value")
    item = CardInput(
        id=str(element.get("id", "")),
        kind=str(element["type"]),
        label=label,
        value="" if raw_value is None else str(raw_value),
    )
    if item.kind == "Input.ChoiceSet":
        item.choices = [
            (str(c.get("title", "")), str(c.get("value", ""))) for c in element.get("choices", [])
        ]
        item.multi = bool(element.get("isMultiSelect"))
    if item.kind == "Input.Toggle":
        item.value_on = str(element.get("valueOn", "true"))
        item.value_off = str(element.get("valueOff", "false"))
    out.inputs.append(item)


def _collect_action(action: dict[str, Any], out: RenderedCard) -> None:
    kind = str(action.get("type", ""))
    button = CardButton(title=str(action.get("title", "")), kind=kind)
    if kind == "Action.Submit":
        data = action.get("data")
        button.data = dict(data) if isinstance(data, dict) else {}
        button.uses_inputs = action.get("associatedInputs", "auto") != "none"
    elif kind == "Action.OpenUrl":
        button.url = str(action.get("url", ""))
    elif kind == "Action.ShowCard":
        button.card = action.get("card") if isinstance(action.get("card"), dict) else None
    out.buttons.append(button)


def choice_number(title: str) -> int | None:
    """The number a choice's title starts with ("4. Hälsofrämjande – …"), if any."""
    match = re.match(r"(\d+)\. ", title)
    return int(match.group(1)) if match else None


def format_card(rendered: RenderedCard, texts: Texts, locale: str = DEFAULT_LOCALE) -> str:
    """The card as lines of text with numbered buttons and listed input fields."""
    lines = [line for line in rendered.lines if line]
    for item in rendered.inputs:
        lines.append("  " + texts.get("chat.field", locale, label=item.label))
        # Choices the card already numbers (the dialog's lists, "1. Region Halland") keep theirs.
        own = all(choice_number(title) is not None for title, _value in item.choices)
        for number, (title, _value) in enumerate(item.choices, 1):
            lines.append(f"      {title}" if own else f"      {number}. {title}")
    if rendered.buttons:
        lines.append(
            "  " + "   ".join(f"[{n}] {b.title}" for n, b in enumerate(rendered.buttons, 1))
        )
    return "\n".join(lines)
