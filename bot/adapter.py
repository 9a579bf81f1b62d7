"""The Bot Framework adapter: authentication, connector-client reuse and the turn error handler."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import aiohttp
import jwt
import requests
from botbuilder.core import ConversationState, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, ActivityTypes, CallerIdConstants, ResourceResponse
from botframework.connector.aio import ConnectorClient
from botframework.connector.aio.operations_async import ConversationsOperations
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenValidation,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)
from botframework.connector.auth._built_in_bot_framework_authentication import (
    _BuiltinBotFrameworkAuthentication,
)
from msrest.pipeline import AsyncHTTPPolicy, AsyncPipeline
from msrest.pipeline.aiohttp import AioHTTPSender
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http.aiohttp import AioHttpClientResponse
from msrest.universal_http.aiohttp import AioHTTPSender as UniversalAioHTTPSender

from bot.settings import Settings
from dialogs.ids import DIALOG_STATE_PROPERTY
from dialogs.wire import use_fast_serializer
from presentation.texts import Texts, locale_of
from storage.errors import StoreUnavailableError

logger = logging.getLogger(__name__)
ANONYMOUS_SKILL_APP_ID = AuthenticationConstants.ANONYMOUS_SKILL_APP_ID

# How long one request may wait for the channel's signing keys before we answer 503.
AUTH_TIMEOUT_SECONDS = 10.0
_T = TypeVar("_T")


class AuthenticationUnavailableError(RuntimeError):
    """The signing keys could not be fetched: not the caller's fault; retry later (503)."""


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
            # SDK surprise: any one of these settings switches the SDK to its "parameterized"
            # authentication, which leaves every other one None: the expected issuer becomes None
            # (a signed token WITHOUT "iss" passes, real Bot Framework tokens fail) and replies
            # get no login URL. So we give it the public-cloud values explicitly.
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = (
                AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
            )
            self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = (
                AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
            )
            self.TO_CHANNEL_FROM_BOT_LOGIN_URL = (
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
                + (
                    settings.app_tenant_id
                    if settings.app_type == "SingleTenant" and settings.app_tenant_id
                    else AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT
                )
            )
            self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = (
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
            )
            self.OAUTH_URL = AuthenticationConstants.OAUTH_URL
            self.CALLER_ID = CallerIdConstants.public_azure_channel.value


class _BearerPolicy(AsyncHTTPPolicy):
    """Adds the bot's token to outbound calls, as the SDK's credentials would.

    Getting a token may call Microsoft's login (MSAL caches it until it expires), which blocks,
    so it runs in a worker thread and never on the event loop.
    """

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    async def send(self, request: Any, **kwargs: Any) -> Any:
        """Sign the request when the credentials carry an app id (auth on), then send it."""
        await _sign(request.http_request.headers, self._credentials)
        assert self.next is not None  # the pipeline links every policy to the next
        return await self.next.send(request, **kwargs)


async def _sign(headers: Any, credentials: Any) -> None:
    """The bot's token in `headers` when the credentials carry an app id (auth on), else none."""
    app_id = getattr(credentials, "microsoft_app_id", None)
    if credentials is not None and app_id and app_id != ANONYMOUS_SKILL_APP_ID:
        token = await asyncio.to_thread(credentials.get_access_token)
        headers["Authorization"] = f"Bearer {token}"
    else:
        headers.pop("Authorization", None)


class _AiohttpDriver(UniversalAioHTTPSender):
    """Sends the connector's requests with one shared aiohttp session, on the event loop.

    msrest's default sender runs `requests` in a thread pool (a thread hop per reply), and its
    own aiohttp driver drops the request body and headers, hence this small one.
    """

    def __init__(self) -> None:
        # Not the parent's __init__: that opens a session at once, outside any event loop.
        self._session: aiohttp.ClientSession | None = None  # type: ignore[assignment]

    async def __aenter__(self) -> _AiohttpDriver:
        return self

    async def __aexit__(self, *exc_details: object) -> None:
        """The session outlives single requests; it is closed with the adapter."""

    async def send(self, request: Any, **config: Any) -> Any:
        """One msrest request; see `_request`."""
        result = await self._request(request.method, request.url, request.data, request.headers)
        response = AioHttpClientResponse(request, result)
        await response.load_body()
        return response

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST `body`; the status and the whole response body."""
        result = await self._request("POST", url, body, headers)
        async with result:
            return result.status, await result.read()

    async def _request(
        self, method: str, url: str, data: Any, headers: Any
    ) -> aiohttp.ClientResponse:
        """One HTTP call; a dropped connection is tried once more on a fresh one."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        try:
            return await self._session.request(method, url, data=data, headers=headers)
        except aiohttp.ClientConnectionError:
            return await self._session.request(method, url, data=data, headers=headers)

    async def close(self) -> None:
        """Close the shared session."""
        if self._session is not None:
            await self._session.close()


_REPLY_URL = ConversationsOperations.reply_to_activity.metadata["url"]
_SEND_URL = ConversationsOperations.send_to_conversation.metadata["url"]


