"""The aiohttp service: POST /api/messages for Teams, GET /healthz for probes."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlsplit

import botbuilder.schema
from aiohttp import web
from botbuilder.core import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botbuilder.schema.teams import TeamsChannelData
from botframework.connector.auth import ServiceClientCredentialsFactory
from msrest.exceptions import DeserializationError

from bot.adapter import AuthenticationUnavailableError
from bot.maintenance import draft_sweeper
from bot.services import TEAMS_CHANNEL, Services, open_services
from bot.settings import Settings
from bot.teams_bot import OmtankeBot
from dialogs.factory import build_root_dialog
from dialogs.wire import model_from_json
from knowledge.kb import KnowledgeBase

logger = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
SERVICES = web.AppKey("services", Services)
ADAPTER = web.AppKey("adapter", CloudAdapter)
BOT = web.AppKey("bot", OmtankeBot)


def create_app(
    settings: Settings,
    services: Services | None = None,
    *,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
    kb: KnowledgeBase | None = None,
) -> web.Application:
    """Build the service; stores open on start-up and close on shutdown.

    ``credentials_factory`` only changes how replies get their outbound token (tests point it at
    a fake connector); by default it comes from the settings (Microsoft login). ``kb`` is a
    knowledge base already loaded (tests share one), as for open_services.
    """
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_lifecycle(services, credentials_factory, kb))
    # After the services exist, before they close: delivers the outbox, sweeps old drafts.
    app.cleanup_ctx.append(outbox_worker)
    app.cleanup_ctx.append(draft_sweeper(lambda a: a[SERVICES]))
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app


def _lifecycle(
    given: Services | None,
    credentials_factory: ServiceClientCredentialsFactory | None,
    kb: KnowledgeBase | None,
) -> Any:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        services = given or await open_services(
            settings, credentials_factory=credentials_factory, kb=kb
        )
        app[SERVICES] = services
        app[ADAPTER] = services.adapter
        app[BOT] = OmtankeBot(services, build_root_dialog(services))
        if settings.auth_enabled:
            logger.info("Bot Framework authentication is on for app id %s", settings.app_id)
        elif settings.allow_insecure:
            logger.warning(
                "AUTHENTICATION IS OFF on %s (OMTANKE_ALLOW_INSECURE=1): anyone who reaches "
                "this port can act as any user. Only for an isolated test network.",
                settings.host,
            )
        else:
            logger.warning(
                "MicrosoftAppId is not set: authentication is OFF. Use this only locally."
            )
        yield
        if given is None:
            await services.close()

    return ctx


async def outbox_worker(app: web.Application) -> AsyncIterator[None]:
    """Deliver the outbox while the app runs (what is pending goes out at start-up)."""
    delivery = app[SERVICES].delivery
    delivery.start()
    yield
    await delivery.stop()


async def healthz(request: web.Request) -> web.Response:
    """Liveness and readiness: the stores are open and the knowledge base is loaded."""
    services = request.app.get(SERVICES)
    if services is None:
        return web.json_response({"status": "starting"}, status=503)
    return web.json_response({"status": "ok", "entries": len(services.kb.entries)})


async def messages(request: web.Request) -> web.Response:
    """Receive one activity from the Bot Connector and run the bot on it."""
    if "application/json" not in request.headers.get("Content-Type", ""):
        return _problem(415, "Content-Type must be application/json")
    try:
        body = await request.json()
    except web.HTTPRequestEntityTooLarge:
        return _problem(413, "request body is too large")
    except RecursionError:
        # The JSON decoder recurses per nesting level: "[" x 1000 exhausts the stack.
        return _problem(400, "request body is nested too deeply")
    except (ValueError, UnicodeDecodeError):
        return _problem(400, "request body is not valid JSON")
    if _too_deep(body):
        # Below the decoder's limit, msrest's deserializer and our shape check recurse too.
        return _problem(400, "request body is nested too deeply")
    activity = _parse_activity(body)
    if activity is None:
        return _problem(400, "request body is not a Bot Framework activity")
    if activity.channel_id not in ALLOWED_CHANNELS:
        # The app is for Teams only. An Azure Bot resource has Web Chat (and others) on by
        # default, and their users' ids and tenant in the body are theirs to write: a Web Chat
        # user must never act, or be remembered, as a Teams user.
        logger.warning("refused an activity from channel %r", activity.channel_id)
        return _problem(403, "channel not supported")

    settings = request.app[SETTINGS]
    adapter = request.app[ADAPTER]
    auth_header = request.headers.get("Authorization", "")
    try:
        auth = await adapter.bot_framework_authentication.authenticate_request(
            activity, auth_header
        )
    except PermissionError as error:
        logger.warning("refused a request with a missing or invalid token: %r", str(error))
        return _problem(401, "unauthorized")
    except AuthenticationUnavailableError as error:
        # The bare SDK answers 500 when it cannot fetch the signing keys; that is neither our
        # fault nor the caller's, so say the service is temporarily unable to authenticate.
        logger.warning("could not authenticate the request: %s", error)
        return _problem(503, "could not authenticate the request")
    except Exception:
        logger.exception("could not authenticate the request")
        status = 503 if settings.auth_enabled else 401
        return _problem(status, "could not authenticate the request")

    if settings.allowed_tenants:
        tenants = _tenants_of(body)
        if not tenants or not tenants <= set(settings.allowed_tenants):
            logger.warning("refused an activity from tenant %s", sorted(tenants) or "(none)")
            return _problem(403, "tenant not allowed")

    invoke_response = await adapter.process_activity(auth, activity, request.app[BOT].on_turn)
    if invoke_response:
        return _invoke_reply(invoke_response.status, invoke_response.body)
    return web.Response(status=201)


def _invoke_reply(status: int | None, body: Any) -> web.Response:
    """The invoke response as Teams expects it, without the SDK's two traps."""
    if status == 501:
        # The SDK answers invoke names it has no handler for with 501; that is the caller asking
        # for something this bot does not offer, not a server failure.
        return _problem(400, "invoke not supported")
    error = getattr(body, "value", None)
    if isinstance(error, Exception):
        # SDK surprise: its adaptiveCard/action error responses put an Exception object in
        # "value", which its own serializer cannot handle (500); Teams wants {code, message}.
        code, message, *_ = [*(str(a) for a in error.args), "", ""]
        body.value = {"code": code, "message": message}
    return web.json_response(data=serializer_helper(body), status=status or 200)


