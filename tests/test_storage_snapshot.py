"""A read-only snapshot of a data folder the running service holds: what it reads, and that
it never writes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from storage import layout
from storage import snapshot as snapshot_module
from storage.admin import dump
from storage.errors import CorruptStoreError
from storage.files import atomic_write_bytes
from storage.kv import shard_of
from storage.records import Records
from storage.snapshot import SnapshotError, open_snapshot, snapshot
from storage.tiny_backend import TinyBackend
from tests.old_layout import write_old_folder

SHARDS = 4


def _files(folder: Path) -> dict[str, str]:
    """Every file under a folder with its SHA-256 (the lock file included: none is created)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


async def _running(data: Path) -> Records:
    """A backend as the service holds it: open, locked, journals not folded."""
    records = Records(await TinyBackend.open(data, shards=SHARDS))
    await records.open()
    await records.state.write({f"conv-{n}": {"n": n} for n in range(40)})
    await records.state.delete(["conv-3"])
    await records.escalations.record("aad-anna", "Hur söker man pengar?", "sv")
    await records.feedback.record("aad-anna", "rug", True)
    await records.audit.append("aad-anna", "submitted", "OH-2026-0001")
    await records.meta.next_number("proposal-2026")
    return records


async def test_snapshot_of_a_running_folder_equals_what_the_service_holds(tmp_path: Path) -> None:
    data = tmp_path / "data"
    running = await _running(data)
    try:
        before = _files(data)

        copy = await snapshot(data)

        assert await dump(copy) == await dump(running.backend)
        assert _files(data) == before
        await copy.close()
    finally:
        await running.close()


async def test_unacknowledged_half_lines_are_left_out(tmp_path: Path) -> None:
    """An append in progress (no newline yet) is not part of the copy, and is not cut off."""
    data = tmp_path / "data"
    running = await _running(data)
    try:
        journal = data / "state" / f"shard-{shard_of('conv-1', SHARDS):05d}.log"
        with journal.open("ab") as handle:
            handle.write(b'{"k":"conv-1","v":{"n":')
        with (data / "audit.jsonl").open("ab") as handle:
            handle.write(b'{"at": "2026')
        before = _files(data)

        copy = await snapshot(data)

        assert await copy.state.read(["conv-1"]) == {"conv-1": {"n": 1}}
        assert [e["action"] for e in await copy.log(layout.AUDIT).read()] == ["submitted"]
        assert _files(data) == before
        await copy.close()
    finally:
        await running.close()


async def test_a_shard_compacted_while_it_is_read_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    running = await _running(data)
    number = shard_of("conv-1", SHARDS)
    shard = running.backend.state._shards[number]  # type: ignore[attr-defined]
    base = data / "state" / f"shard-{number:05d}.json"
    real = snapshot_module._read_optional
    compacted = False

    def read_during_compaction(path: Path) -> bytes | None:
        nonlocal compacted
        content = real(path)
        if path == base and not compacted:
            compacted = True
            shard.compact()  # replaces the base and empties the journal between the two reads
        return content

    try:
        monkeypatch.setattr(snapshot_module, "_read_optional", read_during_compaction)

        copy = await snapshot(data)

        assert compacted
        assert await dump(copy) == await dump(running.backend)
        await copy.close()
    finally:
        await running.close()


async def test_a_file_that_never_stops_changing_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    running = await _running(data)
    await running.close()
    path = data / "tables" / "proposals.json"
    real = snapshot_module._read_optional

    def always_replaced(read: Path) -> bytes | None:
        content = real(read)
        if read == path:
            atomic_write_bytes(path, content or b"{}")
        return content

    monkeypatch.setattr(snapshot_module, "_read_optional", always_replaced)

    with pytest.raises(SnapshotError, match=r"proposals\.json changed all the time"):
        await snapshot(data)


async def test_a_folder_of_the_previous_release_is_read_migrated_and_left_as_it_is(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    await write_old_folder(data)
    before = _files(data)

    records = await open_snapshot(data)
    try:
        assert len(await records.proposals.all()) == 3
        assert len(await records.escalations.all()) == 2
    finally:
        await records.close()

    assert _files(data) == before


async def test_damage_is_named_and_meta_json_is_never_made_up(tmp_path: Path) -> None:
    data = tmp_path / "data"
    running = await _running(data)
    await running.close()
    (data / "state" / "meta.json").unlink()

    with pytest.raises(CorruptStoreError, match=r"meta\.json is missing"):
        await snapshot(data)

    assert not (data / "state" / "meta.json").exists()


async def test_a_damaged_record_names_the_file_it_came_from(tmp_path: Path) -> None:
    data = tmp_path / "data"
    running = await _running(data)
    await running.backend.table(layout.ESCALATIONS).put("e2", {"id": "e2"}, index={"user": "u"})
    await running.close()

    with pytest.raises(CorruptStoreError) as raised:
        await open_snapshot(data)

    assert str(raised.value).startswith(f"{data / 'tables' / 'escalations.json'}: record 'e2'")


async def test_a_missing_folder_is_empty(tmp_path: Path) -> None:
    copy = await snapshot(tmp_path / "nothing")

    assert (await dump(copy)).count() == 0
    assert not (tmp_path / "nothing").exists()
    await copy.close()
