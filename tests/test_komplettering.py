"""Komplettering over HTTP: RUG asks for several fields, the initiator is walked through each.

Issue 18, defect 2: asked for follow-up and resources, the initiator got the follow-up step,
then the summary; the next message was dropped without a word, the proposal went back to RUG
with resources still empty, and the summary listed the proposal itself as a similar initiative.
"""

from __future__ import annotations

from typing import Any

from domain.proposal import Status
from tests.builders import card_actions, card_of, card_texts
from tests.rug_scenario import (
    ANNA,
    CHANNEL,
    ROLF,
    RUT,
    complete_proposal,
    dialog_answers,
    fill_in_the_dialog,
    meet_everyone,
    submit_directly,
)
from tests.service import Service

ANNA_CHAT = "a:personal-aad-anna"
FOLLOW_UP = "Vi frågar personerna efter en månad hur trygga de känt sig."
RESOURCES = "En sjuksköterska 20 procent och en undersköterska från hemtjänsten."


async def _with_rug(service: Service) -> tuple[str, dict[str, Any]]:
    """Anna's proposal submitted and endorsed by Rut; the id and the case card's conversation."""
    c = service.connector
    await meet_everyone(service)
    assert await service.click(ANNA, await fill_in_the_dialog(service)) == 201
    pid = (await service.services.records.proposals.for_initiator("aad-anna"))[0].id
    requests = c.cards_to("a:personal-aad-rut", "endorse")
    endorse = {"action": "endorse", "proposal": pid, "choice": "yes", "comment": ""}
    assert await service.click(RUT, endorse, reply_to=requests[0][1]) == 201
    assert (await service.proposal(pid)).status == Status.WITH_RUG
    case_id = c.cards_to(CHANNEL, "decide")[-1][1]
    conv = {
        "reply_to": case_id,
        "conversation_id": f"{CHANNEL};messageid={case_id}",
        "conversation_type": "channel",
    }
    return pid, conv


async def _ask_for(
    service: Service, pid: str, conv: dict[str, Any], fields: str, locale: str = "sv-SE"
) -> None:
    """Rolf asks for komplettering of the given fields; Anna opens it from her notice."""
    more = {
        "action": "decide",
        "proposal": pid,
        "outcome": "komplettering_begard",
        "motivation": "Beskriv uppföljningen och vilka resurser ni behöver.",
        "fields": fields,
    }
    assert await service.click(ROLF, more, **conv) == 201
    assert (await service.proposal(pid)).status == Status.MORE_INFO_REQUESTED
    notice = service.connector.last_card_to(ANNA_CHAT)
    confirm = [a["data"] for a in card_actions(notice) if a["data"]["action"] == "confirm"]
    assert await service.click(ANNA, confirm[0], locale=locale) == 201


def _last(service: Service) -> str:
    return service.connector.texts_to(ANNA_CHAT)[-1]


async def test_komplettering_walks_every_requested_field_then_marks_what_changed(
    service: Service,
) -> None:
    c = service.connector
    pid, conv = await _with_rug(service)
    other = await submit_directly(service, complete_proposal(service, "Trygg hemgång för äldre"))
    await _ask_for(service, pid, conv, "follow_up,resources")

    step = _last(service)
    assert "Steg 1 av 2 som RUG bad om" in step
    assert "Uppföljning" in step
    assert await service.say(ANNA, FOLLOW_UP) == 201

    step = _last(service)
    assert "Steg 2 av 2 som RUG bad om" in step, step
    assert await service.say(ANNA, RESOURCES) == 201

    summary = card_of(c.messages()[-1])
    texts = "\n".join(card_texts(summary))
    assert RESOURCES in texts
    assert "Uppföljning (ändrad)" in texts
    assert "Resurser (ändrad)" in texts
    assert "Rubrik (ändrad)" not in texts
    # Another proposal like it is a similar initiative; the one being complemented is not.
    similar = [line for line in card_texts(summary) if line.endswith(")") and " (" in line]
    assert any(line.startswith(f"{other.id} ") for line in similar), texts
    assert not any(line.startswith(f"{pid} ") for line in similar), texts

    submit = next(a["data"] for a in card_actions(summary) if a["data"]["action"] == "submit")
    assert await service.click(ANNA, submit) == 201
    proposal = await service.proposal(pid)
    assert proposal.status == Status.WITH_RUG
    assert proposal.follow_up == FOLLOW_UP
    assert proposal.resources == RESOURCES
    completed = [e for e in proposal.history if e.action == "completed"][-1]
    assert completed.note == "follow_up, resources"
    # RUG's new case card says what was changed.
    case = "\n".join(card_texts(c.cards_to(CHANNEL, "decide")[-1][0]))
    assert "Kompletterat av Anna Andersson" in case
    assert "Ändrat: Uppföljning, Resurser." in case
    assert "oändrat" not in case


async def test_text_typed_at_the_komplettering_summary_gets_an_answer(service: Service) -> None:
    c = service.connector
    pid, conv = await _with_rug(service)
    await _ask_for(service, pid, conv, "resources")
    assert "Steg 1 av 1 som RUG bad om" in _last(service)
    assert await service.say(ANNA, RESOURCES) == 201
    before = len(c.texts_to(ANNA_CHAT))

    # A second thought typed at the summary is neither stored silently nor ignored.
    assert await service.say(ANNA, "Och en läkare några timmar i veckan.") == 201
    said = c.texts_to(ANNA_CHAT)[before:]
    assert any("ändra" in text.lower() and "Resurser" in text for text in said[:-1]), said
    assert (await service.proposal(pid)).resources == ""


