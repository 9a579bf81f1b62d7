"""The fast activity serializer writes exactly what msrest's would (bot/wire.py).

Unit cases for each kind of value, the cases handed back to msrest, and a whole journey over
HTTP (welcome, a question, the proposal dialog, submit, endorsement, decision, the initiator's
notice) where every body the connector client sends is compared with msrest's.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import botbuilder.schema as schema
import pytest
from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    Mention,
    SuggestedActions,
)
from msrest import Serializer

from bot.wire import FastSerializer
from tests.builders import card_actions, wait_until
from tests.rug_scenario import (
    ANNA,
    CHANNEL,
    RUT,
    fill_in_the_dialog,
    meet_everyone,
    outbox_drained,
)
from tests.service import Service

RUT_CHAT = "a:personal-aad-rut"
MODELS = {k: v for k, v in vars(schema).items() if isinstance(v, type)}
CARD = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [{"type": "TextBlock", "text": "Hej å ä ö", "wrap": True, "size": None}],
    "actions": [{"type": "Action.Submit", "title": "Nästa", "data": {"n": 1, "ok": True}}],
}


def as_json(body: Any) -> str:
    """The body as the wire sees it (== alone would take True for 1)."""
    return json.dumps(body, ensure_ascii=False)


def both(activity: Activity) -> tuple[str, str]:
    """(fast, msrest) bodies of the same activity, as JSON text."""
    msrest_body = Serializer(MODELS).body(copy.deepcopy(activity), "Activity")
    return as_json(FastSerializer(MODELS).body(activity, "Activity")), as_json(msrest_body)


def reply(**fields: Any) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        from_property=ChannelAccount(id="28:bot", name="Omtanke"),
        recipient=ChannelAccount(id="29:anna", name="Anna", aad_object_id="aad-anna"),
        conversation=ConversationAccount(id="a:1", conversation_type="personal", tenant_id="t"),
        service_url="https://smba.example/",
        reply_to_id="msg-1",
        **fields,
    )


@pytest.mark.parametrize(
    "activity",
    [
        reply(text="Hej!", locale="sv-SE"),
        reply(attachments=[CardFactory.adaptive_card(CARD)]),
        reply(
            text="<at>Rut</at>, titta på det här",
            entities=[
                Mention(
                    mentioned=ChannelAccount(id="29:rut", name="Rut"),
                    text="<at>Rut</at>",
                    type="mention",
                )
            ],
        ),
        reply(
            suggested_actions=SuggestedActions(
                actions=[CardAction(type="imBack", title="Ja", value="ja")], to=["29:anna", None]
            )
        ),
        reply(channel_data={"notification": {"alert": True}, "list": [1, 2.5, None, "x"]}),
        reply(
            timestamp=datetime(2026, 12, 3, 13, 0, 5, 120000, tzinfo=UTC), history_disclosed=False
        ),
        MessageFactory.text("Tack!"),
        Activity(type=ActivityTypes.typing),
    ],
    ids=["text", "card", "mention", "suggested", "channel_data", "timestamp", "factory", "typing"],
)
def test_the_fast_body_is_msrests(activity: Activity) -> None:
    fast, slow = both(activity)
    assert fast == slow


def test_unusual_values_are_left_to_msrest_with_the_same_result() -> None:
    # A dict where a model is declared (msrest turns it into the model first), an int where a
    # bool is declared and a date inside channel data: the fast path hands each back.
    cases = [
        reply(attachments=[{"contentType": "text/plain", "content": "x"}]),
        reply(history_disclosed=1),
        reply(channel_data={"when": datetime(2026, 1, 2, tzinfo=UTC)}),
        reply(listen_for=("a", "b")),
    ]
    for activity in cases:
        fast, slow = both(activity)
        assert fast == slow


class _Compare:
    """Wraps FastSerializer.body: every body is checked against msrest's."""

    def __init__(self) -> None:
        self.bodies = 0
        self.mismatches: list[tuple[Any, Any]] = []

    def wrap(self, original: Any) -> Any:
        def body(serializer: FastSerializer, data: Any, data_type: str, **kw: Any) -> Any:
            expected = Serializer(serializer.dependencies).body(
                copy.deepcopy(data), data_type, **kw
            )
            got = original(serializer, data, data_type, **kw)
            self.bodies += 1
            if as_json(got) != as_json(expected):
                self.mismatches.append((got, expected))
            return got

        return body


async def test_every_body_of_a_journey_is_what_msrest_would_send(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    compare = _Compare()
    monkeypatch.setattr(FastSerializer, "body", compare.wrap(FastSerializer.body))
    c = service.connector
    await meet_everyone(service)
    assert await service.say(ANNA, "Vad är nära vård?") == 201
    submit = await fill_in_the_dialog(service)
    assert await service.click(ANNA, submit) == 201
    await wait_until(lambda: bool(c.cards_to(RUT_CHAT, "endorse")))
    [(endorse_card, endorse_id)] = c.cards_to(RUT_CHAT, "endorse")
    [data] = [a["data"] for a in card_actions(endorse_card) if a["data"].get("choice") == "yes"]
    assert await service.click(RUT, {**data, "comment": ""}, reply_to=endorse_id) == 201
    await wait_until(lambda: bool(c.cards_to(CHANNEL, "decide")))
    await wait_until(lambda: outbox_drained(service))
    assert c.cards_to(CHANNEL, "decide")  # the case card reached the RUG channel
    assert compare.bodies >= 20
    assert compare.mismatches == []
