"""Endorsement always has a way forward (issue 18, defect 1), over the real HTTP endpoint:
no named contact, or "Inte nu", puts an open request in the RUG channel that any member but
the initiator can endorse; from "Mina förslag" the initiator asks all of RUG or a new contact."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.maintenance import remind_endorsements
from bot.settings import Settings
from domain.clock import parse_time, working_days_between
from domain.proposal import Status
from knowledge.kb import KnowledgeBase
from tests.builders import card_actions, card_of, card_texts
from tests.rug_scenario import (
    ANNA,
    CHANNEL,
    ROLF,
    RUT,
    complete_proposal,
    dialog_answers,
    meet_everyone,
    submit_directly,
)
from tests.service import RecordingConnector, Service


def _nodes(node: Any) -> list[dict[str, Any]]:
    """Every element of a card, depth first."""
    if isinstance(node, list):
        return [n for child in node for n in _nodes(child)]
    if isinstance(node, dict):
        return [node, *(n for value in node.values() for n in _nodes(value))]
    return []


def _titles(card: dict[str, Any]) -> list[str]:
    return [a["title"] for a in card_actions(card)]


async def test_without_a_contact_any_member_but_the_initiator_endorses_from_the_channel(
    service: Service,
) -> None:
    c = service.connector
    await meet_everyone(service)
    pid = (await submit_directly(service, complete_proposal(service, "Utan kontakt", ""))).id
    requests = c.cards_to(CHANNEL, "endorse")
    assert len(requests) == 1
    card, card_id = requests[0]
    assert "Vem som helst i RUG (utom initiativtagaren) kan förankra" in "\n".join(
        card_texts(card)
    )
    assert _titles(card) == ["Förankra"]  # nobody in particular was asked: no "Inte nu"

    endorse = {"action": "endorse", "proposal": pid, "choice": "yes", "comment": ""}
    assert await service.click(ANNA, endorse, reply_to=card_id) == 201
    assert (await service.proposal(pid)).rug_endorsement is None
    assert await service.click(ROLF, endorse, reply_to=card_id) == 201
    proposal = await service.proposal(pid)
    assert proposal.status == Status.WITH_RUG
    assert proposal.rug_endorsement is not None
    assert proposal.rug_endorsement.name == "Rolf Rugman"


async def test_after_inte_nu_the_channel_is_asked_and_mina_forslag_offers_a_new_contact(
    service: Service,
) -> None:
    c = service.connector
    await meet_everyone(service)
    pid = (await submit_directly(service, complete_proposal(service, "Hälsosamtal"))).id
    assert c.cards_to(CHANNEL, "endorse") == []
    assert await service.click(RUT, {"action": "endorse", "proposal": pid, "choice": "no"}) == 201
    assert len(c.cards_to(CHANNEL, "endorse")) == 1
    assert "också gått till RUG-kanalen" in c.texts_to("a:personal-aad-anna")[-1]

    assert await service.say(ANNA, "Mina förslag") == 201
    status = c.last_card_to("a:personal-aad-anna")
    assert "Be hela RUG om förankring" in _titles(status)
    assert "Fråga den här RUG-deltagaren" in _titles(status)
    choice = next(i for i in _nodes(status) if i.get("id") == f"contact_{pid}")
    assert {o["value"] for o in choice["choices"]} == {"Rut Rugsson", "Rolf Rugman"}

    # The channel was asked already: asking again says so and posts nothing.
    before = len(c.posted)
    assert await service.click(ANNA, {"action": "ask_endorsement", "proposal": pid}) == 201
    assert "ligger redan i RUG-kanalen" in c.texts_to("a:personal-aad-anna")[-1]
    assert len(c.posted) == before + 1

    # A name that is not in the RUG list is refused with the reason; nothing is sent.
    ask = {"action": "ask_endorsement", "proposal": pid, f"contact_{pid}": "Göran Okänd"}
    assert await service.click(ANNA, ask) == 201
    assert "ingen RUG-deltagare som heter så" in c.texts_to("a:personal-aad-anna")[-1]

    # A new contact from the list: Rolf is asked (in the channel with a mention, since he
    # has no personal chat with the bot) and the proposal names him.
    ask[f"contact_{pid}"] = "Rolf Rugman"
    assert await service.click(ANNA, ask) == 201
    assert "skickad till Rolf Rugman" in c.texts_to("a:personal-aad-anna")[-1]
    proposal = await service.proposal(pid)
    assert proposal.rug_contact == "Rolf Rugman"
    named = [card for card, _ in c.cards_to(CHANNEL, "endorse") if "Inte nu" in _titles(card)]
    assert named and "<at>Rolf Rugman</at>" in "\n".join(card_texts(named[-1]))

    # Only the initiator can ask on the proposal's behalf.
    assert await service.click(RUT, {"action": "ask_endorsement", "proposal": pid}) == 201
    assert c.texts_to("a:personal-aad-rut")[-1] == f"Jag hittar inget förslag med id {pid}."
    assert (await service.proposal(pid)).rug_contact == "Rolf Rugman"


async def test_a_name_not_in_the_rug_list_is_refused_at_its_step_with_the_members(
    service: Service,
) -> None:
    for text in dialog_answers(service)[:-1]:
        assert await service.say(ANNA, text) == 201
    assert await service.say(ANNA, "Göran Okänd") == 201
    said = "\n".join(service.connector.texts_to("a:personal-aad-anna")[-2:])
    assert "Jag hittar inte Göran Okänd bland RUG-deltagarna" in said
    assert "RUG-deltagarna är: Rut Rugsson, Rolf Rugman." in said
    draft = await service.services.records.proposals.draft_of("aad-anna")
    assert draft is not None and draft.proposal.rug_contact == ""


async def test_with_no_rug_list_the_step_and_the_summary_say_no_request_is_sent(
    tmp_path: Path, connector: RecordingConnector, knowledge: KnowledgeBase
) -> None:
    settings = Settings(data_dir=tmp_path / "data", port=0)
    async with Service.running(settings, connector, knowledge) as service:
        for text in dialog_answers(service)[:-1]:
            assert await service.say(ANNA, text) == 201
        step = "\n".join(card_texts(card_of(connector.messages()[-1])))
        assert "ingen förfrågan om förankring kan skickas härifrån" in step
        assert await service.say(ANNA, "Rut Rugsson") == 201
        summary = "\n".join(card_texts(card_of(connector.messages()[-1])))
        assert "ingen förfrågan skickas automatiskt" in summary
        assert "får RUG-deltagaren du angav en förfrågan" not in summary


def _after_working_days(start: datetime, days: int) -> datetime:
    """The first moment `days` working days after start (the fake clock of the reminders)."""
    moment = start
    while working_days_between(start, moment) < days:
        moment += timedelta(days=1)
    return moment


async def test_a_waiting_request_is_reminded_after_the_working_days_through_the_outbox(
    service: Service,
) -> None:
    c = service.connector
    await meet_everyone(service)
    pid = (await submit_directly(service, complete_proposal(service, "Hälsosamtal"))).id
    sent = parse_time((await service.proposal(pid)).created_at)
    assert sent is not None
    assert len(c.cards_to("a:personal-aad-rut", "endorse")) == 1

    assert await remind_endorsements(service.services, now=_after_working_days(sent, 4)) == 0
    await service.restart()
    fifth = _after_working_days(sent, 5)
    assert await remind_endorsements(service.services, now=fifth) == 1
    reminders = [
        body for _path, body, _id in c.posted if body.get("summary", "").startswith("Påminnelse")
    ]
    assert len(reminders) == 1
    assert len(c.cards_to("a:personal-aad-rut", "endorse")) == 2
    # The same day again: nothing new; five working days after the reminder: one more.
    assert await remind_endorsements(service.services, now=fifth) == 0
    assert await remind_endorsements(service.services, now=_after_working_days(fifth, 5)) == 1
    assert (await service.audit(pid)).count("endorsement_reminded") == 2

    # RUG's list of cases says how long it has waited and whom it waits for.
    assert await service.say(ROLF, "visa ärenden") == 201
    cases = "\n".join(card_texts(c.last_card_to("a:personal-aad-rolf")))
    assert "Väntar på förankring sedan 0 arbetsdagar – förfrågan till Rut Rugsson." in cases

    # Once endorsed, no more reminders.
    endorse = {"action": "endorse", "proposal": pid, "choice": "yes", "comment": ""}
    assert await service.click(RUT, endorse) == 201
    later = _after_working_days(fifth, 20)
    assert await remind_endorsements(service.services, now=later) == 0


async def test_notices_reach_the_initiator_in_the_language_of_their_client(
    service: Service,
) -> None:
    c = service.connector
    await meet_everyone(service)
    # Anna's Teams is in English: her personal chat's reference carries en-US.
    assert await service.say(ANNA, "help", locale="en-US") == 201
    pid = (await submit_directly(service, complete_proposal(service, "Hälsosamtal"))).id
    assert await service.click(RUT, {"action": "endorse", "proposal": pid, "choice": "no"}) == 201
    notice = "\n".join(card_texts(c.last_card_to("a:personal-aad-anna")))
    assert f"Your proposal {pid} is not endorsed yet" in notice
    assert "Rut Rugsson in RUG answered “Not now”." in notice
    assert "also gone to the RUG channel" in notice
    assert "svarat" not in notice and "Förslaget" not in notice
    endorse = {"action": "endorse", "proposal": pid, "choice": "yes", "comment": ""}
    assert await service.click(ROLF, endorse) == 201
    notice = "\n".join(card_texts(c.last_card_to("a:personal-aad-anna")))
    assert f"Your proposal {pid}" in notice, notice
    # Rut's own reply follows her (Swedish) client.
    assert "inte förankrat" in c.texts_to("a:personal-aad-rut")[-1]


async def test_portfoljen_gives_rug_the_counts_and_others_a_reason(service: Service) -> None:
    c = service.connector
    await meet_everyone(service)
    await submit_directly(service, complete_proposal(service, "Hälsosamtal"))
    await submit_directly(service, complete_proposal(service, "Trygg hemgång", ""))
    assert await service.say(ROLF, "Portföljen") == 201
    card = c.last_card_to("a:personal-aad-rolf")
    text = "\n".join(card_texts(card))
    assert "Portföljen i siffror" in text
    assert "2 inskickade förslag." in text
    assert "Inget förslag är beslutat ännu." in text
    facts = {f["title"]: f["value"] for n in _nodes(card) for f in n.get("facts", [])}
    assert facts["väntar på förankring"] == "2"
    assert facts["Region Halland"] == "2"
    assert await service.say(ANNA, "portföljen") == 201
    assert "bara deltagare i RUG" in c.texts_to("a:personal-aad-anna")[-1]
