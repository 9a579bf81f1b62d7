"""The escalation loop over the real HTTP endpoint: a declined question reaches the coordinators'
channel, a coordinator answers in the card, the asker gets the answer in their chat.

Anna asks, Rut (a RUG member, not a coordinator) tries to answer, Cora (a coordinator) answers.
The app runs beside a local Bot Connector that records proactive posts and card updates; the
CLI then reads the same data folder after the service has stopped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.cli import main
from bot.settings import Settings
from knowledge.kb import KnowledgeBase
from tests.builders import (
    card_actions,
    card_of,
    card_texts,
    luhn_personnummer,
    user,
    wait_until,
)
from tests.rug_scenario import ANNA, FAST, RUT, rug_settings, write_people
from tests.service import RecordingConnector, Service

CORA = user("aad-cora", "Cora Samordnare")
COORDINATORS = "19:samordnare@thread.tacv2"
ANNA_CHAT = "a:personal-aad-anna"
ANNA_EMAIL = "anna.andersson@example.org"
QUESTION = "Vilken färg har bilen?"


@dataclasses.dataclass
class MemberConnector(RecordingConnector):
    """The connector, also answering Teams' member look-up (where the asker's e-mail is)."""

    async def _handle(self, request: web.Request) -> web.Response:
        if request.method == "GET" and "/members/" in request.path:
            member_id = request.path.rsplit("/", 1)[-1]
            return web.json_response(
                {"id": member_id, "name": "Anna Andersson", "email": ANNA_EMAIL}
                if member_id == ANNA["id"]
                else {"id": member_id}
            )
        return await super()._handle(request)


def coordinator_settings(folder: Path) -> Settings:
    """RUG's people as in the RUG tests, and Cora on the coordinators' list."""
    coordinators = write_people(folder / "coordinators.json", [(CORA, "Region Halland")])
    return dataclasses.replace(rug_settings(folder), coordinators_path=coordinators)


@pytest.fixture
async def loop_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, knowledge: KnowledgeBase
) -> AsyncIterator[Service]:
    monkeypatch.setattr("bot.delivery.DEFAULT_RETRY", FAST)
    async with Service.running(
        coordinator_settings(tmp_path), MemberConnector(), knowledge
    ) as running:
        yield running


def in_channel(card_id: str) -> dict[str, Any]:
    """A click on a card in the coordinators' channel (its thread)."""
    return {
        "conversation_id": f"{COORDINATORS};messageid={card_id}",
        "conversation_type": "channel",
    }


async def stored(service: Service, eid: str) -> dict[str, Any]:
    """The escalation as stored now (the running app's records: they change on restart)."""
    found = await service.services.records.escalations.get(eid)
    assert found is not None
    return dict(found.document)


