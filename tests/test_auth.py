"""The HTTP endpoint against real, locally signed Bot Framework tokens, tenants and log hygiene.

The SDK validates every token itself: it fetches our OpenID metadata and JWKS from 127.0.0.1
(via the SDK's own TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL setting) and checks signature,
algorithm, expiry, issuer, audience, key endorsement and the serviceurl claim. Only the reply's
outbound token is faked (FakeOutboundCredentialFactory), because Microsoft login is offline.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import adapter as adapter_module
from bot.app import create_app
from bot.settings import Settings
from knowledge.kb import KnowledgeBase
from tests.builders import TENANT, teams_message
from tests.jwt_fixtures import (
    OUTBOUND_TOKEN,
    FakeOutboundCredentialFactory,
    HeaderRecordingConnector,
    MetadataServer,
    SigningKey,
    channel_claims,
    sign,
    sign_unsafe,
)
from tests.service import start_app

APP_ID = "3f2b6c1e-8a4d-4f7b-9c2e-1d5a7b9e0c11"
PASSWORD = "pw-Omtanke-Hemlig-7Q2x9Zk4"  # distinctive, so a leak into the logs is findable
KEY = SigningKey.new(kid="omtanke-test-key")
OTHER_KEY = SigningKey.new(kid="omtanke-test-key")  # same kid, different key: forged signature
WEBCHAT_KEY = SigningKey.new(kid="webchat-only", endorsements=("webchat",))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under folder with its content."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def closed_port_url() -> str:
    """A metadata URL on a port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1/.well-known/openidconfiguration"


@asynccontextmanager
async def running_app(settings: Settings, **kwargs: Any) -> AsyncIterator[str]:
    """The real app on a free port of 127.0.0.1; yields the /api/messages URL."""
    runner, base = await start_app(create_app(settings, **kwargs))
    try:
        yield f"{base}/api/messages"
    finally:
        await runner.cleanup()


async def post(url: str, body: dict[str, Any], token: str | None = None) -> int:
    """POST one activity; return the status."""
    headers = {"Authorization": token} if token is not None else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=headers) as response,
    ):
        await response.read()
        return response.status


class Endpoint:
    """The app with authentication on, its metadata server, fake connector and data folder."""

    def __init__(
        self, url: str, metadata: MetadataServer, connector: HeaderRecordingConnector, data: Path
    ) -> None:
        self.url = url
        self.metadata = metadata
        self.connector = connector
        self.data = data
        self.credentials: FakeOutboundCredentialFactory | None = None

    def message(self, text: str = "Vad är RUG?", **kwargs: Any) -> dict[str, Any]:
        """A Teams message whose serviceUrl is the fake connector."""
        return teams_message(text, service_url=self.connector.url, **kwargs)

    def token(self, **overrides: Any) -> str:
        """A valid channel token for this endpoint, with claims overridden."""
        claims = channel_claims(APP_ID, self.connector.url, **overrides)
        return "Bearer " + sign(KEY, claims)


@pytest.fixture
async def endpoint(tmp_path: Path, knowledge: KnowledgeBase) -> AsyncIterator[Endpoint]:
    metadata = await MetadataServer([KEY, WEBCHAT_KEY]).start()
    connector = HeaderRecordingConnector()
    await connector.start()
    settings = Settings(
        app_id=APP_ID,
        app_password=PASSWORD,
        data_dir=tmp_path / "data",
        openid_metadata_url=metadata.url,
    )
    credentials = FakeOutboundCredentialFactory(APP_ID, PASSWORD)
    async with running_app(settings, credentials_factory=credentials, kb=knowledge) as url:
        result = Endpoint(url, metadata, connector, tmp_path / "data")
        result.credentials = credentials
        yield result
    await connector.stop()
    await metadata.stop()


async def test_a_valid_token_runs_the_turn_and_the_bot_replies(endpoint: Endpoint) -> None:
    status = await post(endpoint.url, endpoint.message(), endpoint.token())

    replies = await endpoint.connector.wait_for(1)
    assert status == 201
    assert len(replies) >= 1
    assert replies[0]["conversation"]["id"] == "a:personal-anna"
    assert endpoint.metadata.hits == 2  # configuration + keys, fetched by the SDK itself
    assert set(endpoint.connector.authorizations) == {f"Bearer {OUTBOUND_TOKEN}"}
    assert endpoint.credentials is not None
    # The reply's token would come from Microsoft login for the Bot Framework scope.
    assert endpoint.credentials.requested[0] == (
        APP_ID,
        "https://api.botframework.com",
        "https://login.microsoftonline.com/botframework.com",
    )


