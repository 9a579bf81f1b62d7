"""Backup, restore and erase-user: over the interfaces (memory and TinyDB backends alike) and
as `omtanke backup|restore|erase-user` on a data folder."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.data_admin import PSEUDONYM_PREFIX
from domain.proposal import Decision, Endorsement, Initiator, Proposal, Status
from storage import layout
from storage.admin import (
    AdminError,
    Person,
    backup,
    dump,
    erase_person,
    read_backup,
    restore,
)
from storage.admin import Matcher as NameMatcher
from storage.base import Backend
from storage.memory import MemoryBackend
from storage.records import Audit, Change, Records, outbox_item
from storage.tiny_backend import TinyBackend

ANNA = "aad-anna"
ANNA_EMAIL = "Anna.Andersson@RegionHalland.se"
ANNA_NAME = "Anna Andersson"
IDA = "aad-ida"
BO = "aad-bo"
OTHER_TITLE = "Bidrag till vidare samverkan idag"


async def _submit(records: Records, person: str, name: str, email: str, title: str) -> Proposal:
    """Submit a proposal the way the RUG workflow does: audit entry and message in one unit."""
    repo = records.proposals
    proposal = Proposal(
        title=title,
        background=f"{title}: bakgrund",
        initiator=Initiator(
            name=name, email=email, organisation="Varbergs kommun", aad_object_id=person
        ),
    )
    draft = await repo.new_draft(person, proposal)

    async def prepare(submitted: Proposal) -> Change:
        submitted.status = Status.AWAITING_ENDORSEMENT
        submitted.record("2026-11-22T10:00:00+00:00", name, "submitted")
        change = Change(audit=[Audit.entry(person, "submitted", submitted.id)])
        text = f"{name} har skickat in {submitted.id}"
        change.messages.append(outbox_item("channel", "rug", {"text": text}))
        return change

    submitted, created = await repo.submit(person, draft, prepare)
    assert created
    return submitted


async def _fill(records: Records) -> dict[str, str]:
    """Anna, Ida and Bo leave data everywhere; returns their proposals' ids."""
    anna = await _submit(records, ANNA, ANNA_NAME, ANNA_EMAIL, "Trygg hemgång")
    ida = await _submit(records, IDA, "Ida", "ida@varberg.se", "Idas förslag")
    bo = await _submit(records, BO, "Bo Berg", "bo.berg@varberg.se", OTHER_TITLE)
    bo.background = (
        "Vi har pratat med Ida och med Anna Andersson; Anna Anderssons team vill vara med. "
        "Kontakt: anna.andersson@regionhalland.se. Kostnad per dag: 100 kr."
    )
    bo.rug_endorsement = Endorsement(
        "Anna Andersson", "2026-11-23T10:00:00+00:00", ANNA_EMAIL, ANNA
    )
    bo.decision = Decision("bifallen", "Rolf Rugman", "2026-11-24T10:00:00+00:00", "Bra")
    bo.status = Status.APPROVED
    await records.proposals.save(bo, "aad-rolf", "decided", {"by": "Rolf Rugman"})
    await records.proposals.new_draft(ANNA, Proposal(title="Ett andra förslag"))
    await records.proposals.stash_draft(
        ANNA, await records.proposals.new_draft(ANNA, Proposal(title="Undan"))
    )
    await records.proposals.new_draft(BO, Proposal(title="Bos utkast"))
    await records.feedback.record(ANNA, "rug", True)
    await records.feedback.record(BO, "rug", False)
    await records.escalations.record(ANNA, "Hur söker man pengar för ett initiativ?", "sv")
    await records.escalations.record(BO, "Vad tycker Anna Andersson om idén?", "sv")
    await records.outbox.add(outbox_item("person", ANNA, {"text": "Hej Anna"}))
    await records.outbox.add(outbox_item("person", BO, {"text": "Hej Bo"}))
    for aad, name in ((ANNA, ANNA_NAME), (BO, "Bo Berg"), ("aad-rut", "Rut Rugsson")):
        reference = {"user": {"id": f"29:{aad}", "name": name, "aadObjectId": aad}}
        await records.references.remember(
            conversation_id=f"a:personal-{aad}",
            user_aad=aad,
            user_id=f"29:{aad}",
            conversation_type="personal",
            reference=reference,
        )
    await records.references.set_rug_channel({"conversation": {"id": "19:rug"}}, ANNA)
    await records.state.write({f"msteams/users/29:{ANNA}": {"item": {"seen": True}}})
    await records.meta.put("rugcard/" + anna.id, {"activity_id": "card-1", "at": "t"})
    return {"anna": anna.id, "ida": ida.id, "bo": bo.id}


