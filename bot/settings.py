"""Configuration, read once from the environment into a frozen, validated object."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")
STORAGE_KINDS = ("tinydb", "azure")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_AZURE_PREFIX = re.compile(r"^[a-z][a-z0-9]{2,23}$")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
CONNECTION_STRING = "OMTANKE_AZURE_STORAGE_CONNECTION_STRING"
ACCOUNT_URL = "OMTANKE_AZURE_STORAGE_ACCOUNT_URL"
TABLE_URL = "OMTANKE_AZURE_STORAGE_TABLE_URL"


class SettingsError(ValueError):
    """A configuration variable is missing or malformed; the message names it."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where the optional e-mail copy of a proposal goes."""

    host: str
    port: int
    sender: str
    recipient: str
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False


@dataclass(frozen=True)
class AzureSettings:
    """The one Azure Storage account that several instances share (OMTANKE_STORAGE=azure).

    Either a connection string (account key or SAS), or the Blob and Table service URLs with
    a managed identity (azure-identity's DefaultAzureCredential).
    """

    connection_string: str = field(default="", repr=False)
    blob_url: str = ""
    table_url: str = ""
    prefix: str = "omtanke"

    @property
    def source(self) -> str:
        """The variable that says where the account is, for messages."""
        return CONNECTION_STRING if self.connection_string else ACCOUNT_URL


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to start; built by :meth:`from_env`."""

    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "MultiTenant"
    app_tenant_id: str = ""
    host: str = "127.0.0.1"
    # OMTANKE_ALLOW_INSECURE=1: authentication off on a non-loopback address, for an isolated
    # test network only (the app says so loudly at start-up).
    allow_insecure: bool = False
    port: int = 3978
    data_dir: Path = Path("data")
    target_groups_path: Path | None = None
    rug_members_path: Path | None = None
    admins_path: Path | None = None
    # The Omtanke coordinators, who answer escalated questions (same people format).
    coordinators_path: Path | None = None
    allowed_tenants: tuple[str, ...] = ()
    max_body_bytes: int = 256 * 1024
    log_level: str = "INFO"
    openid_metadata_url: str | None = None
    smtp: SmtpSettings | None = None
    storage: str = "tinydb"
    azure: AzureSettings | None = None
    # The outbox: how often each instance looks for due messages, the first retry's delay, and
    # how long a send in progress keeps other instances away (then a dead holder's message is
    # taken over).
    outbox_poll_seconds: float = 30.0
    outbox_retry_seconds: float = 5.0
    outbox_claim_seconds: float = 120.0
    # A request for endorsement nobody has answered is reminded after this many working days.
    endorsement_reminder_days: int = 5

    @property
    def auth_enabled(self) -> bool:
        """Bot Framework authentication is on whenever an app id is configured."""
        return bool(self.app_id)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the configuration; raise SettingsError naming the variable."""
        env = dict(os.environ if environ is None else environ)

        def get(name: str, default: str = "") -> str:
            return env.get(name, default).strip()

        app_id = get("MicrosoftAppId")
        if app_id and not _GUID.match(app_id):
            raise SettingsError(f"MicrosoftAppId must be a GUID (the bot's app id), got {app_id!r}")
        app_password = env.get("MicrosoftAppPassword", "")
        app_type = get("MicrosoftAppType", "MultiTenant") or "MultiTenant"
        if app_type not in APP_TYPES:
            raise SettingsError(
                f"MicrosoftAppType must be one of {', '.join(APP_TYPES)}, got {app_type!r}"
            )
        tenant = get("MicrosoftAppTenantId")
        if app_type == "SingleTenant" and not tenant:
            raise SettingsError(
                "MicrosoftAppTenantId is required when MicrosoftAppType=SingleTenant"
            )
        if app_id and app_type != "UserAssignedMSI" and not app_password:
            raise SettingsError("MicrosoftAppPassword is required when MicrosoftAppId is set")

        host = get("OMTANKE_HOST", "127.0.0.1") or "127.0.0.1"
        allow_insecure = get("OMTANKE_ALLOW_INSECURE") == "1"
        if not app_id and host not in _LOOPBACK and not allow_insecure:
            # Without authentication anyone who reaches the port can act as any user (a RUG
            # member's decision) and make the bot post to any serviceUrl.
            raise SettingsError(
                f"OMTANKE_HOST={host} is not a loopback address, and authentication is off "
                "(MicrosoftAppId is not set): anyone on the network could act as any user. "
                "Set MicrosoftAppId and MicrosoftAppPassword, or OMTANKE_HOST=127.0.0.1 "
                "(OMTANKE_ALLOW_INSECURE=1 overrides, for an isolated test network only)"
            )

        port = _int(env, "PORT", 3978, 1, 65535)
        max_body = _int(env, "OMTANKE_MAX_BODY_BYTES", 256 * 1024, 1024, 64 * 1024 * 1024)
        level = get("OMTANKE_LOG_LEVEL", "INFO").upper() or "INFO"
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError(
                f"OMTANKE_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}"
            )
        tenants = tuple(t.strip() for t in get("OMTANKE_ALLOWED_TENANTS").split(",") if t.strip())
        storage = get("OMTANKE_STORAGE", "tinydb").lower() or "tinydb"
        if storage not in STORAGE_KINDS:
            raise SettingsError(
                f"OMTANKE_STORAGE must be {' or '.join(STORAGE_KINDS)}, got {storage!r}"
            )

        return cls(
            app_id=app_id,
            app_password=app_password,
            app_type=app_type,
            app_tenant_id=tenant,
            host=host,
            allow_insecure=allow_insecure,
            port=port,
            data_dir=Path(get("OMTANKE_DATA_DIR", "data") or "data"),
            target_groups_path=_path(env, "OMTANKE_TARGET_GROUPS"),
            rug_members_path=_path(env, "OMTANKE_RUG_MEMBERS"),
            admins_path=_path(env, "OMTANKE_ADMINS"),
            coordinators_path=_path(env, "OMTANKE_COORDINATORS"),
            allowed_tenants=tenants,
            max_body_bytes=max_body,
            log_level=level,
            openid_metadata_url=get("OMTANKE_OPENID_METADATA_URL") or None,
            smtp=_smtp(env),
            storage=storage,
            azure=_azure(env) if storage == "azure" else None,
            outbox_poll_seconds=_seconds(env, "OMTANKE_OUTBOX_POLL_SECONDS", 30.0),
            outbox_retry_seconds=_seconds(env, "OMTANKE_OUTBOX_RETRY_SECONDS", 5.0),
            outbox_claim_seconds=_seconds(env, "OMTANKE_OUTBOX_CLAIM_SECONDS", 120.0),
            endorsement_reminder_days=_int(env, "OMTANKE_ENDORSEMENT_REMINDER_DAYS", 5, 1, 60),
        )


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not 0.05 <= value <= 86400:
        raise SettingsError(f"{name} must be between 0.05 and 86400 seconds, got {raw}")
    return value


