"""The RecordStore contract (storage.base.RecordStore)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest

from storage.base import ANY, RecordStore, Row
from storage.errors import ETagConflictError, StoreError

# Opens a new table object over the same stored data (a restart).
RecordStoreFactory = Callable[[], Awaitable[RecordStore]]


async def _contents(table: RecordStore) -> list[tuple[str, dict[str, object], dict[str, str]]]:
    return [(v.key, v.document, dict(v.index)) for v in await table.all()]


class RecordStoreContract:
    """Every RecordStore: subclass and provide a `table` fixture (a fresh, empty table)."""

    @pytest.fixture
    async def table(self) -> AsyncIterator[RecordStore]:
        """A fresh, empty table, closed afterwards."""
        raise NotImplementedError("a backend's test class provides this fixture")
        yield

    # ----- put, get, delete ---------------------------------------------------------------

    async def test_get_missing(self, table: RecordStore) -> None:
        assert await table.get("nope") is None
        assert await table.all() == []

    async def test_put_and_get_with_index(self, table: RecordStore) -> None:
        etag = await table.put("p1", {"title": "Trygg hemgång"}, index={"status": "hos_rug"})

        found = await table.get("p1")

        assert found is not None
        assert (found.key, found.document, found.etag) == ("p1", {"title": "Trygg hemgång"}, etag)
        assert dict(found.index) == {"status": "hos_rug"}

    async def test_put_replaces_document_and_index(self, table: RecordStore) -> None:
        await table.put("p1", {"a": 1, "b": 2}, index={"status": "x", "user": "u"})
        await table.put("p1", {"a": 3}, index={"status": "y"})

        assert await _contents(table) == [("p1", {"a": 3}, {"status": "y"})]
        assert await table.find("status", "x") == []
        assert await table.find("user", "u") == []

    async def test_documents_are_copies(self, table: RecordStore) -> None:
        written = {"list": [1]}
        await table.put("a", written)
        written["list"].append(2)
        found = await table.get("a")
        assert found is not None
        found.document["list"].append(3)

        again = await table.get("a")
        assert again is not None and again.document == {"list": [1]}

    async def test_rejects_non_json_and_bad_index_without_storing(self, table: RecordStore) -> None:
        with pytest.raises(TypeError):
            await table.put("a", {"when": datetime.now(UTC)})
        with pytest.raises(TypeError):
            await table.put("a", ["not", "a", "dict"])  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await table.put("a", {"n": 1}, index={"n": 1})  # type: ignore[dict-item]

        assert await table.all() == []

    async def test_delete(self, table: RecordStore) -> None:
        await table.put("a", {"n": 1}, index={"k": "v"})
        await table.put("b", {"n": 2}, index={"k": "v"})

        await table.delete("a")
        await table.delete("missing")

        assert [v.key for v in await table.all()] == ["b"]
        assert [v.key for v in await table.find("k", "v")] == ["b"]

    # ----- find and all -------------------------------------------------------------------

    async def test_inspect_visits_every_record_in_id_order(self, table: RecordStore) -> None:
        await table.put("b", {"n": [2]}, index={"status": "open"})
        await table.put("a", {"n": 1})
        await table.put("c", {"n": 3})
        await table.delete("c")
        seen: list[tuple[str, object, dict[str, str]]] = []

        count = await table.inspect(
            lambda row: seen.append((row.id, row.document, dict(row.index)))
        )
        await table.put("b", {"n": "changed"}, index={"status": "closed"})

        assert count == 2
        # What was visited stays as it was when a record is replaced afterwards.
        assert seen == [("a", {"n": 1}, {}), ("b", {"n": [2]}, {"status": "open"})]

    async def test_find_by_index_in_id_order(self, table: RecordStore) -> None:
        for record_id, status in (("c", "open"), ("a", "open"), ("b", "closed"), ("d", "open")):
            await table.put(record_id, {"id": record_id}, index={"status": status, "u": "x"})

        assert [v.key for v in await table.find("status", "open")] == ["a", "c", "d"]
        assert [v.key for v in await table.find("status", "closed")] == ["b"]
        assert await table.find("status", "gone") == []
        assert await table.find("unknown-index", "open") == []
        assert [v.key for v in await table.find("u", "x")] == ["a", "b", "c", "d"]

    async def test_find_returns_documents_with_etags(self, table: RecordStore) -> None:
        etag = await table.put("a", {"n": 1}, index={"k": "v"})

        [found] = await table.find("k", "v")

        assert (found.key, found.document, found.etag, dict(found.index)) == (
            "a",
            {"n": 1},
            etag,
            {"k": "v"},
        )

    async def test_all_in_id_order(self, table: RecordStore) -> None:
        for record_id in ("OH-2026-0010", "OH-2026-0002", "OH-2025-0100"):
            await table.put(record_id, {"id": record_id})

        assert [v.key for v in await table.all()] == [
            "OH-2025-0100",
            "OH-2026-0002",
            "OH-2026-0010",
        ]

    # ----- eTags --------------------------------------------------------------------------

    async def test_insert_only_with_etag_none(self, table: RecordStore) -> None:
        await table.put("a", {"n": 1}, index={"k": "first"}, etag=None)

        with pytest.raises(ETagConflictError):
            await table.put("a", {"n": 2}, index={"k": "second"}, etag=None)

        assert await _contents(table) == [("a", {"n": 1}, {"k": "first"})]

    async def test_put_with_the_current_etag(self, table: RecordStore) -> None:
        first = await table.put("a", {"n": 1}, etag=None)
        second = await table.put("a", {"n": 2}, etag=first)

        found = await table.get("a")
        assert found is not None and (found.document, found.etag) == ({"n": 2}, second)
        assert second != first

    async def test_stale_etag_conflicts_and_changes_nothing(self, table: RecordStore) -> None:
        stale = await table.put("a", {"n": 1}, index={"s": "old"})
        await table.put("a", {"n": 2}, index={"s": "new"})

        with pytest.raises(ETagConflictError):
            await table.put("a", {"n": 99}, index={"s": "lost"}, etag=stale)
        with pytest.raises(ETagConflictError):
            await table.delete("a", etag=stale)

        assert await _contents(table) == [("a", {"n": 2}, {"s": "new"})]
        assert await table.find("s", "lost") == []

    async def test_an_index_change_changes_the_etag(self, table: RecordStore) -> None:
        """The index is part of the record: changing only it must stop a stale writer."""
        stale = await table.put("a", {"n": 1}, index={"status": "open"})
        await table.put("a", {"n": 1}, index={"status": "closed"})

        with pytest.raises(ETagConflictError):
            await table.put("a", {"n": 1}, index={"status": "open"}, etag=stale)

    async def test_etag_for_a_missing_record_conflicts(self, table: RecordStore) -> None:
        etag = await table.put("a", {"n": 1})
        await table.delete("a")

        with pytest.raises(ETagConflictError):
            await table.put("a", {"n": 2}, etag=etag)
        with pytest.raises(ETagConflictError):
            await table.delete("a", etag=etag)
        assert await table.all() == []

    async def test_delete_with_the_current_etag(self, table: RecordStore) -> None:
        etag = await table.put("a", {"n": 1})

        await table.delete("a", etag=etag)

        assert await table.get("a") is None

    async def test_any_is_unconditional(self, table: RecordStore) -> None:
        await table.put("a", {"n": 1}, etag=ANY)
        await table.put("a", {"n": 2}, etag=ANY)
        await table.delete("a", etag=ANY)
        await table.delete("a", etag=ANY)

        assert await table.all() == []

    async def test_concurrent_inserts_let_exactly_one_win(self, table: RecordStore) -> None:
        results = await asyncio.gather(
            *(table.put("claim", {"by": n}, etag=None) for n in range(10)),
            return_exceptions=True,
        )

        winners = [r for r in results if isinstance(r, str)]
        assert len(winners) == 1
        assert all(isinstance(r, ETagConflictError) for r in results if r not in winners)

    async def test_concurrent_puts_to_distinct_ids_lose_nothing(self, table: RecordStore) -> None:
        await asyncio.gather(
            *(table.put(f"r{n:02d}", {"n": n}, index={"k": "v"}) for n in range(30))
        )

        assert [v.document["n"] for v in await table.find("k", "v")] == list(range(30))

    # ----- rewrite ------------------------------------------------------------------------

    async def test_rewrite_replaces_everything(self, table: RecordStore) -> None:
        await table.put("old", {"n": 0}, index={"k": "old"})
        await table.put("b", {"n": 1}, index={"k": "x"})

        await table.rewrite(
            [Row("b", {"n": 2}, {"k": "y"}), Row("a", {"n": 3}), Row("c", {"n": 4}, {"k": "y"})]
        )

        assert await _contents(table) == [
            ("a", {"n": 3}, {}),
            ("b", {"n": 2}, {"k": "y"}),
            ("c", {"n": 4}, {"k": "y"}),
        ]
        assert [v.key for v in await table.find("k", "y")] == ["b", "c"]
        assert await table.find("k", "old") == []
        # The table is usable as before afterwards.
        await table.put("d", {"n": 5}, etag=None)
        with pytest.raises(ETagConflictError):
            await table.put("a", {"n": 6}, etag=None)

    async def test_rewrite_to_empty(self, table: RecordStore) -> None:
        await table.put("a", {"n": 1})

        await table.rewrite([])

        assert await table.all() == []

    async def test_rewrite_refuses_bad_rows_and_changes_nothing(self, table: RecordStore) -> None:
        await table.put("a", {"n": 1})

        with pytest.raises(ValueError):
            await table.rewrite([Row("x", {"n": 1}), Row("x", {"n": 2})])
        with pytest.raises(TypeError):
            await table.rewrite([Row("x", {"when": datetime.now(UTC)})])

        assert await _contents(table) == [("a", {"n": 1}, {})]

    async def test_rewritten_records_carry_the_same_etag_as_put(self, table: RecordStore) -> None:
        """A backup restored gives each record the eTag it would have had (content eTags) or a
        new one – either way a writer holding an eTag from before the restore conflicts."""
        before = await table.put("a", {"n": 1}, index={"k": "v"})
        await table.rewrite([Row("a", {"n": 2}, {"k": "v"})])

        with pytest.raises(ETagConflictError):
            await table.put("a", {"n": 3}, etag=before)

    # ----- close --------------------------------------------------------------------------

    async def test_closed_table_refuses_use(self, table: RecordStore) -> None:
        await table.put("a", {"n": 1})
        await table.close()

        with pytest.raises(StoreError):
            await table.get("a")
        with pytest.raises(StoreError):
            await table.put("b", {"n": 2})
        with pytest.raises(StoreError):
            await table.all()


class DurableRecordStoreContract:
    """A table that keeps its data: provide `table_factory` (opens the same data again)."""

    @pytest.fixture
    def table_factory(self) -> RecordStoreFactory:
        """Opens a table over the same data each time it is called."""
        raise NotImplementedError("a backend's test class provides this fixture")

    async def test_records_index_and_etags_survive_reopening(
        self, table_factory: RecordStoreFactory
    ) -> None:
        table = await table_factory()
        etag = await table.put("a", {"text": "Åsa"}, index={"user": "aad-asa"})
        await table.put("b", {"n": 2}, index={"user": "aad-bo"})
        await table.delete("b")
        await table.close()

        reopened = await table_factory()
        try:
            found = await reopened.find("user", "aad-asa")
            everything = await _contents(reopened)
            await reopened.put("a", {"text": "Åsa K"}, etag=etag)
        finally:
            await reopened.close()

        assert [(v.key, v.document, v.etag) for v in found] == [("a", {"text": "Åsa"}, etag)]
        assert everything == [("a", {"text": "Åsa"}, {"user": "aad-asa"})]

    async def test_rewrite_survives_reopening(self, table_factory: RecordStoreFactory) -> None:
        table = await table_factory()
        await table.put("old", {"n": 0})
        await table.rewrite([Row("new", {"n": 1}, {"k": "v"})])
        await table.close()

        reopened = await table_factory()
        try:
            assert await _contents(reopened) == [("new", {"n": 1}, {"k": "v"})]
        finally:
            await reopened.close()
