"""File-backed storage: restarts, damage, crash safety, unwritable disks, logs and tables.

What every store must do is in the contract suites (tests/contracts/, run against these
implementations in tests/test_storage_tiny.py); this module checks the files themselves.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
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

from storage import layout
from storage.bot_storage import KeyValueBotStorage
from storage.errors import CorruptStoreError, StoreBusyError, StoreError, StoreUnavailableError
from storage.files import atomic_write_bytes, read_json
from storage.jsonl import JsonlLog
from storage.kv import ShardedTinyStore, shard_of
from storage.memory import MemoryKeyValueStore
from storage.tinytable import TinyRecordStore

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

    with pytest.raises(StoreBusyError, match="already open"):
        ShardedTinyStore(tmp_path, shards=2)
    await store.close()
    ShardedTinyStore(tmp_path, shards=2)


@pytest.mark.parametrize("shards", [0, -1, True, 2.5])
def test_bad_shard_count_fails_in_constructor(tmp_path: Path, shards: Any) -> None:
    with pytest.raises(ValueError, match="shards must be"):
        ShardedTinyStore(tmp_path, shards=shards)


def _names(directory: Path, pattern: str = "*") -> list[str]:
    """The names of the files in a folder that match a pattern, sorted."""
    return sorted(p.name for p in directory.glob(pattern))


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


async def test_missing_meta_with_only_journals_left_is_corruption(tmp_path: Path) -> None:
    """Issue 16 item 8: journals alone still hold acknowledged writes; never start over."""
    store = ShardedTinyStore(tmp_path, shards=4)
    await store.write({"conversation": {"n": 1}})
    store._shards[shard_of("conversation", 4)]._journal_bytes = 0  # a kill: nothing folded
    await store.close()
    assert _names(tmp_path, "shard-*.json") == []
    (tmp_path / "meta.json").unlink()

    with pytest.raises(CorruptStoreError, match=r"meta\.json is missing") as raised:
        ShardedTinyStore(tmp_path, shards=4)

    assert "journals" in str(raised.value)
    assert not (tmp_path / "meta.json").exists()  # nothing was created over it


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


# --- the audit log's JSON Lines file --------------------------------------------------------


def _entry(subject: str) -> dict[str, Any]:
    return {
        "at": "2025-03-04T05:06:07.890+00:00",
        "who": "a",
        "action": "x",
        "subject": subject,
        "details": {},
    }


def _audit(path: Path) -> JsonlLog:
    return JsonlLog(path, layout.AUDIT_FIELDS)


async def test_audit_file_is_one_json_object_per_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await _audit(path).append({**_entry("proposal-1"), "details": {"comment": "Bra förslag"}})
    await _audit(path).append(_entry("proposal-2"))

    lines = path.read_text("utf-8").splitlines()

    assert [json.loads(line)["subject"] for line in lines] == ["proposal-1", "proposal-2"]
    assert "Bra förslag" in lines[0]  # Swedish letters stay readable in the file


async def test_audit_missing_file_reads_empty(tmp_path: Path) -> None:
    assert await _audit(tmp_path / "none.jsonl").read() == []


async def test_audit_truncated_last_line_is_ignored_then_repaired(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await _audit(path).append(_entry("s1"))
    with path.open("ab") as handle:
        handle.write(b'{"at": "2025-03-0')

    assert [e["subject"] for e in await _audit(path).read()] == ["s1"]

    later = _audit(path)
    await later.append(_entry("s2"))
    assert [e["subject"] for e in await later.read()] == ["s1", "s2"]


async def test_audit_complete_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text(json.dumps(_entry("s1")))
    log = _audit(path)

    await log.append(_entry("s2"))

    assert [e["subject"] for e in await log.read()] == ["s1", "s2"]


async def test_audit_corrupt_middle_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = _audit(path)
    await log.append(_entry("s1"))
    with path.open("ab") as handle:
        handle.write(b"garbage\n")
    await log.append(_entry("s2"))

    with pytest.raises(CorruptStoreError, match=re.escape(f"{path}: line 2 is not valid JSON")):
        await log.read()


async def test_audit_line_without_the_audit_fields_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('{"who": "a"}\n')

    with pytest.raises(CorruptStoreError, match="line 1 lacks the field"):
        await _audit(path).read()


async def test_log_rewrite_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rewrite that fails (erase-user on a full disk) leaves the old log whole."""
    path = tmp_path / "audit.jsonl"
    log = _audit(path)
    await log.append(_entry("s1"))

    def broken_replace(src: str, dst: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StoreUnavailableError, match=re.escape(str(path))):
        await log.rewrite([_entry("scrubbed")])

    assert [e["subject"] for e in await log.read()] == ["s1"]
    assert _names(tmp_path) == ["audit.jsonl"]


# --- TinyDB table files ----------------------------------------------------------------------


async def test_table_file_layout(tmp_path: Path) -> None:
    """One TinyDB file per table: {"records": {doc_id: {_id, _index, _doc}}}."""
    table = TinyRecordStore(tmp_path / "proposals.json")
    await table.put("OH-2026-0001", {"title": "Åsa"}, index={"status": "hos_rug"})
    await table.close()

    assert read_json(tmp_path / "proposals.json") == {
        "records": {
            "1": {"_id": "OH-2026-0001", "_index": {"status": "hos_rug"}, "_doc": {"title": "Åsa"}}
        }
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"records": {"1": {"a": 1}', "invalid JSON"),
        ('{"records": {"1": {"_id": 5, "_index": {}, "_doc": {}}}}', "is not an {_id: str"),
        ('{"records": {"1": {"_id": "a", "_index": {"s": 1}, "_doc": {}}}}', "_index is not"),
        (
            '{"records": {"1": {"_id": "a", "_index": {}, "_doc": {}},'
            ' "2": {"_id": "a", "_index": {}, "_doc": {}}}}',
            "id 'a' is stored twice",
        ),
    ],
)
def test_damaged_table_file_fails_at_open_naming_it(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "r.json"
    path.write_text(content)

    with pytest.raises(CorruptStoreError, match=re.escape(message)) as raised:
        TinyRecordStore(path)

    assert str(path) in str(raised.value)


async def test_table_rewrite_failure_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole-table rewrite (restore, migration) is one atomic replace: all or nothing."""
    path = tmp_path / "r.json"
    table = TinyRecordStore(path)
    await table.put("a", {"n": 1}, index={"k": "v"})
    before = path.read_bytes()

    def broken_replace(src: str, dst: Path) -> None:
        raise OSError(errno.EIO, "I/O error")

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", broken_replace)
        with pytest.raises(StoreUnavailableError):
            await table.rewrite([])

    assert path.read_bytes() == before
    assert [v.key for v in await table.find("k", "v")] == ["a"]  # memory agrees with the file
    await table.close()