async def test_back_and_skip_stay_among_the_requested_fields(service: Service) -> None:
    c = service.connector
    pid, conv = await _with_rug(service)
    await _ask_for(service, pid, conv, "follow_up,resources")
    assert await service.say(ANNA, FOLLOW_UP) == 201
    assert "Steg 2 av 2 som RUG bad om – Resurser" in _last(service)

    # "tillbaka" goes to the previous field RUG asked for, not the template's previous step.
    assert await service.say(ANNA, "tillbaka") == 201
    assert "Steg 1 av 2 som RUG bad om – Uppföljning" in _last(service)
    assert await service.say(ANNA, "tillbaka") == 201
    said = c.texts_to(ANNA_CHAT)
    assert "den första delen som RUG bad dig komplettera" in said[-2]
    assert "Steg 1 av 2 som RUG bad om" in said[-1]
    assert await service.say(ANNA, FOLLOW_UP) == 201

    # Resources are optional: skipped, the summary says RUG asked and nothing changed.
    assert await service.say(ANNA, "hoppa över") == 201
    texts = "\n".join(card_texts(card_of(c.messages()[-1])))
    assert "Uppföljning (ändrad)" in texts
    assert "Resurser (RUG bad om den – inte ändrad)" in texts

    # Sent back as it is: RUG's new card says what they asked for that was left unchanged.
    summary = card_of(c.messages()[-1])
    submit = next(a["data"] for a in card_actions(summary) if a["data"]["action"] == "submit")
    assert await service.click(ANNA, submit) == 201
    case = "\n".join(card_texts(c.cards_to(CHANNEL, "decide")[-1][0]))
    assert "Ändrat: Uppföljning. RUG bad också om, men oändrat: Resurser." in case


async def test_a_komplettering_left_off_walks_the_requested_fields_again(
    service: Service,
) -> None:
    pid, conv = await _with_rug(service)
    await _ask_for(service, pid, conv, "follow_up,resources")
    assert await service.say(ANNA, FOLLOW_UP) == 201
    assert await service.say(ANNA, "avbryt") == 201
    assert await service.say(ANNA, "ja") == 201

    # Back later through "Jag har en idé": the komplettering, not the plain draft's summary.
    assert await service.say(ANNA, "Jag har en idé") == 201
    assert await service.say(ANNA, "fortsätt") == 201
    said = service.connector.texts_to(ANNA_CHAT)
    assert "Nu kompletterar du förslaget " + pid in said[-2]
    assert "Steg 1 av 2 som RUG bad om – Uppföljning" in said[-1]
    assert await service.say(ANNA, FOLLOW_UP) == 201
    assert "Steg 2 av 2 som RUG bad om – Resurser" in _last(service)
    assert await service.say(ANNA, RESOURCES) == 201
    texts = "\n".join(card_texts(card_of(service.connector.messages()[-1])))
    assert "Uppföljning (ändrad)" in texts
    assert "Resurser (ändrad)" in texts


async def test_the_komplettering_header_and_summary_reply_in_english(service: Service) -> None:
    pid, conv = await _with_rug(service)
    await _ask_for(service, pid, conv, "resources", locale="en-US")
    assert "Step 1 of 1 that RUG asked for – Resources" in _last(service)
    assert any(
        f"You are now completing proposal {pid}" in text
        for text in service.connector.texts_to(ANNA_CHAT)[-3:]
    )
    assert await service.say(ANNA, RESOURCES, locale="en-US") == 201
    assert "Resources (changed)" in _last(service)
    assert await service.say(ANNA, "And a doctor a few hours a week.", locale="en-US") == 201
    said = service.connector.texts_to(ANNA_CHAT)[-2]
    assert "I have not saved “And a doctor a few hours a week.”" in said
    assert "RUG asked for: Resources." in said


async def test_skicka_in_typed_at_any_step_is_the_submit_button_when_complete(
    service: Service,
) -> None:
    """'skicka in' at the RUG-contact step is no person's name; typed at the summary it submits."""
    c = service.connector
    await meet_everyone(service)
    for text in dialog_answers(service)[:-1]:
        assert await service.say(ANNA, text) == 201
    assert await service.say(ANNA, "skicka in") == 201
    draft = await service.services.records.proposals.draft_of("aad-anna")
    assert draft is not None and draft.proposal.rug_contact == ""
    assert "Allt som behövs är ifyllt" in "\n".join(c.texts_to("a:personal-aad-anna")[-2:])
    assert await service.say(ANNA, "Skicka in!") == 201
    submitted = await service.services.records.proposals.for_initiator("aad-anna")
    assert [p.title for p in submitted] == ["Trygg hemgång"]
    assert "är inskickat" in "\n".join(c.texts_to("a:personal-aad-anna")[-2:])


async def test_skicka_in_before_the_proposal_is_complete_shows_what_is_missing(
    service: Service,
) -> None:
    c = service.connector
    for text in dialog_answers(service)[:3]:
        assert await service.say(ANNA, text) == 201
    assert await service.say(ANNA, "skicka in") == 201
    assert "kan inte skickas in än" in "\n".join(c.texts_to("a:personal-aad-anna")[-2:])
    assert await service.services.records.proposals.for_initiator("aad-anna") == []
    summary = "\n".join(card_texts(card_of(c.messages()[-1])))
    assert "Sammanfattning av ditt förslag" in summary
