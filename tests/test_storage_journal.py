"""The sharded store's journal: small fsynced appends, replay after a crash, compaction."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from storage.errors import CorruptStoreError
from storage.kv import ShardedTinyStore, shard_of

ROOT = Path(__file__).resolve().parent.parent


def _journal(directory: Path, key: str, shards: int) -> Path:
    return directory / f"shard-{shard_of(key, shards):05d}.log"


async def test_writes_survive_a_kill_without_close(tmp_path: Path) -> None:
    script = (
        "import asyncio, os, signal, sys\n"
        "from storage.kv import ShardedTinyStore\n"
        "async def main():\n"
        "    store = ShardedTinyStore(sys.argv[1], shards=4)\n"
        "    await store.write({'a': {'n': 1}, 'b': {'n': 2}})\n"
        "    await store.write({'a': {'n': 3}})\n"
        "    await store.delete(['b'])\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "asyncio.run(main())\n"
    )
    command = [sys.executable, "-c", script, str(tmp_path)]
    result = await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, check=False, timeout=60
    )
    assert result.returncode == -9

    store = ShardedTinyStore(tmp_path, shards=4)
    actual = await store.read(["a", "b"])
    await store.close()

    assert actual == {"a": {"n": 3}}


async def test_torn_last_line_is_dropped_and_earlier_writes_kept(tmp_path: Path) -> None:
    store = ShardedTinyStore(tmp_path, shards=1)
    await store.write({"a": {"n": 1}})
    await store.write({"b": {"n": 2}})
    journal = _journal(tmp_path, "a", 1)
    journal_text = journal.read_bytes()
    # Simulate a crash mid-append of a third, never acknowledged write.
    store._shards[0]._journal_bytes = 0  # keep close() from folding the journal
    await store.close()
    journal.write_bytes(journal_text + b'{"k":"c","v":{"n"')

    reopened = ShardedTinyStore(tmp_path, shards=1)
    actual = await reopened.read(["a", "b", "c"])
    await reopened.write({"c": {"n": 3}})
    await reopened.close()
    again = ShardedTinyStore(tmp_path, shards=1)
    after = await again.read(["a", "b", "c"])
    await again.close()

    assert actual == {"a": {"n": 1}, "b": {"n": 2}}
    assert after == {"a": {"n": 1}, "b": {"n": 2}, "c": {"n": 3}}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"{not json\n", "not valid JSON"),
        (b'{"k": 5, "v": {}}\n', "is not a {k: str, v: object|null} entry"),
        (b'["a"]\n', "is not a {k: str, v: object|null} entry"),
    ],
)
async def test_damaged_journal_line_stops_open_naming_file_and_line(
    tmp_path: Path, line: bytes, message: str
) -> None:
    store = ShardedTinyStore(tmp_path, shards=1)
    await store.close()
    journal = tmp_path / "shard-00000.log"
    journal.write_bytes(b'{"k":"a","v":{"n":1}}\n' + line + b'{"k":"b","v":{"n":2}}\n')

    with pytest.raises(CorruptStoreError, match=message) as raised:
        ShardedTinyStore(tmp_path, shards=1)

    assert f"{journal}: line 2" in str(raised.value)


async def test_journal_entry_in_the_wrong_shard_is_corruption(tmp_path: Path) -> None:
    store = ShardedTinyStore(tmp_path, shards=4)
    await store.close()
    wrong = next(n for n in range(4) if n != shard_of("a", 4))
    (tmp_path / f"shard-{wrong:05d}.log").write_bytes(b'{"k":"a","v":{"n":1}}\n')

    with pytest.raises(CorruptStoreError, match="belongs in another shard"):
        ShardedTinyStore(tmp_path, shards=4)


async def test_journal_is_folded_into_the_base_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.kv.COMPACT_MIN_BYTES", 200)
    store = ShardedTinyStore(tmp_path, shards=1)
    for n in range(20):
        await store.write({f"k{n % 3}": {"n": n, "text": "Kungsbacka"}})
    journal = tmp_path / "shard-00000.log"

    assert journal.stat().st_size <= 400  # compacted along the way, not 20 lines long
    await store.close()
    assert not journal.exists()
    reopened = ShardedTinyStore(tmp_path, shards=1)
    actual = await reopened.read(["k0", "k1", "k2"])
    await reopened.close()
    assert actual == {
        "k0": {"n": 18, "text": "Kungsbacka"},
        "k1": {"n": 19, "text": "Kungsbacka"},
        "k2": {"n": 17, "text": "Kungsbacka"},
    }
