"""What people type first, over the real HTTP endpoint: small talk, who-are-you, help, an idea in
their own words, a question about the process, their drafts, and RUG's commands in the channel.
"""

from __future__ import annotations

from typing import Any

import pytest

from domain.proposal import Status
from presentation.texts import Texts
from tests.builders import card_actions, card_of, card_texts
from tests.rug_scenario import ANNA, CHANNEL, RUT, complete_proposal, meet_everyone
from tests.service import Service
from tests.test_security_http import _case_card, _with_rug

TEXTS = Texts.load()
CHAT = "a:personal-aad-anna"
CLIENT = {"sv": "sv-SE", "en": "en-US"}
WELCOME_BUTTONS = {
    "sv": ["Jag har en idé", "Vad är nära vård?", "Mina förslag", "Hjälp"],
    "en": [TEXTS.get(k, "en") for k in ("welcome.button_idea", "welcome.button_ask",
                                        "welcome.button_status", "welcome.button_help")],
}  # fmt: skip
DECLINE = {"sv": "Det kan jag tyvärr inte", "en": TEXTS.get("answer.escalate", "en")}


def last_card(service: Service) -> dict[str, Any]:
    """The card of the bot's last message (there must be one)."""
    card = card_of(service.connector.messages()[-1])
    assert card is not None, service.connector.messages()[-1]
    return card


def read(card: dict[str, Any]) -> str:
    return "\n".join(card_texts(card))


def titles(card: dict[str, Any]) -> list[str]:
    return [a["title"] for a in card_actions(card)]


async def say(service: Service, text: str, lang: str = "sv", **kw: Any) -> None:
    assert await service.say(ANNA, text, locale=CLIENT[lang], **kw) == 201


SMALL_TALK = [
    ("sv", "hej", "small_talk.greeting_named"),
    ("sv", "Hej!", "small_talk.greeting_named"),
    ("sv", "god morgon", "small_talk.greeting_named"),
    ("sv", "tack", "small_talk.thanks"),
    ("sv", "tack så mycket!", "small_talk.thanks"),
    ("sv", "Tackk för hjälpen 🙏", "small_talk.thanks"),
    ("sv", "hej då", "small_talk.goodbye"),
    ("en", "hi there", "small_talk.greeting_named"),
    ("en", "Thanks a lot!", "small_talk.thanks"),
    ("en", "bye", "small_talk.goodbye"),
]


@pytest.mark.parametrize(("lang", "text", "key"), SMALL_TALK)
async def test_small_talk_gets_a_warm_reply_with_the_welcomes_buttons(
    service: Service, lang: str, text: str, key: str
) -> None:
    await say(service, text, lang)

    card = last_card(service)
    assert read(card) == TEXTS.get(key, lang, name="Anna")
    assert titles(card) == WELCOME_BUTTONS[lang]
    assert DECLINE[lang] not in read(card)
    assert await service.services.records.escalations.all() == []


@pytest.mark.parametrize(
    ("lang", "text"), [("sv", "vem är du?"), ("sv", "vad kan du hjälpa till med?"),
                       ("en", "what can you do?")]
)  # fmt: skip
async def test_who_are_you_gets_the_welcome(service: Service, lang: str, text: str) -> None:
    await say(service, text, lang)

    card = last_card(service)
    assert TEXTS.get("welcome.intro", lang) in read(card)
    assert titles(card) == WELCOME_BUTTONS[lang]


@pytest.mark.parametrize("lang", ["sv", "en"])
async def test_help_gets_the_help_card(service: Service, lang: str) -> None:
    await say(service, "hjälp" if lang == "sv" else "help", lang)

    assert read(last_card(service)).startswith(TEXTS.get("help.title", lang))


# ----- an idea in the user's own words ----------------------------------------------------------


async def _draft_title(service: Service) -> str | None:
    draft = await service.services.records.proposals.draft_of("aad-anna")
    return draft.proposal.title if draft else None


@pytest.mark.parametrize(
    ("lang", "text", "title"),
    [
        ("sv", "Jag har en idé om videomöten vid utskrivning", "Videomöten vid utskrivning"),
        ("sv", "Hej! Vi vill föreslå en gemensam rehabplan, tack", "En gemensam rehabplan"),
        ("sv", "kan jag lämna ett förslag om nattlig tillsyn?", "Nattlig tillsyn"),
        ("en", "I have an idea about shared care plans", "Shared care plans"),
    ],
)
async def test_an_idea_in_own_words_is_offered_the_guide_with_its_title(
    service: Service, lang: str, text: str, title: str
) -> None:
    await say(service, text, lang)

    offer = last_card(service)
    assert TEXTS.get("idea_offer.question", lang) in read(offer)
    assert TEXTS.get("idea_offer.title_note", lang, title=title) in read(offer)
    assert titles(offer) == [TEXTS.get("idea_offer.yes", lang), TEXTS.get("idea_offer.no", lang)]
    assert await _draft_title(service) is None  # nothing started before the user says yes

    yes = card_actions(offer)[0]["data"]
    assert await service.click(ANNA, yes, locale=CLIENT[lang]) == 201

    assert await _draft_title(service) == title
    assert "2" in read(last_card(service)).split("\n")[0]  # the second step is asked for


