"""Everything a turn needs, built and wired in one place, once per process."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from botbuilder.core import BotAdapter, ConversationState, Storage, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botframework.connector.auth import ServiceClientCredentialsFactory

from bot.adapter import create_adapter
from bot.backends import open_backend
from bot.delivery import Delivery, RetryPolicy
from bot.proactive import ProactiveSenders
from bot.settings import Settings
from dialogs.wire import model_to_json
from knowledge.kb import KnowledgeBase
from knowledge.malbild import Malbild, load_malbild
from knowledge.rug import PeopleDirectory, load_people
from knowledge.skallkrav import CheckContext
from knowledge.target_groups import TargetGroupList, load_target_groups
from presentation.cards import CardTemplates
from presentation.texts import Texts
from rug.escalations import EscalationDesk
from rug.workflow import RugWorkflow
from storage.base import Backend
from storage.bot_storage import FastConversationState, KeyValueBotStorage
from storage.errors import StoreUnavailableError
from storage.records import Records

logger = logging.getLogger(__name__)

# The one Bot Framework channel the app is for; the terminal chat speaks as Teams too.
TEAMS_CHANNEL = "msteams"


@dataclass
class Services:
    """Shared, long-lived objects; built by :func:`open_services`, closed by :meth:`close`.

    The dialogs see them through dialogs.ports.DialogServices, which names what they may use.
    """

    settings: Settings
    texts: Texts
    cards: CardTemplates
    kb: KnowledgeBase
    malbild: Malbild
    target_groups: TargetGroupList
    rug: PeopleDirectory
    admins: PeopleDirectory
    check_context: CheckContext
    records: Records
    bot_storage: Storage
    conversation_state: ConversationState
    adapter: BotAdapter
    workflow: RugWorkflow
    escalation_desk: EscalationDesk
    delivery: Delivery
    senders: ProactiveSenders
    references: ReferenceKeeper

    def use_adapter(self, adapter: BotAdapter) -> None:
        """Run turns and proactive messages through another adapter (the terminal chat, the
        SDK's TestAdapter in tests); the HTTP service keeps the one open_services built."""
        self.adapter = adapter
        self.senders.adapter = adapter

    async def deliver_now(self, ids: list[str]) -> None:
        """Try the outbox items a turn stored; what fails is retried by the worker."""
        await self.delivery.deliver(ids)

    def wake_outbox(self) -> None:
        """Have the outbox worker look again now (a channel was registered)."""
        self.delivery.wake()

    async def close(self) -> None:
        """Close the adapter's HTTP session and every store (the app stops the outbox worker)."""
        if isinstance(self.adapter, CloudAdapter):
            await self.adapter.bot_framework_authentication.close()
        await self.records.close()


class ReferenceKeeper:
    """Stores the conversation reference of every person and conversation the bot meets."""

    def __init__(self, records: Records) -> None:
        self._records = records

    async def remember(self, turn_context: TurnContext) -> None:
        """Store (or refresh) where this conversation can be reached."""
        activity = turn_context.activity
        if activity.channel_id != TEAMS_CHANNEL:
            # A reference from another channel would send this person's messages (endorsement
            # requests, decisions) to whoever wrote it; the HTTP boundary refuses such
            # activities, and this keeps any other way in from moving a stored reference.
            logger.warning("did not remember a reference from channel %r", activity.channel_id)
            return
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
            reference=model_to_json(reference),
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


def load_coordinators(settings: Settings) -> PeopleDirectory:
    """The coordinators' list (OMTANKE_COORDINATORS): who answers escalated questions."""
    path = settings.coordinators_path
    return PeopleDirectory(load_people(path) if path else ())


def load_knowledge(groups: TargetGroupList) -> KnowledgeBase:
    """The knowledge base, which also recognises the configured target groups by name."""
    return KnowledgeBase.load(target_groups=[(g.id, g.name) for g in groups.groups])


def retry_policy(settings: Settings) -> RetryPolicy | None:
    """The outbox's timing from the settings; None (Delivery's default) when none is set."""
    default = Settings()
    timing = (
        settings.outbox_retry_seconds,
        settings.outbox_poll_seconds,
        settings.outbox_claim_seconds,
    )
    if timing == (
        default.outbox_retry_seconds,
        default.outbox_poll_seconds,
        default.outbox_claim_seconds,
    ):
        return None
    return RetryPolicy(base=timing[0], poll=timing[1], claim=timing[2])


async def open_services(
    settings: Settings,
    *,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
    adapter: BotAdapter | None = None,
    kb: KnowledgeBase | None = None,
    backend: Backend | None = None,
    retry: RetryPolicy | None = None,
) -> Services:
    """Load knowledge and configuration, open the stores; fail fast with a clear error.

    ``credentials_factory`` only changes how replies get their outbound token (tests point it
    at a fake connector); ``adapter`` replaces the Bot Framework adapter (the terminal chat and
    the SDK's TestAdapter); ``kb`` and ``backend`` let tests share one knowledge base and use
    another store.
    """
    texts = Texts.load()
    cards = CardTemplates.load(texts)
    malbild = load_malbild()
    groups, rug, admins = load_directories(settings)
    coordinators = load_coordinators(settings)
    if kb is None:
        kb = load_knowledge(groups)
    if groups.provisional:
        logger.warning("using the default target-group list, marked as not yet confirmed")
    backend = backend or await open_backend(settings)
    records = Records(backend)
    try:
        # Every record is read now: damage stops start-up with the file and record named,
        # and changes a crash interrupted are finished before the first turn.
        await records.open()
    except StoreUnavailableError as error:
        await records.close()
        if settings.storage == "azure" and settings.azure is not None:
            # Name the setting to check: the store's message names the account and table.
            raise StoreUnavailableError(f"{error} (check {settings.azure.source})") from error
        raise
    except BaseException:
        await records.close()
        raise
    bot_storage = KeyValueBotStorage(backend.state)
    conversation_state = FastConversationState(bot_storage)
    if adapter is None:
        adapter = create_adapter(
            settings, texts, conversation_state, credentials_factory=credentials_factory
        )
    check_context = CheckContext(target_groups=groups, malbild=malbild, rug=rug)
    workflow = RugWorkflow(
        records=records,
        texts=texts,
        cards=cards,
        rug=rug,
        admins=admins,
        check_context=check_context,
        mail_recipient=settings.smtp.recipient if settings.smtp else None,
        reminder_days=settings.endorsement_reminder_days,
    )
    escalation_desk = EscalationDesk(
        records=records,
        texts=texts,
        cards=cards,
        coordinators=coordinators,
        admins=admins,
        known_people=(rug,),
    )
    # A card or notice a crash left unqueued is queued now (the worker then delivers it).
    try:
        await escalation_desk.recover()
    except BaseException:
        await records.close()
        raise
    # Several instances share an Azure outbox: a claim left by another one is waited for.
    delivery = Delivery(
        records.outbox, retry or retry_policy(settings), exclusive=backend.kind != "azure"
    )
    senders = ProactiveSenders(adapter, records, texts, check_context, settings)
    senders.register(delivery)
    delivery.on_delivered("rug_card", workflow.remember_card)
    return Services(
        settings=settings,
        texts=texts,
        cards=cards,
        kb=kb,
        malbild=malbild,
        target_groups=groups,
        rug=rug,
        admins=admins,
        check_context=check_context,
        records=records,
        bot_storage=bot_storage,
        conversation_state=conversation_state,
        adapter=adapter,
        workflow=workflow,
        escalation_desk=escalation_desk,
        delivery=delivery,
        senders=senders,
        references=ReferenceKeeper(records),
    )
