"""The bot on the SDK's TestAdapter: what the user sees, what is stored, and how it recovers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.schema import Activity, ActivityTypes

from bot.teams_bot import strip_mentions
from dialogs.ids import DIALOG_STATE_PROPERTY
from presentation.texts import Texts
from tests.builders import (
    TENANT,
    BotHarness,
    card_actions,
    card_of,
    card_texts,
    luhn_personnummer,
    reply_text,
)

NARA_VARD = "Vad är nära vård?"
PERSONAL_STATE_KEY = "msteams/conversations/a:personal-aad-anna"
TEXTS = Texts.load()
BAD_CARD_SV = TEXTS.get("general.bad_card")
ERROR_SV = TEXTS.get("general.error")


def buttons(activity: Activity) -> list[tuple[str, dict[str, Any]]]:
    """(title, data) of every button on the activity's card."""
    return [(a.get("title", ""), a.get("data", {})) for a in card_actions(card_of(activity))]


async def send(harness: BotHarness, activity: Activity) -> list[Activity]:
    """Run one Teams-shaped activity through the bot; return the messages it sent."""
    harness.adapter.activity_buffer.clear()
    await harness.adapter.receive_activity(activity)
    return [a for a in harness.adapter.activity_buffer if a.type == ActivityTypes.message]


async def stored_dialog_state(harness: BotHarness) -> Any:
    """The dialog stack as stored for Anna's personal chat (None when there is none)."""
    found = await harness.services.bot_storage.read([PERSONAL_STATE_KEY])
    state = found.get(PERSONAL_STATE_KEY)
    if not isinstance(state, dict):
        return None
    return state.get(DIALOG_STATE_PROPERTY)


def data_files_text(data_dir: Path) -> str:
    """Every byte the bot has written under its data folder, as text."""
    return "\n".join(
        path.read_text("utf-8", errors="replace") for path in data_dir.rglob("*") if path.is_file()
    )


# --- welcome ------------------------------------------------------------------------------


async def test_install_sends_the_swedish_welcome_card_with_the_first_name(
    harness: BotHarness,
) -> None:
    """A personal install greets Anna by first name and offers the four starting points."""
    replies = await harness.install()

    assert len(replies) == 1
    card = card_of(replies[0])
    assert card is not None
    assert card_texts(card)[0] == "Hej Anna! Jag är Omtanke."
    assert buttons(replies[0]) == [
        ("Jag har en idé", {"action": "start_proposal"}),
        ("Vad är nära vård?", {"action": "ask", "text": "Vad är nära vård?"}),
        ("Mina förslag", {"action": "my_proposals"}),
        ("Hjälp", {"action": "help"}),
    ]
    assert replies[0].summary == "Omtanke hjälper dig med nära vård i Halland."


async def test_english_client_gets_english_texts(harness: BotHarness) -> None:
    """A Teams client set to English gets the welcome and the answer in English."""
    harness.adapter.template.locale = "en-US"

    welcome = await harness.install()
    answer = await harness.say("What is nära vård?")

    assert card_texts(card_of(welcome[0]))[0] == "Hi Anna! I'm Omtanke."
    assert [title for title, _ in buttons(welcome[0])] == [
        "I have an idea",
        "What is nära vård?",
        "My proposals",
        "Help",
    ]
    assert any(line.startswith("Source: ") for line in card_texts(card_of(answer[0])))


async def test_bot_added_to_a_team_introduces_itself_once(harness: BotHarness) -> None:
    """In a team channel the bot says who it is when added, and greets nobody by name."""
    template = harness.adapter.template
    activity = Activity().deserialize(
        {
            "type": "conversationUpdate",
            "conversation": {
                "id": "19:rug@thread.tacv2",
                "conversationType": "channel",
                "tenantId": TENANT,
            },
            "membersAdded": [{"id": template.recipient.id}],
            "channelData": {"team": {"id": "19:rug@thread.tacv2"}, "tenant": {"id": TENANT}},
        }
    )

    replies = await send(harness, activity)

    assert [r.text for r in replies] == [harness.services.texts.get("welcome.team_intro")]


async def test_bot_added_to_a_group_chat_introduces_itself_for_a_group_chat(
    harness: BotHarness,
) -> None:
    """In a group chat the introduction speaks of the chat, not of a channel RUG could register."""
    template = harness.adapter.template
    activity = Activity().deserialize(
        {
            "type": "conversationUpdate",
            "conversation": {
                "id": "19:group@thread.v2",
                "conversationType": "groupChat",
                "isGroup": True,
                "tenantId": TENANT,
            },
            "membersAdded": [{"id": template.recipient.id}],
            "channelData": {"tenant": {"id": TENANT}},
        }
    )

    replies = await send(harness, activity)

    assert [r.text for r in replies] == [harness.services.texts.get("welcome.group_intro")]
    assert "registrera RUG-kanal" not in replies[0].text


