"""The KeyValueStore contract (storage.base.KeyValueStore)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest

from storage.base import ANY, KeyValueStore
from storage.errors import ETagConflictError, StoreError

# Opens a new store object over the same stored data (a restart).
KeyValueFactory = Callable[[], Awaitable[KeyValueStore]]


class KeyValueStoreContract:
    """Every KeyValueStore: subclass and provide a `kv` fixture (a fresh, empty store)."""

    @pytest.fixture
    async def kv(self) -> AsyncIterator[KeyValueStore]:
        """A fresh, empty store, closed afterwards."""
        raise NotImplementedError("a backend's test class provides this fixture")
        yield

    # ----- read, write, delete ------------------------------------------------------------

    async def test_read_missing_and_no_keys(self, kv: KeyValueStore) -> None:
        assert await kv.read(["nope"]) == {}
        assert await kv.read([]) == {}

    async def test_round_trip_overwrite_and_delete(self, kv: KeyValueStore) -> None:
        await kv.write({"a": {"x": 1}, "b": {"y": "Hylte", "nested": {"list": [1, "två"]}}})
        assert await kv.read(["a", "b"]) == {
            "a": {"x": 1},
            "b": {"y": "Hylte", "nested": {"list": [1, "två"]}},
        }
        await kv.write({"a": {"x": 2}})
        await kv.delete(["b", "missing"])

        assert await kv.read(["a", "b"]) == {"a": {"x": 2}}

    async def test_write_replaces_the_whole_document(self, kv: KeyValueStore) -> None:
        await kv.write({"a": {"x": 1, "y": 2}})
        await kv.write({"a": {"x": 3}})

        assert await kv.read(["a"]) == {"a": {"x": 3}}

    async def test_documents_are_copies(self, kv: KeyValueStore) -> None:
        written = {"list": [1]}
        await kv.write({"a": written})
        written["list"].append(2)
        read = (await kv.read(["a"]))["a"]
        read["list"].append(3)

        assert await kv.read(["a"]) == {"a": {"list": [1]}}

    async def test_rejects_non_json_without_storing_anything(self, kv: KeyValueStore) -> None:
        with pytest.raises(TypeError):
            await kv.write({"ok": {"n": 1}, "bad": {"when": datetime.now(UTC)}})
        with pytest.raises(TypeError):
            await kv.write({"bad": ["not", "a", "dict"]})  # type: ignore[dict-item]

        assert await kv.read(["ok", "bad"]) == {}
        assert await kv.keys() == []

    async def test_rejects_a_bare_string_as_keys(self, kv: KeyValueStore) -> None:
        with pytest.raises(TypeError):
            await kv.read("abc")
        with pytest.raises(TypeError):
            await kv.delete("abc")

    async def test_unusual_keys(self, kv: KeyValueStore) -> None:
        key = '!@#$%^&*()_+??><":QASD~`/\\ åäö'
        await kv.write({key: {"id": 1}})

        assert await kv.read([key]) == {key: {"id": 1}}
        assert await kv.keys() == [key]

    # ----- keys ---------------------------------------------------------------------------

    async def test_keys_lists_what_is_stored_sorted(self, kv: KeyValueStore) -> None:
        assert await kv.keys() == []
        await kv.write({"person/b": {"x": 1}, "draft/b": {"y": 2}, "draft/a": {"z": 3}})
        await kv.delete(["person/b"])
        await kv.write({"audit/c": {}})

        assert await kv.keys() == ["audit/c", "draft/a", "draft/b"]

    async def test_inspect_visits_what_read_gives_in_key_order(self, kv: KeyValueStore) -> None:
        await kv.write({"draft/b": {"n": 2}, "draft/a": {"n": [1]}, "draft-stash/1": {"n": 3}})
        await kv.write({"person/x": {}, "draft/c": {"n": 4}})
        await kv.delete(["draft/c"])
        seen: list[tuple[str, object]] = []

        count = await kv.inspect("draft/", lambda key, document: seen.append((key, document)))

        assert count == 2
        assert seen == [("draft/a", {"n": [1]}), ("draft/b", {"n": 2})]
        assert await kv.inspect("nothing/", lambda key, document: seen.append((key, {}))) == 0
        assert len(seen) == 2

    async def test_keys_by_prefix(self, kv: KeyValueStore) -> None:
        await kv.write({f"draft/{n}": {} for n in range(3)} | {"draft-stash/1": {}, "d": {}})

        assert await kv.keys("draft/") == ["draft/0", "draft/1", "draft/2"]
        assert await kv.keys("draft") == [
            "draft-stash/1",
            "draft/0",
            "draft/1",
            "draft/2",
        ]
        assert await kv.keys("nothing/") == []

    # ----- versioned reads and conditional writes ------------------------------------------

    async def test_read_versioned(self, kv: KeyValueStore) -> None:
        assert await kv.read_versioned("a") is None
        etag = await kv.write_if("a", {"n": 1}, None)

        found = await kv.read_versioned("a")

        assert found is not None
        assert (found.key, found.document, found.etag) == ("a", {"n": 1}, etag)
        assert isinstance(etag, str) and etag

    async def test_write_if_absent_only_once(self, kv: KeyValueStore) -> None:
        await kv.write_if("a", {"n": 1}, None)

        with pytest.raises(ETagConflictError):
            await kv.write_if("a", {"n": 2}, None)

        assert await kv.read(["a"]) == {"a": {"n": 1}}

    async def test_write_if_with_the_current_etag(self, kv: KeyValueStore) -> None:
        first = await kv.write_if("a", {"n": 1}, None)
        second = await kv.write_if("a", {"n": 2}, first)

        found = await kv.read_versioned("a")
        assert found is not None and (found.document, found.etag) == ({"n": 2}, second)
        assert second != first

    async def test_stale_etag_conflicts_and_changes_nothing(self, kv: KeyValueStore) -> None:
        stale = await kv.write_if("a", {"n": 1}, None)
        await kv.write({"a": {"n": 2}})

        with pytest.raises(ETagConflictError):
            await kv.write_if("a", {"n": 99}, stale)
        with pytest.raises(ETagConflictError):
            await kv.delete_if("a", stale)

        assert await kv.read(["a"]) == {"a": {"n": 2}}

    async def test_conflict_is_also_a_key_error(self, kv: KeyValueStore) -> None:
        """The SDK's callers catch KeyError on an eTag conflict (as MemoryStorage raises)."""
        await kv.write({"a": {"n": 1}})

        with pytest.raises(KeyError):
            await kv.write_if("a", {"n": 2}, None)

    async def test_etag_for_a_missing_key_conflicts(self, kv: KeyValueStore) -> None:
        etag = await kv.write_if("a", {"n": 1}, None)
        await kv.delete(["a"])

        with pytest.raises(ETagConflictError):
            await kv.write_if("a", {"n": 2}, etag)
        with pytest.raises(ETagConflictError):
            await kv.delete_if("a", etag)

        assert await kv.read(["a"]) == {}

    async def test_any_writes_and_deletes_unconditionally(self, kv: KeyValueStore) -> None:
        await kv.write_if("a", {"n": 1}, ANY)
        await kv.write_if("a", {"n": 2}, ANY)
        assert await kv.read(["a"]) == {"a": {"n": 2}}

        await kv.delete_if("a", ANY)
        await kv.delete_if("a", ANY)  # absent is fine for ANY

        assert await kv.read(["a"]) == {}

    async def test_delete_if_with_the_current_etag(self, kv: KeyValueStore) -> None:
        etag = await kv.write_if("a", {"n": 1}, None)
        await kv.write({"b": {"n": 2}})

        await kv.delete_if("a", etag)

        assert await kv.keys() == ["b"]

    async def test_delete_if_absent_expected_absent(self, kv: KeyValueStore) -> None:
        await kv.delete_if("never", None)
        await kv.write({"a": {"n": 1}})

        with pytest.raises(ETagConflictError):
            await kv.delete_if("a", None)
        assert await kv.read(["a"]) == {"a": {"n": 1}}

    async def test_write_if_rejects_non_json_without_storing(self, kv: KeyValueStore) -> None:
        with pytest.raises(TypeError):
            await kv.write_if("a", {"when": datetime.now(UTC)}, ANY)

        assert await kv.read(["a"]) == {}

    # ----- concurrency --------------------------------------------------------------------

    async def test_concurrent_writes_lose_nothing(self, kv: KeyValueStore) -> None:
        await asyncio.gather(*(kv.write({f"k{n}": {"n": n}}) for n in range(200)))
        await asyncio.gather(*(kv.write({"same": {"n": n, "pad": [n] * 10}}) for n in range(50)))

        actual = await kv.read([f"k{n}" for n in range(200)])
        same = (await kv.read(["same"]))["same"]

        assert actual == {f"k{n}": {"n": n} for n in range(200)}
        assert same == {"n": same["n"], "pad": [same["n"]] * 10}

    async def test_concurrent_conditional_writes_let_exactly_one_win(
        self, kv: KeyValueStore
    ) -> None:
        base = await kv.write_if("a", {"count": 0}, None)

        results = await asyncio.gather(
            *(kv.write_if("a", {"count": n}, base) for n in range(1, 21)),
            return_exceptions=True,
        )

        winners = [r for r in results if isinstance(r, str)]
        assert len(winners) == 1
        assert all(isinstance(r, ETagConflictError) for r in results if r not in winners)
        found = await kv.read_versioned("a")
        assert found is not None and found.etag == winners[0]

    # ----- close --------------------------------------------------------------------------

    async def test_closed_store_refuses_use(self, kv: KeyValueStore) -> None:
        await kv.write({"a": {"n": 1}})
        await kv.close()

        with pytest.raises(StoreError):
            await kv.read(["a"])
        with pytest.raises(StoreError):
            await kv.write({"a": {"n": 2}})
        with pytest.raises(StoreError):
            await kv.keys()


class DurableKeyValueStoreContract:
    """A store that keeps its data: provide `kv_factory` (opens the same data again)."""

    @pytest.fixture
    def kv_factory(self) -> KeyValueFactory:
        """Opens a store over the same data each time it is called."""
        raise NotImplementedError("a backend's test class provides this fixture")

    async def test_data_survives_reopening(self, kv_factory: KeyValueFactory) -> None:
        store = await kv_factory()
        await store.write({f"conv-{n}": {"n": n, "text": "Falkenberg"} for n in range(50)})
        await store.delete(["conv-7"])
        etag = await store.write_if("versioned", {"v": 1}, None)
        await store.close()

        reopened = await kv_factory()
        try:
            actual = await reopened.read([f"conv-{n}" for n in range(50)])
            found = await reopened.read_versioned("versioned")
            keys = await reopened.keys("conv-")
        finally:
            await reopened.close()

        assert actual == {f"conv-{n}": {"n": n, "text": "Falkenberg"} for n in range(50) if n != 7}
        assert len(keys) == 49
        # The eTag read before the restart still guards the same content after it.
        assert found is not None and found.etag == etag