BACKENDS = ["memory", "tinydb"]


async def _backend(kind: str, folder: Path) -> Backend:
    if kind == "memory":
        return MemoryBackend()
    return await TinyBackend.open(folder, shards=4)


@pytest.fixture(params=BACKENDS)
async def records(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Records]:
    """Records on a fresh backend of each kind, closed afterwards."""
    opened = Records(await _backend(request.param, tmp_path / "data"))
    await opened.open()
    yield opened
    await opened.close()


# ----- backup and restore over the interfaces ----------------------------------------------------


async def test_backup_then_restore_gives_back_every_record(
    records: Records, tmp_path: Path
) -> None:
    """Every document, record (with its index) and log entry comes back, on either backend."""
    await _fill(records)
    before = await dump(records.backend)

    result = await backup(records.backend, tmp_path / "backup", "test")
    content = await read_backup(tmp_path / "backup")
    for kind in BACKENDS:
        target = await _backend(kind, tmp_path / f"restored-{kind}")
        try:
            restored = await restore(content, target)
            after = await dump(target)
            reopened = Records(target)
            await reopened.open()
            bo = await reopened.proposals.for_initiator(BO)
        finally:
            await target.close()
        assert after == before, kind
        assert restored.records == before.count() == result.records
        assert [p.title for p in bo] == [OTHER_TITLE]  # found by its index


async def test_backup_folder_has_a_manifest_of_every_file(records: Records, tmp_path: Path) -> None:
    await _fill(records)

    await backup(records.backend, tmp_path / "backup", "test")

    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text("utf-8"))
    assert (manifest["format"], manifest["version"], manifest["backend"]) == (
        "omtanke.backup",
        2,
        records.backend.kind,
    )
    paths = [f["path"] for f in manifest["files"]]
    assert paths == [
        "state.jsonl",
        *(f"tables/{n}.jsonl" for n in sorted(layout.TABLES)),
        *(f"logs/{n}.jsonl" for n in sorted(layout.LOGS)),
    ]
    proposals = next(f for f in manifest["files"] if f["path"] == "tables/proposals.jsonl")
    assert proposals["records"] == 3
    lines = (tmp_path / "backup" / "tables" / "proposals.jsonl").read_text("utf-8").splitlines()
    first = json.loads(lines[0])
    assert sorted(first) == ["document", "id", "index"]
    assert first["index"]["initiator"] == ANNA


async def test_restore_refuses_a_target_with_data_unless_replacing(
    records: Records, tmp_path: Path
) -> None:
    await _fill(records)
    await backup(records.backend, tmp_path / "backup", "test")
    content = await read_backup(tmp_path / "backup")
    target = MemoryBackend()
    await Records(target).feedback.record("aad-x", "rug", True)

    with pytest.raises(AdminError) as refused:
        await restore(content, target)
    assert refused.value.code == "not_empty"
    assert await Records(target).feedback.all() != []

    result = await restore(content, target, replace=True, set_aside=tmp_path / "aside")
    assert result.set_aside == tmp_path / "aside"
    assert await dump(target) == content
    aside = await read_backup(tmp_path / "aside")
    assert [e["user"] for e in aside.logs[layout.FEEDBACK]] == ["aad-x"]


