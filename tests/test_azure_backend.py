"""What is particular to the Azure backend, against a real Azurite: names Azure forbids, large
records, two backends on one account as two instances, and start-up errors people can read."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage import layout
from storage.azure_backend import AzureBackend, resource_names
from storage.azure_names import MAX_DOCUMENT_CHARS, AzureStorageConfig
from storage.base import ANY
from storage.errors import ETagConflictError, StoreError, StoreUnavailableError
from storage.records import Meta
from tests.azurite import ACCOUNT_KEY, Azurite
from tests.commands import free_port, run_omtanke

# Characters Azure Table keys forbid (/ \ # ? and controls), blob names' trailing dot and
# slash, percent signs that look escaped, and Swedish letters.
AWKWARD_KEYS = [
    "",
    "msteams/conversations/a:personal-anna/",
    "back\\slash",
    "hash#and?query",
    "control\x00\x01\x1f\x7f\x9f",
    "ends with a dot.",
    "%2F looks escaped %25",
    "Håll ihop, Halmstad!",
    "tab\tand\nnewline",
]


@pytest.fixture
async def backend(azurite: Azurite) -> AzureBackend:
    """A backend on a fresh prefix."""
    opened = AzureBackend(azurite.config())
    yield opened  # type: ignore[misc]
    await opened.close()


async def test_keys_azure_forbids_round_trip_in_blobs_and_tables(backend: AzureBackend) -> None:
    """Every key comes back as it was written, listed in key order, found by prefix."""
    await backend.state.write({key: {"key": key} for key in AWKWARD_KEYS})
    table = backend.table(layout.META)
    for key in AWKWARD_KEYS:
        await table.put(key, {"key": key}, index={"kind": "awkward"}, etag=None)

    assert await backend.state.read(AWKWARD_KEYS) == {key: {"key": key} for key in AWKWARD_KEYS}
    assert await backend.state.keys() == sorted(AWKWARD_KEYS)
    assert await backend.state.keys("msteams/") == ["msteams/conversations/a:personal-anna/"]
    found = await table.find("kind", "awkward")
    assert [v.key for v in found] == sorted(AWKWARD_KEYS)
    assert all(v.document == {"key": v.key} for v in found)


async def test_a_large_record_is_stored_whole_and_a_too_large_one_is_refused(
    backend: AzureBackend,
) -> None:
    """A Table property holds 32 K characters: a longer record is split, not cut."""
    table = backend.table(layout.PROPOSALS)
    text = "Trygg hemgång i Hylte. " * 5000

    await table.put("OH-2026-0001", {"background": text}, index={"status": "hos_rug"})

    found = await table.get("OH-2026-0001")
    assert found is not None and found.document == {"background": text}
    with pytest.raises(StoreError, match="larger than an Azure table entity holds"):
        await table.put("OH-2026-0002", {"background": "x" * (MAX_DOCUMENT_CHARS + 1)})
    assert await table.get("OH-2026-0002") is None


async def test_two_instances_on_one_account_share_and_conflict(azurite: Azurite) -> None:
    """Two backends on one prefix are two instances: each sees the other's writes, and of
    two conditional writes on the same version exactly one wins."""
    config = azurite.config()
    first, second = AzureBackend(config), AzureBackend(config)
    try:
        etag = await first.state.write_if("draft/aad-asa", {"step": 1}, None)
        seen = await second.state.read_versioned("draft/aad-asa")
        assert seen is not None and seen.document == {"step": 1} and seen.etag == etag

        results = await asyncio.gather(
            first.state.write_if("draft/aad-asa", {"step": 2, "by": "first"}, etag),
            second.state.write_if("draft/aad-asa", {"step": 2, "by": "second"}, etag),
            return_exceptions=True,
        )

        assert sum(isinstance(r, ETagConflictError) for r in results) == 1
        winner = "first" if isinstance(results[1], ETagConflictError) else "second"
        assert (await first.state.read(["draft/aad-asa"]))["draft/aad-asa"]["by"] == winner
    finally:
        await first.close()
        await second.close()


async def test_the_id_counter_never_repeats_across_instances(azurite: Azurite) -> None:
    """Twenty ids drawn at once from two instances are 1…20, each once."""
    config = azurite.config()
    first, second = AzureBackend(config), AzureBackend(config)
    try:
        metas = [Meta(first.table(layout.META)), Meta(second.table(layout.META))]
        numbers = await asyncio.gather(
            *(metas[n % 2].next_number("proposal-2026") for n in range(20))
        )
    finally:
        await first.close()
        await second.close()

    assert sorted(numbers) == list(range(1, 21))


async def test_a_lease_has_one_holder_across_instances(azurite: Azurite) -> None:
    """The draft sweep's lease: held by one instance at a time, free again once released."""
    config = azurite.config()
    first, second = AzureBackend(config), AzureBackend(config)
    try:
        a, b = Meta(first.table(layout.META)), Meta(second.table(layout.META))
        got = await asyncio.gather(
            a.acquire_lease("draft-sweep", "a", 60), b.acquire_lease("draft-sweep", "b", 60)
        )
        assert sorted(got) == [False, True]
        holder, other = (a, "a") if got[0] else (b, "b")
        await holder.release_lease("draft-sweep", "a" if other == "a" else "b")
        assert await (b if other == "a" else a).acquire_lease("draft-sweep", "x", 60)
    finally:
        await first.close()
        await second.close()


