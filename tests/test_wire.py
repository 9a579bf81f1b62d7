"""The fast activity serializer writes exactly what msrest's would (dialogs/wire.py).

Unit cases for each kind of value, the cases handed back to msrest, and a whole journey over
HTTP (welcome, a question, the proposal dialog, submit, endorsement, decision, the initiator's
notice) where every body the connector client sends is compared with msrest's.
"""

from __future__ import annotations

import copy
import json
import random
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
from botbuilder.schema.teams import TeamsChannelData
from msrest import Serializer
from msrest.serialization import Model

from dialogs.wire import (
    FastSerializer,
    OutgoingActivity,
    activity_to_send,
    model_from_json,
    model_to_json,
)
from tests.builders import card_actions, teams_install, teams_message, wait_until
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


# ----- incoming: model_from_json is Model.deserialize -----------------------------------------


def same_model(a: Any, b: Any, where: str = "") -> None:
    """a and b have the same types and values all the way down (1 is not True here)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, Model):
        assert vars(a).keys() == vars(b).keys(), where
        for key in vars(a):
            same_model(getattr(a, key), getattr(b, key), f"{where}.{key}")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            same_model(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same_model(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def read_both(cls: type[Model], body: Any) -> tuple[Any, Any]:
    """(fast, msrest) of the same JSON: a model each, or the error each raised."""
    results = []
    for read in (
        lambda: model_from_json(cls, copy.deepcopy(body)),
        lambda: cls.deserialize(copy.deepcopy(body)),
    ):
        try:
            results.append(read())
        except Exception as error:  # both must fail alike
            results.append(type(error))
    return results[0], results[1]


def teams_bodies() -> list[dict[str, Any]]:
    mention = {
        "type": "mention",
        "text": "<at>Omtanke</at>",
        "mentioned": {"id": "28:omtanke-bot", "name": "Omtanke"},
    }
    invoke = teams_message(
        value={"action": "endorse", "proposal": "P-1", "nested": [1, {"a": None}]}
    )
    invoke.update(type="invoke", name="adaptiveCard/action")
    channel = teams_message(
        "Hej", conversation_id="19:abc@thread.tacv2;messageid=1", conversation_type="channel"
    )
    channel["channelData"] = {
        "tenant": {"id": "t"},
        "team": {"id": "19:team", "name": "RUG"},
        "channel": {"id": "19:abc"},
        "eventType": "channelCreated",
    }
    channel["entities"] = [mention, {"type": "clientInfo", "locale": "sv-SE", "country": "SE"}]
    odd = teams_message("x")
    odd.update(
        unknownField={"deep": [1]},
        localTimestamp="2026-11-22T11:00:00.123+01:00",
        attachments=[{"contentType": "text/html", "content": "<p>x</p>"}],
    )
    return [teams_message("Vad är nära vård?"), teams_install(), invoke, channel, odd]


def test_incoming_activities_read_as_msrest_reads_them() -> None:
    for body in teams_bodies():
        fast, slow = read_both(Activity, body)
        assert isinstance(fast, Activity)
        same_model(fast, slow, body["type"])
        if body.get("channelData"):
            same_model(*read_both(TeamsChannelData, body["channelData"]), "channelData")


def test_malformed_activities_are_read_or_refused_exactly_as_msrest_does() -> None:
    # Each field of a real activity replaced by values of other JSON types, one at a time.
    rng = random.Random(7)
    odd_values: list[Any] = [
        None,
        "",
        "x",
        0,
        1,
        2.5,
        True,
        False,
        [],
        [None],
        ["a", 1],
        {},
        {"id": 1},
        {"id": None, "name": ["x"]},
        "2026-13-45T99:00:00Z",
        "2026-11-22T10:00:00Z",
    ]
    cases = 0
    for base in teams_bodies():
        paths = _paths(base)
        for _ in range(120):
            body = copy.deepcopy(base)
            _set(body, rng.choice(paths), rng.choice(odd_values))
            fast, slow = read_both(Activity, body)
            if isinstance(slow, type):
                assert fast is slow, body
            else:
                same_model(fast, slow, json.dumps(body)[:200])
            cases += 1
    assert cases == 600


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


def _set(body: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        body = body[step]
    body[path[-1]] = value


def test_the_sdks_copy_of_an_outgoing_activity_leaves_the_original_as_it_was() -> None:
    original = activity_to_send(
        {"type": "message", "attachments": [{"contentType": "x", "content": CARD}], "text": "t"}
    )
    sent = copy.deepcopy(original)
    assert sent is not original and isinstance(sent, OutgoingActivity)
    # What TurnContext.send_activities does to its copy: addressing fields assigned.
    sent.conversation = ConversationAccount(id="a:2")
    sent.id, sent.input_hint = None, "acceptingInput"
    assert original.conversation is None and original.input_hint is None
    assert as_json(Serializer(MODELS).body(copy.copy(original), "Activity")) == as_json(
        FastSerializer(MODELS).body(original, "Activity")
    )


def test_a_stored_conversation_reference_is_what_msrest_would_store() -> None:
    from botbuilder.core import TurnContext

    for body in teams_bodies():
        reference = TurnContext.get_conversation_reference(model_from_json(Activity, body))
        reference.activity_id = None
        assert as_json(model_to_json(reference)) == as_json(reference.serialize())