# What the Bot Framework token vouches for, and what it does not. Signed (checked by the SDK in
# authenticate_request): the token comes from the Bot Connector for our app id (aud), the
# signing key is endorsed for the activity's channelId, and the serviceUrl claim matches the
# activity's serviceUrl. NOT signed: everything else in the body – from.aadObjectId,
# conversation, channelData.tenant.id, value. Those are as good as the channel that wrote
# them, which is why only Teams (which fills in the signed-in user's Entra id and tenant
# itself) is accepted: ALLOWED_CHANNELS below, and the tenant allow-list read from the body.
ALLOWED_CHANNELS = frozenset({TEAMS_CHANNEL})
MAX_JSON_DEPTH = 32  # a real Teams activity nests about 8 levels; cards in value a few more

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_ADDRESS = 2048  # characters of one reply-address field, percent-encoded


def _parse_activity(body: Any) -> Activity | None:
    """The activity, or None when the SDK would choke on it later in the turn (answer 400)."""
    if not isinstance(body, dict):
        return None
    # SDK surprise: msrest turns any JSON value into a declared str with str() (serviceUrl: []
    # becomes "[]") and keeps nulls in typed lists; the turn then fails far from the cause.
    wrong = _shape_error(Activity, body)
    if wrong is not None:
        logger.info("refused an activity: field %s has the wrong type", wrong)
        return None
    try:
        activity = model_from_json(Activity, body)
        # The Teams handler deserializes channelData again mid-turn; malformed data there would
        # fail the turn after we had accepted it, so check it here.
        if activity.channel_data is not None:
            if not isinstance(activity.channel_data, dict):
                return None
            model_from_json(TeamsChannelData, activity.channel_data)
    except (DeserializationError, TypeError, ValueError, AttributeError):
        return None
    if not isinstance(activity.type, str) or not activity.type:
        return None
    if not activity.service_url or not activity.conversation or not activity.conversation.id:
        return None
    # The reply goes to serviceUrl: "0/0" or "ftp://x" would fail the turn after acceptance.
    url = urlsplit(activity.service_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        return None
    if not activity.channel_id:
        return None
    # The reply's URL is built from these: a control character there makes the HTTP client
    # refuse the request line, and a very long one the connector's server (over 8 KiB), so
    # the turn fails after acceptance. Real ids are a few hundred characters at most.
    address = (activity.service_url, activity.conversation.id, activity.id or "")
    if any(_CONTROL.search(v) or len(quote(v, safe="")) > _MAX_ADDRESS for v in address):
        return None
    return activity


def _too_deep(body: Any) -> bool:
    """Whether the JSON nests deeper than MAX_JSON_DEPTH (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _shape_error(model: Any, data: Any, path: str = "") -> str | None:
    """The first field whose JSON type does not match the SDK model's declaration, if any."""
    if not isinstance(data, dict):
        return path or "(body)"
    for spec in model._attribute_map.values():
        key = spec["key"]
        raw = data.get(key)
        if raw is not None and not _fits(spec["type"], raw, f"{path}{key}"):
            return f"{path}{key}"
    return None


def _fits(kind: str, raw: Any, path: str) -> bool:
    if kind in ("str", "iso-8601"):
        return isinstance(raw, str)
    if kind == "bool":
        return isinstance(raw, bool)
    if kind == "int":
        return isinstance(raw, int) and not isinstance(raw, bool)
    if kind == "object":
        return True
    if kind.startswith("["):
        return isinstance(raw, list) and all(
            item is not None and _fits(kind[1:-1], item, path) for item in raw
        )
    if kind.startswith("{"):
        return isinstance(raw, dict) and all(
            value is None or _fits(kind[1:-1], value, path) for value in raw.values()
        )
    model = getattr(botbuilder.schema, kind, None)
    if model is None or not hasattr(model, "_attribute_map"):
        return True
    return _shape_error(model, raw, f"{path}.") is None


def _tenants_of(body: dict[str, Any]) -> set[str]:
    """Every tenant id the activity names; Teams sends it twice, and both must be allowed."""
    # Read from the raw body: the SDK maps ConversationAccount.tenant_id to "tenantID", so the
    # "tenantId" Teams actually sends never reaches the attribute.
    tenants: set[str] = set()
    channel_data = body.get("channelData")
    tenant = channel_data.get("tenant") if isinstance(channel_data, dict) else None
    if isinstance(tenant, dict) and isinstance(tenant.get("id"), str) and tenant["id"]:
        tenants.add(tenant["id"])
    conversation = body.get("conversation")
    for key in ("tenantId", "tenantID"):
        value = conversation.get(key) if isinstance(conversation, dict) else None
        if isinstance(value, str) and value:
            tenants.add(value)
    return tenants


def _problem(status: int, message: str) -> web.Response:
    return web.Response(
        status=status, text=json.dumps({"error": message}), content_type="application/json"
    )
