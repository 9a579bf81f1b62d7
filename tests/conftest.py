"""Shared fixtures: the real bot on a temporary data folder, and the real command line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from knowledge.kb import KnowledgeBase
from tests.azurite import Azurite
from tests.builders import BotHarness

REPO_ROOT = Path(__file__).resolve().parent.parent
OMTANKE = REPO_ROOT / ".venv" / "bin" / "omtanke"
EXAMPLE_RUG_MEMBERS = REPO_ROOT / "knowledge" / "data" / "rug_members.example.json"


@pytest.fixture(scope="session")
def knowledge_cache() -> dict[str, KnowledgeBase]:
    """Knowledge bases already built in this test run, by their load arguments."""
    return {}


@pytest.fixture
def shared_knowledge(
    monkeypatch: pytest.MonkeyPatch, knowledge_cache: dict[str, KnowledgeBase]
) -> None:
    """Build each knowledge base once per test run: indexing it is most of opening services.

    The knowledge base is read-only after loading (its typo cache only memoises), so sharing
    one between tests cannot couple them; stores and state are still fresh per test.
    """
    original = KnowledgeBase.load.__func__  # type: ignore[attr-defined]

    def load(cls: type[KnowledgeBase], *args: Any, **kwargs: Any) -> KnowledgeBase:
        key = repr((args, sorted(kwargs.items())))
        if key not in knowledge_cache:
            knowledge_cache[key] = original(cls, *args, **kwargs)
        return knowledge_cache[key]

    monkeypatch.setattr(KnowledgeBase, "load", classmethod(load))


@pytest.fixture
async def harness(tmp_path: Path, shared_knowledge: None) -> AsyncIterator[BotHarness]:
    """The real bot and stores on a fresh data folder, driven through the SDK's TestAdapter."""
    bot = await BotHarness.open(tmp_path / "data")
    try:
        yield bot
    finally:
        await bot.close()


def omtanke_command() -> list[str]:
    """The installed `omtanke` script, or the same entry point through this interpreter."""
    if OMTANKE.is_file():
        return [str(OMTANKE)]
    return [sys.executable, "-m", "bot"]


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment for the command line: no app id, a private data folder."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OMTANKE_", "Microsoft")) and key != "PORT"
    }
    env["OMTANKE_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_omtanke(
    args: list[str], data_dir: Path, stdin: str = "", timeout: float = 30, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `omtanke ARGS` to the end and capture its output."""
    return subprocess.run(
        [*omtanke_command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=cli_env(data_dir, **env),
        cwd=REPO_ROOT,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """One Azurite for the whole run (tests keep apart by name prefix), stopped at the end."""
    server = Azurite.start()
    try:
        yield server
    finally:
        server.stop()