def _forged(endpoint: Endpoint) -> dict[str, Callable[[], str | None]]:
    """Every kind of bad Authorization header we try, by name."""
    now = int(time.time())
    claims = channel_claims(APP_ID, endpoint.connector.url)
    pem = KEY.public_pem()
    return {
        "no header": lambda: None,
        "empty header": lambda: "",
        "Bearer without a token": lambda: "Bearer ",
        "Basic scheme": lambda: "Basic " + sign(KEY, claims),
        "lower-case bearer": lambda: "bearer " + sign(KEY, claims),
        "three parts": lambda: "Bearer " + sign(KEY, claims) + " extra",
        "not a JWT": lambda: "Bearer not.a.jwt",
        "garbage": lambda: "Bearer " + "x" * 500,
        "truncated signature": lambda: "Bearer " + sign(KEY, claims)[:-10],
        "wrong signature (other key, same kid)": lambda: "Bearer " + sign(OTHER_KEY, claims),
        "payload swapped after signing": lambda: (
            "Bearer "
            + _swap_payload(sign(KEY, claims), sign(KEY, {**claims, "aud": "someone-else"}))
        ),
        "expired": lambda: endpoint.token(exp=now - 3600, iat=now - 7200, nbf=now - 7200),
        "not yet valid": lambda: endpoint.token(nbf=now + 3600, iat=now + 3600),
        "wrong audience": lambda: endpoint.token(aud="00000000-0000-0000-0000-000000000000"),
        "audience missing": lambda: endpoint.token(aud=None),
        "audience as list": lambda: endpoint.token(aud=[APP_ID]),
        "wrong issuer": lambda: endpoint.token(iss="https://evil.example"),
        "issuer missing": lambda: endpoint.token(iss=None),
        "emulator-like issuer, our key": lambda: endpoint.token(
            iss="https://evil.example/d6d49420-f39b-4df7-a1dc-d59a935871db/"
        ),
        "serviceurl claim of another host": lambda: endpoint.token(
            serviceurl="https://smba.trafficmanager.net/emea/"
        ),
        "serviceurl claim missing": lambda: endpoint.token(serviceurl=None),
        "unknown kid": lambda: "Bearer " + sign(KEY, claims, kid="no-such-kid"),
        "no kid": lambda: "Bearer " + sign(KEY, claims, kid=None),
        "key endorsed for webchat only": lambda: "Bearer " + sign(WEBCHAT_KEY, claims),
        "HS256 with a guessed secret": lambda: (
            "Bearer " + sign_unsafe(claims, alg="HS256", secret=b"secret", kid=KEY.kid)
        ),
        "HS256 with the public key (alg confusion)": lambda: (
            "Bearer " + sign_unsafe(claims, alg="HS256", secret=pem, kid=KEY.kid)
        ),
        "alg none": lambda: "Bearer " + sign_unsafe(claims, alg="none", secret=b"", kid=KEY.kid),
        "skill-shaped token (ver + appid) from our key": lambda: endpoint.token(
            ver="1.0", appid="11111111-2222-3333-4444-555555555555"
        ),
    }


def _swap_payload(signed: str, other: str) -> str:
    header, _, signature = signed.split(".")
    return ".".join([header, other.split(".")[1], signature])


FORGED_KINDS = 28


async def test_every_forged_or_malformed_token_is_refused_with_401(endpoint: Endpoint) -> None:
    forged = _forged(endpoint)
    assert len(forged) == FORGED_KINDS
    before = snapshot(endpoint.data)

    statuses = {
        name: await post(endpoint.url, endpoint.message(), make()) for name, make in forged.items()
    }

    assert statuses == dict.fromkeys(forged, 401)
    assert endpoint.connector.calls == []
    assert snapshot(endpoint.data) == before


async def test_only_teams_activities_are_accepted_whatever_the_token(endpoint: Endpoint) -> None:
    """Web Chat is on by default for an Azure Bot; its users write their own ids and tenant."""
    claims = channel_claims(APP_ID, endpoint.connector.url)
    statuses = []
    for key in (KEY, WEBCHAT_KEY):  # a Teams key, and a key really endorsed for webchat
        body = endpoint.message()
        body["channelId"] = "webchat"
        statuses.append(await post(endpoint.url, body, "Bearer " + sign(key, claims)))

    assert statuses == [403, 403]
    assert endpoint.connector.calls == []


