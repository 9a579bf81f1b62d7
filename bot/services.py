"""Everything a turn needs, opened once per process and passed to the bot and dialogs."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from botbuilder.core import ConversationState, Storage, TurnContext, UserState

from bot.cards import CardTemplates
from bot.i18n import Texts
from bot.settings import Settings
from knowledge.kb import KnowledgeBase
from knowledge.malbild import Malbild, load_malbild
from knowledge.rug import PeopleDirectory, load_people
from knowledge.target_groups import TargetGroupList, load_target_groups
from storage.bot_storage import KeyValueBotStorage
from storage.kv import KeyValueStore, ShardedTinyStore
from storage.repository import Records

logger = logging.getLogger(__name__)


@dataclass
class Services:
    """Shared, long-lived objects; built by :func:`open_services`."""

    settings: Settings
    texts: Texts
    cards: CardTemplates
    kb: KnowledgeBase
    malbild: Malbild
    target_groups: TargetGroupList
    rug: PeopleDirectory
    admins: PeopleDirectory
    state_store: KeyValueStore
    bot_storage: Storage
    conversation_state: ConversationState
    user_state: UserState
    records: Records
    adapter: Any = field(default=None)
    # The RUG workflow (bot.workflow.RugWorkflow): endorsement, decisions, outbox.
    workflow: Any = field(default=None)

    @property
    def feedback(self) -> Any:
        """👍/👎 on answers."""
        return self.records.feedback

    @property
    def escalations(self) -> Any:
        """Questions the bot could not answer, passed on to the coordinators."""
        return self.records.escalations

    @property
    def references(self) -> ReferenceKeeper:
        """Where each user and channel can be reached proactively."""
        return ReferenceKeeper(self.records)

    async def close(self) -> None:
        """Flush and close every store."""
        if self.workflow is not None:
            await self.workflow.close()
        await self.records.close()
        await self.state_store.close()


class ReferenceKeeper:
    """Stores the conversation reference of every person and conversation the bot meets."""

    def __init__(self, records: Records) -> None:
        self._records = records

    async def remember(self, turn_context: TurnContext) -> None:
        """Store (or refresh) where this conversation can be reached."""
        activity = turn_context.activity
        reference = TurnContext.get_conversation_reference(activity)
        # The incoming message's id changes every turn and is not needed to reach the
        # conversation; without it, an unchanged reference is not written again.
        reference.activity_id = None
        user = activity.from_property
        await self._records.references.remember(
            conversation_id=activity.conversation.id,
            user_aad=(user.aad_object_id or "") if user else "",
            user_id=user.id if user else "",
            conversation_type=activity.conversation.conversation_type or "personal",
            reference=reference.serialize(),
        )


def load_directories(
    settings: Settings,
) -> tuple[TargetGroupList, PeopleDirectory, PeopleDirectory]:
    """The coordinators' lists: target groups, RUG members and admins."""
    groups = load_target_groups(settings.target_groups_path)
    rug = PeopleDirectory(
        load_people(settings.rug_members_path) if settings.rug_members_path else ()
    )
    admins = PeopleDirectory(load_people(settings.admins_path) if settings.admins_path else ())
    return groups, rug, admins


async def open_services(settings: Settings) -> Services:
    """Load knowledge and configuration, open the stores; fail fast with a clear error."""
    texts = Texts.load()
    cards = CardTemplates.load(texts)
    malbild = load_malbild()
    groups, rug, admins = load_directories(settings)
    kb = KnowledgeBase.load(target_groups=[(g.id, g.name) for g in groups.groups])
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    state_store = ShardedTinyStore(settings.data_dir / "state")
    bot_storage = KeyValueBotStorage(state_store)
    records = Records(settings.data_dir, state_store)
    # A damaged line in the middle of the audit log must stop start-up, not a later read.
    await records.audit.read()
    if groups.provisional:
        logger.warning("using the default target-group list, marked as not yet confirmed")
    services = Services(
        settings=settings,
        texts=texts,
        cards=cards,
        kb=kb,
        malbild=malbild,
        target_groups=groups,
        rug=rug,
        admins=admins,
        state_store=state_store,
        bot_storage=bot_storage,
        conversation_state=ConversationState(bot_storage),
        user_state=UserState(bot_storage),
        records=records,
    )
    # Imported here: the workflow imports the dialogs' helpers, which import this module.
    from bot.workflow import RugWorkflow

    services.workflow = RugWorkflow(services)
    return services
