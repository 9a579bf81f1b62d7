"""Small helpers that turn texts and bound cards into activities."""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity

from bot.i18n import locale_of


def locale_for(turn_context: TurnContext) -> str:
    """The locale to answer in: English for an English Teams client, Swedish otherwise."""
    return locale_of(turn_context.activity.locale if turn_context.activity else None)


def card_activity(card: dict[str, Any], summary: str = "") -> Activity:
    """A message carrying one Adaptive Card; summary is what notifications show."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    if summary:
        activity.summary = summary
    return activity


def user_key(turn_context: TurnContext) -> str:
    """A stable id for the person behind this turn: the Entra object id, else the channel id."""
    sender = turn_context.activity.from_property
    if sender is None:
        return "unknown"
    return sender.aad_object_id or f"{turn_context.activity.channel_id}:{sender.id}"