async def test_restore_raises_the_id_counters(tmp_path: Path) -> None:
    """A backup without its META table still never hands out an id in use."""
    source = Records(MemoryBackend())
    await _fill(source)
    content = await dump(source.backend)
    content.tables[layout.META] = []
    target = Records(MemoryBackend())

    await restore(content, target.backend)

    year = (await target.proposals.all())[0].id[3:7]
    assert await target.meta.next_number(f"proposal-{year}") == 4


# ----- erase-user over the interfaces -------------------------------------------------------------


async def test_erase_removes_the_person_and_keeps_the_decisions(records: Records) -> None:
    ids = await _fill(records)

    result = await erase_person(records.backend, ANNA_EMAIL.lower(), None)

    assert result.found and result.remaining == []
    pseudonym = result.pseudonym
    assert pseudonym.startswith(PSEUDONYM_PREFIX) and len(pseudonym) == len(PSEUDONYM_PREFIX) + 8
    repo = records.proposals
    anna = await repo.get(ids["anna"])
    assert anna is not None
    assert (anna.initiator.name, anna.initiator.email, anna.initiator.aad_object_id) == (
        pseudonym,
        "",
        pseudonym,
    )
    assert anna.initiator.organisation == "Varbergs kommun"
    assert [p.id for p in await repo.for_initiator(pseudonym)] == [ids["anna"]]
    assert await repo.for_initiator(ANNA) == []
    assert await repo.draft_of(ANNA) is None
    assert await records.state.keys(layout.STASH) == []
    assert await records.references.personal(ANNA) is None
    assert await records.references.personal("aad-rut") is not None
    assert await records.state.keys(f"msteams/users/29:{ANNA}") == []
    assert [e["user"] for e in await records.feedback.all()] == [BO]
    assert [e["user"] for e in await records.escalations.all()] == [BO]
    targets = sorted(i.data["target"] for i in await records.outbox.pending())
    assert targets == [BO, "rug", "rug", "rug"]
    audit = await records.audit.read()
    assert [e["subject"] for e in audit if e["action"] == "personal_data_erased"] == [pseudonym]
    assert [e["who"] for e in audit if e["subject"] == ids["anna"]] == [pseudonym]
    # Bo's record keeps its own data; only Anna's fields and whole-word mentions change.
    bo = await repo.get(ids["bo"])
    assert bo is not None
    assert bo.initiator.email == "bo.berg@varberg.se"
    assert bo.rug_endorsement is not None
    assert (bo.rug_endorsement.name, bo.rug_endorsement.email) == (pseudonym, "")
    assert bo.decision is not None and bo.decision.by == "Rolf Rugman"
    assert bo.background == (
        f"Vi har pratat med Ida och med {pseudonym}; {pseudonym}:s team vill vara med. "
        f"Kontakt: {pseudonym}. Kostnad per dag: 100 kr."
    )
    channel = await records.references.rug_channel()
    assert channel is not None


async def test_erasing_ida_leaves_idag_alone(records: Records) -> None:
    """Issue 16 item 7: never a substring – another person's "idag" and "vidare" stay – and
    a one-word name only in her own records: in Bo's text "Ida" may be someone else."""
    ids = await _fill(records)

    result = await erase_person(records.backend, None, IDA)

    assert result.found
    bo = await records.proposals.get(ids["bo"])
    assert bo is not None
    assert bo.title == OTHER_TITLE
    assert bo.background.startswith("Vi har pratat med Ida och med Anna Andersson;")
    assert "Kostnad per dag" in bo.background
    ida = await records.proposals.get(ids["ida"])
    assert ida is not None
    # A one-word name is a whole word with its case: "Idas" is her genitive, so it goes too.
    assert ida.title == f"{result.pseudonym}:s förslag"


