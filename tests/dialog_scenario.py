"""Anna's answers to the proposal dialog and the steps to walk it on the TestAdapter harness,
shared by the dialog, fault and crash-safety tests."""

from __future__ import annotations

from typing import Any

from tests.builders import BotHarness, card_actions, card_of, reply_text

ANSWERS = {
    "title": "Trygg hemgång för äldre",
    "background": "Äldre kommer ofta tillbaka till sjukhuset inom en vecka efter utskrivning.",
    "description": "Ett gemensamt utskrivningsteam från sjukhuset och kommunens hemsjukvård.",
    "organisations": "Hallands sjukhus och hemsjukvården i Varberg",
    "target_groups": "de mest sjuka äldre",
    "malbild": "Trygg",
    "motivation": "Samma sjuksköterska före och efter hemgången.",
    "expected_effects": "Färre återinskrivningar inom 30 dagar.",
    "follow_up": "Vi följer återinskrivningar och frågar om kontinuitet.",
    "initiator_org": "Varbergs kommun, hemsjukvården",
}


def last_text(replies: list[Any]) -> str:
    """Everything the replies say, joined."""
    return "\n".join(reply_text(r) for r in replies)


async def fill_until_summary(h: BotHarness) -> list[Any]:
    """Answer every step by typing, skipping the optional ones."""
    await h.say("jag har en idé")
    for key in ("title", "background", "description", "organisations", "target_groups", "malbild"):
        await h.say(ANSWERS[key])
    await h.say(ANSWERS["motivation"])
    await h.say(ANSWERS["expected_effects"])
    await h.say(ANSWERS["follow_up"])
    await h.say("hoppa över")  # resources
    await h.say("hoppa över")  # time plan
    await h.say(ANSWERS["initiator_org"])
    return await h.say("hoppa över")  # RUG contact


def submit_data(replies: list[Any]) -> dict[str, Any]:
    """The data of the one "Skicka in" button on the last reply's card."""
    card = card_of(replies[-1])
    submits = [a["data"] for a in card_actions(card) if a.get("data", {}).get("action") == "submit"]
    assert len(submits) == 1
    return dict(submits[0])
