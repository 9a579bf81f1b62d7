"""Replies and proactive messages go straight to the connector on the bot's aiohttp session
(bot/adapter.py `_DirectConversations`): the same request the SDK's msrest operations send."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from botbuilder.core import ConversationState, MemoryStorage, MessageFactory
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from botframework.connector.aio import ConnectorClient
from botframework.connector.aio.operations_async import ConversationsOperations

from bot.adapter import ConnectorError, create_adapter
from bot.settings import Settings
from dialogs.wire import outgoing
from presentation.texts import Texts
from tests.fake_connector import FakeConnector

COMPARED_HEADERS = ("Accept", "Content-Type", "x-ms-conversation-id", "User-Agent")


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = await FakeConnector(answer=b'{"id": "reply-1"}').start()
    yield fake
    await fake.stop()


@pytest.fixture
async def client(connector: FakeConnector) -> AsyncIterator[ConnectorClient]:
    adapter = create_adapter(Settings.from_env({}), Texts.load(),
                             ConversationState(MemoryStorage()))
    auth = adapter.bot_framework_authentication
    result = await auth.authenticate_request(
        Activity(type="message", service_url=connector.url, channel_id="msteams"), ""
    )
    assert result.connector_factory is not None
    yield await result.connector_factory.create(connector.url, None)
    await auth.close()  # type: ignore[attr-defined]


def reply() -> Activity:
    activity = outgoing(MessageFactory.text("Hej – åäö ✓"))
    activity.conversation = ConversationAccount(id="a:1/conv;messageid=7")
    activity.from_property = ChannelAccount(id="bot")
    activity.recipient = ChannelAccount(id="user")
    activity.reply_to_id = "act 1"
    return activity


async def test_a_reply_is_the_request_the_sdk_would_send(
    connector: FakeConnector, client: ConnectorClient
) -> None:
    conversations = client.conversations
    assert type(conversations) is not ConversationsOperations  # the direct path is in use
    ours = await conversations.reply_to_activity("a:1/conv;messageid=7", "act 1", reply())
    theirs = await ConversationsOperations.reply_to_activity(
        conversations, "a:1/conv;messageid=7", "act 1", reply()
    )
    assert ours is not None and theirs is not None and ours.id == theirs.id == "reply-1"
    direct, sdk = connector.calls
    assert (direct.method, direct.raw_path, direct.body) == (sdk.method, sdk.raw_path, sdk.body)
    assert direct.raw_path == "/v3/conversations/a:1%2Fconv;messageid=7/activities/act%201"
    assert direct.body["text"] == "Hej – åäö ✓"
    for name in COMPARED_HEADERS:
        assert direct.headers.get(name) == sdk.headers.get(name), name
    assert "Authorization" not in direct.headers  # authentication off: no token


async def test_a_message_to_a_conversation_is_the_request_the_sdk_would_send(
    connector: FakeConnector, client: ConnectorClient
) -> None:
    await client.conversations.send_to_conversation("conv-2", reply())
    await ConversationsOperations.send_to_conversation(client.conversations, "conv-2", reply())
    direct, sdk = connector.calls
    assert (direct.method, direct.raw_path, direct.body) == (sdk.method, sdk.raw_path, sdk.body)
    assert direct.raw_path == "/v3/conversations/conv-2/activities"


@pytest.mark.parametrize("answer", [b"", b"[]", b"not json", b'{"id": 5}'])
async def test_an_accepted_reply_without_an_id_is_not_an_error(
    connector: FakeConnector, client: ConnectorClient, answer: bytes
) -> None:
    connector.answer = answer
    response = await client.conversations.reply_to_activity("c", "a", reply())
    assert response is None or response.id is None


@pytest.mark.parametrize("status", [400, 403, 404, 429, 500, 503])
async def test_a_refused_reply_raises_with_the_status(
    connector: FakeConnector, client: ConnectorClient, status: int
) -> None:
    connector.fail_with = status
    with pytest.raises(ConnectorError) as raised:
        await client.conversations.reply_to_activity("c", "a", reply())
    assert raised.value.status == status
    with pytest.raises(ConnectorError):
        await client.conversations.send_to_conversation("c", reply())


async def test_a_raw_reply_goes_the_sdks_way(
    connector: FakeConnector, client: ConnectorClient
) -> None:
    raw = await client.conversations.reply_to_activity("c", "a", reply(), raw=True)
    assert raw.output.id == "reply-1" and raw.response.status == 200
    assert len(connector.calls) == 1