async def test_fields_that_name_exactly_her_are_hers_in_any_proposal(records: Records) -> None:
    """A RUG contact, decider or history entry that is exactly her name is her field."""
    ids = await _fill(records)
    bo = await records.proposals.get(ids["bo"])
    assert bo is not None
    bo.rug_contact = "Ida"
    bo.decision = Decision("bifallen", "Ida", "2026-11-24T10:00:00+00:00", "Ida tycker bra")
    bo.record("2026-11-24T11:00:00+00:00", "Ida", "commented", "Ida på Solgården vill vara med")
    await records.proposals.save(bo, "aad-bo", "changed", {})

    result = await erase_person(records.backend, None, IDA)

    bo = await records.proposals.get(ids["bo"])
    assert bo is not None and bo.decision is not None
    assert (bo.rug_contact, bo.decision.by) == (result.pseudonym, result.pseudonym)
    assert (bo.history[-1].who, bo.history[-1].note) == (
        result.pseudonym,
        "Ida på Solgården vill vara med",
    )
    assert bo.decision.motivation == "Ida tycker bra"


async def test_erase_of_someone_unknown_changes_nothing(records: Records) -> None:
    await _fill(records)
    before = await dump(records.backend)

    result = await erase_person(records.backend, "nobody@example.org", None)

    assert not result.found
    assert await dump(records.backend) == before
    assert await records.meta.get("admin/pseudonym-key") is None


async def test_the_same_person_gets_the_same_pseudonym_after_a_restore(tmp_path: Path) -> None:
    """The pseudonym key lives in the backend: a backup carries it."""
    first = Records(MemoryBackend())
    await _fill(first)
    erased = await erase_person(first.backend, None, ANNA)
    await backup(first.backend, tmp_path / "backup", "test")
    second = Records(MemoryBackend())
    await restore(await read_backup(tmp_path / "backup"), second.backend)
    await second.proposals.new_draft(ANNA, Proposal(title="Tillbaka"))

    again = await erase_person(second.backend, None, ANNA)

    assert again.found and again.pseudonym == erased.pseudonym


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Anna Andersson", "P"),
        ("anna  andersson\noch Bo", "P\noch Bo"),
        ("Anna Anderssons idé", "P:s idé"),
        ("Annas idé och Annika", "Annas idé och Annika"),
        ("Anna Anderssonska", "Anna Anderssonska"),
        ("mejla ANNA.ANDERSSON@regionhalland.se.", "mejla P."),
        ("bo.anna.andersson@regionhalland.se", "bo.anna.andersson@regionhalland.se"),
        ("29:aad-anna och aad-annabel", "29:P och aad-annabel"),
        ("Ida idag, vidare med Ida.", "Ida idag, vidare med Ida."),  # a first name alone
        ("ida och IDA", "ida och IDA"),
    ],
)
def test_names_and_ids_match_whole_words_only(text: str, expected: str) -> None:
    person = Person(
        aad_ids={ANNA, IDA},
        emails={ANNA_EMAIL.lower()},
        names={ANNA_NAME, "Ida"},
    )

    assert NameMatcher(person).replace(text, "P") == expected


def test_a_one_word_name_is_replaced_in_the_persons_own_records_only() -> None:
    person = Person(aad_ids={IDA}, names={"Ida"})
    matcher = NameMatcher(person)
    text = "Ida idag, vidare med Idas team och Ida:s. ida och IDA"

    assert matcher.replace(text, "P") == text
    assert (
        matcher.replace(text, "P", own=True) == "P idag, vidare med P:s team och P:s. ida och IDA"
    )
    assert (matcher.is_name(" ida "), matcher.is_name("Ida Berg")) == (True, False)


# ----- the command line on a data folder ----------------------------------------------------------