class _DirectConversations(ConversationsOperations):
    """A reply or a message to a conversation posted straight on the shared session.

    The same request the SDK's operations build (URL, headers, body, the bot's token), without
    msrest's request objects, policy pipeline and response wrappers: about a third of what a
    reply cost in process. Anything unusual (raw responses, per-call options) and every other
    operation go the SDK's way.
    """

    def __init__(self, client: ConnectorClient, driver: _AiohttpDriver) -> None:
        super().__init__(client._client, client.config, client._serialize, client._deserialize)
        self._driver = driver
        self._user_agent = client.config.user_agent

    async def reply_to_activity(
        self, conversation_id: str, activity_id: str, activity: Activity, **options: Any
    ) -> ResourceResponse | None:
        """POST /v3/conversations/{id}/activities/{activityId}."""
        if options:
            return await super().reply_to_activity(
                conversation_id, activity_id, activity, **options
            )
        url = self._client.format_url(
            _REPLY_URL,
            conversationId=self._serialize.url("conversation_id", conversation_id, "str"),
            activityId=self._serialize.url("activity_id", activity_id, "str"),
        )
        return await self._post(url, activity, {"x-ms-conversation-id": conversation_id})

    async def send_to_conversation(
        self, conversation_id: str, activity: Activity, **options: Any
    ) -> ResourceResponse | None:
        """POST /v3/conversations/{id}/activities."""
        if options:
            return await super().send_to_conversation(conversation_id, activity, **options)
        url = self._client.format_url(
            _SEND_URL,
            conversationId=self._serialize.url("conversation_id", conversation_id, "str"),
        )
        return await self._post(url, activity, {})

    async def _post(
        self, url: str, activity: Activity, extra: dict[str, str]
    ) -> ResourceResponse | None:
        body = json.dumps(self._serialize.body(activity, "Activity")).encode()
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": self._user_agent,
            **extra,
        }
        await _sign(headers, self.config.credentials)
        status, content = await self._driver.post(url, body, headers)
        if status not in (200, 201, 202):
            raise ConnectorError(status, content)
        try:
            data = json.loads(content) if content.strip() else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return None
        return ResourceResponse(id=data.get("id") if isinstance(data.get("id"), str) else None)


# The SDK's operations read their URL from the method (`self.reply_to_activity.metadata`).
_DirectConversations.reply_to_activity.metadata = (  # type: ignore[attr-defined]
    ConversationsOperations.reply_to_activity.metadata
)
_DirectConversations.send_to_conversation.metadata = (  # type: ignore[attr-defined]
    ConversationsOperations.send_to_conversation.metadata
)


class ConnectorError(RuntimeError):
    """The channel's connector refused a message (an HTTP status outside 200–202)."""

    def __init__(self, status: int, content: bytes) -> None:
        super().__init__(f"connector answered HTTP {status}: {content[:200]!r}")
        self.status = status


class _CachingConnectorFactory(ConnectorFactory):
    """One connector client per (app id, service URL, audience) instead of one per turn."""

    def __init__(
        self,
        inner: ConnectorFactory,
        app_id: str | None,
        cache: dict[tuple[Any, ...], ConnectorClient],
        driver: _AiohttpDriver,
    ) -> None:
        self._inner = inner
        self._app_id = app_id
        self._cache = cache
        self._driver = driver

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        """Reuse the client built for the same credentials and URL; building one costs ~5 ms."""
        key = (self._app_id, service_url, audience)
        client = self._cache.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            config = client.config
            config.pipeline = AsyncPipeline(
                [
                    config.user_agent_policy,
                    _BearerPolicy(config.credentials),
                    RawDeserializer(),
                    config.http_logger_policy,
                ],
                AioHTTPSender(self._driver),
            )
            use_fast_serializer(client)
            client.conversations = _DirectConversations(client, self._driver)
            self._cache[key] = client
        return client