# --- questions ----------------------------------------------------------------------------


async def test_a_question_gets_an_answer_card_with_source_and_feedback(
    harness: BotHarness,
) -> None:
    """'Vad är nära vård?' is answered from the knowledge base, with its source and 👍/👎."""
    replies = await harness.say(NARA_VARD)

    assert len(replies) == 1
    texts = card_texts(card_of(replies[0]))
    assert "personcentrerat" in texts[0]
    assert texts[1] == "Källa: Färdplan för god och nära vård och omsorg i Halland"
    feedback = [data for _, data in buttons(replies[0]) if data.get("action") == "feedback"]
    assert feedback == [
        {"action": "feedback", "topic": "nara_vard", "helpful": True},
        {"action": "feedback", "topic": "nara_vard", "helpful": False},
    ]


async def test_mention_in_a_channel_is_stripped_before_answering(harness: BotHarness) -> None:
    """'<at>Omtanke</at> vad är RUG?' in a channel is answered about RUG."""
    activity = Activity().deserialize(
        {
            "type": "message",
            "text": "<at>Omtanke</at> vad är RUG?",
            "conversation": {
                "id": "19:general@thread.tacv2;messageid=1",
                "conversationType": "channel",
                "tenantId": TENANT,
            },
            "entities": [
                {
                    "type": "mention",
                    "text": "<at>Omtanke</at>",
                    "mentioned": {"id": "28:omtanke-bot", "name": "Omtanke"},
                }
            ],
            "channelData": {"team": {"id": "19:team@thread.tacv2"}, "tenant": {"id": TENANT}},
        }
    )

    replies = await send(harness, activity)

    assert len(replies) == 1
    texts = card_texts(card_of(replies[0]))
    assert texts[0].startswith("RUG är Regional utvecklingsgrupp.")
    assert [d["topic"] for _, d in buttons(replies[0]) if d["action"] == "feedback"] == [
        "rug",
        "rug",
    ]


def _channel_message(text: str, entities: list[dict[str, Any]]) -> Activity:
    """A channel message as Teams posts it, with the given entities."""
    return Activity().deserialize(
        {
            "type": "message",
            "text": text,
            "recipient": {"id": "28:omtanke-bot", "name": "Omtanke"},
            "conversation": {"id": "19:general@thread.tacv2", "conversationType": "channel"},
            "entities": entities,
        }
    )


BOT_MENTION = {
    "type": "mention",
    "text": "<at>Omtanke</at>",
    "mentioned": {"id": "28:omtanke-bot", "name": "Omtanke"},
}


@pytest.mark.parametrize(
    ("text", "entities", "expected"),
    [
        ("<at>Omtanke</at> vad är RUG?", [BOT_MENTION], "vad är RUG?"),
        ("Fråga <at>Omtanke</at>: vad är RUG?", [BOT_MENTION], "Fråga : vad är RUG?"),
        (
            "<at>Omtanke</at> vad tycker <at>Bertil Berg</at> om RUG?",
            [
                BOT_MENTION,
                {
                    "type": "mention",
                    "text": "<at>Bertil Berg</at>",
                    "mentioned": {"id": "29:bertil", "name": "Bertil Berg"},
                },
            ],
            "vad tycker Bertil Berg om RUG?",
        ),
        # Malformed entities (no "mentioned", no type) made the SDK's helper raise.
        ("<at>Omtanke</at> vad är RUG?", [{"type": "mention", "text": "x"}], "Omtanke vad är RUG?"),
        ("vad är RUG?", [{"text": "<at>Omtanke</at>"}], "vad är RUG?"),
        ("rad ett\nrad två", [], "rad ett\nrad två"),
    ],
    ids=["leading", "inside", "other-person", "no-mentioned", "no-type", "newlines-kept"],
)
def test_strip_mentions(text: str, entities: list[dict[str, Any]], expected: str) -> None:
    """Only the bot's @mention goes; other people's mentions keep their names."""
    assert strip_mentions(_channel_message(text, entities)) == expected


async def test_malformed_mention_entity_does_not_break_the_turn(harness: BotHarness) -> None:
    """A mention entity without 'mentioned' is ignored, and the question is still answered."""
    activity = _channel_message("<at>Omtanke</at> vad är RUG?", [{"type": "mention"}])

    replies = await send(harness, activity)

    assert card_texts(card_of(replies[0]))[0].startswith("RUG är Regional utvecklingsgrupp.")