def _run(args: list[str], data: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> int:
    monkeypatch.setenv("OMTANKE_DATA_DIR", str(data))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return main(args)


async def _run_beside(
    args: list[str], data: Path, monkeypatch: pytest.MonkeyPatch, **env: str
) -> int:
    """The command in a worker thread (it runs its own event loop), beside this test's loop."""
    return await asyncio.to_thread(_run, args, data, monkeypatch, **env)


async def _folder(data: Path) -> dict[str, str]:
    records = Records(await TinyBackend.open(data))
    try:
        await records.open()
        return await _fill(records)
    finally:
        await records.close()


def _grep(folder: Path, *needles: str) -> list[str]:
    """Files that contain any of the strings (case-insensitive)."""
    hits = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace").lower()
            if any(n.lower() in text for n in needles):
                hits.append(str(path.relative_to(folder)))
    return hits


def _hashes(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


@pytest.fixture
async def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    await _folder(folder)
    return folder


def _people(tmp_path: Path) -> Path:
    path = tmp_path / "rug.json"
    people = [{"name": ANNA_NAME, "email": ANNA_EMAIL, "aad_object_id": ANNA}]
    path.write_text(json.dumps(people), "utf-8")
    return path


def test_cli_erase_user_leaves_no_trace_in_the_folder(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _grep(data, ANNA_EMAIL, ANNA_NAME, ANNA)

    code = _run(
        ["erase-user", ANNA_EMAIL.lower()],
        data,
        monkeypatch,
        OMTANKE_RUG_MEMBERS=str(_people(tmp_path)),
    )

    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Personuppgifterna är borttagna" in out and "förslag med pseudonym: 2" in out
    assert _grep(data, ANNA_EMAIL, ANNA_NAME, ANNA) == []
    assert _grep(data, OTHER_TITLE) != []
    # A second run finds nothing more and changes nothing.
    before = _hashes(data)
    assert _run(["erase-user", "--aad", ANNA], data, monkeypatch) == 1
    assert "Hittade inga uppgifter" in capsys.readouterr().err
    assert _hashes(data) == before


async def test_cli_restore_and_erase_refuse_while_the_folder_is_in_use(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the folder held (as by omtanke serve), restore and erase-user change nothing;
    backup, export and escalations still read it."""
    running = await TinyBackend.open(data)
    try:
        before = _hashes(data)

        assert await _run_beside(["backup", str(tmp_path / "backup")], data, monkeypatch) == 0
        assert "Säkerhetskopian är klar" in capsys.readouterr().out
        assert (
            await _run_beside(["restore", str(tmp_path / "backup"), "--replace"], data, monkeypatch)
            == 1
        )
        busy = capsys.readouterr().err
        assert "Kan inte återställa nu" in busy and "Stoppa tjänsten" in busy
        assert "Ingenting har ändrats" in busy
        assert await _run_beside(["erase-user", "--aad", ANNA], data, monkeypatch) == 1
        busy = capsys.readouterr().err
        assert "Kan inte radera nu" in busy and "Stoppa tjänsten" in busy
        assert await _run_beside(["escalations"], data, monkeypatch) == 0
        assert "Hur söker man pengar" in capsys.readouterr().out
        assert await _run_beside(["export", "--format", "json"], data, monkeypatch) == 0
        assert len(json.loads(capsys.readouterr().out)["proposals"]) == 3

        assert _hashes(data) == before
    finally:
        await running.close()


def test_cli_backup_and_restore_into_a_fresh_folder(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    backup_dir, fresh = tmp_path / "backup", tmp_path / "fresh"
    assert _run(["backup", str(backup_dir)], data, monkeypatch) == 0
    capsys.readouterr()

    assert _run(["restore", str(backup_dir)], fresh, monkeypatch) == 0

    out = capsys.readouterr().out
    assert "Återställt:" in out and "3 förslag" in out
    assert _run(["export", "--format", "json"], fresh, monkeypatch) == 0
    titles = [p["title"] for p in json.loads(capsys.readouterr().out)["proposals"]]
    assert sorted(titles) == sorted(["Trygg hemgång", "Idas förslag", OTHER_TITLE])


def test_cli_restore_checks_the_backup_and_refuses_to_overwrite(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    backup_dir = tmp_path / "backup"
    assert _run(["backup", str(backup_dir)], data, monkeypatch) == 0
    capsys.readouterr()

    assert _run(["restore", str(backup_dir)], data, monkeypatch) == 1
    assert "--replace" in capsys.readouterr().err
    assert _run(["restore", str(backup_dir), "--replace"], data, monkeypatch) == 0
    assert "Det som fanns innan ligger i" in capsys.readouterr().out

    tampered = tmp_path / "tampered"
    shutil.copytree(backup_dir, tampered)
    (tampered / "tables" / "proposals.jsonl").write_text("{}\n", "utf-8")
    assert _run(["restore", str(tampered)], tmp_path / "fresh1", monkeypatch) == 1
    err = capsys.readouterr().err
    assert str(tampered / "tables" / "proposals.jsonl") in err
    assert "stämmer inte med manifestet" in err
    assert not (tmp_path / "fresh1").exists()

    (tampered / "manifest.json").unlink()
    assert _run(["restore", str(tampered)], tmp_path / "fresh2", monkeypatch) == 1
    assert "manifest.json saknas" in capsys.readouterr().err


def test_cli_restore_refuses_a_backup_whose_content_is_damaged(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that matches its manifest but holds a proposal with "status": 5 is refused."""
    backup_dir = tmp_path / "backup"
    assert _run(["backup", str(backup_dir)], data, monkeypatch) == 0
    path = backup_dir / "tables" / "proposals.jsonl"
    lines = path.read_text("utf-8").splitlines()
    first = json.loads(lines[0])
    first["document"]["status"] = 5
    _rewrite_with_manifest(backup_dir, "tables/proposals.jsonl", [json.dumps(first), *lines[1:]])

    assert _run(["restore", str(backup_dir)], tmp_path / "fresh", monkeypatch) == 1

    err = capsys.readouterr().err
    assert "innehållet är skadat" in err and "'status'" in err
    assert not (tmp_path / "fresh").exists()


def _rewrite_with_manifest(backup_dir: Path, relative: str, lines: list[str]) -> None:
    """Change a backup file and its manifest entry together (damage the manifest cannot see)."""
    data = ("\n".join(lines) + "\n").encode("utf-8")
    (backup_dir / relative).write_bytes(data)
    manifest = json.loads((backup_dir / "manifest.json").read_text("utf-8"))
    for entry in manifest["files"]:
        if entry["path"] == relative:
            entry.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    (backup_dir / "manifest.json").write_text(json.dumps(manifest), "utf-8")


def test_cli_backup_refuses_a_folder_that_is_not_empty_or_inside_the_data(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "other.txt").write_text("x")
    assert _run(["backup", str(tmp_path / "busy")], data, monkeypatch) == 1
    assert "inte tom" in capsys.readouterr().err
    assert _run(["backup", str(data / "inside")], data, monkeypatch) == 1
    assert "ligger i datamappen" in capsys.readouterr().err
    assert _run(["backup", str(tmp_path / "b")], tmp_path / "empty", monkeypatch) == 1
    assert "inga data" in capsys.readouterr().err


async def test_cli_restores_a_backup_of_the_previous_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Version 1 backups copied the old layout's files: they restore, migrated."""
    from tests.old_layout import write_old_folder

    old = tmp_path / "v1"
    await write_old_folder(old)
    files = []
    for path in sorted(old.rglob("*")):
        if path.is_file() and path.name != ".lock":
            raw = path.read_bytes()
            relative = str(path.relative_to(old))
            files.append(
                {"path": relative, "size": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
            )
    manifest = {"format": "omtanke.backup", "version": 1, "files": files}
    (old / "manifest.json").write_text(json.dumps(manifest), "utf-8")

    code = await _run_beside(["restore", str(old)], tmp_path / "fresh", monkeypatch)

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "3 förslag" in captured.out
    records = Records(await TinyBackend.open(tmp_path / "fresh"))
    try:
        await records.open()
        assert len(await records.escalations.all()) == 2
        assert await records.meta.next_number("proposal-2025") == 8
    finally:
        await records.close()