def run_cli(args: list[str], data: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("OMTANKE_DATA_DIR", str(data))
    return main(args)


async def ask_and_escalate(service: Service, who: dict[str, Any], question: str) -> str:
    """`who` asks in their chat, is declined, presses the escalate button; the escalation id."""
    c = service.connector
    chat = f"a:personal-{who['aadObjectId']}"
    assert await service.say(who, question) == 201
    declines = c.cards_to(chat, "escalate")
    assert declines, c.texts_to(chat)
    assert "Det kan jag tyvärr inte" in "\n".join(card_texts(declines[-1][0]))
    escalate = next(
        a["data"] for a in card_actions(declines[-1][0]) if a["data"]["action"] == "escalate"
    )
    assert escalate["question"] == question
    assert await service.click(who, escalate, reply_to=declines[-1][1]) == 201
    assert "skickat din fråga vidare till samordnarna" in c.texts_to(chat)[-1]
    escalations = await service.services.records.escalations.all()
    stored = [e for e in escalations if e["question"] == question]
    assert len(stored) == 1
    return str(stored[0]["id"])


async def register_coordinators_channel(service: Service) -> None:
    """Rut (not a coordinator) may not; Cora may, in the channel."""
    c = service.connector
    where = {"conversation_id": f"{COORDINATORS};messageid=1", "conversation_type": "channel"}
    assert await service.say(RUT, "registrera samordnarkanal", **where) == 201
    assert "Bara samordnarna" in c.texts_to(f"{COORDINATORS};messageid=1")[-1]
    assert await service.say(CORA, "registrera samordnarkanal") == 201
    assert "i samordnarnas kanal i Teams" in c.texts_to("a:personal-aad-cora")[-1]
    assert await service.say(CORA, "Registrera samordnarkanal", **where) == 201
    assert "samordnarnas kanal" in c.texts_to(f"{COORDINATORS};messageid=1")[-1]
    audit = [
        e["action"] for e in await service.services.records.audit.read("coordinator_channel")
    ]
    assert audit == ["coordinator_channel_refused", "coordinator_channel_registered"]


async def test_escalation_journey_from_decline_to_answer_and_the_cli(
    loop_service: Service, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """ask → decline → escalate → card in the coordinators' channel → a non-coordinator's
    answer refused → a coordinator's answer → the asker receives it → the card is updated →
    `omtanke escalations` shows it answered."""
    service = loop_service
    c = service.connector
    await register_coordinators_channel(service)

    eid = await ask_and_escalate(service, ANNA, QUESTION)
    first = await stored(service, eid)
    assert (first["name"], first["email"], first["aad"], first["status"]) == (
        "Anna Andersson",
        ANNA_EMAIL,
        "aad-anna",
        "open",
    )
    assert await service.services.records.references.personal("aad-anna") is not None
    cards = c.cards_to(COORDINATORS, "escalation_answer")
    assert len(cards) == 1
    card, card_id = cards[0]
    texts = card_texts(card)
    assert "Fråga till samordnarna" in texts and QUESTION in texts
    assert "Från: Anna Andersson" in texts and f"E-post: {ANNA_EMAIL}" in texts
    assert [a["title"] for a in card_actions(card)] == ["Skicka svar", "Markera som klar"]
    await service.restart()

    # Rut sits in RUG but is no coordinator: refused, audited, nothing changes.
    answer = {"action": "escalation_answer", "escalation": eid, "answer": "Den är röd."}
    assert await service.click(RUT, answer, reply_to=card_id, **in_channel(card_id)) == 201
    refusal = c.texts_to(f"{COORDINATORS};messageid={card_id}")[-1]
    assert "Det här kan bara samordnarna för Omtanke Halland göra. Inget har ändrats." in refusal
    done = {"action": "escalation_done", "escalation": eid}
    assert await service.click(RUT, done, reply_to=card_id, **in_channel(card_id)) == 201
    assert (await stored(service, eid))["status"] == "open"
    assert not c.updates()
    assert [e["action"] for e in await service.services.records.audit.read(eid)] == [
        "escalated",
        "escalation_answer_refused",
        "escalation_handled_refused",
    ]

    # A personnummer in the answer is refused before anything is stored or sent.
    leaky = {**answer, "answer": f"Fråga om {luhn_personnummer()}."}
    assert await service.click(CORA, leaky, reply_to=card_id, **in_channel(card_id)) == 201
    assert "personnummer" in c.texts_to(f"{COORDINATORS};messageid={card_id}")[-1]
    assert (await stored(service, eid))["status"] == "open"
    anna_before = len(c.texts_to(ANNA_CHAT))

    # Cora answers: Anna gets it in her chat, the card shows who answered, the audit has it.
    answer["answer"] = "Bilarna i hemtjänsten är vita.\nFråga gärna igen!"
    assert await service.click(CORA, answer, reply_to=card_id, **in_channel(card_id)) == 201
    anna = c.texts_to(ANNA_CHAT)
    assert len(anna) == anna_before + 1
    assert anna[-1].startswith(f"**Svar på din fråga om ”{QUESTION}”**")
    assert "Bilarna i hemtjänsten är vita." in anna[-1] and "Cora Samordnare" in anna[-1]
    assert "Svaret är skickat till Anna Andersson" in c.texts_to(
        f"{COORDINATORS};messageid={card_id}"
    )[-1]
    updated = c.updates()
    puts = [call.path for call in c.calls if call.method == "PUT"]
    assert len(updated) == 1 and puts[0].endswith(f"/activities/{card_id}")
    state = "\n".join(card_texts(card_of(updated[-1])))
    assert "Besvarad av Cora Samordnare" in state and "Bilarna i hemtjänsten är vita." in state
    assert not card_actions(card_of(updated[-1]))
    record = await stored(service, eid)
    assert (record["status"], record["answered_by"], record["answered_by_aad"]) == (
        "answered",
        "Cora Samordnare",
        "aad-cora",
    )
    audit = [e["action"] for e in await service.services.records.audit.read(eid)]
    assert audit[-1] == "escalation_answered"
    await service.restart()

    # A second click on the answered card: already answered, nothing sent again.
    again = {**answer, "answer": "Ett annat svar."}
    assert await service.click(CORA, again, reply_to=card_id, **in_channel(card_id)) == 201
    assert "redan besvarad av Cora Samordnare" in c.texts_to(
        f"{COORDINATORS};messageid={card_id}"
    )[-1]
    assert len(c.texts_to(ANNA_CHAT)) == anna_before + 1
    assert (await stored(service, eid))["answer"].startswith("Bilarna")

    # The coordinators' command, on the same data folder once the service has stopped.
    await service.stop()
    data = service.settings.data_dir
    assert await asyncio.to_thread(run_cli, ["escalations"], data, monkeypatch) == 0
    header, line, answer_line = capsys.readouterr().out.splitlines()
    assert header.split()[:3] == ["Ställd", "Status", "Ålder"]
    assert "besvarad" in line.split() and "Anna Andersson" in line and line.endswith(QUESTION)
    assert answer_line.strip().startswith("svar från Cora Samordnare")
    # The answer's line break is shown, not obeyed (user text on a terminal).
    assert "Bilarna i hemtjänsten är vita.\\nFråga gärna igen!" in answer_line
    assert await asyncio.to_thread(run_cli, ["escalations", "--open"], data, monkeypatch) == 0
    assert capsys.readouterr().out == "Inga obesvarade frågor.\n"
    assert await asyncio.to_thread(run_cli, ["escalations", "--json"], data, monkeypatch) == 0
    rows = [json.loads(row) for row in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["status"], r["handled"], r["answered_by"]) for r in rows] == [
        (eid, "answered", True, "Cora Samordnare")
    ]


async def test_marked_done_tells_the_asker_in_their_language(loop_service: Service) -> None:
    """'Markera som klar': no answer text needed, the asker (English Teams) is told in English,
    the card says who closed it, and a later 'Skicka svar' on it is 'already done'."""
    service = loop_service
    c = service.connector
    bo = user("aad-bo", "Bo Berg")
    await register_coordinators_channel(service)
    assert await service.say(bo, "What colour is the car?", locale="en-US") == 201
    declines = c.cards_to("a:personal-aad-bo", "escalate")
    escalate = next(
        a["data"] for a in card_actions(declines[-1][0]) if a["data"]["action"] == "escalate"
    )
    assert await service.click(bo, escalate, locale="en-US") == 201
    [(card, card_id)] = c.cards_to(COORDINATORS, "escalation_done")
    eid = next(
        a["data"]["escalation"]
        for a in card_actions(card)
        if a["data"]["action"] == "escalation_done"
    )
    # The coordinators' card is Swedish, whatever language the question came in.
    assert "Fråga till samordnarna" in card_texts(card)

    done = {"action": "escalation_done", "escalation": eid, "answer": ""}
    assert await service.click(CORA, done, reply_to=card_id, **in_channel(card_id)) == 201
    notice = c.texts_to("a:personal-aad-bo")[-1]
    assert notice.startswith("**Your question about “What colour is the car?”**")
    assert "Cora Samordnare" in notice
    assert "Markerad som klar av Cora Samordnare" in "\n".join(card_texts(card_of(c.updates()[-1])))
    record = await stored(service, eid)
    assert (record["status"], record["handled"], "answer" in record) == ("handled", True, False)

    answer = {"action": "escalation_answer", "escalation": eid, "answer": "Vit."}
    assert await service.click(CORA, answer, reply_to=card_id, **in_channel(card_id)) == 201
    assert "redan markerad som klar av Cora Samordnare" in c.texts_to(
        f"{COORDINATORS};messageid={card_id}"
    )[-1]
    assert len([t for t in c.texts_to("a:personal-aad-bo") if "Cora" in t]) == 1
    audit = [e["action"] for e in await service.services.records.audit.read(eid)]
    assert audit == ["escalated", "escalation_handled"]


async def test_a_question_waits_for_the_channel_to_be_registered(loop_service: Service) -> None:
    """Escalated before the coordinators have a channel: the card goes out once they register
    it (the outbox keeps it; registering wakes the worker)."""
    service = loop_service
    c = service.connector
    eid = await ask_and_escalate(service, ANNA, QUESTION)
    assert not c.cards_to(COORDINATORS, "escalation_answer")
    assert await service.services.records.outbox.pending()
    await service.restart()

    await register_coordinators_channel(service)
    await wait_until(lambda: bool(c.cards_to(COORDINATORS, "escalation_answer")))

    [(card, _card_id)] = c.cards_to(COORDINATORS, "escalation_answer")
    assert QUESTION in card_texts(card)
    assert any(a["data"].get("escalation") == eid for a in card_actions(card))


async def test_a_question_stored_without_its_card_gets_it_at_start_up(
    loop_service: Service,
) -> None:
    """A crash between storing the question and queueing its card: start-up queues it, once."""
    service = loop_service
    c = service.connector
    await register_coordinators_channel(service)
    # What the desk stores first, without the outbox item that follows it.
    record = await service.services.records.escalations.record(
        "aad-anna", QUESTION, "sv", name="Anna Andersson", aad="aad-anna", status="open"
    )
    assert not c.cards_to(COORDINATORS, "escalation_answer")

    await service.restart()
    await wait_until(lambda: bool(c.cards_to(COORDINATORS, "escalation_answer")))
    # Delivered *and* marked so: a restart between the two re-sends (at least once, by design).
    await wait_until(lambda: outbox_empty(service))
    await service.restart()
    await wait_until(lambda: outbox_empty(service))

    cards = c.cards_to(COORDINATORS, "escalation_answer")
    assert len(cards) == 1
    assert any(a["data"].get("escalation") == record["id"] for a in card_actions(cards[0][0]))


async def outbox_empty(service: Service) -> bool:
    return not await service.services.records.outbox.pending()
