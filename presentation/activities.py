"""Messages as plain JSON activities (the Bot Framework's wire format), without the SDK.

The RUG process and the outbox build these; the bot layer turns them into SDK activities.
"""

from __future__ import annotations

from typing import Any

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def text_activity(text: str) -> dict[str, Any]:
    """A plain text message."""
    return {"type": "message", "text": text}


def card_activity(card: dict[str, Any], summary: str = "") -> dict[str, Any]:
    """A message carrying one Adaptive Card; `summary` is what notifications show."""
    activity: dict[str, Any] = {
        "type": "message",
        "attachmentLayout": "list",
        "attachments": [{"contentType": ADAPTIVE_CARD, "content": card}],
    }
    if summary:
        activity["summary"] = summary
    return activity
