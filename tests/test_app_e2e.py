"""The real aiohttp service over HTTP, replying to a local stand-in for the Bot Connector."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.settings import Settings
from presentation.texts import Texts
from tests.builders import card_actions, card_of, card_texts, teams_install, teams_message
from tests.fake_connector import FakeConnector
from tests.service import Service

NARA_VARD = "Vad är nära vård?"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings with a small body limit, for the 413 test."""
    return replace(settings, max_body_bytes=4096)


async def test_question_is_answered_through_the_connector(
    service: Service, connector: FakeConnector
) -> None:
    """A Teams message gets 201, and the answer card is posted as a reply to that message."""
    body = teams_message(NARA_VARD, service_url=connector.url)

    status, _ = await service.request(body)

    assert status == 201
    replies = connector.messages()
    assert len(replies) == 1
    reply_paths = [c.path for c in connector.calls if c.body.get("type") == "message"]
    assert reply_paths == [f"/v3/conversations/a:personal-anna/activities/{body['id']}"]
    texts = card_texts(card_of(replies[0]))
    assert texts[1] == "Källa: Färdplan för god och nära vård och omsorg i Halland"
    assert replies[0]["replyToId"] == body["id"]
    assert replies[0]["conversation"]["id"] == "a:personal-anna"


async def test_install_sends_the_welcome_card(service: Service, connector: FakeConnector) -> None:
    """Installing the bot in a personal chat posts the welcome card to that chat."""
    status, _ = await service.request(teams_install(service_url=connector.url))

    assert status == 201
    replies = connector.messages()
    assert len(replies) == 1
    card = card_of(replies[0])
    assert card_texts(card)[0] == "Hej Anna! Jag är Omtanke."
    assert [a["data"]["action"] for a in card_actions(card)] == [
        "start_proposal",
        "ask",
        "my_proposals",
        "help",
    ]


async def test_healthz_reports_ok(service: Service) -> None:
    """GET /healthz answers 200 with status ok once the stores are open."""
    async with service.http.get(f"{service.url}/healthz") as response:
        status, payload = response.status, await response.json()

    assert status == 200
    assert payload["status"] == "ok"
    assert payload["entries"] > 0


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("{not json", "request body is not valid JSON"),
        (b"\xff\xfe\x00garbage", "request body is not valid JSON"),
        ("[]", "request body is not a Bot Framework activity"),
        ("[1, 2]", "request body is not a Bot Framework activity"),
        ('"message"', "request body is not a Bot Framework activity"),
        ("{}", "request body is not a Bot Framework activity"),
        ('{"type": 5}', "request body is not a Bot Framework activity"),
        ('{"type": "message", "text": "hej"}', "request body is not a Bot Framework activity"),
    ],
    ids=["broken", "binary", "empty-list", "list", "string", "empty", "type-number", "no-ids"],
)
async def test_malformed_body_is_400_without_internals(
    service: Service, connector: FakeConnector, raw: str | bytes, error: str
) -> None:
    """Bodies that are not JSON, or not an activity, get 400 and a one-line reason."""
    status, text = await service.request(raw=raw)

    assert (status, json.loads(text)) == (400, {"error": error})
    assert connector.calls == []


@pytest.mark.parametrize("missing", ["serviceUrl", "conversation", "channelId"])
async def test_activity_without_routing_fields_is_400(
    service: Service, connector: FakeConnector, missing: str
) -> None:
    """An activity the bot could not reply to (no serviceUrl or conversation) is refused."""
    body = teams_message("hej", service_url=connector.url)
    del body[missing]

    status, text = await service.request(body)

    assert (status, json.loads(text)) == (
        400,
        {"error": "request body is not a Bot Framework activity"},
    )
    assert connector.calls == []


