"""A local stand-in for the Bot Connector service: records what the bot posts, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Recorded:
    """One call the bot made to the connector."""

    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    raw_path: str = ""  # as sent, percent-encoding included


@dataclass
class FakeConnector:
    """Accepts the Bot Connector's REST calls and keeps them for assertions."""

    calls: list[Recorded] = field(default_factory=list)
    fail_with: int | None = None
    # Raw body to answer every call with, instead of a new id (an odd or empty answer).
    answer: bytes | None = None
    _runner: web.AppRunner | None = None
    url: str = ""
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> FakeConnector:
        """Serve on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/"
        return self

    async def stop(self) -> None:
        """Shut the server down."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            body = {}
        self.calls.append(Recorded(request.method, request.path, body, dict(request.headers),
                                   request.raw_path))
        self._event.set()
        if self.fail_with is not None:
            return web.json_response(
                {"error": {"code": "Fail", "message": "down"}}, status=self.fail_with
            )
        if self.answer is not None:
            return web.Response(body=self.answer, content_type="application/json")
        if request.method == "POST" and request.path.rstrip("/").endswith("/v3/conversations"):
            return web.json_response(
                {"id": f"conv-{uuid.uuid4()}", "activityId": str(uuid.uuid4())}
            )
        return web.json_response({"id": str(uuid.uuid4())})

    def activities(self) -> list[dict[str, Any]]:
        """Every activity the bot sent (replies and proactive messages), oldest first."""
        return [c.body for c in self.calls if c.method == "POST" and "/activities" in c.path]

    def messages(self) -> list[dict[str, Any]]:
        """Only the message activities, not typing indicators."""
        return [a for a in self.activities() if a.get("type") == "message"]

    async def wait_for(self, count: int, seconds: float = 5.0) -> list[dict[str, Any]]:
        """Wait until at least count messages have arrived."""
        deadline = asyncio.get_running_loop().time() + seconds
        while len(self.messages()) < count:
            self._event.clear()
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                break
        return self.messages()
