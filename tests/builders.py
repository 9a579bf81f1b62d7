"""Builders for Teams-shaped activities and a TestAdapter harness, shared by the tests."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

from bot.adapter import make_error_handler
from bot.services import Services, open_services
from bot.settings import Settings
from bot.teams_bot import OmtankeBot
from dialogs.factory import build_root_dialog
from knowledge.kb import KnowledgeBase

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
TENANT = "9f0c2b8e-1d1a-4c6e-8f55-5d1f3c1a0001"
_ids = itertools.count(1)


def luhn_personnummer(date: str = "850709", serial: str = "123", separator: str = "-") -> str:
    """A made-up personnummer YYMMDD-NNNC whose check digit C is right (computed, not copied)."""
    total = 0
    for index, char in enumerate(date + serial):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return f"{date}{separator}{serial}{(10 - total % 10) % 10}"


def user(aad: str = "aad-anna", name: str = "Anna Andersson") -> dict[str, Any]:
    """A Teams user as it appears in activity.from."""
    return {"id": f"29:{aad}", "name": name, "aadObjectId": aad}


def teams_message(
    text: str | None = None,
    *,
    value: dict[str, Any] | None = None,
    service_url: str = "http://127.0.0.1:1/",
    sender: dict[str, Any] | None = None,
    conversation_id: str = "a:personal-anna",
    conversation_type: str = "personal",
    locale: str = "sv-SE",
) -> dict[str, Any]:
    """A message activity as Teams posts it to /api/messages."""
    body: dict[str, Any] = {
        "type": "message",
        "id": f"msg-{next(_ids)}",
        "timestamp": "2026-11-22T10:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": sender or user(),
        "conversation": {
            "id": conversation_id,
            "conversationType": conversation_type,
            "tenantId": TENANT,
        },
        "recipient": {"id": "28:omtanke-bot", "name": "Omtanke"},
        "locale": locale,
        "channelData": {"tenant": {"id": TENANT}},
    }
    if text is not None:
        body["text"] = text
    if value is not None:
        body["value"] = value
    return body


def teams_install(
    service_url: str = "http://127.0.0.1:1/", sender: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The conversationUpdate Teams sends when a user installs the bot in a personal chat."""
    body = teams_message(service_url=service_url, sender=sender)
    body["type"] = "conversationUpdate"
    body["membersAdded"] = [{"id": "28:omtanke-bot"}, body["from"]]
    return body


def card_of(activity: Activity | dict[str, Any]) -> dict[str, Any] | None:
    """The Adaptive Card an activity carries, if any."""
    attachments = (
        activity.get("attachments") if isinstance(activity, dict) else activity.attachments
    )
    for attachment in attachments or []:
        content_type = (
            attachment.get("contentType")
            if isinstance(attachment, dict)
            else attachment.content_type
        )
        content = attachment.get("content") if isinstance(attachment, dict) else attachment.content
        if content_type == CARD_TYPE and isinstance(content, dict):
            return dict(content)
    return None


def card_texts(card: dict[str, Any] | None) -> list[str]:
    """Every TextBlock text and FactSet line of a card, in order."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                out.append(str(node.get("text", "")))
            if node.get("type") == "FactSet":
                out.extend(f"{f.get('title')}: {f.get('value')}" for f in node.get("facts", []))
            for key, value in node.items():
                if key != "actions":
                    walk(value)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(card)
    return out


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], deadline: float = 60.0
) -> None:
    """Poll condition every 20 ms until it holds or `deadline` seconds have passed.

    The caller asserts the outcome. The deadline is generous on purpose: it only bounds how
    long a broken test takes, so a machine several times slower than ours still passes.
    """
    give_up = time.monotonic() + deadline
    while True:
        result = condition()
        if await result if inspect.isawaitable(result) else result:
            return
        if time.monotonic() > give_up:
            return
        await asyncio.sleep(0.02)


def card_actions(card: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every action of a card (top level and in ActionSets), in order."""
    out: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Action."):
                out.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(card)
    return out


def reply_text(activity: Activity) -> str:
    """What the user reads: the text, or the card's texts joined."""
    if activity.text:
        return str(activity.text)
    return "\n".join(card_texts(card_of(activity)))


_HARNESS_IDS = itertools.count(1)


class BotHarness:
    """The real bot and services on the SDK's TestAdapter, with Teams-like identities."""

    def __init__(
        self, services: Services, aad: str = "aad-anna", name: str = "Anna Andersson"
    ) -> None:
        self.services = services
        self.bot = OmtankeBot(services, build_root_dialog(services))
        template = Activity(
            channel_id="msteams",
            service_url="https://test.invalid/",
            from_property=ChannelAccount(id=f"29:{aad}", name=name, aad_object_id=aad),
            recipient=ChannelAccount(id="28:omtanke-bot", name="Omtanke"),
            conversation=ConversationAccount(
                id=f"a:personal-{aad}", conversation_type="personal", tenant_id=TENANT
            ),
            locale="sv-SE",
        )
        self.adapter = TestAdapter(self.bot.on_turn, template)
        # Teams ids are unique per conversation; the TestAdapter counts from 1 each time, so
        # a harness reopened on the same data would look like a replay (turns are idempotent).
        self.adapter._next_id = next(_HARNESS_IDS) * 1_000_000
        self.adapter.on_turn_error = make_error_handler(services.texts, services.conversation_state)
        services.use_adapter(self.adapter)

    @classmethod
    async def open(
        cls, data_dir: Path, kb: KnowledgeBase | None = None, **settings: Any
    ) -> BotHarness:
        """Open real services on a data folder (with a knowledge base already loaded, if given)."""
        services = await open_services(Settings(data_dir=data_dir, **settings), kb=kb)
        return cls(services)

    async def close(self) -> None:
        """Close the stores."""
        await self.services.close()

    async def _run(self, activity: Activity) -> list[Activity]:
        self.adapter.activity_buffer.clear()
        await self.adapter.receive_activity(activity)
        return [a for a in self.adapter.activity_buffer if a.type == ActivityTypes.message]

    async def say(self, text: str) -> list[Activity]:
        """Send a typed message; return the messages the bot sent back."""
        return await self._run(Activity(type=ActivityTypes.message, text=text))

    async def submit(self, value: dict[str, Any]) -> list[Activity]:
        """Send a card submit (no text, the data in value), as Teams does."""
        return await self._run(Activity(type=ActivityTypes.message, value=value))

    async def install(self) -> list[Activity]:
        """The conversationUpdate of a personal install."""
        template = self.adapter.template
        return await self._run(
            Activity(
                type=ActivityTypes.conversation_update,
                members_added=[template.recipient, template.from_property],
            )
        )
