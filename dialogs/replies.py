"""The turn as the dialogs see it: who is speaking, in which locale, and how replies go out."""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from dialogs.ports import DialogServices
from dialogs.wire import activity_to_send
from presentation import activities
from presentation.texts import locale_of
from rug.model import Actor, Outcome

logger = logging.getLogger(__name__)


def locale_for(turn_context: TurnContext) -> str:
    """The locale to answer in: English for an English Teams client, Swedish otherwise."""
    return locale_of(turn_context.activity.locale if turn_context.activity else None)


def card_activity(card: dict[str, Any], summary: str = "") -> Activity:
    """A message carrying one Adaptive Card; summary is what notifications show."""
    return activity_to_send(activities.card_activity(card, summary))


def first_name(full: str | None) -> str:
    """The first word of a display name, for a greeting ("Hej Anna!")."""
    parts = (full or "").split()
    return parts[0][:40] if parts else ""


def user_key(turn_context: TurnContext) -> str:
    """A stable id for the person behind this turn: the Entra object id, else the channel id."""
    sender = turn_context.activity.from_property
    if sender is None:
        return "unknown"
    return sender.aad_object_id or f"{turn_context.activity.channel_id}:{sender.id}"


def actor_of(turn_context: TurnContext) -> Actor:
    """The person behind this turn, for the RUG process."""
    activity = turn_context.activity
    sender = activity.from_property
    conversation = activity.conversation
    return Actor(
        aad=(sender.aad_object_id or "") if sender else "",
        name=(sender.name or "") if sender else "",
        locale=locale_for(turn_context),
        conversation_id=(conversation.id or "") if conversation else "",
        conversation_type=(conversation.conversation_type or "personal")
        if conversation
        else "personal",
        reply_to_id=activity.reply_to_id or "",
    )


def channel_reference(turn_context: TurnContext) -> dict[str, Any]:
    """The channel's own reference: new posts start a thread instead of replying in one."""
    reference = TurnContext.get_conversation_reference(turn_context.activity)
    if reference.conversation is not None and reference.conversation.id:
        # Teams: a channel message's conversation id is "19:…@thread.tacv2;messageid=…";
        # posting to that id answers in the thread, without the suffix it starts a new post.
        reference.conversation.id = reference.conversation.id.split(";messageid=")[0]
    reference.activity_id = None
    return dict(reference.serialize())


async def replace_clicked_card(turn_context: TurnContext, card: dict[str, Any]) -> None:
    """Replace the card whose button started this turn with `card`, in place.

    What the turn changed is stored before this runs: a card that cannot be updated (or a turn
    that was no click on a card) is only logged or skipped.
    """
    card_id = turn_context.activity.reply_to_id
    if not card_id:
        return
    activity = card_activity(card)
    activity.id = card_id
    try:
        await turn_context.update_activity(activity)
    except Exception:
        logger.exception("could not update the card %r", card_id)


async def send_outcome(
    services: DialogServices, turn_context: TurnContext, outcome: Outcome
) -> None:
    """Deliver what the turn stored, replace the clicked card, then answer the clicker.

    Everything that must happen is stored before this runs: a failing reply or card update is
    logged, and the change stands.
    """
    if outcome.deliver:
        await services.deliver_now(outcome.deliver)
    if outcome.card is not None:
        await replace_clicked_card(turn_context, outcome.card)
    for reply in outcome.replies:
        try:
            await turn_context.send_activity(activity_to_send(reply))
        except Exception:
            logger.exception("could not answer the user; the change is stored")