def _azure(env: Mapping[str, str]) -> AzureSettings:
    """Where the shared account is; each problem is named with its variable, never the key."""
    connection = env.get(CONNECTION_STRING, "").strip()
    account_url = env.get(ACCOUNT_URL, "").strip()
    prefix = env.get("OMTANKE_AZURE_STORAGE_PREFIX", "").strip() or "omtanke"
    if not _AZURE_PREFIX.match(prefix):
        raise SettingsError(
            "OMTANKE_AZURE_STORAGE_PREFIX must be 3-24 lowercase letters and digits starting "
            f"with a letter (it begins every container and table name), got {prefix!r}"
        )
    if connection and account_url:
        raise SettingsError(f"{CONNECTION_STRING} and {ACCOUNT_URL} are both set; set one")
    if connection:
        _check_connection_string(connection)
        return AzureSettings(connection_string=connection, prefix=prefix)
    if not account_url:
        raise SettingsError(
            f"OMTANKE_STORAGE=azure needs {CONNECTION_STRING} or {ACCOUNT_URL} "
            "(the Blob service URL, used with the managed identity)"
        )
    blob_url = _service_url(ACCOUNT_URL, account_url)
    table_raw = env.get(TABLE_URL, "").strip()
    if table_raw:
        table_url = _service_url(TABLE_URL, table_raw)
    elif ".blob." in (urlsplit(blob_url).hostname or ""):
        table_url = blob_url.replace(".blob.", ".table.", 1)
    else:
        raise SettingsError(
            f"{TABLE_URL} is needed when {ACCOUNT_URL} is not an https://ACCOUNT.blob.… address"
        )
    return AzureSettings(blob_url=blob_url, table_url=table_url, prefix=prefix)


