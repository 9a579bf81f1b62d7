"""Proactive messages: how each kind of outbox item reaches a person, a channel or a mailbox."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import ConversationReference

from bot.delivery import Delivery, NotYetDeliverable, Record
from bot.mailer import build_message, send_message
from bot.settings import Settings
from dialogs.wire import activity_to_send, model_from_json
from knowledge.skallkrav import CheckContext
from presentation.texts import Texts
from storage import layout
from storage.records import Records

logger = logging.getLogger(__name__)

# Outbox targets of kind "channel" and the stored channel each one means.
CHANNELS = {"rug": layout.RUG_CHANNEL, "coordinators": layout.COORDINATOR_CHANNEL}


class ProactiveSenders:
    """The senders the outbox uses."""

    def __init__(
        self,
        adapter: BotAdapter,
        records: Records,
        texts: Texts,
        check_context: CheckContext,
        settings: Settings,
    ) -> None:
        # Replaced by Services.use_adapter for in-process hosts.
        self.adapter = adapter
        self._records = records
        self._texts = texts
        self._check_context = check_context
        self._smtp = settings.smtp
        self._app_id = settings.app_id

    def register(self, delivery: Delivery) -> None:
        """Register every kind this process can deliver."""
        delivery.register("person", self.to_person)
        delivery.register("channel", self.to_channel)
        delivery.register("mail", self.to_mail)

    async def to_person(self, item: Record) -> str:
        """A message in a person's 1:1 chat with the bot."""
        reference = await self._records.references.personal(str(item["target"]))
        if reference is None:
            raise NotYetDeliverable("the bot has no personal chat with this person yet")
        return await self._proactive(reference, item["payload"]["activity"])

    async def to_channel(self, item: Record) -> str:
        """A new post in a registered team channel (RUG's or the coordinators')."""
        key = CHANNELS.get(str(item["target"]))
        if key is None:
            raise RuntimeError(f"unknown channel {item['target']!r}")
        reference = await self._records.references.channel(key)
        if reference is None:
            raise NotYetDeliverable(f"the {item['target']} channel is not registered yet")
        return await self._proactive(reference, item["payload"]["activity"])

    async def _proactive(self, reference: dict[str, Any], activity: dict[str, Any]) -> str:
        adapter = self.adapter
        outcome: dict[str, Any] = {}

        async def send(turn_context: TurnContext) -> None:
            # SDK surprise: run_pipeline hands a callback's exception to on_turn_error (which
            # clears that conversation's dialog) and swallows it; catch it here to retry.
            try:
                response = await turn_context.send_activity(activity_to_send(activity))
                outcome["id"] = (response.id or "") if response else ""
            except Exception as error:
                outcome["error"] = error

        # Positional: CloudAdapter calls it bot_app_id, the SDK's TestAdapter bot_id.
        await adapter.continue_conversation(
            model_from_json(ConversationReference, reference), send, self._app_id or None
        )
        if "error" in outcome:
            raise outcome["error"]
        if "id" not in outcome:
            raise RuntimeError("the proactive turn did not run")
        return str(outcome["id"])

    async def to_mail(self, item: Record) -> str:
        """The e-mail copy of a proposal to RUG's mailbox, with the Word file."""
        smtp = self._smtp
        if smtp is None:
            raise NotYetDeliverable("e-mail (OMTANKE_SMTP_HOST) is not configured")
        pid = str(item["payload"]["proposal"])
        proposal = await self._records.proposals.get(pid)
        if proposal is None:
            raise RuntimeError(f"proposal {pid} not found")
        message = await asyncio.to_thread(
            build_message,
            smtp,
            proposal,
            self._texts,
            self._check_context,
            str(item["payload"].get("reason", "forwarded")),
        )
        await send_message(smtp, message)
        logger.info("e-mailed %s", pid)
        return str(message["Message-ID"])
