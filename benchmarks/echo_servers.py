"""The two reference servers, each run in its own process.

    python -m benchmarks.echo_servers botbuilder PORT   # bare botbuilder echo, as the SDK samples
    python -m benchmarks.echo_servers aiohttp PORT      # plain aiohttp echo, one ClientSession
    python -m benchmarks.echo_servers floor PORT        # botbuilder echo with Omtanke's fast paths
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import ClientSession, web

BOTBUILDER = "botbuilder"
AIOHTTP = "aiohttp"
FLOOR = "floor"


def botbuilder_app() -> web.Application:
    """The SDK's echo sample: CloudAdapter, MemoryStorage, ConversationState saved every turn."""
    from botbuilder.core import (
        ActivityHandler,
        ConversationState,
        MemoryStorage,
        MessageFactory,
        TurnContext,
    )
    from botbuilder.core.integration import aiohttp_error_middleware
    from botbuilder.integration.aiohttp import (
        CloudAdapter,
        ConfigurationBotFrameworkAuthentication,
    )

    class DefaultConfig:
        """The sample's config.py: no app id, so authentication is off."""

        PORT = 3978
        APP_ID = ""
        APP_PASSWORD = ""
        APP_TYPE = "MultiTenant"
        APP_TENANTID = ""

    class EchoBot(ActivityHandler):
        """Echoes the text and counts the turns in conversation state."""

        def __init__(self, conversation_state: ConversationState) -> None:
            self._state = conversation_state
            self._turns = conversation_state.create_property("turns")

        async def on_turn(self, turn_context: TurnContext) -> None:
            await super().on_turn(turn_context)
            await self._state.save_changes(turn_context)

        async def on_message_activity(self, turn_context: TurnContext) -> None:
            turns = await self._turns.get(turn_context, lambda: {"count": 0})
            turns["count"] += 1
            await self._turns.set(turn_context, turns)
            await turn_context.send_activity(
                MessageFactory.text(f"Echo: {turn_context.activity.text}")
            )

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(DefaultConfig()))
    bot = EchoBot(ConversationState(MemoryStorage()))

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    app = web.Application(middlewares=[aiohttp_error_middleware])
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", _healthz)
    return app


def floor_app() -> web.Application:
    """The SDK's turn with everything Omtanke does to make it cheap, and nothing else: the
    activity read by dialogs.wire, Omtanke's CloudAdapter (cached connector clients on the
    bot's aiohttp session, the fast serializer), an ActivityHandler that echoes. No state, no
    dialogs, no knowledge base: what a turn costs on botbuilder before the product does anything.
    """
    from botbuilder.core import (
        ActivityHandler,
        ConversationState,
        MemoryStorage,
        MessageFactory,
        TurnContext,
    )
    from botbuilder.schema import Activity

    from bot.adapter import create_adapter
    from bot.settings import Settings
    from dialogs.wire import model_from_json, outgoing
    from presentation.texts import Texts

    class EchoBot(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            text = f"Echo: {turn_context.activity.text}"
            await turn_context.send_activity(outgoing(MessageFactory.text(text)))

    settings = Settings.from_env({})
    adapter = create_adapter(settings, Texts.load(), ConversationState(MemoryStorage()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        activity = model_from_json(Activity, await request.json())
        auth = await adapter.bot_framework_authentication.authenticate_request(
            activity, request.headers.get("Authorization", "")
        )
        await adapter.process_activity(auth, activity, bot.on_turn)
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", _healthz)
    return app


def aiohttp_app() -> web.Application:
    """Plain aiohttp: read the activity, post the echo to the connector, answer 201."""
    session_key = web.AppKey("session", ClientSession)

    async def session_ctx(app: web.Application) -> AsyncIterator[None]:
        async with ClientSession() as session:
            app[session_key] = session
            yield

    async def messages(request: web.Request) -> web.Response:
        activity: dict[str, Any] = await request.json()
        conversation = activity["conversation"]["id"]
        reply = {
            "type": "message",
            "text": f"Echo: {activity.get('text', '')}",
            "replyToId": activity["id"],
            "conversation": activity["conversation"],
            "from": activity["recipient"],
            "recipient": activity["from"],
        }
        url = f"{activity['serviceUrl'].rstrip('/')}/v3/conversations/{conversation}/activities/"
        async with request.app[session_key].post(url + activity["id"], json=reply) as response:
            await response.read()
        return web.Response(status=201)

    app = web.Application()
    app.cleanup_ctx.append(session_ctx)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", _healthz)
    return app


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main(argv: list[str]) -> None:
    """Serve the named reference bot on 127.0.0.1:PORT until terminated."""
    kind, port = argv[0], int(argv[1])
    app = {BOTBUILDER: botbuilder_app, FLOOR: floor_app}.get(kind, aiohttp_app)()
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main(sys.argv[1:])
