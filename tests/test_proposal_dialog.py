"""The proposal dialog, driven through the real bot on the SDK's TestAdapter."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.proposal import Status
from knowledge.kb import KnowledgeBase
from tests.builders import BotHarness, card_actions, card_of, luhn_personnummer
from tests.dialog_scenario import ANSWERS, fill_until_summary, last_text, submit_data
from tests.rug_scenario import ANNA
from tests.service import Service


async def test_happy_path_stores_a_complete_proposal(harness: BotHarness) -> None:
    first = await harness.say("Jag har en idé")
    assert "Steg 1 av 12" in last_text(first)
    summary = await fill_until_summary(harness)
    text = last_text(summary)
    assert "Sammanfattning av ditt förslag" in text
    assert "✔ 1." in text and "✔ 2." in text and "✔ 3." in text
    assert "⏳ 4." in text
    done = await harness.submit(submit_data(summary))
    assert "är inskickat" in last_text(done)
    stored = await harness.services.records.proposals.for_initiator("aad-anna")
    assert len(stored) == 1
    proposal = stored[0]
    assert proposal.id.startswith("OH-")
    assert proposal.status == Status.AWAITING_ENDORSEMENT
    assert proposal.title == ANSWERS["title"]
    assert proposal.success_factors == {"Trygg": ANSWERS["motivation"]}
    assert proposal.initiator.name == "Anna Andersson"
    assert proposal.initiator.organisation == ANSWERS["initiator_org"]
    assert await harness.services.records.proposals.draft_of("aad-anna") is None
    audit = await harness.services.records.audit.read(proposal.id)
    assert [e["action"] for e in audit] == ["submitted"]


async def test_stale_summary_clicked_twice_creates_one_proposal(harness: BotHarness) -> None:
    summary = await fill_until_summary(harness)
    data = submit_data(summary)
    await harness.submit(data)
    again = await harness.submit(data)
    assert "redan inskickat" in last_text(again)
    assert len(await harness.services.records.proposals.all()) == 1


async def test_summary_card_from_an_older_revision_is_not_submitted(harness: BotHarness) -> None:
    summary = await fill_until_summary(harness)
    data = submit_data(summary)
    await harness.submit({"action": "edit", "field": "title"})
    await harness.say("En ny rubrik")
    stale = await harness.submit(data)
    assert "äldre version" in last_text(stale)
    assert await harness.services.records.proposals.all() == []
    draft = await harness.services.records.proposals.draft_of("aad-anna")
    assert draft is not None and draft.proposal.title == "En ny rubrik"


async def test_skallkrav_1_fails_then_is_fixed(harness: BotHarness) -> None:
    await harness.say("jag har en idé")
    for key in ("title", "background", "description"):
        await harness.say(ANSWERS[key])
    failed = await harness.say("Hallands sjukhus")
    text = last_text(failed)
    assert "Hallands sjukhus → Region Halland" in text
    assert "✖ Skallkrav 1" in text and "Ingen kommun" in text
    assert "Steg 4 av 12" in text
    fixed = await harness.say("Hallands sjukhus, hemsjukvården i Kungsbacka")
    assert "✔ Skallkrav 1" in last_text(fixed)
    assert "Steg 5 av 12" in last_text(fixed)


async def test_skallkrav_2_unknown_group_does_not_count(harness: BotHarness) -> None:
    await harness.say("jag har en idé")
    for key in ("title", "background", "description", "organisations"):
        await harness.say(ANSWERS[key])
    failed = await harness.say("cyklister")
    assert "✖ Skallkrav 2" in last_text(failed)
    assert "Steg 5 av 12" in last_text(failed)
    fixed = await harness.submit(
        {
            "action": "step",
            "step": "target_groups",
            "target_groups": harness.services.target_groups.groups[0].id,
        }
    )
    assert "✔ Skallkrav 2" in last_text(fixed)


async def test_skallkrav_3_made_up_factor_does_not_count(harness: BotHarness) -> None:
    await harness.say("jag har en idé")
    for key in ("title", "background", "description", "organisations", "target_groups"):
        await harness.say(ANSWERS[key])
    failed = await harness.say("Billig")
    assert "✖ Skallkrav 3" in last_text(failed)
    fixed = await harness.say("trygghet")
    text = last_text(fixed)
    assert "✔ Skallkrav 3" in text
    assert "Steg 6 av 12 – Trygg" in text
    assert "När jag bemöter individen med omtanke och respekt." in text


async def test_back_skip_help_and_cancel(harness: BotHarness) -> None:
    await harness.say("jag har en idé")
    first = await harness.say("tillbaka")
    assert "första steget" in last_text(first)
    await harness.say(ANSWERS["title"])
    back = await harness.say("tillbaka")
    assert "Steg 1 av 12" in last_text(back)
    required = await harness.say("hoppa över")
    assert "går inte att hoppa över" in last_text(required)
    help_reply = await harness.say("hjälp")
    assert "Rubriken är det RUG och andra ser först" in last_text(help_reply)
    ask_cancel = await harness.say("avbryt")
    assert "Vill du avbryta?" in last_text(ask_cancel)
    kept_going = await harness.submit({"action": "confirm", "answer": "no", "about": "cancel"})
    assert "Steg 1 av 12" in last_text(kept_going)
    await harness.say("avbryt")
    cancelled = await harness.say("ja")
    assert "utkast är sparat" in last_text(cancelled)
    draft = await harness.services.records.proposals.draft_of("aad-anna")
    assert draft is not None and draft.proposal.title == ANSWERS["title"]
    # After cancelling, text goes to the knowledge base again, not to the dialog.
    answer = await harness.say("vad är rug?")
    assert "Källa:" in last_text(answer)


async def test_a_question_is_answered_and_the_step_resumes(harness: BotHarness) -> None:
    await harness.say("jag har en idé")
    await harness.say(ANSWERS["title"])
    replies = await harness.say("Vad är RUG?")
    text = last_text(replies)
    assert "Regional utvecklingsgrupp" in text and "Källa:" in text
    assert "Vi fortsätter där vi var." in text and "Steg 2 av 12" in text
    draft = await harness.services.records.proposals.draft_of("aad-anna")
    assert draft is not None and draft.proposal.background == ""


async def test_resume_after_restart_of_the_store(tmp_path: Path, knowledge: KnowledgeBase) -> None:
    data = tmp_path / "data"
    first = await BotHarness.open(data, kb=knowledge)
    await first.say("jag har en idé")
    await first.say(ANSWERS["title"])
    await first.say(ANSWERS["background"])
    await first.close()

    second = await BotHarness.open(data, kb=knowledge)
    try:
        # The dialog state survived on disk: the next answer lands on step 3.
        replies = await second.say(ANSWERS["description"])
        assert "Steg 4 av 12" in last_text(replies)
        draft = await second.services.records.proposals.draft_of("aad-anna")
        assert draft is not None
        assert (draft.proposal.title, draft.proposal.description) == (
            ANSWERS["title"],
            ANSWERS["description"],
        )
    finally:
        await second.close()


async def test_coming_back_later_offers_to_continue_or_start_over(harness: BotHarness) -> None:
    await harness.say("jag har en idé")
    await harness.say(ANSWERS["title"])
    await harness.say("avbryt")
    await harness.say("ja")
    offer = await harness.say("jag har en idé")
    assert "påbörjat förslag" in last_text(offer)
    assert ANSWERS["title"] in last_text(offer)
    resumed = await harness.submit({"action": "resume", "choice": "continue"})
    assert "Steg 2 av 12" in last_text(resumed)
    await harness.say("avbryt")
    await harness.say("ja")
    await harness.say("jag har en idé")
    restarted = await harness.submit({"action": "resume", "choice": "restart"})
    assert "börjar om" in last_text(restarted) and "Steg 1 av 12" in last_text(restarted)
    draft = await harness.services.records.proposals.draft_of("aad-anna")
    assert draft is not None and draft.proposal.title == ""


async def test_returning_after_hours_inside_the_dialog_is_asked_first(harness: BotHarness) -> None:
    await harness.say("jag har en idé")
    await harness.say(ANSWERS["title"])
    storage = harness.services.bot_storage
    state = await storage.read(_state_keys(harness))
    # Age the dialog's last turn by two days, as if the user came back after a weekend.
    key, doc = next(iter(state.items()))
    instance = doc["omtanke.dialog_state"].dialog_stack[0].state["dialogs"].dialog_stack[0]
    instance.state["last_at"] = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    await storage.write({key: doc})
    replies = await harness.say("Något helt annat")
    assert "påbörjat förslag" in last_text(replies)
    draft = await harness.services.records.proposals.draft_of("aad-anna")
    assert draft is not None and draft.proposal.background == ""


def _state_keys(h: BotHarness) -> list[str]:
    template = h.adapter.template
    return [f"{template.channel_id}/conversations/{template.conversation.id}"]


async def test_card_submit_with_missing_wrong_or_extra_fields(harness: BotHarness) -> None:
    await harness.say("jag har en idé")
    missing = await harness.submit({"action": "step"})
    assert "kortet kan jag tyvärr inte använda" in last_text(missing)
    wrong_type = await harness.submit({"action": "step", "step": "title", "text": ["lista"]})
    assert "kortet kan jag tyvärr inte använda" in last_text(wrong_type)
    other_step = await harness.submit({"action": "step", "step": "follow_up", "text": "x"})
    assert "annat steg" in last_text(other_step)
    extra = await harness.submit(
        {"action": "step", "step": "title", "text": "Rubrik", "status": "bifallen", "id": "OH-1"}
    )
    assert "Steg 2 av 12" in last_text(extra)
    draft = await harness.services.records.proposals.draft_of("aad-anna")
    assert draft is not None
    assert (draft.proposal.title, draft.proposal.status, draft.proposal.id) == (
        "Rubrik",
        "utkast",
        "",
    )


async def test_too_long_text_gets_a_friendly_message(harness: BotHarness) -> None:
    await harness.say("jag har en idé")
    replies = await harness.say("x" * 400)
    assert "högst 150 tecken" in last_text(replies)
    draft = await harness.services.records.proposals.draft_of("aad-anna")
    assert draft is not None and draft.proposal.title == ""


async def test_personnummer_is_refused_and_stored_nowhere(
    harness: BotHarness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    number = luhn_personnummer("121212", "121")
    await harness.say("jag har en idé")
    await harness.say(ANSWERS["title"])
    replies = await harness.say(f"Patienten {number} kommer ofta tillbaka")
    assert "personnummer" in last_text(replies)
    card_reply = await harness.submit(
        {"action": "step", "step": "background", "text": f"pnr {number}"}
    )
    assert "personnummer" in last_text(card_reply)
    question = await harness.say(f"vad gäller för {number}?")
    assert "personnummer" in last_text(question)
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert number not in path.read_text(errors="replace"), path
    assert number not in caplog.text
    assert number.replace("-", "") not in caplog.text


async def test_edit_from_summary_returns_to_summary(harness: BotHarness) -> None:
    await fill_until_summary(harness)
    prompt = await harness.submit({"action": "edit", "field": "follow_up"})
    assert "Hur ska initiativet följas upp?" in last_text(prompt)
    back_to_summary = await harness.say("Vi mäter kontinuitet varje månad.")
    assert "Sammanfattning av ditt förslag" in last_text(back_to_summary)
    assert "Vi mäter kontinuitet varje månad." in last_text(back_to_summary)


async def test_similar_proposals_are_shown_before_submitting(harness: BotHarness) -> None:
    summary = await fill_until_summary(harness)
    await harness.submit(submit_data(summary))
    other = BotHarness(harness.services, aad="aad-bo", name="Bo Berg")
    await other.say("jag har en idé")
    await other.say("Trygg hemgång för äldre personer")
    for key in ("background", "description", "organisations", "target_groups", "malbild"):
        await other.say(ANSWERS[key])
    await other.say(ANSWERS["motivation"])
    for key in ("expected_effects", "follow_up"):
        await other.say(ANSWERS[key])
    await other.say("hoppa över")
    await other.say("hoppa över")
    await other.say(ANSWERS["initiator_org"])
    replies = await other.say("hoppa över")
    text = last_text(replies)
    assert "liknande initiativ" in text
    assert "Trygg hemgång för äldre" in text and "OH-" in text


async def test_happy_path_over_the_real_http_endpoint(
    service: Service, knowledge: KnowledgeBase
) -> None:
    async def send(text: str | None = None, value: dict[str, Any] | None = None) -> dict[str, Any]:
        before = len(service.connector.messages())
        if value is None:
            assert text is not None
            assert await service.say(ANNA, text) == 201
        else:
            assert await service.click(ANNA, value) == 201
        messages = await service.connector.wait_for(before + 1)
        return messages[-1]

    await send("jag har en idé")
    for key in ("title", "background", "description", "organisations", "target_groups", "malbild"):
        await send(ANSWERS[key])
    for key in ("motivation", "expected_effects", "follow_up"):
        await send(ANSWERS[key])
    await send("hoppa över")
    await send("hoppa över")
    await send(ANSWERS["initiator_org"])
    summary = await send("hoppa över")
    card = card_of(summary)
    data = next(
        a["data"] for a in card_actions(card) if a.get("data", {}).get("action") == "submit"
    )
    done = await send(value=data)
    assert "är inskickat" in done["text"]
    await service.stop()
    reopened = await BotHarness.open(service.settings.data_dir, kb=knowledge)
    try:
        stored = await reopened.services.records.proposals.all()
        assert [p.title for p in stored] == [ANSWERS["title"]]
    finally:
        await reopened.close()