def _service_url(name: str, raw: str) -> str:
    url = urlsplit(raw)
    loopback = url.hostname in _LOOPBACK
    if url.scheme not in ("https", "http") or not url.hostname or url.query or url.fragment:
        raise SettingsError(f"{name} must be an https:// URL of the storage service, got {raw!r}")
    if url.scheme == "http" and not loopback:
        raise SettingsError(f"{name} must use https (http only for a local emulator), got {raw!r}")
    return raw.rstrip("/")


def _check_connection_string(text: str) -> None:
    """A connection string the Blob and Table clients can both use."""
    parts: dict[str, str] = {}
    for piece in text.split(";"):
        name, sep, value = piece.partition("=")
        if not piece.strip():
            continue
        if not sep:
            raise SettingsError(f"{CONNECTION_STRING} is not a connection string (Name=value;…)")
        parts[name.strip().lower()] = value.strip()
    if parts.get("usedevelopmentstorage", "").lower() == "true":
        raise SettingsError(
            f"{CONNECTION_STRING}: UseDevelopmentStorage=true is not supported; give the "
            "emulator's full connection string with BlobEndpoint and TableEndpoint"
        )
    if not parts.get("accountkey") and not parts.get("sharedaccesssignature"):
        raise SettingsError(f"{CONNECTION_STRING} has neither AccountKey nor SharedAccessSignature")
    if not parts.get("accountname") and not parts.get("blobendpoint"):
        raise SettingsError(f"{CONNECTION_STRING} names no AccountName or BlobEndpoint")
    if bool(parts.get("blobendpoint")) != bool(parts.get("tableendpoint")):
        raise SettingsError(
            f"{CONNECTION_STRING} must give both BlobEndpoint and TableEndpoint, or neither"
        )
    for endpoint in ("blobendpoint", "tableendpoint"):
        if parts.get(endpoint):
            url = urlsplit(parts[endpoint])
            if url.scheme not in ("http", "https") or not url.hostname:
                raise SettingsError(f"{CONNECTION_STRING}: {endpoint} is not an http(s) URL")


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    path = Path(raw)
    if not path.is_file():
        raise SettingsError(f"{name} points to {raw!r}, which is not a readable file")
    return path


def _smtp(env: Mapping[str, str]) -> SmtpSettings | None:
    host = env.get("OMTANKE_SMTP_HOST", "").strip()
    if not host:
        return None
    return SmtpSettings(
        host=host,
        port=_int(env, "OMTANKE_SMTP_PORT", 25, 1, 65535),
        sender=env.get("OMTANKE_SMTP_FROM", "omtanke@regionhalland.se").strip(),
        recipient=env.get("OMTANKE_SMTP_TO", "omtankehalland@regionhalland.se").strip(),
        username=env.get("OMTANKE_SMTP_USER", "").strip(),
        password=env.get("OMTANKE_SMTP_PASSWORD", ""),
        starttls=env.get("OMTANKE_SMTP_STARTTLS", "").strip().lower() in ("1", "true", "yes"),
    )
