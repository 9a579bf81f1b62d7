"""What a dialog may ask of the services: the one typed port between the dialogs and the bot.

bot.services.Services satisfies it; dialog tests can pass anything that does.
"""

from __future__ import annotations

from typing import Protocol

from knowledge.kb import KnowledgeBase
from knowledge.malbild import Malbild
from knowledge.rug import PeopleDirectory
from knowledge.skallkrav import CheckContext
from knowledge.target_groups import TargetGroupList
from presentation.cards import CardTemplates
from presentation.texts import Texts
from rug.escalations import EscalationDesk
from rug.workflow import RugWorkflow
from storage.records import Records


class DialogServices(Protocol):
    """The shared objects a dialog uses."""

    texts: Texts
    cards: CardTemplates
    kb: KnowledgeBase
    malbild: Malbild
    target_groups: TargetGroupList
    rug: PeopleDirectory
    check_context: CheckContext
    records: Records
    workflow: RugWorkflow
    escalation_desk: EscalationDesk

    async def deliver_now(self, ids: list[str]) -> None:
        """Try the outbox items a turn stored, now (the outbox worker retries the rest)."""

    def wake_outbox(self) -> None:
        """Have the outbox worker look again now (a channel was registered)."""
