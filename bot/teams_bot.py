"""The Teams activity handler: welcome, mentions, card submits, and the root dialog."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from typing import Any

from botbuilder.core import ConversationState, InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.dialogs import Dialog
from botbuilder.schema import Activity, ChannelAccount
from botbuilder.schema.teams import TeamInfo

from bot.adapter import remember_sent
from bot.services import TEAMS_CHANNEL, Services
from dialogs.ids import DIALOG_STATE_PROPERTY
from dialogs.replies import actor_of, card_activity, channel_reference, first_name, locale_for
from dialogs.runner import run_dialog
from domain.personnummer import contains_identity_number

logger = logging.getLogger(__name__)

# Turns are idempotent on the activity id: a delivery repeated (a client or proxy retrying, a
# replay) is not applied again. The ids of the last RECENT_PER_CONVERSATION activities are
# kept in the conversation's state (so another instance knows them too), and the last
# RECENT_IN_PROCESS in this process (so a copy arriving while the first is still running,
# before its state is saved, is caught too). A typed message whose turn changed no
# conversation state (a knowledge-base question, help, small talk) is not written down just
# to record its id: that write and its fsync were a third of such a turn. Its copy in this
# process is still caught; a copy reaching another instance or a restarted one is answered
# again, which changes nothing stored (replies are the same; proposals live in the dialog's
# state, which a step does change).
RECENT_ACTIVITIES_PROPERTY = "OmtankeRecentActivities"
RECENT_PER_CONVERSATION = 32
RECENT_IN_PROCESS = 10_000

_AT_TAG = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)


class OmtankeBot(TeamsActivityHandler):
    """Routes every turn; all conversation logic lives in the root dialog."""

    def __init__(self, services: Services, root_dialog: Dialog) -> None:
        self._services = services
        self._conversation_state: ConversationState = services.conversation_state
        self._root = root_dialog
        self._dialog_state = self._conversation_state.create_property(DIALOG_STATE_PROPERTY)
        self._recent_ids = self._conversation_state.create_property(RECENT_ACTIVITIES_PROPERTY)
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Run the turn once per activity id, then persist what it changed."""
        activity = turn_context.activity
        if activity.channel_data is None:
            # The SDK's Teams handler dereferences channelData on conversation updates.
            activity.channel_data = {}
        turn_context.on_send_activities(remember_sent)
        key = _replay_key(activity)
        if key is not None:
            # Checked and marked with no await between: a concurrent copy sees the mark.
            repeated = key in self._seen
            self._seen[key] = None
            while len(self._seen) > RECENT_IN_PROCESS:
                self._seen.popitem(last=False)
            if repeated or key[1] in await self._recent_ids.get(turn_context, list):
                logger.info("ignored a repeated delivery of activity %r", key[1])
                return
        try:
            await super().on_turn(turn_context)
            if key is not None and (
                activity.value is not None or self._state_changed(turn_context)
            ):
                recent = await self._recent_ids.get(turn_context, list)
                recent.append(key[1])
                del recent[:-RECENT_PER_CONVERSATION]
            await self._conversation_state.save_changes(turn_context)
        except BaseException:
            # Not applied: a retry of the same activity must run.
            if key is not None:
                self._seen.pop(key, None)
            raise

    def _state_changed(self, turn_context: TurnContext) -> bool:
        """Whether this turn changed the conversation's state (so it will be written)."""
        cached = self._conversation_state.get_cached_state(turn_context)
        return cached is not None and bool(cached.is_changed)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Strip @mentions and hand the message (or card submit) to the root dialog."""
        activity = turn_context.activity
        if activity.text:
            # In channels Teams prefixes "<at>Omtanke</at>"; the dialog should see only the words.
            activity.text = strip_mentions(activity)
        if not activity.text and activity.value is None:
            # An empty message (e.g. only an image or a lone mention) has nothing to act on.
            await turn_context.send_activity(
                self._services.texts.get("general.empty_message", locale_for(turn_context))
            )
            return
        if _holds_identity_number(activity.text, activity.value):
            # One check at the boundary for every typed text and every card input (ids too):
            # nothing goes further, is logged or is stored.
            await turn_context.send_activity(
                self._services.texts.get("general.identity_number", locale_for(turn_context))
            )
            return
        await self._services.references.remember(turn_context)
        await run_dialog(self._root, turn_context, self._dialog_state)

    async def on_teams_members_added_dispatch(
        self, members_added: list[ChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        """Welcome new people without the SDK's per-member lookup call to the connector."""
        # The SDK looks each member up with TeamsInfo.get_member (a network call per member);
        # we only need the ids, so we skip it.
        await self.on_members_added_activity(members_added, turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        """Greet a user in a personal chat; introduce the bot once when it joins a team or group."""
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        bot_added = any(m.id == bot_id for m in members_added)
        people = [m for m in members_added if m.id != bot_id]
        conversation_type = (
            activity.conversation.conversation_type if activity.conversation else None
        )
        await self._services.references.remember(turn_context)
        if conversation_type in (None, "personal"):
            if bot_added or people:
                await self._send_welcome(
                    turn_context, people[0] if people else activity.from_property
                )
        elif bot_added:
            # Added to a team channel by a RUG member or admin: that channel is RUG's.
            registered = conversation_type == "channel" and (
                await self._services.workflow.bot_added_to_channel(
                    actor_of(turn_context), channel_reference(turn_context)
                )
            )
            if registered:
                self._services.wake_outbox()
            if registered:
                key = "rug.channel.registered_on_install"
            elif conversation_type == "groupChat":
                # A group chat is no channel: RUG's channel cannot be registered there.
                key = "welcome.group_intro"
            else:
                key = "welcome.team_intro"
            await turn_context.send_activity(
                self._services.texts.get(key, locale_for(turn_context))
            )

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        """Remember where the bot was installed, for proactive messages later."""
        await self._services.references.remember(turn_context)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """Omtanke uses no invoke features (its cards use Action.Submit, which arrive as messages).

        The SDK's own invoke handlers (file consent, messaging extensions, …) crash on a missing
        value before any of our code runs, so every invoke is answered 'not implemented' here.
        """
        logger.info("ignored invoke %r", turn_context.activity.name)
        return InvokeResponse(status=501)

    async def on_unrecognized_activity_type(self, turn_context: TurnContext) -> None:
        """Ignore activity types we do not handle, politely (no reply, no error)."""
        logger.info("ignored activity of type %r", turn_context.activity.type)

    async def on_message_reaction_activity(self, turn_context: TurnContext) -> None:
        """Reactions need no answer."""

    async def _send_welcome(self, turn_context: TurnContext, member: ChannelAccount | None) -> None:
        locale = locale_for(turn_context)
        name = first_name(member.name if member else None)
        data: dict[str, Any] = {
            "greeting": self._services.texts.get(
                "welcome.greeting_named" if name else "welcome.greeting", locale, name=name
            )
        }
        card = self._services.cards.render("welcome", data, locale)
        await turn_context.send_activity(
            card_activity(card, self._services.texts.get("welcome.summary", locale))
        )


def _holds_identity_number(*values: Any) -> bool:
    """Whether any string in the values (nested lists and objects walked, keys too) holds one."""
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if contains_identity_number(value):
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _replay_key(activity: Activity) -> tuple[str, str] | None:
    """(conversation, activity id) of a message from Teams, the only ids that are unique."""
    if activity.type != "message" or activity.channel_id != TEAMS_CHANNEL or not activity.id:
        return None
    conversation = activity.conversation.id if activity.conversation else ""
    return (str(conversation), str(activity.id))


def strip_mentions(activity: Activity) -> str:
    """The message text without @mentions of the bot; other mentions keep the person's name.

    Not TurnContext.remove_recipient_mention: it raises on a mention entity without
    "mentioned" or without a type (KeyError/AttributeError) and uses the bot's name as a regex.
    """
    text = str(activity.text or "")
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        props = getattr(entity, "additional_properties", None) or {}
        if str(getattr(entity, "type", None) or props.get("type") or "").lower() != "mention":
            continue
        mentioned = getattr(entity, "mentioned", None) or props.get("mentioned")
        mentioned_id = (
            mentioned.get("id") if isinstance(mentioned, dict) else getattr(mentioned, "id", None)
        )
        tag = getattr(entity, "text", None) or props.get("text")
        if bot_id and mentioned_id == bot_id and isinstance(tag, str) and tag:
            text = text.replace(tag, "")
    return _AT_TAG.sub(lambda match: match.group(1), text).strip()