async def test_welcome_for_a_blank_display_name_greets_without_a_name(
    harness: BotHarness,
) -> None:
    """A whitespace-only Teams display name gives the plain greeting (it used to crash)."""
    harness.adapter.template.from_property.name = "   "

    replies = await harness.install()

    assert card_texts(card_of(replies[0]))[0] == "Hej! Jag är Omtanke."


async def test_out_of_scope_question_is_declined_with_an_offer_to_escalate(
    harness: BotHarness,
) -> None:
    """A question the knowledge base cannot answer is declined, and can be passed on."""
    replies = await harness.say("Vilken färg har bilen?")

    assert buttons(replies[0]) == [
        (
            "Skicka frågan till samordnarna",
            {"action": "escalate", "question": "Vilken färg har bilen?"},
        ),
        ("Hjälp", {"action": "help"}),
    ]
    assert "Källa:" not in reply_text(replies[0])


async def test_welcome_button_ask_answers_the_question(harness: BotHarness) -> None:
    """Pressing 'Vad är nära vård?' on the welcome card gives the same answer as typing it."""
    typed = await harness.say(NARA_VARD)
    pressed = await harness.submit({"action": "ask", "text": NARA_VARD})

    assert card_of(pressed[0]) == card_of(typed[0])


async def test_related_question_button_answers_that_topic(harness: BotHarness) -> None:
    """A 'Du kanske också undrar' button (ask by topic) answers that entry."""
    replies = await harness.submit({"action": "ask", "topic": "rug"})

    assert card_texts(card_of(replies[0]))[0].startswith("RUG är Regional utvecklingsgrupp.")


async def test_empty_message_gets_a_polite_swedish_hint(harness: BotHarness) -> None:
    """A message with neither text nor a card value (e.g. only an image) gets a hint."""
    replies = await harness.say("")

    assert [r.text for r in replies] == [harness.services.texts.get("general.empty_message")]


# --- card submits -------------------------------------------------------------------------


async def test_feedback_submit_is_stored(harness: BotHarness) -> None:
    """👍 on an answer stores one vote for that topic and thanks the user."""
    replies = await harness.submit({"action": "feedback", "topic": "nara_vard", "helpful": True})

    assert [r.text for r in replies] == ["Tack för din återkoppling!"]
    stored = await harness.services.records.feedback.all()
    assert [(r["user"], r["topic"], r["helpful"]) for r in stored] == [
        ("aad-anna", "nara_vard", True)
    ]


async def test_feedback_helpful_as_text_false_is_stored_as_false(harness: BotHarness) -> None:
    """Teams may send booleans as the strings 'true'/'false'; 'false' must not become True."""
    await harness.submit({"action": "feedback", "topic": "rug", "helpful": "false"})

    stored = await harness.services.records.feedback.all()
    assert [r["helpful"] for r in stored] == [False]


async def test_escalate_submit_is_stored(harness: BotHarness) -> None:
    """'Skicka frågan till samordnarna' stores the question for the coordinators."""
    replies = await harness.submit({"action": "escalate", "question": "Vilken färg har bilen?"})

    assert [r.text for r in replies] == [harness.services.texts.get("answer.escalated")]
    stored = await harness.services.records.escalations.all()
    assert [(r["user"], r["question"], r["locale"], r["handled"]) for r in stored] == [
        ("aad-anna", "Vilken färg har bilen?", "sv", False)
    ]


@pytest.mark.parametrize(
    "value",
    [
        {"action": "delete_everything"},
        {"action": None},
        {"no_action": "help"},
        {"action": "feedback", "topic": "nara_vard", "helpful": "maybe"},
        {"action": "feedback", "topic": "nara_vard", "helpful": 1},
        {"action": "feedback", "topic": "nara_vard"},
        {"action": "escalate", "question": ["a", "list"]},
        {"action": "escalate"},
    ],
    ids=[
        "unknown-action",
        "null-action",
        "no-action",
        "helpful-maybe",
        "helpful-number",
        "helpful-missing",
        "question-list",
        "question-missing",
    ],
)
async def test_forged_or_malformed_card_submit_is_refused_and_nothing_stored(
    harness: BotHarness, value: dict[str, Any]
) -> None:
    """A submit the bot did not send (or with wrong types) gets a polite refusal only."""
    replies = await harness.submit(value)

    assert [r.text for r in replies] == [BAD_CARD_SV]
    assert await harness.services.records.feedback.all() == []
    assert await harness.services.records.escalations.all() == []


async def test_card_value_that_is_not_an_object_is_refused(harness: BotHarness) -> None:
    """activity.value as a bare string is refused, not crashed on."""
    replies = await send(harness, Activity(type=ActivityTypes.message, value="start_proposal"))

    assert [r.text for r in replies] == [BAD_CARD_SV]


