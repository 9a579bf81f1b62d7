"""The contract of the SDK's Storage (botbuilder.core.Storage) as the bot relies on it.

The SDK's own MemoryStorage is the reference (tests/test_storage_contract.py); every
KeyValueStore, wrapped in storage.bot_storage.KeyValueBotStorage, must behave the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from botbuilder.core import Storage, StoreItem


class BotStorageContract:
    """The SDK Storage: subclass and provide a `storage` fixture (fresh, empty)."""

    @pytest.fixture
    async def storage(self) -> AsyncIterator[Storage]:
        """A fresh, empty SDK Storage, closed afterwards."""
        raise NotImplementedError("a backend's test class provides this fixture")
        yield

    async def test_read_missing_key_gives_empty(self, storage: Storage) -> None:
        assert await storage.read(["unknown"]) == {}

    async def test_read_no_keys_gives_empty(self, storage: Storage) -> None:
        assert await storage.read([]) == {}

    async def test_write_none_is_refused(self, storage: Storage) -> None:
        with pytest.raises(Exception, match="Changes are required when writing"):
            await storage.write(None)  # type: ignore[arg-type]

    async def test_dict_round_trip(self, storage: Storage) -> None:
        await storage.write({"a": {"name": "Åsa", "count": 1, "nested": {"list": [1, 2]}}})

        actual = await storage.read(["a"])

        assert actual == {"a": {"name": "Åsa", "count": 1, "nested": {"list": [1, 2]}}}

    async def test_item_without_etag_never_gets_one(self, storage: Storage) -> None:
        await storage.write({"a": {"count": 1}})
        await storage.write({"a": {"count": 2}})

        actual = await storage.read(["a"])

        assert actual == {"a": {"count": 2}}

    async def test_update_with_matching_etag(self, storage: Storage) -> None:
        await storage.write({"a": {"count": 1, "e_tag": "*"}})
        await storage.write({"a": {"count": 2, "e_tag": "*"}})  # now the store assigns a real eTag
        loaded = (await storage.read(["a"]))["a"]
        assert loaded["e_tag"] not in (None, "", "*")

        loaded["count"] = 3
        await storage.write({"a": loaded})

        reloaded = (await storage.read(["a"]))["a"]
        assert reloaded["count"] == 3
        assert reloaded["e_tag"] != loaded["e_tag"]

    async def test_stale_etag_conflicts(self, storage: Storage) -> None:
        await storage.write({"a": {"count": 1, "e_tag": "*"}})
        await storage.write({"a": {"count": 2, "e_tag": "*"}})
        first = (await storage.read(["a"]))["a"]
        second = dict(first)
        await storage.write({"a": {**first, "count": 3}})

        with pytest.raises(KeyError, match="Etag conflict"):
            await storage.write({"a": {**second, "count": 99}})

        assert (await storage.read(["a"]))["a"]["count"] == 3

    async def test_wildcard_etag_overwrites(self, storage: Storage) -> None:
        await storage.write({"a": {"count": 1, "e_tag": "*"}})
        await storage.write({"a": {"count": 2, "e_tag": "*"}})

        await storage.write({"a": {"count": 100, "e_tag": "*"}})

        assert (await storage.read(["a"]))["a"]["count"] == 100

    async def test_empty_etag_is_refused(self, storage: Storage) -> None:
        await storage.write({"a": {"count": 1, "e_tag": "*"}})

        with pytest.raises(Exception, match="etag missing"):
            await storage.write({"a": {"count": 2, "e_tag": ""}})

        assert (await storage.read(["a"]))["a"]["count"] == 1

    async def test_delete(self, storage: Storage) -> None:
        await storage.write({"a": {"count": 1}, "b": {"count": 2}})

        await storage.delete(["a"])

        assert await storage.read(["a", "b"]) == {"b": {"count": 2}}

    async def test_delete_missing_is_fine(self, storage: Storage) -> None:
        await storage.delete(["never-written"])

        assert await storage.read(["never-written"]) == {}

    async def test_multiple_keys(self, storage: Storage) -> None:
        changes = {f"key-{n}": {"n": n} for n in range(20)}
        await storage.write(changes)

        actual = await storage.read([*changes, "missing"])

        assert actual == changes

    async def test_crazy_keys(self, storage: Storage) -> None:
        key = '!@#$%^&*()_+??><":QASD~`/\\ åäö'
        await storage.write({key: {"id": 1}})

        assert await storage.read([key]) == {key: {"id": 1}}

    async def test_store_item_comes_back_as_store_item(self, storage: Storage) -> None:
        await storage.write({"item": StoreItem(name="Kungsbacka", count=1, e_tag="*")})

        actual = (await storage.read(["item"]))["item"]

        assert isinstance(actual, StoreItem)
        assert (actual.name, actual.count, actual.e_tag) == ("Kungsbacka", 1, "*")

    async def test_store_item_etag_is_renewed_and_checked(self, storage: Storage) -> None:
        await storage.write({"item": StoreItem(count=1, e_tag="*")})
        await storage.write({"item": StoreItem(count=2, e_tag="*")})
        loaded = (await storage.read(["item"]))["item"]
        stale_etag = loaded.e_tag

        loaded.count = 3
        await storage.write({"item": loaded})
        assert loaded.e_tag == stale_etag  # the caller's object is not changed by the write

        with pytest.raises(KeyError):
            await storage.write({"item": StoreItem(count=4, e_tag=stale_etag)})
        assert (await storage.read(["item"]))["item"].count == 3

    async def test_concurrent_writes_to_distinct_keys_lose_nothing(self, storage: Storage) -> None:
        await asyncio.gather(*(storage.write({f"k{n}": {"n": n}}) for n in range(200)))

        actual = await storage.read([f"k{n}" for n in range(200)])

        assert actual == {f"k{n}": {"n": n} for n in range(200)}

    async def test_concurrent_writes_to_one_key_leave_one_whole_value(
        self, storage: Storage
    ) -> None:
        await asyncio.gather(
            *(storage.write({"same": {"n": n, "payload": [n] * 10}}) for n in range(200))
        )

        actual = (await storage.read(["same"]))["same"]

        assert actual == {"n": actual["n"], "payload": [actual["n"]] * 10}
        assert 0 <= actual["n"] < 200

    async def test_concurrent_conditional_writes_let_exactly_one_win(
        self, storage: Storage
    ) -> None:
        await storage.write({"a": {"count": 0, "e_tag": "*"}})
        await storage.write({"a": {"count": 0, "e_tag": "*"}})
        base = (await storage.read(["a"]))["a"]

        results = await asyncio.gather(
            *(storage.write({"a": {**base, "count": n}}) for n in range(1, 21)),
            return_exceptions=True,
        )

        winners = [r for r in results if r is None]
        assert len(winners) == 1
        assert all(isinstance(r, KeyError) for r in results if r is not None)