async def test_a_closed_backend_refuses_use(azurite: Azurite) -> None:
    """After close every store says so instead of reconnecting."""
    backend = AzureBackend(azurite.config())
    await backend.state.write({"a": {}})
    await backend.close()

    with pytest.raises(StoreError, match="closed"):
        await backend.state.write_if("a", {}, ANY)


async def test_an_unreachable_account_is_a_store_error_naming_it() -> None:
    """Nothing listens there: a StoreUnavailableError that names the table, soon."""
    port = free_port()
    string = (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
        f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )
    backend = AzureBackend(AzureStorageConfig(connection_string=string, prefix="nowhere"))
    try:
        with pytest.raises(StoreUnavailableError, match="cannot be reached") as caught:
            await backend.table(layout.PROPOSALS).all()
    finally:
        await backend.close()

    assert "nowhereproposals" in str(caught.value)


def _serve_env(connection_string: str) -> dict[str, str]:
    return {
        "OMTANKE_STORAGE": "azure",
        "OMTANKE_AZURE_STORAGE_CONNECTION_STRING": connection_string,
    }


def test_serve_on_an_unreachable_account_exits_with_one_clear_line(tmp_path: Path) -> None:
    """`omtanke serve` says what it could not reach and which setting to check; no traceback."""
    port = free_port()
    string = (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
        f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )

    result = run_omtanke(["serve"], tmp_path / "data", timeout=60, **_serve_env(string))

    assert result.returncode == 1
    assert "cannot be reached" in result.stderr
    assert "OMTANKE_AZURE_STORAGE_CONNECTION_STRING" in result.stderr
    assert "Traceback" not in result.stderr
    assert ACCOUNT_KEY not in result.stderr


def test_serve_with_a_wrong_key_exits_saying_the_credentials_were_refused(
    azurite: Azurite, tmp_path: Path
) -> None:
    """A real account that refuses the key: the same single line, naming the refusal."""
    wrong = azurite.connection_string.replace(ACCOUNT_KEY, "d3Jvbmcta2V5" * 8)

    result = run_omtanke(["serve"], tmp_path / "data", timeout=60, **_serve_env(wrong))

    assert result.returncode == 1
    assert "refused the credentials" in result.stderr
    assert "Traceback" not in result.stderr


def test_resource_names_are_valid_azure_names() -> None:
    """One container and one table per store, all within Azure's naming rules."""
    names = resource_names(AzureStorageConfig(connection_string="x", prefix="omtanke"))

    assert names == {
        "containers": ["omtanke-state"],
        "tables": [
            "omtankeproposals",
            "omtankeescalations",
            "omtankeoutbox",
            "omtankemeta",
            "omtankelogaudit",
            "omtankelogfeedback",
        ],
    }
    assert all(3 <= len(n) <= 63 and n.isalnum() for n in names["tables"])
