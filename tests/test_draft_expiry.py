"""Drafts untouched for 90 days are removed, after a reminder a week before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.maintenance import notify_in_personal_chat, sweep_drafts
from storage.expiry import DraftAge, SweepPlan, plan_sweep
from tests.builders import BotHarness

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_plan_reminds_before_and_removes_after_the_reminder() -> None:
    drafts = [
        DraftAge("fresh", NOW - timedelta(days=10), None),
        DraftAge("soon", NOW - timedelta(days=84), None),
        DraftAge("expired_unreminded", NOW - timedelta(days=120), None),
        DraftAge("expired_reminded", NOW - timedelta(days=91), NOW - timedelta(days=8)),
        DraftAge("reminded_recently", NOW - timedelta(days=95), NOW - timedelta(days=2)),
    ]
    assert plan_sweep(drafts, NOW) == SweepPlan(
        remind=("soon", "expired_unreminded"), remove=("expired_reminded",)
    )


async def test_sweep_reminds_then_removes_and_touching_the_draft_resets(
    harness: BotHarness,
) -> None:
    await harness.say("jag har en idé")
    await harness.say("Gemensam läkemedelsgenomgång")
    sent: list[tuple[str, str]] = []

    async def notify(person: str, text: str) -> None:
        sent.append((person, text))

    services = harness.services
    later = datetime.now(UTC) + timedelta(days=85)
    assert await sweep_drafts(services, notify, later) == (1, 0)
    assert sent[0][0] == "aad-anna"
    assert "Gemensam läkemedelsgenomgång" in sent[0][1] and "7 dagar" in sent[0][1]
    # A second sweep the same day neither reminds again nor removes.
    assert await sweep_drafts(services, notify, later) == (0, 0)
    much_later = datetime.now(UTC) + timedelta(days=95)
    assert await sweep_drafts(services, notify, much_later) == (0, 1)
    assert await services.records.proposals.draft_of("aad-anna") is None
    audit = await services.records.audit.read("aad-anna")
    assert [(e["action"], e["details"]) for e in audit] == [
        ("draft_removed", {"reason": "expired"})
    ]


async def test_a_reminder_goes_through_the_outbox_to_the_personal_chat(harness: BotHarness) -> None:
    await harness.say("jag har en idé")
    await harness.say("Gemensam läkemedelsgenomgång")
    services = harness.services
    later = datetime.now(UTC) + timedelta(days=85)
    assert await sweep_drafts(services, notify_in_personal_chat(services), later) == (1, 0)
    items = await services.records.outbox.all()
    reminders = [i for i in items if i["purpose"].get("kind") == "draft_reminder"]
    assert [(i["kind"], i["target"]) for i in reminders] == [("person", "aad-anna")]
    assert "Gemensam läkemedelsgenomgång" in reminders[0]["payload"]["activity"]["text"]
