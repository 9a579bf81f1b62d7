"""Configuration: defaults, strict validation that names the variable, and .env.example."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, SmtpSettings

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
TENANT = "9f0c2b8e-1d1a-4c6e-8f55-5d1f3c1a0001"
# Variables read outside Settings.from_env (manifest build, terminal chat) that people set.
OTHER_VARIABLES = {
    "OMTANKE_TEAMS_APP_ID",
    "OMTANKE_APP_VERSION",
    "OMTANKE_BOT_DOMAIN",
    "OMTANKE_DEVELOPER_NAME",
    "OMTANKE_DEVELOPER_WEBSITE_URL",
    "OMTANKE_DEVELOPER_PRIVACY_URL",
    "OMTANKE_DEVELOPER_TERMS_URL",
    "OMTANKE_MANIFEST_SCHEMA_DIR",
    "OMTANKE_CHAT_LOCALE",
    "OMTANKE_CHAT_NAME",
    "OMTANKE_CHAT_USER_ID",
    "OMTANKE_CHAT_AAD_ID",
}


def documented_variables() -> set[str]:
    """The NAME= lines of .env.example (commented-out ones count too)."""
    text = (REPO_ROOT / ".env.example").read_text("utf-8")
    return set(re.findall(r"^#?\s*([A-Za-z_][A-Za-z0-9_]*)=", text, flags=re.MULTILINE))


def variables_read_by(path: Path) -> set[str]:
    """Every environment variable name a module reads: string literals used as env keys."""
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if re.fullmatch(r"(OMTANKE_[A-Z_]+|Microsoft[A-Za-z]+|PORT)", node.value):
                names.add(node.value)
    return names


def test_defaults_need_no_environment() -> None:
    """With nothing set the service runs locally: no auth, port 3978, ./data, no e-mail."""
    settings = Settings.from_env({})

    assert settings == Settings()
    assert (settings.auth_enabled, settings.port, settings.host, settings.data_dir) == (
        False,
        3978,
        "127.0.0.1",
        Path("data"),
    )
    assert (settings.app_type, settings.max_body_bytes, settings.log_level) == (
        "MultiTenant",
        256 * 1024,
        "INFO",
    )
    assert (settings.smtp, settings.allowed_tenants, settings.target_groups_path) == (
        None,
        (),
        None,
    )


def test_full_configuration_is_read(tmp_path: Path) -> None:
    """Every variable lands in its field, trimmed and typed."""
    groups = tmp_path / "groups.json"
    groups.write_text("[]", "utf-8")
    settings = Settings.from_env(
        {
            "MicrosoftAppId": f" {APP_ID} ",
            "MicrosoftAppPassword": "secret",
            "MicrosoftAppType": "SingleTenant",
            "MicrosoftAppTenantId": TENANT,
            "OMTANKE_HOST": "0.0.0.0",
            "PORT": "8080",
            "OMTANKE_DATA_DIR": str(tmp_path / "d"),
            "OMTANKE_TARGET_GROUPS": str(groups),
            "OMTANKE_ALLOWED_TENANTS": f"{TENANT}, other ,",
            "OMTANKE_MAX_BODY_BYTES": "4096",
            "OMTANKE_LOG_LEVEL": "debug",
            "OMTANKE_SMTP_HOST": "smtp.example.org",
            "OMTANKE_SMTP_PORT": "587",
            "OMTANKE_SMTP_STARTTLS": "true",
        }
    )

    assert settings.auth_enabled is True
    assert (settings.app_id, settings.app_type, settings.app_tenant_id) == (
        APP_ID,
        "SingleTenant",
        TENANT,
    )
    assert (settings.host, settings.port, settings.max_body_bytes, settings.log_level) == (
        "0.0.0.0",
        8080,
        4096,
        "DEBUG",
    )
    assert settings.allowed_tenants == (TENANT, "other")
    assert settings.target_groups_path == groups
    assert settings.smtp == SmtpSettings(
        host="smtp.example.org",
        port=587,
        sender="omtanke@regionhalland.se",
        recipient="omtankehalland@regionhalland.se",
        starttls=True,
    )
    assert "secret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"MicrosoftAppId": "omtanke-bot", "MicrosoftAppPassword": "x"}, "MicrosoftAppId"),
        ({"MicrosoftAppType": "Anonymous"}, "MicrosoftAppType"),
        ({"MicrosoftAppType": "SingleTenant"}, "MicrosoftAppTenantId"),
        ({"MicrosoftAppId": APP_ID}, "MicrosoftAppPassword"),
        ({"PORT": "http"}, "PORT"),
        ({"PORT": "0"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"OMTANKE_MAX_BODY_BYTES": "12"}, "OMTANKE_MAX_BODY_BYTES"),
        ({"OMTANKE_LOG_LEVEL": "LOUD"}, "OMTANKE_LOG_LEVEL"),
        ({"OMTANKE_TARGET_GROUPS": "/nonexistent/groups.json"}, "OMTANKE_TARGET_GROUPS"),
        ({"OMTANKE_RUG_MEMBERS": "/nonexistent/rug.json"}, "OMTANKE_RUG_MEMBERS"),
        ({"OMTANKE_ADMINS": "/nonexistent/admins.json"}, "OMTANKE_ADMINS"),
        ({"OMTANKE_SMTP_HOST": "smtp", "OMTANKE_SMTP_PORT": "x"}, "OMTANKE_SMTP_PORT"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bad_value_raises_settings_error_naming_the_variable(
    env: dict[str, str], variable: str
) -> None:
    """Misconfiguration fails at start-up, and the message says which variable is wrong."""
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)

    assert str(caught.value).startswith(variable)


def test_target_groups_pointing_at_a_folder_is_refused(tmp_path: Path) -> None:
    """A folder is not a readable list file."""
    with pytest.raises(SettingsError, match=r"^OMTANKE_TARGET_GROUPS"):
        Settings.from_env({"OMTANKE_TARGET_GROUPS": str(tmp_path)})


def test_user_assigned_msi_needs_no_password() -> None:
    """A managed identity has no client secret."""
    settings = Settings.from_env({"MicrosoftAppId": APP_ID, "MicrosoftAppType": "UserAssignedMSI"})

    assert (settings.app_id, settings.app_password) == (APP_ID, "")


def test_settings_are_frozen() -> None:
    """Configuration is read once; nothing changes it afterwards."""
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


def test_env_example_documents_every_variable_the_service_reads() -> None:
    """Each variable Settings.from_env reads has a line in .env.example."""
    read = variables_read_by(REPO_ROOT / "bot" / "settings.py")

    assert "OMTANKE_DATA_DIR" in read  # the source parser itself works
    assert read - documented_variables() == set()


def test_env_example_documents_the_manifest_and_chat_variables() -> None:
    """`omtanke manifest` and `omtanke chat` read these; whoever runs them needs to see them."""
    read = variables_read_by(REPO_ROOT / "manifest" / "build.py") | variables_read_by(
        REPO_ROOT / "bot" / "chat.py"
    )
    assert read >= OTHER_VARIABLES  # the list above is complete for what the code reads
    assert OTHER_VARIABLES - documented_variables() == set()


# ----- OMTANKE_STORAGE=azure ----------------------------------------------------------------------

SECRET = "c2VjcmV0LWtleS1uZXZlci1wcmludGVk"
AZURITE_STRING = (
    f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={SECRET};"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
    "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"
)


def test_storage_defaults_to_tinydb_without_azure() -> None:
    """The embedded store needs nothing; Azure settings are only read for azure."""
    settings = Settings.from_env({"OMTANKE_AZURE_STORAGE_CONNECTION_STRING": "ignored"})

    assert (settings.storage, settings.azure) == ("tinydb", None)


def test_azure_by_connection_string() -> None:
    """A connection string with both endpoints and a key; the key is never in the repr."""
    settings = Settings.from_env(
        {
            "OMTANKE_STORAGE": "azure",
            "OMTANKE_AZURE_STORAGE_CONNECTION_STRING": AZURITE_STRING,
            "OMTANKE_AZURE_STORAGE_PREFIX": "omtanketest",
        }
    )

    assert settings.storage == "azure" and settings.azure is not None
    assert (settings.azure.connection_string, settings.azure.prefix) == (
        AZURITE_STRING,
        "omtanketest",
    )
    assert SECRET not in repr(settings)


def test_azure_by_account_url_derives_the_table_url() -> None:
    """A managed identity needs only the Blob URL: the Table URL is the same account's."""
    settings = Settings.from_env(
        {
            "OMTANKE_STORAGE": "azure",
            "OMTANKE_AZURE_STORAGE_ACCOUNT_URL": "https://omtanke.blob.core.windows.net/",
        }
    )

    assert settings.azure is not None
    assert (settings.azure.blob_url, settings.azure.table_url, settings.azure.prefix) == (
        "https://omtanke.blob.core.windows.net",
        "https://omtanke.table.core.windows.net",
        "omtanke",
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"OMTANKE_STORAGE": "cosmos"}, "OMTANKE_STORAGE"),
        ({"OMTANKE_STORAGE": "azure"}, "OMTANKE_AZURE_STORAGE_CONNECTION_STRING"),
        (
            {
                "OMTANKE_AZURE_STORAGE_CONNECTION_STRING": AZURITE_STRING,
                "OMTANKE_AZURE_STORAGE_ACCOUNT_URL": "https://a.blob.core.windows.net",
            },
            "OMTANKE_AZURE_STORAGE_CONNECTION_STRING",
        ),
        (
            {"OMTANKE_AZURE_STORAGE_CONNECTION_STRING": "just some text"},
            "OMTANKE_AZURE_STORAGE_CONNECTION_STRING",
        ),
        (
            {"OMTANKE_AZURE_STORAGE_CONNECTION_STRING": "AccountName=a;BlobEndpoint=http://x"},
            "OMTANKE_AZURE_STORAGE_CONNECTION_STRING",
        ),
        (
            {"OMTANKE_AZURE_STORAGE_CONNECTION_STRING": AZURITE_STRING.split("TableEndpoint")[0]},
            "OMTANKE_AZURE_STORAGE_CONNECTION_STRING",
        ),
        (
            {"OMTANKE_AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true"},
            "OMTANKE_AZURE_STORAGE_CONNECTION_STRING",
        ),
        (
            {"OMTANKE_AZURE_STORAGE_ACCOUNT_URL": "http://omtanke.blob.core.windows.net"},
            "OMTANKE_AZURE_STORAGE_ACCOUNT_URL",
        ),
        (
            {"OMTANKE_AZURE_STORAGE_ACCOUNT_URL": "omtanke.blob.core.windows.net"},
            "OMTANKE_AZURE_STORAGE_ACCOUNT_URL",
        ),
        (
            {"OMTANKE_AZURE_STORAGE_ACCOUNT_URL": "https://storage.example.org"},
            "OMTANKE_AZURE_STORAGE_TABLE_URL",
        ),
        (
            {
                "OMTANKE_AZURE_STORAGE_CONNECTION_STRING": AZURITE_STRING,
                "OMTANKE_AZURE_STORAGE_PREFIX": "Omtanke-Prod",
            },
            "OMTANKE_AZURE_STORAGE_PREFIX",
        ),
        ({"OMTANKE_OUTBOX_CLAIM_SECONDS": "soon"}, "OMTANKE_OUTBOX_CLAIM_SECONDS"),
        ({"OMTANKE_OUTBOX_POLL_SECONDS": "0"}, "OMTANKE_OUTBOX_POLL_SECONDS"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bad_azure_setting_names_the_variable_and_never_the_key(
    env: dict[str, str], variable: str
) -> None:
    """Every Azure misconfiguration stops start-up with the variable named, the key unsaid."""
    if "OMTANKE_STORAGE" not in env and not variable.startswith("OMTANKE_OUTBOX"):
        env = {**env, "OMTANKE_STORAGE": "azure"}
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)

    assert variable in str(caught.value)
    assert SECRET not in str(caught.value)


def test_sourcing_env_example_runs_no_command_and_turns_no_safety_off() -> None:
    """`. ./.env.example` in sh sets every variable it lists and runs nothing else.

    An unquoted value with a space (NAME=Region Halland) runs `Halland` as a command: sh says
    "not found" on stderr but still exits 0, so the exit status alone does not catch it.
    """
    import subprocess

    shell = subprocess.run(
        ["sh", "-c", "set -a; . ./.env.example; set +a; env -0"],
        cwd=REPO_ROOT, capture_output=True, check=False, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip

    assert (shell.returncode, shell.stderr) == (0, b"")
    env = dict(item.split("=", 1) for item in shell.stdout.decode().split("\0") if "=" in item)
    text = (REPO_ROOT / ".env.example").read_text("utf-8")
    assigned = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=", text, flags=re.MULTILINE))
    assert assigned <= set(env)
    assert "OMTANKE_ALLOW_INSECURE" not in env  # documented, commented out
    settings = Settings.from_env(env)
    assert (settings.allow_insecure, settings.auth_enabled) == (False, False)
