"""Shared fixtures: one knowledge base per run, the real bot on the SDK's TestAdapter, and the
real service over HTTP with the RUG scenario's people.

Helpers that are not fixtures live in their own modules: tests/builders.py (activities, the
TestAdapter harness), tests/service.py (the app on a port), tests/commands.py (the command
line), tests/rug_scenario.py and tests/dialog_scenario.py (the people and steps of the stories).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.services import load_knowledge
from bot.settings import Settings
from knowledge.kb import KnowledgeBase
from knowledge.target_groups import load_target_groups
from tests.azurite import Azurite
from tests.builders import BotHarness
from tests.rug_scenario import FAST, rug_settings
from tests.service import RecordingConnector, Service


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    """The knowledge base the service builds for the default target groups, once per run.

    Indexing it is most of opening the services. It is read-only after loading (its typo cache
    only memoises), so sharing it cannot couple tests; stores and state are fresh per test.
    """
    return load_knowledge(load_target_groups(None))


@pytest.fixture
async def harness(tmp_path: Path, knowledge: KnowledgeBase) -> AsyncIterator[BotHarness]:
    """The real bot and stores on a fresh data folder, driven through the SDK's TestAdapter."""
    bot = await BotHarness.open(tmp_path / "data", kb=knowledge)
    try:
        yield bot
    finally:
        await bot.close()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Two RUG members and one admin, a private data folder, fast retries."""
    monkeypatch.setattr("bot.delivery.DEFAULT_RETRY", FAST)
    return rug_settings(tmp_path)


@pytest.fixture
def connector() -> RecordingConnector:
    """The Bot Connector stand-in the service replies to (started with the service)."""
    return RecordingConnector()


@pytest.fixture
async def service(
    settings: Settings, connector: RecordingConnector, knowledge: KnowledgeBase
) -> AsyncIterator[Service]:
    """The running app over HTTP, replying to `connector`; restartable on the same data."""
    async with Service.running(settings, connector, knowledge) as running:
        yield running


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """One Azurite for the whole run (tests keep apart by name prefix), stopped at the end."""
    server = Azurite.start()
    try:
        yield server
    finally:
        server.stop()
