"""Configuration, read once from the environment into a frozen, validated object."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


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
class Settings:
    """Everything the service needs to start; built by :meth:`from_env`."""

    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "MultiTenant"
    app_tenant_id: str = ""
    host: str = "127.0.0.1"
    port: int = 3978
    data_dir: Path = Path("data")
    target_groups_path: Path | None = None
    rug_members_path: Path | None = None
    admins_path: Path | None = None
    allowed_tenants: tuple[str, ...] = ()
    max_body_bytes: int = 256 * 1024
    log_level: str = "INFO"
    openid_metadata_url: str | None = None
    smtp: SmtpSettings | None = None

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

        port = _int(env, "PORT", 3978, 1, 65535)
        max_body = _int(env, "OMTANKE_MAX_BODY_BYTES", 256 * 1024, 1024, 64 * 1024 * 1024)
        level = get("OMTANKE_LOG_LEVEL", "INFO").upper() or "INFO"
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError(
                f"OMTANKE_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}"
            )
        tenants = tuple(t.strip() for t in get("OMTANKE_ALLOWED_TENANTS").split(",") if t.strip())

        return cls(
            app_id=app_id,
            app_password=app_password,
            app_type=app_type,
            app_tenant_id=tenant,
            host=get("OMTANKE_HOST", "127.0.0.1") or "127.0.0.1",
            port=port,
            data_dir=Path(get("OMTANKE_DATA_DIR", "data") or "data"),
            target_groups_path=_path(env, "OMTANKE_TARGET_GROUPS"),
            rug_members_path=_path(env, "OMTANKE_RUG_MEMBERS"),
            admins_path=_path(env, "OMTANKE_ADMINS"),
            allowed_tenants=tenants,
            max_body_bytes=max_body,
            log_level=level,
            openid_metadata_url=get("OMTANKE_OPENID_METADATA_URL") or None,
            smtp=_smtp(env),
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
