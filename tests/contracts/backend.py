"""The Backend contract (storage.base.Backend): one store of each kind by name."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from storage import layout
from storage.base import AppendLog, Backend, KeyValueStore, RecordStore
from storage.errors import StoreError

# Opens a new backend object over the same stored data (a restart).
BackendFactory = Callable[[], Awaitable[Backend]]


def entry(log: str) -> dict[str, object]:
    """An entry any log takes (a backend may insist on the audit fields in its audit log)."""
    return {
        "at": "2026-11-22T10:00:00.000+00:00",
        "who": "t",
        "action": "a",
        "subject": log,
        "details": {},
    }


class BackendContract:
    """Every Backend: subclass and provide a `backend` fixture (fresh, empty)."""

    @pytest.fixture
    async def backend(self) -> AsyncIterator[Backend]:
        """A fresh, empty backend, closed afterwards."""
        raise NotImplementedError("a backend's test class provides this fixture")
        yield

    async def test_has_a_kind(self, backend: Backend) -> None:
        assert isinstance(backend.kind, str) and backend.kind

    async def test_state_is_one_key_value_store(self, backend: Backend) -> None:
        assert isinstance(backend.state, KeyValueStore)
        assert backend.state is backend.state

    async def test_table_by_name_is_the_same_object(self, backend: Backend) -> None:
        for name in layout.TABLES:
            table = backend.table(name)
            assert isinstance(table, RecordStore)
            assert backend.table(name) is table
        assert len({id(backend.table(name)) for name in layout.TABLES}) == len(layout.TABLES)

    async def test_log_by_name_is_the_same_object(self, backend: Backend) -> None:
        for name in layout.LOGS:
            log = backend.log(name)
            assert isinstance(log, AppendLog)
            assert backend.log(name) is log
        assert len({id(backend.log(name)) for name in layout.LOGS}) == len(layout.LOGS)

    async def test_every_store_starts_empty(self, backend: Backend) -> None:
        assert await backend.state.keys() == []
        for name in layout.TABLES:
            assert await backend.table(name).all() == []
        for name in layout.LOGS:
            assert await backend.log(name).read() == []

    async def test_stores_are_separate(self, backend: Backend) -> None:
        await backend.table(layout.PROPOSALS).put("x", {"in": "proposals"})
        await backend.table(layout.OUTBOX).put("x", {"in": "outbox"})
        await backend.log(layout.FEEDBACK).append(entry(layout.FEEDBACK))
        await backend.state.write({"x": {"in": "state"}})

        proposal = await backend.table(layout.PROPOSALS).get("x")
        item = await backend.table(layout.OUTBOX).get("x")
        assert proposal is not None and proposal.document == {"in": "proposals"}
        assert item is not None and item.document == {"in": "outbox"}
        assert await backend.table(layout.META).get("x") is None
        assert await backend.log(layout.AUDIT).read() == []
        assert await backend.log(layout.FEEDBACK).read() == [entry(layout.FEEDBACK)]

    async def test_where_names_each_store(self, backend: Backend) -> None:
        """Error messages name the table or log; each one's `where` says which it is."""
        wheres = [backend.table(n).where for n in layout.TABLES]
        wheres += [backend.log(n).where for n in layout.LOGS]
        assert all(isinstance(w, str) and w for w in wheres)
        assert len(set(wheres)) == len(wheres)

    async def test_close_closes_every_store(self, backend: Backend) -> None:
        table = backend.table(layout.PROPOSALS)
        log = backend.log(layout.AUDIT)
        await table.put("a", {"n": 1})
        await log.append(entry(layout.AUDIT))

        await backend.close()

        with pytest.raises(StoreError):
            await backend.state.read(["a"])
        with pytest.raises(StoreError):
            await table.get("a")
        with pytest.raises(StoreError):
            await log.read()


class DurableBackendContract:
    """A backend that keeps its data: provide `backend_factory` (opens the same data again)."""

    @pytest.fixture
    def backend_factory(self) -> BackendFactory:
        """Opens a backend over the same data each time it is called."""
        raise NotImplementedError("a backend's test class provides this fixture")

    async def test_everything_survives_reopening(self, backend_factory: BackendFactory) -> None:
        backend = await backend_factory()
        await backend.state.write({"draft/aad-asa": {"n": 1}})
        for name in layout.TABLES:
            await backend.table(name).put("r", {"table": name}, index={"k": name})
        for name in layout.LOGS:
            await backend.log(name).append(entry(name))
        await backend.close()

        reopened = await backend_factory()
        try:
            assert await reopened.state.read(["draft/aad-asa"]) == {"draft/aad-asa": {"n": 1}}
            for name in layout.TABLES:
                found = await reopened.table(name).find("k", name)
                assert [v.document for v in found] == [{"table": name}]
            for name in layout.LOGS:
                assert await reopened.log(name).read() == [entry(name)]
        finally:
            await reopened.close()
