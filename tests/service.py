"""The real app on a free port of 127.0.0.1 beside a local Bot Connector, restartable.

Every test that talks to the service over HTTP uses this module: `start_app` for an app built
by hand (authentication tests, the fuzz test), `Service` for the app with a recording connector.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web

from bot.app import SERVICES, create_app
from bot.services import Services
from bot.settings import Settings
from domain.proposal import Proposal
from knowledge.kb import KnowledgeBase
from tests.builders import card_actions, card_of, card_texts, teams_message
from tests.fake_connector import FakeConnector


async def start_app(app: web.Application) -> tuple[web.AppRunner, str]:
    """Run an app on a free port of 127.0.0.1; return its runner and base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


@dataclass
class RecordingConnector(FakeConnector):
    """The fake connector, also keeping the id it answered for each posted activity."""

    posted: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)

    async def _handle(self, request: web.Request) -> web.Response:
        response = await super()._handle(request)
        if request.method == "POST" and "/activities" in request.path and response.text:
            body = self.calls[-1].body
            self.posted.append((request.path, body, json.loads(response.text).get("id", "")))
        return response

    def cards_to(self, conversation: str, action: str) -> list[tuple[dict[str, Any], str]]:
        """Cards posted to a conversation that carry the given card action, with their ids."""
        out = []
        for path, body, activity_id in self.posted:
            card = card_of(body)
            if f"/conversations/{conversation}/" not in path or card is None:
                continue
            if any(a.get("data", {}).get("action") == action for a in card_actions(card)):
                out.append((card, activity_id))
        return out

    def texts_to(self, conversation: str) -> list[str]:
        """Everything the bot wrote to a conversation, each message as one string."""
        return [
            body.get("text") or "\n".join(card_texts(card_of(body)))
            for path, body, _ in self.posted
            if f"/conversations/{conversation}/" in path and body.get("type") == "message"
        ]

    def last_card_to(self, conversation: str) -> dict[str, Any]:
        """The last card posted to a conversation."""
        cards = [
            card_of(body)
            for path, body, _ in self.posted
            if f"/conversations/{conversation}/" in path and card_of(body) is not None
        ]
        assert cards, f"no card was posted to {conversation}"
        return cards[-1] or {}

    def updates(self) -> list[dict[str, Any]]:
        """Card updates in place (PUT)."""
        return [c.body for c in self.calls if c.method == "PUT"]


@dataclass
class Service:
    """The running app, restartable on the same data folder."""

    settings: Settings
    http: ClientSession
    connector: RecordingConnector
    kb: KnowledgeBase | None = None
    runner: web.AppRunner | None = None
    app: web.Application | None = None
    url: str = ""

    async def start(self) -> Service:
        """Start create_app(settings) on a free port."""
        self.app = create_app(self.settings, kb=self.kb)
        self.runner, self.url = await start_app(self.app)
        return self

    @classmethod
    @asynccontextmanager
    async def running(
        cls,
        settings: Settings,
        connector: RecordingConnector | None = None,
        kb: KnowledgeBase | None = None,
    ) -> AsyncIterator[Service]:
        """The app started beside its connector; both are stopped on the way out."""
        connector = connector or RecordingConnector()
        await connector.start()
        try:
            async with ClientSession() as http:
                service = await cls(settings, http, connector, kb).start()
                try:
                    yield service
                finally:
                    await service.stop()
        finally:
            await connector.stop()

    async def stop(self) -> None:
        """Close the app and its stores."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def restart(self) -> None:
        """Close everything and build a new app on the same data folder."""
        await self.stop()
        await self.start()

    @property
    def services(self) -> Services:
        """The running app's services."""
        assert self.app is not None
        return self.app[SERVICES]

    async def request(
        self,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, str]:
        """POST to /api/messages (a JSON body, or raw bytes as given); the status and body."""
        data = json.dumps(body) if raw is None else raw
        async with self.http.post(
            f"{self.url}/api/messages", data=data, headers={"Content-Type": content_type}
        ) as response:
            return response.status, await response.text()

    async def post(self, body: dict[str, Any]) -> int:
        """POST one activity to /api/messages; the status."""
        status, _text = await self.request(body)
        return status

    async def say(self, who: dict[str, Any], text: str, **kw: Any) -> int:
        """A typed message from someone (personal chat unless a conversation is given)."""
        kw.setdefault("conversation_id", f"a:personal-{who['aadObjectId']}")
        return await self.post(
            teams_message(text, service_url=self.connector.url, sender=who, **kw)
        )

    async def click(
        self, who: dict[str, Any], value: dict[str, Any], reply_to: str = "", **kw: Any
    ) -> int:
        """A card submit (no text), optionally on a card with the given activity id."""
        kw.setdefault("conversation_id", f"a:personal-{who['aadObjectId']}")
        body = teams_message(value=value, service_url=self.connector.url, sender=who, **kw)
        if reply_to:
            body["replyToId"] = reply_to
        return await self.post(body)

    async def proposal(self, pid: str) -> Proposal:
        """The stored proposal."""
        found = await self.services.records.proposals.get(pid)
        assert found is not None
        return found

    async def audit(self, pid: str) -> list[str]:
        """The audit log's actions about one proposal."""
        return [e["action"] for e in await self.services.records.audit.read(pid)]
