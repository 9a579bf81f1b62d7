"""What the RUG process is told about a turn, and what it answers: plain data, no SDK."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.proposal import Draft

Activity = dict[str, Any]


@dataclass(frozen=True)
class Actor:
    """The person behind a turn, as far as the channel vouches for them.

    ``aad`` is the Entra object id Teams puts in ``from.aadObjectId``; who may act is always
    decided from it (and the configured lists), never from card data.
    """

    aad: str
    name: str = ""
    locale: str = "sv"
    conversation_id: str = ""
    conversation_type: str = "personal"
    # The card a click came from (the activity's replyToId), if any.
    reply_to_id: str = ""


@dataclass
class Outcome:
    """What the bot should do in the turn: send these messages, maybe replace the card."""

    replies: list[Activity] = field(default_factory=list)
    card: dict[str, Any] | None = None
    # Outbox items stored by this turn, to try delivering at once.
    deliver: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OpenedComplement:
    """The draft to complement and where to start, or the text key of why not."""

    draft: Draft | None = None
    first_step: str = ""
    fields: list[str] = field(default_factory=list)
    intro: str = ""
    error: str = ""