class CachingBotFrameworkAuthentication(ConfigurationBotFrameworkAuthentication):
    """The SDK's authentication, with connector clients reused across turns.

    The SDK builds a new ConnectorClient (and msrest retry configuration) for every turn; that is
    most of a bare echo bot's time per turn. Token validation itself is the SDK's, unchanged; we
    only run it off the event loop and sort its failures into "bad token" and "keys unavailable".
    """

    def __init__(
        self,
        configuration: Any,
        *,
        credentials_factory: ServiceClientCredentialsFactory | None = None,
    ) -> None:
        super().__init__(configuration, credentials_factory=credentials_factory)
        self._clients: dict[tuple[Any, ...], ConnectorClient] = {}
        self._driver = _AiohttpDriver()
        self._token_clients: dict[str | None, UserTokenClient] = {}
        # Threads are started lazily; a hung key fetch holds one worker, not the event loop.
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="omtanke-auth")

    async def authenticate_request(
        self, activity: Any, auth_header: str
    ) -> AuthenticateRequestResult:
        """Validate the request as the SDK does, then share connector clients.

        Raises PermissionError for any token the SDK does not accept and
        AuthenticationUnavailableError when the signing keys cannot be fetched.
        """
        if auth_header and auth_header.strip():
            # SDK surprise: the key fetch is a blocking requests.get with no timeout inside an
            # async function; run it in a worker thread with its own loop and a deadline.
            coro = super().authenticate_request(activity, auth_header)
            result = await self._off_loop(coro)
        else:
            # SDK surprise: its parameterized path tests `is None`, so "" would be validated as a
            # token and crash with AttributeError; None means "no header" on every path.
            result = await super().authenticate_request(activity, None)
        if result.connector_factory is not None:
            result.connector_factory = self._wrap(result.connector_factory, result.claims_identity)
        return result

    async def _off_loop(self, coro: Coroutine[Any, Any, _T]) -> _T:
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(self._executor, asyncio.run, coro), AUTH_TIMEOUT_SECONDS
            )
        except PermissionError:
            raise
        except (requests.RequestException, TimeoutError) as error:
            raise AuthenticationUnavailableError(
                f"could not fetch the signing keys: {type(error).__name__}"
            ) from error
        except (jwt.PyJWTError, LookupError, ValueError, TypeError, AttributeError) as error:
            # SDK surprise: a bad token surfaces as PyJWT errors, IndexError (unknown kid),
            # KeyError (no "iss"), AttributeError (unparsable header: identity None) or a bare
            # Exception, rarely as PermissionError.
            raise PermissionError(f"invalid token: {type(error).__name__}: {error}") from error
        except Exception as error:
            if type(error) is Exception:
                # The SDK's own bare raises: disallowed algorithm, missing endorsement.
                raise PermissionError(f"invalid token: {error}") from error
            raise

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        """One user-token client per app id; the SDK builds one per turn (~10 ms in msrest)."""
        key = _BuiltinBotFrameworkAuthentication.get_app_id(claims_identity)
        client = self._token_clients.get(key)
        if client is None:
            client = await super().create_user_token_client(claims_identity)
            self._token_clients[key] = client
        return client

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        """Factory for proactive sends, sharing the same client cache."""
        return self._wrap(super().create_connector_factory(claims_identity), claims_identity)

    def _wrap(self, inner: ConnectorFactory, identity: ClaimsIdentity | None) -> ConnectorFactory:
        app_id = (
            JwtTokenValidation.get_app_id_from_claims(identity.claims)
            if identity and identity.claims
            else None
        )
        return _CachingConnectorFactory(inner, app_id, self._clients, self._driver)

    async def close(self) -> None:
        """Close the shared HTTP session used for replies and proactive messages."""
        await self._driver.close()


def create_adapter(
    settings: Settings,
    texts: Texts,
    conversation_state: ConversationState,
    *,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
) -> CloudAdapter:
    """The CloudAdapter with our authentication and an error handler that apologises in Swedish.

    ``credentials_factory`` replaces only how outbound calls get their token (tests use a fake
    connector); inbound tokens are still checked by the SDK against the configured app id.
    """
    adapter = CloudAdapter(
        CachingBotFrameworkAuthentication(
            _SdkConfiguration(settings), credentials_factory=credentials_factory
        )
    )
    adapter.on_turn_error = make_error_handler(texts, conversation_state)
    return adapter


SENT_TEXTS = "omtanke.sent_texts"


async def remember_sent(
    context: TurnContext, activities: list[Activity], send: Callable[[], Awaitable[Any]]
) -> Any:
    """An on_send_activities handler: note each text the turn sends, for the error handler."""
    sent = context.turn_state.setdefault(SENT_TEXTS, set())
    sent.update(a.text for a in activities if a.text)
    return await send()


def make_error_handler(
    texts: Texts, conversation_state: ConversationState
) -> Callable[[TurnContext, Exception], Awaitable[None]]:
    """Log, apologise, clear the dialog so the next message starts fresh; keep stored data."""

    async def on_error(context: TurnContext, error: Exception) -> None:
        logger.exception("turn failed", exc_info=error)
        locale = locale_of(context.activity.locale if context.activity else None)
        # Disk full or folder not writable: say that nothing was saved, and keep the dialog
        # where it was (clearing it would need a write too), so the answer can be sent again.
        cannot_save = isinstance(error, StoreUnavailableError)
        apology = texts.get("general.cannot_save" if cannot_save else "general.error", locale)
        # The dialog may have said so already (it could not save the answer, then the turn's
        # state could not be saved either): once is enough.
        said = apology in context.turn_state.get(SENT_TEXTS, ())
        if context.activity is not None and context.activity.type == ActivityTypes.message:
            try:
                if not said:
                    await context.send_activity(apology)
            except Exception:
                logger.exception("could not send the apology")
        if cannot_save:
            return
        try:
            # Only the dialog stack goes; drafts and proposals live elsewhere and stay.
            await conversation_state.load(context)
            if DIALOG_STATE_PROPERTY in (conversation_state.get(context) or {}):
                await conversation_state.create_property(DIALOG_STATE_PROPERTY).delete(context)
                await conversation_state.save_changes(context, force=True)
        except Exception:
            logger.exception("could not clear the dialog state")

    return on_error
