"""Start-up checks every record's content (issue 16 item 8): a record of the wrong shape stops
Records.open with the file or table, the record and the field named – on every backend."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from domain.proposal import Initiator, Proposal, Status
from storage import layout
from storage.base import Backend
from storage.checks import OUTBOX_FIELDS
from storage.errors import CorruptStoreError
from storage.kv import ShardedTinyStore
from storage.memory import MemoryBackend
from storage.records import Records, outbox_index, outbox_item, proposal_row
from storage.tiny_backend import TinyBackend
from tests.commands import (
    REPO_ROOT,
    cli_env,
    free_port,
    omtanke_command,
    run_omtanke,
    wait_healthy,
)

PID = "OH-2026-0001"


def _proposal_document(**changes: Any) -> dict[str, Any]:
    proposal = Proposal(
        id=PID,
        title="Trygg hemgång",
        status=Status.WITH_RUG,
        initiator=Initiator(name="Anna", aad_object_id="aad-anna"),
    )
    row = proposal_row(proposal, "token-1")
    return {**row.document, **changes}


async def _put_proposal(backend: Backend, document: dict[str, Any]) -> None:
    index = {
        "status": Status.WITH_RUG,
        "initiator": "aad-anna",
        "draft_token": "token-1",
        "pending": "no",
    }
    await backend.table(layout.PROPOSALS).put(PID, document, index=index)


async def _put_outbox(backend: Backend, document: dict[str, Any]) -> None:
    await backend.table(layout.OUTBOX).put("item-1", document)


def _escalation(**changes: Any) -> dict[str, Any]:
    record = {
        "id": "e1",
        "at": "2026-11-22T10:00:00+00:00",
        "user": "aad-anna",
        "question": "Hur söker man pengar?",
        "locale": "sv",
        "handled": False,
    }
    return {**record, **changes}


def _audit(**changes: Any) -> dict[str, Any]:
    entry = {"at": "t", "who": "w", "action": "a", "subject": "s", "details": {}}
    return {**entry, **changes}


Damage = Callable[[Backend], Awaitable[None]]


async def _status_5(backend: Backend) -> None:
    await _put_proposal(backend, _proposal_document(status=5))


async def _unknown_status(backend: Backend) -> None:
    await _put_proposal(backend, _proposal_document(status="godkänd"))


async def _other_id(backend: Backend) -> None:
    await _put_proposal(backend, _proposal_document(id="OH-2026-0099"))


async def _stale_index(backend: Backend) -> None:
    """The status changed by hand in the file, the index not: "ärenden hos RUG" would lie."""
    await _put_proposal(backend, _proposal_document(status=Status.APPROVED))


async def _bad_pending(backend: Backend) -> None:
    await _put_proposal(backend, _proposal_document(_pending=[{"id": "x", "message": {"id": 1}}]))


async def _outbox_only_id(backend: Backend) -> None:
    await _put_outbox(backend, {"id": 1})


async def _outbox_no_kind(backend: Backend) -> None:
    await _put_outbox(backend, {"id": "item-1"})


async def _outbox_attempts(backend: Backend) -> None:
    item = {**outbox_item("person", "aad-anna", {}, item_id="item-1"), "attempts": "2"}
    await backend.table(layout.OUTBOX).put("item-1", item, index=outbox_index(item))


async def _escalation_handled(backend: Backend) -> None:
    await backend.table(layout.ESCALATIONS).put(
        "e1", _escalation(handled="ja"), index={"user": "aad-anna"}
    )


async def _escalation_no_question(backend: Backend) -> None:
    record = _escalation()
    del record["question"]
    await backend.table(layout.ESCALATIONS).put("e1", record, index={"user": "aad-anna"})


async def _feedback(backend: Backend) -> None:
    await backend.log(layout.FEEDBACK).append({"at": "t", "user": "aad-anna", "topic": "rug"})


async def _audit_details(backend: Backend) -> None:
    await backend.log(layout.AUDIT).append(_audit(details="text"))


async def _draft_revision(backend: Backend) -> None:
    proposal = Proposal(title="Utkast").to_dict()
    draft = {"proposal": proposal, "token": "t", "revision": "3"}
    await backend.state.write({"draft/aad-anna": draft})


async def _draft_status(backend: Backend) -> None:
    proposal = {**Proposal(title="Utkast").to_dict(), "status": 5}
    await backend.state.write(
        {"draft/aad-anna": {"proposal": proposal, "token": "t", "revision": 1}}
    )


async def _stash(backend: Backend) -> None:
    await backend.state.write({"draft-stash/aad-anna": {"title": "no proposal"}})


async def _reference(backend: Backend) -> None:
    await backend.state.write({layout.RUG_CHANNEL: {"by": "aad-rolf", "at": "t"}})


async def _counter(backend: Backend) -> None:
    await backend.table(layout.META).put("counter/proposal-2026", {"value": "7"})


async def _lease(backend: Backend) -> None:
    await backend.table(layout.META).put("lease/outbox", {"owner": "a", "until": "never"})


async def _rug_card(backend: Backend) -> None:
    """Without its activity id, every click on the proposal's card would raise KeyError."""
    await backend.table(layout.META).put(f"rugcard/{PID}", {"at": "t"})


