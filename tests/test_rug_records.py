"""Honest records (issue 18, defect 5): a komplettering request is no decision, the case card
keeps who asked for what and why, and the records say who was asked, who said "Inte nu" and
who endorsed – over the real HTTP endpoint."""

from __future__ import annotations

from domain.proposal import Status
from presentation.texts import Texts
from rug.document import record_lines
from tests.builders import card_of, card_texts
from tests.rug_scenario import (
    CHANNEL,
    ROLF,
    RUT,
    complete_proposal,
    meet_everyone,
    submit_directly,
)
from tests.service import Service


async def test_a_komplettering_is_no_decision_and_a_second_click_keeps_who_asked_and_why(
    service: Service,
) -> None:
    c = service.connector
    await meet_everyone(service)
    pid = (await submit_directly(service, complete_proposal(service, "Trygg hemgång"))).id
    endorse = {"action": "endorse", "proposal": pid, "choice": "yes", "comment": ""}
    assert await service.click(RUT, endorse) == 201
    cases = c.cards_to(CHANNEL, "decide")
    assert len(cases) == 1
    case_text = "\n".join(card_texts(cases[0][0]))
    # The contact Anna named is shown as asked, not as if the endorsement were theirs.
    assert "Förankrat med" not in case_text
    assert "Förankrat av Rut Rugsson" in case_text

    conv = {"conversation_id": f"{CHANNEL};messageid={cases[0][1]}", "conversation_type": "channel"}
    more = {
        "action": "decide",
        "proposal": pid,
        "outcome": "komplettering_begard",
        "motivation": "Beskriv uppföljningen.",
        "fields": "follow_up,resources",
    }
    assert await service.click(ROLF, more, reply_to=cases[0][1], **conv) == 201
    reply = c.texts_to(conv["conversation_id"])[-1]
    assert "Beslutet" not in reply
    assert "Begäran om komplettering av " + pid + " är skickad" in reply
    assert "Komplettering begärd av Rolf Rugman" in "\n".join(card_texts(card_of(c.updates()[-1])))

    # A second click on the same card: nothing changes and the card still says who asked why.
    approve = {"action": "decide", "proposal": pid, "outcome": "bifallen", "motivation": "Bra"}
    assert await service.click(ROLF, approve, reply_to=cases[0][1], **conv) == 201
    assert "väntar på komplettering" in c.texts_to(conv["conversation_id"])[-1]
    card = "\n".join(card_texts(card_of(c.updates()[-1])))
    assert "Komplettering begärd av Rolf Rugman" in card
    assert "Beskriv uppföljningen." in card
    assert "Inget beslut kan fattas" not in card
    proposal = await service.proposal(pid)
    assert proposal.status == Status.MORE_INFO_REQUESTED
    assert proposal.decision is None
    lines = record_lines(proposal, Texts.load())
    assert any(line.startswith("Komplettering begärd av Rolf Rugman") for line in lines)
    assert not any(line.startswith("Beslut:") for line in lines)


async def test_records_name_who_said_inte_nu_and_never_as_endorser(service: Service) -> None:
    await meet_everyone(service)
    pid = (await submit_directly(service, complete_proposal(service, "Hälsosamtal"))).id
    assert await service.click(RUT, {"action": "endorse", "proposal": pid, "choice": "no"}) == 201
    proposal = await service.proposal(pid)
    assert proposal.rug_endorsement is None
    lines = record_lines(proposal, Texts.load())
    assert "Förfrågan om förankring skickad till: Rut Rugsson" in lines
    assert any(line.startswith("Rut Rugsson svarade ”Inte nu”") for line in lines)
    assert "Inte förankrat av någon RUG-deltagare ännu." in lines
    assert not any(line.startswith("Förankrat av") for line in lines)
