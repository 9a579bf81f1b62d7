"""Signing keys, a local OpenID metadata server and token builders for the authentication tests.

The server mimics login.botframework.com: an OpenID configuration document pointing at a JWKS
whose keys carry a `kid` and the `endorsements` (channel ids) the Bot Framework adds to them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from botframework.connector.auth import (
    AppCredentials,
    PasswordServiceClientCredentialFactory,
    ServiceClientCredentialsFactory,
)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from msrest.authentication import Authentication

from tests.fake_connector import FakeConnector

CHANNEL_ISSUER = "https://api.botframework.com"
OUTBOUND_TOKEN = "outbound-test-token"


@dataclass
class SigningKey:
    """An RSA key pair as the Bot Framework publishes it: kid plus channel endorsements."""

    kid: str
    private: rsa.RSAPrivateKey
    endorsements: tuple[str, ...] = ("msteams",)

    @classmethod
    def new(
        cls, kid: str | None = None, endorsements: tuple[str, ...] = ("msteams",)
    ) -> SigningKey:
        """A fresh 2048-bit key."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid or f"kid-{uuid.uuid4().hex[:8]}", private, endorsements)

    def jwk(self) -> dict[str, Any]:
        """The public half as a JWKS entry."""
        entry: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        entry.update(kid=self.kid, use="sig", endorsements=list(self.endorsements))
        return entry

    def public_pem(self) -> bytes:
        """The public key in PEM, for the HS256 key-confusion attack."""
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@dataclass
class MetadataServer:
    """Serves the OpenID configuration and the JWKS on 127.0.0.1; counts the fetches."""

    keys: list[SigningKey]
    status: int = 200
    hang: bool = False
    hits: int = 0
    url: str = ""
    _runner: web.AppRunner | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> MetadataServer:
        """Listen on a free port; a random path prefix keeps the SDK's URL-keyed cache apart."""
        prefix = f"/{uuid.uuid4().hex}/v1/.well-known"
        app = web.Application()
        app.router.add_get(f"{prefix}/openidconfiguration", self._config)
        app.router.add_get(f"{prefix}/keys", self._keys)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._base = f"http://127.0.0.1:{port}{prefix}"
        self.url = f"{self._base}/openidconfiguration"
        return self

    async def stop(self) -> None:
        """Release any hanging request and shut down."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _answer(self, body: dict[str, Any]) -> web.Response:
        self.hits += 1
        if self.hang:
            await self._release.wait()
        if self.status != 200:
            return web.Response(status=self.status, text="<html>down</html>")
        return web.json_response(body)

    async def _config(self, request: web.Request) -> web.Response:
        return await self._answer(
            {
                "issuer": CHANNEL_ISSUER,
                "authorization_endpoint": "https://invalid.example/authorize",
                "jwks_uri": f"{self._base}/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        return await self._answer({"keys": [k.jwk() for k in self.keys]})


def channel_claims(app_id: str, service_url: str, **overrides: Any) -> dict[str, Any]:
    """The claims of a Bot Framework channel token; None in overrides removes a claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": CHANNEL_ISSUER,
        "aud": app_id,
        "serviceurl": service_url,
        "nbf": now - 60,
        "iat": now - 60,
        "exp": now + 3600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def sign(
    key: SigningKey, claims: dict[str, Any], *, alg: str = "RS256", kid: str | None = ""
) -> str:
    """An RS* token signed with key; kid="" uses the key's own kid, None leaves it out."""
    headers = {} if kid is None else {"kid": kid or key.kid}
    return jwt.encode(claims, key.private, algorithm=alg, headers=headers)


def sign_unsafe(claims: dict[str, Any], *, alg: str, secret: bytes, kid: str) -> str:
    """A token PyJWT refuses to build: HS256 with any secret (e.g. the public key), or none."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    if alg == "none":
        return f"{header}.{payload}."
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


class StaticTokenCredentials(AppCredentials):
    """Outbound credentials that present a fixed token instead of asking Microsoft login."""

    def __init__(self, app_id: str, oauth_scope: str) -> None:
        super().__init__(app_id=app_id, oauth_scope=oauth_scope)

    def get_access_token(self, force_refresh: bool = False) -> str:
        """The fixed token; the fake connector records it."""
        return OUTBOUND_TOKEN


class FakeOutboundCredentialFactory(ServiceClientCredentialsFactory):
    """Inbound app-id checks by the SDK's own password factory; outbound tokens are static.

    Only create_credentials (used for replies) differs from production: it still lets the real
    factory check the app id and build its credentials, then records the login endpoint the
    SDK asked for and hands out a static token, since Microsoft login is unreachable offline.
    """

    def __init__(self, app_id: str, password: str) -> None:
        self._real = PasswordServiceClientCredentialFactory(app_id, password)
        self.requested: list[tuple[str, str, str]] = []

    async def is_valid_app_id(self, app_id: str) -> bool:
        """Exactly the SDK's check (the token's aud must equal our app id)."""
        return bool(await self._real.is_valid_app_id(app_id))

    async def is_authentication_disabled(self) -> bool:
        """Exactly the SDK's check."""
        return bool(await self._real.is_authentication_disabled())

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        """Let the SDK build (and validate) its credentials, then substitute a static token."""
        await self._real.create_credentials(app_id, oauth_scope, login_endpoint, validate_authority)
        self.requested.append((app_id, oauth_scope, login_endpoint))
        return StaticTokenCredentials(app_id, oauth_scope)


@dataclass
class HeaderRecordingConnector(FakeConnector):
    """The fake connector, also keeping the Authorization header of every call."""

    authorizations: list[str | None] = field(default_factory=list)

    async def _handle(self, request: web.Request) -> web.Response:
        self.authorizations.append(request.headers.get("Authorization"))
        return await super()._handle(request)
