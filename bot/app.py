"""The aiohttp service: POST /api/messages for Teams, GET /healthz for probes."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from botbuilder.core import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from msrest.exceptions import DeserializationError

from bot.adapter import create_adapter
from bot.services import Services, open_services
from bot.settings import Settings
from bot.teams_bot import OmtankeBot
from dialogs.factory import build_root_dialog

logger = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
SERVICES = web.AppKey("services", Services)
ADAPTER = web.AppKey("adapter", CloudAdapter)
BOT = web.AppKey("bot", OmtankeBot)
STARTED_AT = web.AppKey("started_at", float)


def create_app(settings: Settings, services: Services | None = None) -> web.Application:
    """Build the service; stores open on start-up and close on shutdown."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[STARTED_AT] = time.monotonic()
    app.cleanup_ctx.append(_lifecycle(services))
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app


def _lifecycle(given: Services | None) -> Any:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        services = given or await open_services(settings)
        app[SERVICES] = services
        app[ADAPTER] = create_adapter(settings, services.texts, services.conversation_state)
        services.adapter = app[ADAPTER]
        app[BOT] = OmtankeBot(services, build_root_dialog(services))
        if settings.auth_enabled:
            logger.info("Bot Framework authentication is on for app id %s", settings.app_id)
        else:
            logger.warning(
                "MicrosoftAppId is not set: authentication is OFF. Use this only locally."
            )
        yield
        if given is None:
            await services.close()

    return ctx


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
    except (ValueError, UnicodeDecodeError):
        return _problem(400, "request body is not valid JSON")
    activity = _parse_activity(body)
    if activity is None:
        return _problem(400, "request body is not a Bot Framework activity")

    settings = request.app[SETTINGS]
    adapter = request.app[ADAPTER]
    auth_header = request.headers.get("Authorization", "")
    try:
        auth = await adapter.bot_framework_authentication.authenticate_request(
            activity, auth_header
        )
    except PermissionError:
        logger.warning("refused a request with a missing or invalid token")
        return _problem(401, "unauthorized")
    except Exception:
        # The bare SDK answers 500 when it cannot fetch the signing keys; that is not our fault
        # nor the caller's, so say the service is temporarily unable to authenticate.
        logger.exception("could not authenticate the request")
        status = 503 if settings.auth_enabled else 401
        return _problem(status, "could not authenticate the request")

    if settings.allowed_tenants:
        tenant = _tenant_of(activity)
        if tenant not in settings.allowed_tenants:
            logger.warning("refused an activity from tenant %r", tenant)
            return _problem(403, "tenant not allowed")

    invoke_response = await adapter.process_activity(auth, activity, request.app[BOT].on_turn)
    if invoke_response:
        return web.json_response(
            data=serializer_helper(invoke_response.body), status=invoke_response.status
        )
    return web.Response(status=201)


def _parse_activity(body: Any) -> Activity | None:
    if not isinstance(body, dict):
        return None
    try:
        activity = Activity().deserialize(body)
    except (DeserializationError, TypeError, ValueError, AttributeError):
        return None
    if not isinstance(activity.type, str) or not activity.type:
        return None
    if not activity.service_url or not activity.conversation or not activity.conversation.id:
        return None
    if not activity.channel_id:
        return None
    return activity


def _tenant_of(activity: Activity) -> str | None:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant") if isinstance(channel_data.get("tenant"), dict) else None
    if tenant and isinstance(tenant.get("id"), str):
        return str(tenant["id"])
    conversation = activity.conversation
    return conversation.tenant_id if conversation else None


def _problem(status: int, message: str) -> web.Response:
    return web.Response(
        status=status, text=json.dumps({"error": message}), content_type="application/json"
    )