@pytest.mark.parametrize("service_url", ["0/0", "ftp://127.0.0.1/", "http://", "/v3/", "x"])
async def test_activity_with_a_service_url_the_bot_cannot_reply_to_is_400(
    service: Service, connector: FakeConnector, service_url: str
) -> None:
    """Found by the fuzz test: serviceUrl "0/0" was accepted and the reply then failed."""
    body = teams_message("hej", service_url=connector.url)
    body["serviceUrl"] = service_url

    status, text = await service.request(body)

    assert (status, json.loads(text)) == (
        400,
        {"error": "request body is not a Bot Framework activity"},
    )
    assert connector.calls == []


@pytest.mark.parametrize("field", ["conversation.id", "id", "serviceUrl"])
@pytest.mark.parametrize("added", ["\r\nX-Injected: 1", "Ö" * 400])
async def test_a_reply_address_the_bot_cannot_send_to_is_400(
    service: Service, connector: FakeConnector, field: str, added: str
) -> None:
    """Found by the fuzz test: a newline or hundreds of "Ö" (over 8 KiB percent-encoded) in the
    conversation id were accepted, and the reply's request then failed."""
    body = teams_message("hej", service_url=connector.url)
    if field == "conversation.id":
        body["conversation"]["id"] += added
    else:
        body[field] = f"{body.get(field) or '1'}{added}"

    status, text = await service.request(body)

    assert (status, json.loads(text)) == (
        400,
        {"error": "request body is not a Bot Framework activity"},
    )
    assert connector.calls == []


async def test_wrong_content_type_is_415(service: Service) -> None:
    """A text/plain body is refused before it is parsed."""
    status, text = await service.request(raw="{}", content_type="text/plain")

    assert (status, json.loads(text)) == (415, {"error": "Content-Type must be application/json"})


async def test_body_over_the_limit_is_413(service: Service, connector: FakeConnector) -> None:
    """A body larger than max_body_bytes is refused with 413 and nothing is run."""
    body = teams_message("x" * 5000, service_url=connector.url)

    status, text = await service.request(body)

    assert (status, json.loads(text)) == (413, {"error": "request body is too large"})
    assert connector.calls == []


async def test_unknown_activity_type_is_accepted_and_ignored(
    service: Service, connector: FakeConnector
) -> None:
    """An activity type the bot does not know is acknowledged, and nothing is sent back."""
    body = teams_message("hej", service_url=connector.url)
    body["type"] = "weird"

    status, _ = await service.request(body)

    assert 200 <= status < 300
    assert connector.calls == []


async def test_message_without_text_or_value_gets_a_polite_reply(
    service: Service, connector: FakeConnector
) -> None:
    """A message with neither text nor value (an image, a lone mention) gets a Swedish hint."""
    status, _ = await service.request(teams_message(service_url=connector.url))

    assert status == 201
    assert [m.get("text") for m in connector.messages()] == [
        Texts.load().get("general.empty_message")
    ]


async def test_card_submit_without_text_works(service: Service, connector: FakeConnector) -> None:
    """A card submit (value, no text), as Teams sends it, runs the action: here the help card."""
    status, _ = await service.request(
        teams_message(value={"action": "help"}, service_url=connector.url)
    )

    assert status == 201
    replies = connector.messages()
    assert card_texts(card_of(replies[0]))[0] == "Det här kan jag hjälpa dig med"


async def test_feedback_and_escalation_survive_a_restart(
    service: Service, connector: FakeConnector
) -> None:
    """What the bot stored is there after the service is stopped and a new one is built."""
    for value in (
        {"action": "feedback", "topic": "nara_vard", "helpful": False},
        {"action": "escalate", "question": "Vem betalar för hemsjukvården?"},
    ):
        status, _ = await service.request(teams_message(value=value, service_url=connector.url))
        assert status == 201

    await service.restart()
    records = service.services.records
    feedback = await records.feedback.all()
    escalations = await records.escalations.all()

    assert [(f["user"], f["topic"], f["helpful"]) for f in feedback] == [
        ("aad-anna", "nara_vard", False)
    ]
    assert [(e["user"], e["question"]) for e in escalations] == [
        ("aad-anna", "Vem betalar för hemsjukvården?")
    ]