# --- personal identity numbers ------------------------------------------------------------


def test_luhn_helper_makes_numbers_the_bot_recognises() -> None:
    """The test's own personnummer is valid, and one digit off is not (guards the tests below)."""
    from domain.personnummer import contains_identity_number

    number = luhn_personnummer()
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert (contains_identity_number(number), contains_identity_number(wrong)) == (True, False)


async def test_question_with_personnummer_is_refused_and_never_stored_or_logged(
    harness: BotHarness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A question carrying a personnummer is refused, and the number appears nowhere."""
    number = luhn_personnummer()
    caplog.set_level(logging.DEBUG)

    replies = await harness.say(f"Hur går det för patienten {number} i hemsjukvården?")
    escalated = await harness.submit({"action": "escalate", "question": f"Gäller {number}"})

    refusal = harness.services.texts.get("general.identity_number")
    assert [r.text for r in replies] == [refusal]
    assert [r.text for r in escalated] == [refusal]
    assert await harness.services.records.escalations.all() == []
    await harness.services.close()  # flush everything to disk before looking at the files
    digits = number.replace("-", "")
    on_disk = data_files_text(tmp_path / "data")
    assert (number in on_disk, digits in on_disk) == (False, False)
    assert number not in caplog.text


# --- errors and recovery ------------------------------------------------------------------


async def test_exception_in_a_turn_apologises_clears_the_dialog_and_keeps_data(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A crash mid-turn: logged, a Swedish apology, no dialog left behind, stored data kept."""
    await harness.submit({"action": "feedback", "topic": "nara_vard", "helpful": True})
    original = harness.services.kb.answer

    def broken(question: str, locale: str = "sv") -> Any:
        raise RuntimeError("the knowledge base broke")

    monkeypatch.setattr(harness.services.kb, "answer", broken)
    with caplog.at_level(logging.ERROR):
        replies = await harness.say(NARA_VARD)

    assert [r.text for r in replies] == [ERROR_SV]
    assert "turn failed" in caplog.text
    assert await stored_dialog_state(harness) is None
    assert len(await harness.services.records.feedback.all()) == 1

    monkeypatch.setattr(harness.services.kb, "answer", original)
    again = await harness.say(NARA_VARD)
    assert "Källa:" in reply_text(again[0])


async def test_stale_dialog_stack_is_cleared_and_the_next_message_works(
    harness: BotHarness,
) -> None:
    """A saved dialog that no longer exists (renamed in an upgrade) ends in an apology, once."""
    stale = DialogState([DialogInstance(id="omtanke.renamed_long_ago", state={})])
    await harness.services.bot_storage.write(
        {PERSONAL_STATE_KEY: {DIALOG_STATE_PROPERTY: stale, "e_tag": "*"}}
    )

    first = await harness.say(NARA_VARD)
    second = await harness.say(NARA_VARD)

    assert [r.text for r in first] == [ERROR_SV]
    assert "Källa:" in reply_text(second[0])


# --- status -------------------------------------------------------------------------------


async def test_my_proposals_with_nothing_says_so(harness: BotHarness) -> None:
    """'mina förslag' before any idea tells the user how to begin."""
    replies = await harness.say("mina förslag")

    assert [r.text for r in replies] == [TEXTS.get("status.none")]


async def test_help_card_lists_what_the_bot_can_do(harness: BotHarness) -> None:
    """'hjälp' shows the help card with the privacy warning and the three starting buttons."""
    replies = await harness.say("hjälp")

    texts = card_texts(card_of(replies[0]))
    assert texts[0] == "Det här kan jag hjälpa dig med"
    assert harness.services.texts.get("help.privacy") in texts
    assert [data for _, data in buttons(replies[0])] == [
        {"action": "start_proposal"},
        {"action": "ask", "text": "Vad är nära vård?"},
        {"action": "my_proposals"},
    ]


# --- forged or empty submits on answer cards ---------------------------------------------


async def test_forged_feedback_topic_is_not_stored(harness: BotHarness) -> None:
    """A forged feedback submit can carry any text (even a personnummer) as its 'topic'."""
    number = luhn_personnummer()
    replies = await harness.submit(
        {"action": "feedback", "topic": f"Patienten {number}", "helpful": True}
    )

    # Refused at the boundary, before the topic is even looked up.
    assert [r.text for r in replies] == [harness.services.texts.get("general.identity_number")]
    assert await harness.services.records.feedback.all() == []


async def test_blank_escalation_is_not_stored(harness: BotHarness) -> None:
    """An escalate submit with a blank question gives the coordinators nothing to act on."""
    await harness.submit({"action": "escalate", "question": "   "})

    assert await harness.services.records.escalations.all() == []
