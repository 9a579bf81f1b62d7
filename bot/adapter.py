"""The Bot Framework adapter: authentication, connector-client reuse and the turn error handler."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import ConversationState, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import ActivityTypes
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenValidation,
)

from bot.i18n import Texts, locale_of
from bot.settings import Settings
from dialogs.ids import DIALOG_STATE_PROPERTY

logger = logging.getLogger(__name__)


class _SdkConfiguration:
    """The attribute names the SDK's configuration-driven classes read."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.app_id or None
        self.APP_PASSWORD = settings.app_password or None
        self.APP_TYPE = settings.app_type
        self.APP_TENANTID = settings.app_tenant_id or None
        # The SDK's own setting for where it fetches the channel's OpenID metadata (signing keys).
        if settings.openid_metadata_url:
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = settings.openid_metadata_url


class _CachingConnectorFactory(ConnectorFactory):
    """One connector client per (app id, service URL, audience) instead of one per turn."""

    def __init__(
        self,
        inner: ConnectorFactory,
        app_id: str | None,
        cache: dict[tuple[Any, ...], ConnectorClient],
    ) -> None:
        self._inner = inner
        self._app_id = app_id
        self._cache = cache

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        """Reuse the client built for the same credentials and URL; building one costs ~5 ms."""
        key = (self._app_id, service_url, audience)
        client = self._cache.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            self._cache[key] = client
        return client


class CachingBotFrameworkAuthentication(ConfigurationBotFrameworkAuthentication):
    """The SDK's authentication, unchanged, with connector clients reused across turns.

    The SDK builds a new ConnectorClient (and msrest retry configuration) for every turn; that is
    most of a bare echo bot's time per turn. Token validation is not touched.
    """

    def __init__(self, configuration: Any) -> None:
        super().__init__(configuration)
        self._clients: dict[tuple[Any, ...], ConnectorClient] = {}

    async def authenticate_request(
        self, activity: Any, auth_header: str
    ) -> AuthenticateRequestResult:
        """Validate the request exactly as the SDK does, then share connector clients."""
        result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = self._wrap(result.connector_factory, result.claims_identity)
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        """Factory for proactive sends, sharing the same client cache."""
        return self._wrap(super().create_connector_factory(claims_identity), claims_identity)

    def _wrap(self, inner: ConnectorFactory, identity: ClaimsIdentity | None) -> ConnectorFactory:
        app_id = (
            JwtTokenValidation.get_app_id_from_claims(identity.claims)
            if identity and identity.claims
            else None
        )
        return _CachingConnectorFactory(inner, app_id, self._clients)


def create_adapter(
    settings: Settings, texts: Texts, conversation_state: ConversationState
) -> CloudAdapter:
    """The CloudAdapter with our authentication and an error handler that apologises in Swedish."""
    adapter = CloudAdapter(CachingBotFrameworkAuthentication(_SdkConfiguration(settings)))
    adapter.on_turn_error = make_error_handler(texts, conversation_state)
    return adapter


def make_error_handler(
    texts: Texts, conversation_state: ConversationState
) -> Callable[[TurnContext, Exception], Awaitable[None]]:
    """Log, apologise, clear the dialog so the next message starts fresh; keep stored data."""

    async def on_error(context: TurnContext, error: Exception) -> None:
        logger.exception("turn failed", exc_info=error)
        locale = locale_of(context.activity.locale if context.activity else None)
        if context.activity is not None and context.activity.type == ActivityTypes.message:
            try:
                await context.send_activity(texts.get("general.error", locale))
            except Exception:
                logger.exception("could not send the apology")
        try:
            # Only the dialog stack goes; drafts and proposals live elsewhere and stay.
            await conversation_state.load(context)
            if DIALOG_STATE_PROPERTY in (conversation_state.get(context) or {}):
                await conversation_state.create_property(DIALOG_STATE_PROPERTY).delete(context)
                await conversation_state.save_changes(context, force=True)
        except Exception:
            logger.exception("could not clear the dialog state")

    return on_error
