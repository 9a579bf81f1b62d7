"""`omtanke chat`: the very same bot in the terminal, through an in-process adapter."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    ResourceResponse,
)

from bot.adapter import make_error_handler
from bot.card_text import (
    CardButton,
    CardInput,
    RenderedCard,
    choice_number,
    format_card,
    render_card,
)
from bot.logsafe import configure_logging
from bot.services import Services, open_services
from bot.settings import Settings
from bot.teams_bot import OmtankeBot
from dialogs.factory import build_root_dialog
from knowledge.kb import KnowledgeBase
from presentation.texts import locale_of

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
BOT_ACCOUNT = ChannelAccount(id="omtanke-bot", name="Omtanke")
QUIT_WORDS = ("/quit", "/exit", "/sluta")


class ConsoleAdapter(BotAdapter):
    """Delivers the bot's activities to a callback instead of the Bot Connector."""

    def __init__(self, deliver: Callable[[Activity], None]) -> None:
        super().__init__()
        self._deliver = deliver

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        """Show each activity; typing indicators and traces are skipped."""
        responses = []
        for activity in activities:
            if activity.type in (ActivityTypes.message, None):
                activity.id = activity.id or str(uuid.uuid4())
                self._deliver(activity)
            responses.append(ResourceResponse(id=activity.id or str(uuid.uuid4())))
        return responses

    async def update_activity(self, context: TurnContext, activity: Activity) -> ResourceResponse:
        """A card updated in place is shown again."""
        self._deliver(activity)
        return ResourceResponse(id=activity.id or "")

    async def delete_activity(self, context: TurnContext, reference: ConversationReference) -> None:
        """Nothing to delete on a terminal."""

    async def process(
        self, activity: Activity, logic: Callable[[TurnContext], Awaitable[None]]
    ) -> None:
        """Run one turn through the middleware pipeline."""
        context = TurnContext(self, activity)
        await self.run_pipeline(context, logic)

    async def continue_conversation(
        self,
        reference: ConversationReference,
        callback: Callable[[TurnContext], Awaitable[None]],
        bot_id: str | None = None,
        claims_identity: Any = None,
        audience: str | None = None,
    ) -> None:
        """Proactive messages (e.g. a RUG decision) appear in the same terminal."""
        activity = TurnContext.apply_conversation_reference(
            Activity(type=ActivityTypes.event), reference, True
        )
        await self.run_pipeline(TurnContext(self, activity), callback)


class ChatSession:
    """One terminal user talking to the bot; keeps the last card so its buttons can be pressed."""

    def __init__(
        self, services: Services, write: Callable[[str], None], user: ChannelAccount
    ) -> None:
        self.services = services
        self._write = write
        self.user = user
        self.adapter = ConsoleAdapter(self._show)
        self.adapter.on_turn_error = make_error_handler(services.texts, services.conversation_state)
        services.use_adapter(self.adapter)
        self.bot = OmtankeBot(services, build_root_dialog(services))
        self.last_card: RenderedCard | None = None
        self.client_locale = os.environ.get("OMTANKE_CHAT_LOCALE", "sv-SE")
        # The terminal's own words (prompts, goodbye) follow the same locale as the bot's.
        self.locale = locale_of(self.client_locale)
        self.conversation = ConversationAccount(
            id=f"terminal:{user.id}", conversation_type="personal", tenant_id="local"
        )

    def _show(self, activity: Activity) -> None:
        if activity.text:
            self._write(f"Omtanke: {activity.text}")
        for attachment in activity.attachments or []:
            if attachment.content_type == CARD_TYPE and isinstance(attachment.content, dict):
                rendered = render_card(attachment.content)
                self.last_card = rendered
                self._write(self.format(rendered))

    def t(self, key: str, **values: Any) -> str:
        """A text of the terminal chat in the session's locale."""
        return self.services.texts.get(key, self.locale, **values)

    def format(self, rendered: RenderedCard) -> str:
        """A card as text in the session's locale."""
        return format_card(rendered, self.services.texts, self.locale)

    def _activity(self, **fields: Any) -> Activity:
        return Activity(
            channel_id="msteams",
            service_url="http://localhost/terminal",
            conversation=self.conversation,
            from_property=self.user,
            recipient=BOT_ACCOUNT,
            locale=self.client_locale,
            channel_data={"tenant": {"id": "local"}},
            id=str(uuid.uuid4()),
            **fields,
        )

    async def start(self) -> None:
        """Install the bot for this user: the welcome card appears."""
        activity = self._activity(
            type=ActivityTypes.conversation_update, members_added=[BOT_ACCOUNT, self.user]
        )
        await self.adapter.process(activity, self.bot.on_turn)

    async def say(self, text: str) -> None:
        """Send a typed message."""
        await self.adapter.process(
            self._activity(type=ActivityTypes.message, text=text), self.bot.on_turn
        )

    async def submit(self, value: dict[str, Any]) -> None:
        """Send a card submit, as Teams does (no text, the data in value)."""
        await self.adapter.process(
            self._activity(type=ActivityTypes.message, value=value), self.bot.on_turn
        )

    def find_button(self, typed: str) -> CardButton | None:
        """The last card's button a typed number or title refers to."""
        if self.last_card is None:
            return None
        buttons = self.last_card.buttons
        if typed.isdigit() and 1 <= int(typed) <= len(buttons):
            return buttons[int(typed) - 1]
        lowered = typed.strip().lower()
        return next((b for b in buttons if b.title.strip().lower() == lowered), None)


