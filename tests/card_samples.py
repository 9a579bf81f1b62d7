"""Every card the bot can send, bound with realistic data by driving the real bot.

`all_sample_cards()` is used by tests/test_cards.py to validate each card with the Adaptive Cards
parser. Cards are collected from the bot's replies (BotHarness on the SDK's TestAdapter), not
built by hand, so a template, its data and the locale texts are checked together.

To add cards: write an `async def _name(h: BotHarness) -> Samples` that drives the bot to them
and returns `[(name, card), ...]`, and list it in SCRIPTS below. The RUG cards are built by
the workflow's own card methods, since they reach people proactively.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botbuilder.schema import Activity

from bot.services import open_services
from bot.settings import Settings
from domain.proposal import Initiator, Proposal, Status
from tests.builders import BotHarness, card_of

Card = dict[str, Any]
Samples = list[tuple[str, Card]]
Script = Callable[[BotHarness], Awaitable[Samples]]
LOCALES = {"sv": "sv-SE", "en": "en-US"}
REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_RUG_MEMBERS = REPO_ROOT / "knowledge" / "data" / "rug_members.example.json"


def _cards(name: str, replies: list[Activity]) -> Samples:
    """The cards among the replies, named name (name-2, name-3 … when there are several)."""
    cards = [card for card in (card_of(reply) for reply in replies) if card is not None]
    if not cards:
        raise AssertionError(f"expected a card for sample {name!r}, the bot sent none")
    return [(name if i == 0 else f"{name}-{i + 1}", card) for i, card in enumerate(cards)]


async def _welcome(h: BotHarness) -> Samples:
    """The welcome card on a personal install."""
    return _cards("welcome", await h.install())


async def _answers(h: BotHarness) -> Samples:
    """An answer with related questions, a decline that can be escalated, and one that cannot."""
    return [
        *_cards("answer", await h.say("Vad är nära vård?")),
        *_cards("answer_by_topic", await h.submit({"action": "ask", "topic": "rug"})),
        *_cards("decline", await h.say("Vilken färg har bilen?")),
        *_cards("decline_empty", await h.submit({"action": "ask", "text": ""})),
    ]


async def _help(h: BotHarness) -> Samples:
    """The help card."""
    return _cards("help", await h.say("hjälp"))


async def _front_door(h: BotHarness) -> Samples:
    """Small talk, who-are-you, an idea offer with and without a title, a process answer."""
    samples = [
        *_cards("small_talk", await h.say("hej")),
        *_cards("small_talk_thanks", await h.say("tack så mycket!")),
        *_cards("about", await h.say("vem är du?")),
        *_cards("idea_offer", await h.say("Jag har en idé om videomöten vid utskrivning")),
    ]
    await h.say("nej tack")  # answers the offer
    samples += _cards("idea_offer_no_title", await h.say("jag vill skicka in ett förslag"))
    await h.say("nej")
    return samples + _cards("answer_with_start", await h.say("Hur skickar man in ett förslag?"))


async def _status(h: BotHarness) -> Samples:
    """'Mina förslag' with a draft and two submitted proposals, one of them endorsed."""
    person = h.adapter.template.from_property.aad_object_id
    repo = h.services.records.proposals
    initiator = Initiator(
        name="Anna Andersson",
        email="anna.andersson@example.org",
        organisation="Varbergs kommun, hemsjukvården",
        aad_object_id=person,
    )
    for title in (
        "Gemensamt utskrivningsteam för de mest sjuka äldre",
        "Hälsosamtal för 75-åringar på vårdcentralen och i hemtjänsten",
    ):
        draft = await repo.new_draft(person, Proposal(title=title, initiator=initiator))
        submitted, _created, _deliver = await h.services.workflow.submit(person, draft)
    submitted.status = Status.WITH_RUG
    submitted.record("2026-11-23T09:00:00+00:00", "aad-rug-member", "endorsed")
    await repo.save(submitted, "aad-rug-member", "endorsed")
    await repo.new_draft(person, Proposal(title="Digitala besök i hemsjukvården"))
    return _cards("status", await h.say("mina förslag"))


async def _status_untitled_draft(h: BotHarness) -> Samples:
    """'Mina förslag' with only a draft that has no title yet."""
    person = h.adapter.template.from_property.aad_object_id
    await h.services.records.proposals.new_draft(person, Proposal())
    return _cards("status_untitled_draft", await h.say("mina förslag"))


async def _proposal_dialog(h: BotHarness) -> Samples:
    """Every kind of step card, the motivation step, the summary, and the cancel card."""
    out = _cards("proposal_step_title", await h.say("jag har en idé"))[-1:]
    out += _cards("proposal_step_text", await h.say("Trygg hemgång för de mest sjuka äldre"))
    await h.say("Äldre kommer ofta tillbaka till sjukhuset inom en vecka.")
    out += _cards(
        "proposal_step_organisations",
        await h.say("Ett gemensamt utskrivningsteam från sjukhuset och hemsjukvården."),
    )
    out += _cards(
        "proposal_step_target_groups", await h.say("Hallands sjukhus och hemsjukvården i Varberg")
    )
    out += _cards("proposal_step_malbild", await h.say("de mest sjuka äldre"))
    out += _cards(
        "proposal_step_motivation",
        await h.submit(
            {
                "action": "step",
                "step": "malbild",
                "goal_properties": "Nära",
                "success_factors": "Trygg",
            }
        ),
    )
    for answer in (
        "Samma sjuksköterska före och efter hemgången.",
        "Färre återinskrivningar.",
        "Vi följer återinskrivningar varje månad.",
        "hoppa över",
        "hoppa över",
    ):
        await h.say(answer)
    out += _cards("proposal_step_rug_contact", await h.say("Varbergs kommun, hemsjukvården"))
    out += _cards("proposal_summary", await h.say("Testa Testdotter"))
    out += _cards("proposal_cancel", await h.say("avbryt"))
    await h.say("ja")
    out += _cards("proposal_resume", await h.say("jag har en idé"))
    return out


async def _rug_cards(h: BotHarness) -> Samples:
    """The endorsement request, the case card for the channel, a notice and 'ärenden hos RUG'."""
    services = h.services
    workflow = services.workflow
    member = next(iter(services.rug))
    person = h.adapter.template.from_property.aad_object_id
    proposal = Proposal(
        title="Gemensamt utskrivningsteam för de mest sjuka äldre",
        background="Äldre kommer ofta tillbaka till sjukhuset inom en vecka.",
        description="Sjukhusets sjuksköterska och kommunens hemsjukvård planerar hemgången ihop.",
        organisations=["Hallands sjukhus", "hemsjukvården i Varberg"],
        target_groups=["De mest sjuka äldre"],
        goal_properties=["Nära"],
        success_factors={"Trygg": "Samma sjuksköterska före och efter hemgången."},
        expected_effects="Färre återinskrivningar.",
        follow_up="Vi följer återinskrivningar varje månad.",
        rug_contact=member.name,
        initiator=Initiator(
            name="Anna Andersson", organisation="Varbergs kommun", aad_object_id=person
        ),
    )
    draft = await services.records.proposals.new_draft(person, proposal)
    submitted, _created, _deliver = await workflow.submit(person, draft)
    notice = services.cards.render(
        "rug_notice",
        {
            "title": "Beslut om OH-2026-0001",
            "lines": [{"text": "RUG har bifallit förslaget."}],
            "complement": True,
            "proposal": submitted.id,
        },
    )
    rug_member = BotHarness(services, aad=member.aad_object_id, name=member.name)
    rug_member.adapter.template.locale = h.adapter.template.locale
    return [
        ("rug_endorse", workflow._endorse_card(submitted, member, mention=True)),
        ("rug_endorse_open", workflow._endorse_card(submitted, None, mention=False)),
        ("rug_case", await workflow._case_card(submitted)),
        ("rug_notice", notice),
        *_cards("rug_cases", await rug_member.say("ärenden hos RUG")),
        *_cards("portfolio", await rug_member.say("portföljen")),
    ]


async def _escalation_cards(h: BotHarness) -> Samples:
    """An escalated question's card in the coordinators' channel: open, answered, handled."""
    from rug.escalations import ANSWERED, HANDLED
    from rug.model import Actor

    desk = h.services.escalation_desk
    asker = Actor(aad="aad-anna", name="Anna Andersson", locale="sv")
    record, _deliver = await desk.escalate(
        asker, "aad-anna", "29:aad-anna", "Vem betalar för hemsjukvårdens bilar?"
    )
    answered = {
        **record,
        "status": ANSWERED,
        "answer": "Kommunen betalar.\nFråga gärna igen.",
        "answered_by": "Cora Samordnare",
        "answered_at": "2026-11-23T09:00:00+00:00",
    }
    handled = {**answered, "status": HANDLED, "answer": ""}
    return [
        ("escalation", desk.card(record)),
        ("escalation_answered", desk.card(answered)),
        ("escalation_handled", desk.card(handled)),
    ]


# Each script runs on a fresh conversation; its cards are collected in both locales.
SCRIPTS: list[Script] = [
    _welcome,
    _answers,
    _help,
    _front_door,
    _status,
    _status_untitled_draft,
    _proposal_dialog,
    _rug_cards,
    _escalation_cards,
]


async def _collect(data_dir: Path) -> Samples:
    """Run every script in each locale, each as its own user, on one set of services."""
    services = await open_services(
        Settings(data_dir=data_dir, rug_members_path=EXAMPLE_RUG_MEMBERS)
    )
    samples: Samples = []
    try:
        for number, script in enumerate(SCRIPTS):
            for short, client_locale in LOCALES.items():
                harness = BotHarness(services, aad=f"aad-sample-{number}-{short}")
                harness.adapter.template.locale = client_locale
                found = await script(harness)
                suffix = "" if short == "sv" else f"_{short}"
                samples.extend((f"{name}{suffix}", card) for name, card in found)
    finally:
        await services.close()
    return samples


def all_sample_cards() -> Samples:
    """Every card the bot can send, as (unique name, bound card), Swedish and English."""
    with tempfile.TemporaryDirectory(prefix="omtanke-cards-") as tmp:
        data_dir = Path(tmp) / "data"
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(_collect(data_dir))
        # Called from async code: run the collection on its own loop in a worker thread.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, _collect(data_dir)).result()
