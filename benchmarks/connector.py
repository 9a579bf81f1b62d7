"""A lean stand-in for the Bot Connector, run in its own process on 127.0.0.1.

It answers the REST calls a bot makes (replies, new conversations, member look-ups) and keeps,
per received message activity, the conversation, the activity it replies to and the arrival time
(``time.monotonic()``, the same clock in every process on Linux), so the client can check that a
bot's reply arrived before the HTTP response to the incoming activity.

    python -m benchmarks.connector        # prints "PORT <n>" once it listens
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from typing import Any

from aiohttp import web

LOG = web.AppKey("log", list)


async def _activity(request: web.Request) -> web.Response:
    try:
        body: Any = await request.json()
    except ValueError:
        body = {}
    if isinstance(body, dict) and body.get("type") == "message":
        request.app[LOG].append(
            (request.match_info["conversation"], body.get("replyToId"), time.monotonic())
        )
    return web.json_response({"id": str(uuid.uuid4())})


async def _create_conversation(request: web.Request) -> web.Response:
    return web.json_response({"id": f"conv-{uuid.uuid4()}", "activityId": str(uuid.uuid4())})


async def _member(request: web.Request) -> web.Response:
    member_id = request.match_info["member"]
    return web.json_response(
        {
            "id": member_id,
            "name": "Benchmark Person",
            "aadObjectId": member_id.removeprefix("29:"),
            "email": f"{member_id.removeprefix('29:')}@example.invalid",
            "userPrincipalName": f"{member_id.removeprefix('29:')}@example.invalid",
        }
    )


async def _log(request: web.Request) -> web.Response:
    """Every message received so far, as [conversation, replyToId, monotonic time]."""
    return web.json_response(request.app[LOG])


async def _reset(request: web.Request) -> web.Response:
    request.app[LOG].clear()
    return web.json_response({"ok": True})


def build_app() -> web.Application:
    """The connector's routes."""
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[LOG] = []
    app.router.add_post("/v3/conversations/{conversation}/activities", _activity)
    app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", _activity)
    app.router.add_get("/v3/conversations/{conversation}/members/{member}", _member)
    app.router.add_post("/v3/conversations", _create_conversation)
    app.router.add_get("/_log", _log)
    app.router.add_post("/_reset", _reset)
    return app


async def _serve() -> None:
    runner = web.AppRunner(build_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"PORT {port}", flush=True)
    # Ends when the parent closes our stdin (or kills us).
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(_serve())
