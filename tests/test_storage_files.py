"""File-backed storage: restarts, damage, crash safety, unwritable disks, audit log, records."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core import ConversationState, MessageFactory, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import (
    DialogSet,
    DialogTurnStatus,
    PromptOptions,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from storage.audit import AuditLog

from storage.bot_storage import KeyValueBotStorage
from storage.errors import CorruptStoreError, StoreError, StoreUnavailableError
from storage.files import atomic_write_bytes, read_json
from storage.kv import KeyValueStore, MemoryKeyValueStore, ShardedTinyStore, shard_of
from storage.tinytable import RecordTable

# --- KeyValueStore contract -------------------------------------------------------------

KV_FACTORIES: dict[str, Callable[[Path], KeyValueStore]] = {
    "memory": lambda _: MemoryKeyValueStore(),
    "sharded": lambda path: ShardedTinyStore(path / "kv", shards=4),
}


@pytest.fixture(params=list(KV_FACTORIES))
async def kv(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KeyValueStore]:
    """Each KeyValueStore implementation, closed afterwards."""
    store = KV_FACTORIES[request.param](tmp_path)
    yield store
    await store.close()


async def test_kv_read_missing(kv: KeyValueStore) -> None:
    assert await kv.read(["nope"]) == {}


async def test_kv_keys_lists_what_is_stored(kv: KeyValueStore) -> None:
    assert await kv.keys() == []
    await kv.write({"person/b": {"x": 1}, "draft/a": {"y": 2}})
    await kv.delete(["person/b"])
    await kv.write({"audit/c": {}})
    assert await kv.keys() == ["audit/c", "draft/a"]


async def test_kv_round_trip_overwrite_and_delete(kv: KeyValueStore) -> None:
    await kv.write({"a": {"x": 1}, "b": {"y": "Hylte"}})
    await kv.write({"a": {"x": 2}})
    await kv.delete(["b", "missing"])

    assert await kv.read(["a", "b"]) == {"a": {"x": 2}}


async def test_kv_documents_are_copies(kv: KeyValueStore) -> None:
    written = {"list": [1]}
    await kv.write({"a": written})
    written["list"].append(2)
    read = (await kv.read(["a"]))["a"]
    read["list"].append(3)

    assert await kv.read(["a"]) == {"a": {"list": [1]}}


async def test_kv_rejects_non_json_without_storing(kv: KeyValueStore) -> None:
    with pytest.raises(TypeError):
        await kv.write({"ok": {"n": 1}, "bad": {"when": datetime.now(UTC)}})
    with pytest.raises(TypeError):
        await kv.write({"bad": ["not", "a", "dict"]})  # type: ignore[dict-item]

    assert await kv.read(["ok", "bad"]) == {}


async def test_kv_rejects_a_bare_string_as_keys(kv: KeyValueStore) -> None:
    with pytest.raises(TypeError):
        await kv.read("abc")


async def test_kv_concurrent_writes(kv: KeyValueStore) -> None:
    await asyncio.gather(*(kv.write({f"k{n}": {"n": n}}) for n in range(200)))
    await asyncio.gather(*(kv.write({"same": {"n": n}}) for n in range(50)))

    actual = await kv.read([f"k{n}" for n in range(200)])

    assert actual == {f"k{n}": {"n": n} for n in range(200)}
    assert (await kv.read(["same"]))["same"]["n"] in range(50)


async def test_kv_closed_store_refuses_use(kv: KeyValueStore) -> None:
    await kv.close()

    with pytest.raises(StoreError):
        await kv.read(["a"])


# --- ShardedTinyStore on disk -------------------------------------------------------------


async def test_sharded_store_survives_restart(tmp_path: Path) -> None:
    store = ShardedTinyStore(tmp_path, shards=16)
    await store.write({f"conv-{n}": {"n": n, "text": "Falkenberg"} for n in range(100)})
    await store.delete(["conv-7"])
    await store.close()

    reopened = ShardedTinyStore(tmp_path, shards=16)
    actual = await reopened.read([f"conv-{n}" for n in range(100)])
    await reopened.close()

    expected = {f"conv-{n}": {"n": n, "text": "Falkenberg"} for n in range(100) if n != 7}
    assert actual == expected
    assert json.loads((tmp_path / "meta.json").read_text()) == {
        "format": "omtanke.sharded-tinydb",
        "version": 1,
        "shards": 16,
    }


async def test_inline_io_mode_behaves_the_same(tmp_path: Path) -> None:
    store = ShardedTinyStore(tmp_path, shards=4, io_in_thread=False)
    await asyncio.gather(*(store.write({f"k{n}": {"n": n}}) for n in range(50)))
    await store.close()

    reopened = ShardedTinyStore(tmp_path, shards=4)
    assert len(reopened) == 50
    await reopened.close()


async def test_other_shard_count_is_refused(tmp_path: Path) -> None:
    store = ShardedTinyStore(tmp_path, shards=8)
    await store.write({"a": {"n": 1}})
    await store.close()

    with pytest.raises(StoreError, match="created with 8 shards but is being opened with 16"):
        ShardedTinyStore(tmp_path, shards=16)


async def test_second_open_of_the_same_directory_is_refused(tmp_path: Path) -> None:
    store = ShardedTinyStore(tmp_path, shards=2)

    with pytest.raises(StoreError, match="already open"):
        ShardedTinyStore(tmp_path, shards=2)
    await store.close()
    ShardedTinyStore(tmp_path, shards=2)


@pytest.mark.parametrize("shards", [0, -1, True, 2.5])
def test_bad_shard_count_fails_in_constructor(tmp_path: Path, shards: Any) -> None:
    with pytest.raises(ValueError, match="shards must be"):
        ShardedTinyStore(tmp_path, shards=shards)


async def _store_with_one_key(directory: Path) -> Path:
    """Write one key, close, and return the shard file that holds it."""
    store = ShardedTinyStore(directory, shards=4)
    await store.write({"conversation": {"n": 1}})
    await store.close()
    return directory / f"shard-{shard_of('conversation', 4):05d}.json"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: "{not json", "invalid JSON"),
        (lambda text: text[: len(text) // 2], "invalid JSON"),
        (lambda text: "", "empty file"),
        (lambda text: "[]", "top level is list"),
        (lambda text: '{"kv": {"1": {"k": 5, "v": {}}}}', "is not a {k: str, v: object}"),
        (lambda text: '{"kv": {"one": {"k": "a", "v": {}}}}', "non-numeric document id"),
    ],
)
async def test_damaged_shard_stops_open_naming_the_file(
    tmp_path: Path, damage: Callable[[str], str], message: str
) -> None:
    shard = await _store_with_one_key(tmp_path)
    shard.write_text(damage(shard.read_text()))

    with pytest.raises(CorruptStoreError, match=message) as raised:
        ShardedTinyStore(tmp_path, shards=4)

    assert str(shard) in str(raised.value)


async def test_key_in_the_wrong_shard_is_corruption(tmp_path: Path) -> None:
    shard = await _store_with_one_key(tmp_path)
    other = next(p for n in range(4) if (p := tmp_path / f"shard-{n:05d}.json") != shard)
    shard.rename(other)

    with pytest.raises(CorruptStoreError, match="belongs in another shard"):
        ShardedTinyStore(tmp_path, shards=4)


async def test_missing_meta_with_shards_is_corruption(tmp_path: Path) -> None:
    await _store_with_one_key(tmp_path)
    (tmp_path / "meta.json").unlink()

    with pytest.raises(CorruptStoreError, match=r"meta\.json is missing"):
        ShardedTinyStore(tmp_path, shards=4)


# --- atomic writes and unwritable disks ---------------------------------------------------


def test_atomic_write_failure_before_replace_keeps_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "data.json"
    atomic_write_bytes(target, b'{"version": 1}')

    def broken_replace(src: str, dst: Path) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StoreUnavailableError, match=re.escape(str(target))):
        atomic_write_bytes(target, b'{"version": 2}')

    assert read_json(target) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]


def test_kill_between_temp_write_and_replace_keeps_old_content(tmp_path: Path) -> None:
    target = tmp_path / "data.json"
    atomic_write_bytes(target, b'{"version": 1}')
    script = (
        "import os, signal, sys\n"
        "from storage.files import atomic_write_bytes\n"
        "os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        "atomic_write_bytes(sys.argv[1], b'{\"version\": 2}')\n"
    )
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", script, str(target)], cwd=root, check=False, timeout=60
    )

    assert result.returncode == -9
    assert read_json(target) == {"version": 1}
    assert len(list(tmp_path.glob(".data.json.*.tmp"))) == 1


async def test_sharded_open_removes_temp_files_left_by_a_crash(tmp_path: Path) -> None:
    await _store_with_one_key(tmp_path)
    leftover = tmp_path / ".shard-00001.json.abc.tmp"
    leftover.write_text("{half")

    store = ShardedTinyStore(tmp_path, shards=4)
    await store.close()

    assert not leftover.exists()


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC, errno.EACCES])
async def test_unwritable_disk_raises_store_unavailable_and_keeps_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    store = ShardedTinyStore(tmp_path, shards=2)
    await store.write({"a": {"n": 1}})
    real_fsync = os.fsync

    def failing_fsync(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(StoreUnavailableError, match="shard-0000"):
        await store.write({"a": {"n": 2}, "b": {"n": 3}})

    assert await store.read(["a", "b"]) == {"a": {"n": 1}}  # memory agrees with the disk
    monkeypatch.setattr(os, "fsync", real_fsync)
    await store.write({"b": {"n": 3}})
    await store.close()
    reopened = ShardedTinyStore(tmp_path, shards=2)
    assert await reopened.read(["a", "b"]) == {"a": {"n": 1}, "b": {"n": 3}}
    await reopened.close()


def test_unwritable_directory_for_atomic_write(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")

    with pytest.raises(StoreUnavailableError, match="not-a-dir"):
        atomic_write_bytes(blocker / "data.json", b"{}")


# --- dialog state through disk -------------------------------------------------------------

DIALOG_ID = "profile"
PROMPT_ID = "text"
DIALOG_STATE = "DialogState"


def _dialog_adapter(storage: KeyValueBotStorage) -> TestAdapter:
    """A bot with a three-step waterfall and a TextPrompt, saving state after every turn."""
    conversation_state = ConversationState(storage)
    dialogs = DialogSet(conversation_state.create_property(DIALOG_STATE))

    async def ask_name(step: WaterfallStepContext) -> DialogTurnResult:
        return await step.prompt(PROMPT_ID, PromptOptions(prompt=MessageFactory.text("Namn?")))

    async def ask_municipality(step: WaterfallStepContext) -> DialogTurnResult:
        step.values["name"] = step.result
        return await step.prompt(PROMPT_ID, PromptOptions(prompt=MessageFactory.text("Kommun?")))

    async def summarise(step: WaterfallStepContext) -> DialogTurnResult:
        await step.context.send_activity(f"{step.values['name']} i {step.result}")
        return await step.end_dialog()

    dialogs.add(WaterfallDialog(DIALOG_ID, [ask_name, ask_municipality, summarise]))
    dialogs.add(TextPrompt(PROMPT_ID))

    async def logic(turn_context: TurnContext) -> None:
        dialog_context = await dialogs.create_context(turn_context)
        result = await dialog_context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await dialog_context.begin_dialog(DIALOG_ID)
        await conversation_state.save_changes(turn_context)

    return TestAdapter(logic)


async def test_waterfall_resumes_after_store_is_closed_and_reopened(tmp_path: Path) -> None:
    async def one_turn(text: str) -> str:
        storage = KeyValueBotStorage(ShardedTinyStore(tmp_path, shards=4))
        adapter = _dialog_adapter(storage)
        await adapter.receive_activity(text)
        replies = [activity.text for activity in adapter.activity_buffer]
        await storage.close()
        return " | ".join(replies)

    replies = [await one_turn(text) for text in ["hej", "Åsa", "Laholm", "igen"]]

    assert replies == ["Namn?", "Kommun?", "Åsa i Laholm", "Namn?"]


async def test_class_outside_allow_list_is_not_stored(tmp_path: Path) -> None:
    storage = KeyValueBotStorage(MemoryKeyValueStore())

    with pytest.raises(TypeError, match="not allowed"):
        await storage.write({"a": {"path": tmp_path}})
    assert await storage.read(["a"]) == {}


async def test_dangerous_stored_value_is_refused_on_read() -> None:
    kv = MemoryKeyValueStore()
    await kv.write({"a": {"e_tag": None, "item": {"x": {"py/repr": "os/os.system('true')"}}}})
    await kv.write({"b": {"e_tag": None, "item": {"py/object": "subprocess.Popen"}}})
    storage = KeyValueBotStorage(kv)

    with pytest.raises(CorruptStoreError, match=r"py/repr"):
        await storage.read(["a"])
    with pytest.raises(CorruptStoreError, match=r"subprocess\.Popen"):
        await storage.read(["b"])


async def test_vanished_class_is_reported_not_turned_into_a_dict() -> None:
    kv = MemoryKeyValueStore()
    await kv.write({"a": {"e_tag": None, "item": {"py/object": "dialogs.gone.OldState"}}})

    with pytest.raises(CorruptStoreError, match="'a' cannot be restored"):
        await KeyValueBotStorage(kv).read(["a"])


# --- audit log -----------------------------------------------------------------------------


def _fixed_clock() -> datetime:
    return datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)


async def test_audit_append_and_read(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", clock=_fixed_clock)
    await log.append("rug:anna", "approve", "proposal-1", {"comment": "Bra förslag"})
    await log.append("user:bo", "submit", "proposal-2")

    everything = await AuditLog(tmp_path / "audit.jsonl").read()
    about_one = await log.read(subject="proposal-1")

    assert about_one == [
        {
            "at": "2025-03-04T05:06:07.890+00:00",
            "who": "rug:anna",
            "action": "approve",
            "subject": "proposal-1",
            "details": {"comment": "Bra förslag"},
        }
    ]
    assert [e["subject"] for e in everything] == ["proposal-1", "proposal-2"]


async def test_audit_missing_file_reads_empty(tmp_path: Path) -> None:
    assert await AuditLog(tmp_path / "none.jsonl").read() == []


async def test_audit_truncated_last_line_is_ignored_then_repaired(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, clock=_fixed_clock)
    await log.append("a", "x", "s1")
    with path.open("ab") as handle:
        handle.write(b'{"at": "2025-03-0')

    assert [e["subject"] for e in await AuditLog(path).read()] == ["s1"]

    later = AuditLog(path, clock=_fixed_clock)
    await later.append("b", "y", "s2")
    assert [e["subject"] for e in await later.read()] == ["s1", "s2"]


async def test_audit_complete_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    entry = {"at": "t", "who": "a", "action": "x", "subject": "s1", "details": {}}
    path.write_text(json.dumps(entry))
    log = AuditLog(path)

    await log.append("b", "y", "s2")

    assert [e["subject"] for e in await log.read()] == ["s1", "s2"]


async def test_audit_corrupt_middle_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, clock=_fixed_clock)
    await log.append("a", "x", "s1")
    with path.open("ab") as handle:
        handle.write(b"garbage\n")
    await log.append("b", "y", "s2")

    with pytest.raises(CorruptStoreError, match=re.escape(f"{path}: line 2 is not valid JSON")):
        await log.read()


async def test_audit_line_of_wrong_shape_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('{"who": "a"}\n')

    with pytest.raises(CorruptStoreError, match="line 1 is not an audit entry"):
        await AuditLog(path).read()


# --- record tables -------------------------------------------------------------------------


async def test_record_table_basics_and_restart(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    table = RecordTable.open(path, "references")
    first = await table.insert({"conversation_id": "c1", "user": "Åsa"})
    second = await table.upsert({"conversation_id": "c2", "user": "Bo"}, "conversation_id")
    again = await table.upsert({"conversation_id": "c1", "user": "Åsa K"}, "conversation_id")
    await table.insert({"conversation_id": "c3", "user": "Cecilia"})
    removed = await table.remove("conversation_id", "c3")
    await table.close()

    reopened = RecordTable.open(path, "references")
    assert (first, second, again, removed) == (1, 2, 1, 1)
    assert await reopened.get("conversation_id", "c1") == {"conversation_id": "c1", "user": "Åsa K"}
    assert await reopened.get("conversation_id", "nope") is None
    assert await reopened.all() == [
        {"conversation_id": "c1", "user": "Åsa K"},
        {"conversation_id": "c2", "user": "Bo"},
    ]
    assert await reopened.search(lambda r: r["user"].startswith("B")) == [
        {"conversation_id": "c2", "user": "Bo"}
    ]
    await reopened.close()


async def test_record_table_upsert_replaces_whole_record(tmp_path: Path) -> None:
    table = RecordTable.open(tmp_path / "r.json")
    await table.upsert({"id": "p1", "draft": True, "title": "x"}, "id")
    await table.upsert({"id": "p1", "title": "y"}, "id")

    assert await table.all() == [{"id": "p1", "title": "y"}]
    await table.close()


async def test_record_table_concurrent_inserts(tmp_path: Path) -> None:
    table = RecordTable.open(tmp_path / "r.json")
    ids = await asyncio.gather(*(table.insert({"n": n}) for n in range(50)))
    await table.close()

    reopened = RecordTable.open(tmp_path / "r.json")
    assert sorted(ids) == list(range(1, 51))
    assert sorted(r["n"] for r in await reopened.all()) == list(range(50))
    await reopened.close()


def test_record_table_corrupt_file_fails_at_open(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text('{"records": {"1": {"a": 1}')

    with pytest.raises(CorruptStoreError, match=re.escape(str(path))):
        RecordTable.open(path)