async def test_a_typed_ja_starts_it_and_nej_tack_leaves_nothing(service: Service) -> None:
    await say(service, "jag har en idé om trygg hemgång")
    await say(service, "ja")
    assert await _draft_title(service) == "Trygg hemgång"

    await say(service, "avbryt")
    await say(service, "ja")  # the cancel card's question; the draft is kept
    await say(service, "vi vill starta ett projekt om fallprevention")
    await say(service, "nej tack")
    assert service.connector.texts_to(CHAT)[-1] == TEXTS.get("idea_offer.declined", "sv")
    assert await _draft_title(service) == "Trygg hemgång"  # no new draft either


async def test_a_question_after_the_offer_is_answered_as_a_question(service: Service) -> None:
    await say(service, "jag vill skicka in ett initiativ")
    assert TEXTS.get("idea_offer.question", "sv") in read(last_card(service))

    await say(service, "Vad är RUG?")

    assert "Regional utvecklingsgrupp" in read(last_card(service))
    assert await _draft_title(service) is None


@pytest.mark.parametrize(
    ("lang", "text"),
    [("sv", "hur skickar man in ett förslag?"), ("en", "How do I submit a proposal?")],
)
async def test_a_question_about_the_process_is_answered_with_a_start_button(
    service: Service, lang: str, text: str
) -> None:
    await say(service, text, lang)

    answer = last_card(service)
    assert DECLINE[lang] not in read(answer)
    assert TEXTS.get("answer.source", lang, source="").strip() in read(answer)
    start = TEXTS.get("answer.start_proposal", lang)
    assert start == titles(answer)[0]
    assert await service.click(ANNA, card_actions(answer)[0]["data"], locale=CLIENT[lang]) == 201
    assert await _draft_title(service) == ""  # the dialog began, at its first step


async def test_other_answers_carry_no_start_button(service: Service) -> None:
    await say(service, "Vad betyder personcentrerad?")

    assert TEXTS.get("answer.start_proposal", "sv") not in titles(last_card(service))


async def test_small_talk_inside_the_dialog_is_not_taken_as_an_answer(service: Service) -> None:
    await say(service, "Jag har en idé")
    await say(service, "Min titel")
    await say(service, "tack!")

    assert TEXTS.get("small_talk.in_dialog", "sv") in service.connector.texts_to(CHAT)
    draft = await service.services.records.proposals.draft_of("aad-anna")
    assert draft is not None and (draft.proposal.title, draft.proposal.background) == (
        "Min titel",
        "",
    )


async def test_continue_my_draft_with_and_without_one(service: Service) -> None:
    await say(service, "fortsätt mitt utkast")
    assert TEXTS.get("idea_offer.no_draft", "sv") in read(last_card(service))

    await say(service, "ja")
    await say(service, "Min titel")
    await service.restart()
    await say(service, "fortsätt mitt utkast")

    # The dialog was still open: it shows where Anna was, and takes nothing as an answer.
    assert "Steg 2 av 12" in read(last_card(service))
    draft = await service.services.records.proposals.draft_of("aad-anna")
    assert draft is not None and (draft.proposal.title, draft.proposal.background) == (
        "Min titel",
        "",
    )


async def test_my_proposals_and_cancel_outside_a_dialog(service: Service) -> None:
    await say(service, "hur går det med mitt förslag?")
    assert service.connector.texts_to(CHAT)[-1] == TEXTS.get("status.none", "sv")

    await say(service, "avbryt")
    assert service.connector.texts_to(CHAT)[-1] == TEXTS.get("general.nothing_to_cancel", "sv")


# ----- RUG's commands ---------------------------------------------------------------------------


async def test_rug_commands_in_the_rug_channel(service: Service) -> None:
    await meet_everyone(service)
    pid = await _with_rug(service, complete_proposal(service, "Trygg hemgång"))
    thread = {"conversation_id": f"{CHANNEL};messageid=222", "conversation_type": "channel"}

    assert await service.say(RUT, "hjälp", **thread) == 201
    assert service.connector.texts_to(thread["conversation_id"])[-1] == TEXTS.get("rug.help", "sv")

    assert await service.say(RUT, "visa ärenden", **thread) == 201
    assert pid in read(last_card(service))

    before = _case_card(service, pid)
    assert await service.say(RUT, f"bifall {pid}", **thread) == 201
    view = last_card(service)
    assert "Trygg hemgång" in read(view)
    assert "Beslut fattas med knapparna" in read(view)
    assert not any(a["data"].get("action") == "decide" for a in card_actions(view))
    assert (await service.proposal(pid)).status == Status.WITH_RUG
    assert _case_card(service, pid) == before  # the channel's case card is still the one


async def test_a_case_id_from_someone_outside_rug_shows_their_own_proposals(
    service: Service,
) -> None:
    await meet_everyone(service)
    pid = await _with_rug(service, complete_proposal(service, "Trygg hemgång"))

    await say(service, pid)  # Anna is the initiator, not in RUG

    assert pid in read(last_card(service))
    assert "Bifall" not in titles(last_card(service))


async def test_an_idea_with_a_question_is_answered_and_can_start_with_its_title(
    service: Service,
) -> None:
    await say(service, "Jag har en idé om samarbete med kommunen, hur gör jag?")

    answer = last_card(service)
    assert TEXTS.get("idea_offer.question", "sv") not in read(answer)
    assert TEXTS.get("answer.source", "sv", source="").strip() in read(answer)
    start = card_actions(answer)[0]
    assert start["title"] == TEXTS.get("answer.start_proposal", "sv")
    assert await service.click(ANNA, start["data"]) == 201
    assert await _draft_title(service) == "Samarbete med kommunen"
