"""After "Skicka in" the clicked summary card says it was submitted and has no buttons left
(the helper found it kept "Skicka in" and "Avbryt" in the real client), over HTTP."""

from __future__ import annotations

from tests.builders import card_actions, card_of, card_texts
from tests.rug_scenario import ANNA, fill_in_the_dialog, meet_everyone
from tests.service import Service

ANNA_CHAT = "a:personal-aad-anna"


async def test_the_summary_card_is_marked_submitted_without_buttons(service: Service) -> None:
    c = service.connector
    await meet_everyone(service)
    submit = await fill_in_the_dialog(service)
    [(summary, summary_id)] = c.cards_to(ANNA_CHAT, "submit")[-1:]
    assert {a["title"] for a in card_actions(summary)} >= {"Skicka in", "Avbryt"}

    assert await service.click(ANNA, submit, reply_to=summary_id) == 201
    [pid] = [p.id for p in await service.services.records.proposals.all()]
    updated = [card_of(u) for u in c.updates() if u.get("id") == summary_id]
    assert updated, c.updates()
    card = updated[-1]
    assert card_actions(card) == []
    texts = "\n".join(card_texts(card))
    assert f"Inskickat som {pid}" in texts
    assert "Trygg hemgång" in texts  # the summary itself stays readable
    assert "förfrågan är skickad" in texts  # skallkrav 4 no longer says "when you submit"

    # The old card's data clicked again (a second window): answered, nothing submitted twice.
    assert await service.click(ANNA, submit, reply_to=summary_id) == 201
    assert f"redan inskickat som {pid}" in c.texts_to(ANNA_CHAT)[-1]
