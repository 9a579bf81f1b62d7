"""The AppendLog contract (storage.base.AppendLog)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest

from storage.base import AppendLog
from storage.errors import StoreError

# Opens a new log object over the same stored data (a restart).
AppendLogFactory = Callable[[], Awaitable[AppendLog]]


class AppendLogContract:
    """Every AppendLog: subclass and provide a `log` fixture (a fresh, empty log)."""

    @pytest.fixture
    async def log(self) -> AsyncIterator[AppendLog]:
        """A fresh, empty log, closed afterwards."""
        raise NotImplementedError("a backend's test class provides this fixture")
        yield

    async def test_empty(self, log: AppendLog) -> None:
        assert await log.read() == []

    async def test_entries_come_back_in_order(self, log: AppendLog) -> None:
        for n in range(5):
            await log.append({"n": n, "text": "Kungsbacka"})

        assert await log.read() == [{"n": n, "text": "Kungsbacka"} for n in range(5)]

    async def test_entries_are_copies(self, log: AppendLog) -> None:
        entry = {"list": [1]}
        await log.append(entry)
        entry["list"].append(2)
        [read] = await log.read()
        read["list"].append(3)

        assert await log.read() == [{"list": [1]}]

    async def test_rejects_non_json_without_storing(self, log: AppendLog) -> None:
        with pytest.raises(TypeError):
            await log.append({"when": datetime.now(UTC)})
        with pytest.raises(TypeError):
            await log.append(["not", "an", "object"])  # type: ignore[arg-type]

        assert await log.read() == []

    async def test_concurrent_appends_lose_nothing(self, log: AppendLog) -> None:
        await asyncio.gather(*(log.append({"n": n}) for n in range(50)))

        assert sorted(e["n"] for e in await log.read()) == list(range(50))

    async def test_rewrite_replaces_every_entry(self, log: AppendLog) -> None:
        await log.append({"n": 1})
        await log.append({"n": 2})

        await log.rewrite([{"n": 2, "scrubbed": True}, {"n": 3}])
        await log.append({"n": 4})

        assert await log.read() == [{"n": 2, "scrubbed": True}, {"n": 3}, {"n": 4}]

    async def test_rewrite_to_empty(self, log: AppendLog) -> None:
        await log.append({"n": 1})

        await log.rewrite([])

        assert await log.read() == []

    async def test_rewrite_refuses_non_json_and_changes_nothing(self, log: AppendLog) -> None:
        await log.append({"n": 1})

        with pytest.raises(TypeError):
            await log.rewrite([{"n": 2}, {"when": datetime.now(UTC)}])

        assert await log.read() == [{"n": 1}]

    async def test_closed_log_refuses_use(self, log: AppendLog) -> None:
        await log.append({"n": 1})
        await log.close()

        with pytest.raises(StoreError):
            await log.append({"n": 2})
        with pytest.raises(StoreError):
            await log.read()


class DurableAppendLogContract:
    """A log that keeps its data: provide `log_factory` (opens the same data again)."""

    @pytest.fixture
    def log_factory(self) -> AppendLogFactory:
        """Opens a log over the same data each time it is called."""
        raise NotImplementedError("a backend's test class provides this fixture")

    async def test_entries_survive_reopening(self, log_factory: AppendLogFactory) -> None:
        log = await log_factory()
        await log.append({"n": 1, "text": "Åsa"})
        await log.append({"n": 2})
        await log.close()
        again = await log_factory()
        await again.append({"n": 3})
        await again.close()

        reopened = await log_factory()
        try:
            assert await reopened.read() == [{"n": 1, "text": "Åsa"}, {"n": 2}, {"n": 3}]
        finally:
            await reopened.close()

    async def test_rewrite_survives_reopening(self, log_factory: AppendLogFactory) -> None:
        log = await log_factory()
        await log.append({"n": 1})
        await log.rewrite([{"n": 9}])
        await log.close()

        reopened = await log_factory()
        try:
            assert await reopened.read() == [{"n": 9}]
        finally:
            await reopened.close()