def input_value(item: CardInput, typed: str) -> str:
    """Turn what was typed for a card input into the value Teams would send."""
    typed = typed.strip()
    if not typed and item.value:
        # Left untouched: Teams sends what the card already held (e.g. the draft's answer).
        return item.value
    if item.kind == "Input.Toggle":
        return (
            item.value_on if typed.lower() in ("ja", "j", "yes", "y", "1", "x") else item.value_off
        )
    if item.kind == "Input.ChoiceSet" and item.choices:
        picked = []
        for part in typed.replace(";", ",").split(","):
            part = part.strip()
            own = [v for t, v in item.choices if part.isdigit() and choice_number(t) == int(part)]
            if own:
                picked.append(own[0])
            elif part.isdigit() and 1 <= int(part) <= len(item.choices):
                picked.append(item.choices[int(part) - 1][1])
            elif part:
                match = next(
                    (v for t, v in item.choices if t.lower() == part.lower() or v == part), None
                )
                picked.append(match if match is not None else part)
        return ",".join(picked if item.multi else picked[:1])
    return typed


def current_value_text(item: CardInput) -> str:
    """The input's prefilled value as the user reads it (choice titles, not their values)."""
    if item.kind == "Input.ChoiceSet" and item.choices:
        titles = {value: title for title, value in item.choices}
        return ", ".join(titles.get(part, part) for part in item.value.split(",") if part)
    return item.value


async def run_chat(
    settings: Settings,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
    kb: KnowledgeBase | None = None,
) -> int:
    """The interactive loop; returns the exit code (``kb``: one already loaded)."""
    services = await open_services(settings, kb=kb)
    name = os.environ.get("OMTANKE_CHAT_NAME") or getpass.getuser().capitalize()
    user_id = os.environ.get("OMTANKE_CHAT_USER_ID", "terminal-user")
    user = ChannelAccount(
        id=user_id, name=name, aad_object_id=os.environ.get("OMTANKE_CHAT_AAD_ID", user_id)
    )
    session = ChatSession(services, write, user)
    write(session.t("chat.intro") + "\n")
    try:
        await session.start()
        while True:
            try:
                typed = await asyncio.to_thread(read, "\ndu> ")
            except (EOFError, KeyboardInterrupt):
                break
            if typed.strip().lower() in QUIT_WORDS:
                break
            if not typed.strip():
                continue
            button = session.find_button(typed)
            if button is None:
                await session.say(typed)
                continue
            await _press(session, button, read, write)
    finally:
        await services.close()
    write(session.t("chat.goodbye"))
    return 0


async def _press(
    session: ChatSession,
    button: CardButton,
    read: Callable[[str], str],
    write: Callable[[str], None],
) -> None:
    if button.kind == "Action.OpenUrl":
        write(session.t("chat.open_url", url=button.url))
        return
    if button.kind == "Action.ShowCard" and button.card:
        rendered = render_card(button.card)
        session.last_card = rendered
        write(session.format(rendered))
        return
    value = dict(button.data)
    if button.uses_inputs and session.last_card is not None:
        for item in session.last_card.inputs:
            multi = session.t("chat.prompt.multi") if item.multi else ""
            keep = ""
            if item.value:
                keep = session.t("chat.prompt.keep", value=current_value_text(item))
            prompt = f"{item.label}{multi}{keep}: "
            typed = await asyncio.to_thread(read, prompt)
            value[item.id] = input_value(item, typed)
    await session.submit(value)


def main(settings: Settings) -> int:
    """Entry point for `omtanke chat`."""
    configure_logging(logging.WARNING, "%(levelname)s %(name)s: %(message)s")
    return asyncio.run(run_chat(settings))