# (damage, the record it names, the field it names)
CASES: dict[str, tuple[Damage, str, str]] = {
    "proposal status 5": (_status_5, f"record {PID!r}", "'status'"),
    "proposal unknown status": (_unknown_status, f"record {PID!r}", "'status'"),
    "proposal under another id": (_other_id, f"record {PID!r}", "'id'"),
    "proposal index out of date": (_stale_index, f"record {PID!r}", "index"),
    "proposal pending effect": (_bad_pending, f"record {PID!r}", "_pending 1"),
    "outbox {id: 1}": (_outbox_only_id, "record 'item-1'", "field 'id' is an integer"),
    "outbox without kind": (_outbox_no_kind, "record 'item-1'", "field 'kind' is missing"),
    "outbox attempts text": (_outbox_attempts, "record 'item-1'", "attempts"),
    "escalation handled text": (_escalation_handled, "record 'e1'", "'handled'"),
    "escalation without question": (_escalation_no_question, "record 'e1'", "'question'"),
    "feedback without helpful": (_feedback, "entry 1", "'helpful'"),
    "audit details text": (_audit_details, "entry 1", "'details'"),
    "draft revision text": (_draft_revision, "key 'draft/aad-anna'", "'revision'"),
    "draft proposal status 5": (_draft_status, "key 'draft/aad-anna'", "'status'"),
    "stash without proposal": (_stash, "key 'draft-stash/aad-anna'", "'proposal'"),
    "RUG channel without reference": (_reference, f"key {layout.RUG_CHANNEL!r}", "'reference'"),
    "counter text": (_counter, "record 'counter/proposal-2026'", "'value'"),
    "lease time": (_lease, "record 'lease/outbox'", "'until'"),
    "RUG card without activity id": (_rug_card, f"record 'rugcard/{PID}'", "'activity_id'"),
}

BackendFactory = Callable[[Path], Awaitable[Backend]]


async def _memory(_: Path) -> Backend:
    return MemoryBackend()


async def _tiny(path: Path) -> Backend:
    return await TinyBackend.open(path / "data", shards=4)


@pytest.fixture(params=["memory", "tinydb"])
def open_backend(request: pytest.FixtureRequest) -> BackendFactory:
    return {"memory": _memory, "tinydb": _tiny}[request.param]


@pytest.mark.parametrize("case", list(CASES))
async def test_damaged_record_stops_open_naming_store_record_and_field(
    case: str, open_backend: BackendFactory, tmp_path: Path
) -> None:
    damage, record, field = CASES[case]
    backend = await open_backend(tmp_path)
    records = Records(backend)
    try:
        await damage(backend)

        with pytest.raises(CorruptStoreError) as raised:
            await records.open()
    finally:
        await records.close()

    message = str(raised.value)
    assert record in message and field in message, message
    assert any(where in message for where in _wheres(backend)), message


def _wheres(backend: Backend) -> list[str]:
    return [
        backend.state.where,
        *(backend.table(n).where for n in layout.TABLES),
        *(backend.log(n).where for n in layout.LOGS),
    ]


async def test_healthy_records_pass(open_backend: BackendFactory, tmp_path: Path) -> None:
    backend = await open_backend(tmp_path)
    records = Records(backend)
    try:
        await _put_proposal(backend, _proposal_document())
        await records.escalations.record("aad-anna", "Hur söker man pengar?", "sv")
        await records.feedback.record("aad-anna", "rug", True)
        await records.outbox.add(outbox_item("person", "aad-anna", {"activity": {}}))
        await records.meta.next_number("proposal-2026")
        await records.meta.acquire_lease("outbox", "me", 30)
        await records.references.set_rug_channel({"conversation": {"id": "c"}}, "aad-rolf")
        await records.proposals.new_draft("aad-anna", Proposal(title="Utkast"))

        await records.open()
    finally:
        await records.close()


def test_the_outbox_schema_declares_every_field_an_item_is_built_with() -> None:
    """A field added to outbox_item but not to the schema would go unchecked at start-up."""
    assert list(OUTBOX_FIELDS) == list(outbox_item("person", "aad-anna", {}))


# ----- in the data folder's files -----------------------------------------------------------


