"""`omtanke export`, `backup`, `erase-user` and `restore` on the Azure backend (Azurite)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bot.settings import AzureSettings
from knowledge.kb import KnowledgeBase
from tests.azurite import Azurite
from tests.builders import BotHarness
from tests.commands import run_omtanke
from tests.dialog_scenario import fill_until_summary, submit_data


async def _submit_one(data: Path, azure: AzureSettings, kb: KnowledgeBase) -> None:
    """Anna submits one proposal through the real bot on the Azure account."""
    harness = await BotHarness.open(data, kb=kb, storage="azure", azure=azure)
    try:
        await harness.submit(submit_data(await fill_until_summary(harness)))
    finally:
        await harness.close()


def _exported(data: Path, env: dict[str, str]) -> list[dict[str, object]]:
    result = run_omtanke(["export", "--format", "json"], data, **env)
    assert result.returncode == 0, result.stderr
    proposals: list[dict[str, object]] = json.loads(result.stdout)["proposals"]
    return proposals


def test_admin_commands_work_on_the_azure_account(
    azurite: Azurite, tmp_path: Path, knowledge: KnowledgeBase
) -> None:
    """Export reads the account; backup, erase-user and restore --replace round-trip it."""
    prefix = azurite.new_prefix()
    azure = AzureSettings(connection_string=azurite.connection_string, prefix=prefix)
    data = tmp_path / "unused-data-folder"
    asyncio.run(_submit_one(data, azure, knowledge))
    env = {
        "OMTANKE_STORAGE": "azure",
        "OMTANKE_AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "OMTANKE_AZURE_STORAGE_PREFIX": prefix,
    }

    before = _exported(data, env)
    backup = run_omtanke(["backup", str(tmp_path / "backup")], data, **env)
    erased = run_omtanke(["erase-user", "--aad", "aad-anna"], data, **env)
    after_erase = _exported(data, env)
    refused = run_omtanke(["restore", str(tmp_path / "backup")], data, **env)
    restored = run_omtanke(["restore", "--replace", str(tmp_path / "backup")], data, **env)
    after_restore = _exported(data, env)

    assert [p["initiator"]["name"] for p in before] == ["Anna Andersson"]  # type: ignore[index]
    assert backup.returncode == 0, backup.stderr
    assert erased.returncode == 0, erased.stdout + erased.stderr
    assert "Anna" not in json.dumps(after_erase, ensure_ascii=False)
    assert len(after_erase) == 1
    assert refused.returncode == 1 and "--replace" in refused.stderr
    assert restored.returncode == 0, restored.stderr
    assert after_restore == before
    assert not data.exists()  # nothing went to the local folder
