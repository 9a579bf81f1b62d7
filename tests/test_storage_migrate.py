"""A data folder in the old layout (tables as TinyDB files in its root) is migrated once at
open, losing nothing; the old files are kept aside."""

from __future__ import annotations

import hmac
import json
from pathlib import Path

import pytest

from storage import layout
from storage.admin import erase_person
from storage.errors import CorruptStoreError
from storage.migrate import LegacyLayoutError
from storage.records import Records
from storage.tiny_backend import TinyBackend
from tests.old_layout import ANNA, BO, OLD_KEY, SHARDS, write_old_folder


def _files(folder: Path, pattern: str = "*") -> dict[str, bytes]:
    """The files matching a pattern in a folder, by name."""
    return {p.name: p.read_bytes() for p in sorted(folder.glob(pattern)) if p.is_file()}


def _folders(folder: Path, pattern: str) -> list[Path]:
    return sorted(p for p in folder.glob(pattern) if p.is_dir())


@pytest.fixture
async def old_folder(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    await write_old_folder(data)
    return data


async def _open(data: Path) -> Records:
    records = Records(await TinyBackend.open(data))
    await records.open()
    return records


async def test_every_old_record_is_found_through_the_new_interfaces(old_folder: Path) -> None:
    records = await _open(old_folder)
    try:
        repo = records.proposals
        assert [p.id for p in await repo.all()] == ["OH-2025-0003", "OH-2025-0007", "OH-2026-0002"]
        assert [p.id for p in await repo.for_initiator(ANNA)] == ["OH-2026-0002", "OH-2025-0007"]
        assert [p.id for p in await repo.with_status(["hos_rug"])] == ["OH-2025-0007"]
        found = await repo.submitted_for_token("token-b")
        assert found is not None and found.title == "Hälsosamtal"
        # What RUG asked Bo to complement, once a separate key, is now on the proposal.
        assert found.complement_request is not None
        assert (found.complement_request.fields, found.complement_request.by) == (
            ["background"],
            "Rolf Rugman",
        )
        drafts = await repo.drafts()
        assert [(person, d.proposal.title, d.token) for person, d in drafts] == [
            (ANNA, "Ett utkast", "token-d")
        ]
        assert [
            (e["user"], e["question"], e["handled"]) for e in await records.escalations.all()
        ] == [
            (BO, "Vem sitter i RUG?", True),
            (ANNA, "Hur söker man pengar?", False),
        ]
        assert [(f["user"], f["helpful"]) for f in await records.feedback.all()] == [
            (ANNA, True),
            (BO, False),
        ]
        pending = await records.outbox.pending()
        assert [(i.data["target"], i.data["attempts"]) for i in pending] == [(ANNA, 1)]
        assert len(await records.outbox.all()) == 2
        assert await records.meta.get("rugcard/OH-2025-0007") == {
            "activity_id": "card-7",
            "at": "2025-03-01T10:00:01+00:00",
        }
        assert await records.references.personal(ANNA) == {"x": 1}
        state = records.state
        stash = await state.read([f"draft-stash/{BO}"])
        assert stash[f"draft-stash/{BO}"]["proposal"]["title"] == "Bos egna idé"
        assert await state.keys("complement") == []
        assert await state.keys("rugcard/") == []
        # The id counters continue after the highest id of each year.
        assert await records.meta.next_number("proposal-2025") == 8
        assert await records.meta.next_number("proposal-2026") == 3
        audit = await records.audit.read()
        assert [e["action"] for e in audit] == ["submitted", "storage_migrated"]
        # erase-user keeps giving a person the pseudonym the previous release gave them.
        assert await records.meta.get(layout.PSEUDONYM_KEY) == {"key": OLD_KEY}
        erased = await erase_person(records.backend, None, BO)
        old = hmac.new(OLD_KEY.encode("ascii"), BO.encode("utf-8"), "sha256").hexdigest()
        assert erased.pseudonym == "borttagen-" + old[:8]
    finally:
        await records.close()


async def test_old_files_are_kept_aside_and_the_migration_runs_once(old_folder: Path) -> None:
    originals = _files(old_folder, "*.json") | _files(old_folder, ".pseudonym-key")
    records = await _open(old_folder)
    await records.close()

    [aside] = _folders(old_folder, "old-layout-*")
    assert _files(aside) == originals
    assert _files(old_folder, "*.json") == {}
    assert _files(old_folder, ".pseudonym-key") == {}
    assert (old_folder / "tables" / "proposals.json").is_file()
    assert (old_folder / "feedback.jsonl").is_file()

    again = await _open(old_folder)
    try:
        audit = await again.audit.read()
        assert [e["action"] for e in audit].count("storage_migrated") == 1
        assert len(await again.proposals.all()) == 3
        assert len(_folders(old_folder, "old-layout-*")) == 1
    finally:
        await again.close()


async def test_a_damaged_old_record_stops_the_migration_and_writes_nothing(
    old_folder: Path,
) -> None:
    content = json.loads((old_folder / "proposals.json").read_text("utf-8"))
    content["proposals"]["2"]["status"] = 5
    (old_folder / "proposals.json").write_text(json.dumps(content), "utf-8")

    with pytest.raises(CorruptStoreError) as raised:
        await TinyBackend.open(old_folder)

    message = str(raised.value)
    assert str(old_folder / "proposals.json") in message
    assert "document 2" in message and "'status'" in message
    assert (old_folder / "proposals.json").is_file()
    assert _folders(old_folder, "old-layout-*") == []
    backend = TinyBackend(old_folder, SHARDS, allow_legacy=True)
    try:
        for name in layout.TABLES:
            assert await backend.table(name).all() == []
        assert await backend.log(layout.FEEDBACK).read() == []
    finally:
        await backend.close()


async def test_a_migration_cut_off_midway_is_finished_by_the_next_open(
    old_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after some tables were written: the next open writes the rest, nothing twice."""

    def crash(*_args: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr("storage.migrate._move_rug_cards", crash)
        with pytest.raises(KeyboardInterrupt):
            await TinyBackend.open(old_folder)

    records = await _open(old_folder)
    try:
        assert len(await records.proposals.all()) == 3
        assert len(await records.feedback.all()) == 2
        assert len(await records.escalations.all()) == 2
        assert await records.meta.get("rugcard/OH-2025-0007") is not None
    finally:
        await records.close()


async def test_the_constructor_alone_refuses_the_old_layout(old_folder: Path) -> None:
    """Opening without migrating would start with empty tables beside the old ones."""
    with pytest.raises(LegacyLayoutError, match="old layout"):
        TinyBackend(old_folder, SHARDS)

    # The refusal released the folder's lock.
    backend = await TinyBackend.open(old_folder)
    await backend.close()