def _write(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")


async def _open_records(data: Path) -> None:
    records = Records(await TinyBackend.open(data))
    try:
        await records.open()
    finally:
        await records.close()


async def test_a_hand_edited_status_in_the_file_names_the_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    document = {"_id": PID, "_index": {}, "_doc": {"id": PID, "status": 5}}
    _write(data / "tables" / "proposals.json", {"records": {"1": document}})

    with pytest.raises(CorruptStoreError) as raised:
        await _open_records(data)

    assert str(raised.value) == (
        f"{data / 'tables' / 'proposals.json'}: record {PID!r}: field 'status': expected text"
    )


async def test_an_outbox_record_with_only_an_id_names_the_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    document = {"_id": "1", "_index": {}, "_doc": {"id": 1}}
    _write(data / "tables" / "outbox.json", {"records": {"1": document}})

    with pytest.raises(CorruptStoreError) as raised:
        await _open_records(data)

    assert str(raised.value) == (
        f"{data / 'tables' / 'outbox.json'}: record '1': field 'id' is an integer, expected text"
    )


async def test_a_feedback_line_of_the_wrong_shape_names_file_and_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    good = {"at": "t", "user": "u", "topic": "rug", "helpful": True}
    _write(data / "feedback.jsonl", json.dumps(good) + "\n" + json.dumps({**good, "helpful": "ja"}))

    with pytest.raises(CorruptStoreError) as raised:
        await _open_records(data)

    assert str(raised.value) == (
        f"{data / 'feedback.jsonl'}: entry 2: field 'helpful' is text, expected true/false"
    )


async def _journals_without_meta(data: Path) -> None:
    """A state folder with journals but no base files and no meta.json, as after a kill and a
    lost meta.json: its shard count is unknown, so no key can be found again."""
    store = ShardedTinyStore(data / "state", shards=256)
    await store.write({"person/aad-anna": {"reference": {}}})
    for shard in store._shards:
        shard._journal_bytes = 0  # as after a kill: nothing folded into a base file
    await store.close()
    (data / "state" / "meta.json").unlink()
    assert not list((data / "state").glob("shard-*.json"))
    assert list((data / "state").glob("shard-*.log"))


async def test_missing_meta_json_with_only_journals_stops_open(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await _journals_without_meta(data)

    with pytest.raises(CorruptStoreError, match=r"meta\.json is missing"):
        await _open_records(data)


# ----- `omtanke serve` on such a folder --------------------------------------------------------


async def _status_5_file(data: Path) -> tuple[str, ...]:
    document = {"_id": PID, "_index": {}, "_doc": {"id": PID, "status": 5}}
    _write(data / "tables" / "proposals.json", {"records": {"1": document}})
    return str(data / "tables" / "proposals.json"), f"record {PID!r}", "field 'status'"


async def _outbox_id_only_file(data: Path) -> tuple[str, ...]:
    document = {"_id": "1", "_index": {}, "_doc": {"id": 1}}
    _write(data / "tables" / "outbox.json", {"records": {"1": document}})
    return str(data / "tables" / "outbox.json"), "record '1'", "field 'id'"


async def _no_meta_file(data: Path) -> tuple[str, ...]:
    await _journals_without_meta(data)
    return (str(data / "state" / "meta.json") + " is missing",)


FOLDERS = {
    "proposal status 5": _status_5_file,
    "outbox {id: 1}": _outbox_id_only_file,
    "journals without meta.json": _no_meta_file,
}


@pytest.mark.parametrize("case", list(FOLDERS))
async def test_serve_refuses_the_folder_naming_file_record_and_field(
    case: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    named = await FOLDERS[case](data)

    done = run_omtanke(["serve"], data, timeout=60, PORT=str(free_port()))

    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    [line] = [line for line in done.stderr.splitlines() if "could not start" in line]
    assert all(part in line for part in named), line


async def _every_kind_of_record(data: Path) -> None:
    """One valid record of every kind the start-up checks, written as the service writes them."""
    records = Records(await TinyBackend.open(data))
    try:
        await _put_proposal(records.backend, _proposal_document())
        await records.escalations.record("aad-anna", "Hur söker man pengar?", "sv")
        await records.feedback.record("aad-anna", "rug", True)
        await records.audit.append("aad-anna", "submitted", PID, {"n": 1})
        await records.outbox.add(outbox_item("person", "aad-anna", {"activity": {}}))
        await records.meta.next_number("proposal-2026")
        await records.meta.acquire_lease("draft-sweep", "me", 1)
        await records.meta.claim("submit/token-1", {"id": PID})
        await records.meta.put(f"rugcard/{PID}", {"activity_id": "card-1", "at": "t"})
        await records.meta.put(layout.PSEUDONYM_KEY, {"key": "k" * 32})
        await records.references.set_rug_channel({"conversation": {"id": "c"}}, "aad-rolf")
        await records.proposals.new_draft("aad-anna", Proposal(title="Utkast"))
        await records.proposals.stash_draft(
            "aad-ada", await records.proposals.new_draft("aad-ada", Proposal(title="Eget"))
        )
    finally:
        await records.close()


def test_serve_starts_on_a_folder_with_every_kind_of_record(tmp_path: Path) -> None:
    data = tmp_path / "data"
    asyncio.run(_every_kind_of_record(data))
    port = free_port()
    process = subprocess.Popen(
        [*omtanke_command(), "serve"],
        env=cli_env(data, PORT=str(port)),
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = wait_healthy(process, port, 30)
        exited = process.poll()
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert exited is None and health is not None and health["status"] == "ok", err