async def test_the_serviceurl_claim_must_match_the_activity(endpoint: Endpoint) -> None:
    body = endpoint.message()
    body["serviceUrl"] = "http://127.0.0.1:9/"  # redirect replies elsewhere with a valid token

    status = await post(endpoint.url, body, endpoint.token())

    assert status == 401
    assert endpoint.connector.calls == []


@pytest.mark.parametrize("failure", ["connection refused", "HTTP 500", "hangs"])
async def test_unreachable_signing_keys_give_503_never_500(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str, knowledge: KnowledgeBase
) -> None:
    monkeypatch.setattr(adapter_module, "AUTH_TIMEOUT_SECONDS", 1.0)
    metadata = MetadataServer([KEY], status=500 if failure == "HTTP 500" else 200)
    metadata.hang = failure == "hangs"
    await metadata.start()
    url = closed_port_url() if failure == "connection refused" else metadata.url
    connector = HeaderRecordingConnector()
    await connector.start()
    settings = Settings(
        app_id=APP_ID, app_password=PASSWORD, data_dir=tmp_path, openid_metadata_url=url
    )
    token = "Bearer " + sign(KEY, channel_claims(APP_ID, connector.url))
    try:
        async with running_app(settings, kb=knowledge) as app_url:
            status = await post(app_url, teams_message("hej", service_url=connector.url), token)
            # The event loop stays free while the keys are fetched: health answers at once.
            async with (
                aiohttp.ClientSession() as session,
                session.get(app_url.replace("/api/messages", "/healthz")) as health,
            ):
                assert health.status == 200
    finally:
        await metadata.stop()
        await connector.stop()

    assert status == 503
    assert connector.calls == []


# --- tenant allow-list (authentication off: the check is independent of the token) ---


@pytest.fixture
async def open_endpoint(
    tmp_path: Path, knowledge: KnowledgeBase
) -> AsyncIterator[tuple[str, HeaderRecordingConnector]]:
    connector = HeaderRecordingConnector()
    await connector.start()
    settings = Settings(data_dir=tmp_path / "data", allowed_tenants=("t1",))
    async with running_app(settings, kb=knowledge) as url:
        yield url, connector
    await connector.stop()


def _from_tenant(connector_url: str, tenant: str, conversation_tenant: str | None = None) -> Any:
    body = teams_message("Vad är RUG?", service_url=connector_url)
    body["channelData"] = {"tenant": {"id": tenant}}
    body["conversation"]["tenantId"] = conversation_tenant or tenant
    return body


async def test_an_activity_from_another_tenant_is_refused_and_leaves_no_trace(
    open_endpoint: tuple[str, HeaderRecordingConnector],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, connector = open_endpoint
    before = snapshot(tmp_path / "data")
    caplog.set_level(logging.WARNING)

    statuses = [
        await post(url, _from_tenant(connector.url, "t2")),
        await post(url, _from_tenant(connector.url, "t1", conversation_tenant="t2")),
        await post(url, _from_tenant(connector.url, "t2", conversation_tenant="t1")),
        await post(url, {**teams_message("hej", service_url=connector.url), "channelData": {}}),
    ]

    assert statuses == [403, 403, 403, 403]
    assert connector.calls == []
    assert snapshot(tmp_path / "data") == before
    refusals = [r for r in caplog.records if "tenant" in r.getMessage()]
    assert len(refusals) == 4
    assert all(r.levelno == logging.WARNING for r in refusals)


async def test_an_activity_from_an_allowed_tenant_is_answered(
    open_endpoint: tuple[str, HeaderRecordingConnector],
) -> None:
    url, connector = open_endpoint

    status = await post(url, _from_tenant(connector.url, "t1"))

    assert status == 201
    assert len(await connector.wait_for(1)) >= 1


# --- logs ---


async def test_neither_the_password_nor_message_text_reaches_the_logs(
    endpoint: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    text = "Hemligt-Meddelande-Zx81 om min patient"
    body = endpoint.message(text)
    assert body["channelData"]["tenant"]["id"] == TENANT

    status = await post(endpoint.url, body, endpoint.token())
    await endpoint.connector.wait_for(1)
    await post(endpoint.url, endpoint.message(text), endpoint.token(aud="wrong"))
    await post(endpoint.url, endpoint.message(text), "Bearer " + "y" * 40)

    assert status == 201
    everything = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert PASSWORD not in everything
    at_info = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "Hemligt-Meddelande-Zx81" not in at_info
    assert caplog.records, "the test should have captured some records"
