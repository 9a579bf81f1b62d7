"""`omtanke erase-user` and `omtanke backup`/`restore` end to end: after the real RUG flow
over HTTP, and while `omtanke serve` runs under load. The same commands over the interfaces
and on hand-made folders are in tests/test_data_admin.py."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.data_admin import PSEUDONYM_PREFIX
from bot.settings import Settings
from domain.proposal import Initiator, Status
from storage.records import Records
from storage.tiny_backend import TinyBackend
from tests.builders import wait_until
from tests.commands import REPO_ROOT, cli_env, omtanke_command, run_omtanke
from tests.fake_connector import FakeConnector
from tests.rug_scenario import (
    ANNA,
    CHANNEL,
    ROLF,
    RUT,
    complete_proposal,
    fill_in_the_dialog,
    meet_everyone,
)
from tests.serve_process import Ledger, ServerDied, UserLedger, start_serve, walk
from tests.service import RecordingConnector, Service

ANNA_EMAIL = "Anna.Andersson@RegionHalland.se"
ANNA_NAME = "Anna Andersson"


class MemberConnector(RecordingConnector):
    """The recording connector, also answering Teams' member look-up with an e-mail."""

    async def _handle(self, request: web.Request) -> web.Response:
        if request.method == "GET" and "/members/" in request.path:
            member = request.path.rsplit("/", 1)[-1]
            if "aad-anna" in member:
                return web.json_response(
                    {
                        "id": member,
                        "name": ANNA_NAME,
                        "aadObjectId": "aad-anna",
                        "email": ANNA_EMAIL,
                        "userPrincipalName": ANNA_EMAIL,
                    }
                )
        return await super()._handle(request)


@pytest.fixture
def connector() -> MemberConnector:
    """The service's connector knows Anna's e-mail."""
    return MemberConnector()


def _files(data: Path) -> dict[str, str]:
    """SHA-256 of every file in a folder, by relative path."""
    return {
        str(p.relative_to(data)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(data.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def _grep(data: Path, *needles: str) -> list[str]:
    """Files that contain any of the strings (case-insensitive)."""
    hits = []
    for path in sorted(data.rglob("*")):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace").lower()
            if any(n.lower() in text for n in needles):
                hits.append(str(path))
    return hits


async def _anna_everywhere(service: Service) -> str:
    """Anna submits a proposal that RUG endorses and approves; she leaves feedback, a question
    for the coordinators and a second draft. Bo has a proposal of his own. Returns Anna's id."""
    c = service.connector
    await meet_everyone(service)
    assert await service.click(ANNA, await fill_in_the_dialog(service)) == 201
    pid = (await service.services.records.proposals.for_initiator("aad-anna"))[0].id
    endorse = {"action": "endorse", "proposal": pid, "choice": "yes", "comment": "Bra, Anna!"}
    assert await service.click(RUT, endorse) == 201
    cases = c.cards_to(CHANNEL, "decide")
    assert cases
    card_id = cases[-1][1]
    approve = {"action": "decide", "proposal": pid, "outcome": "bifallen", "motivation": "Bra!"}
    conv = {"conversation_id": f"{CHANNEL};messageid={card_id}", "conversation_type": "channel"}
    assert await service.click(ROLF, approve, reply_to=card_id, **conv) == 201
    assert (await service.proposal(pid)).status == Status.APPROVED
    assert await service.click(ANNA, {"action": "feedback", "topic": "rug", "helpful": True}) == 201
    question = {"action": "escalate", "question": "Hur söker man pengar för ett initiativ?"}
    assert await service.click(ANNA, question) == 201
    assert await service.say(ANNA, "jag har en idé") == 201
    assert await service.say(ANNA, "Ett andra förslag") == 201
    repo = service.services.records.proposals
    bo = complete_proposal(service, "Bos förslag")
    bo.initiator = Initiator(name="Bo Berg", email="bo.berg@varberg.se", aad_object_id="aad-bo")
    await service.services.workflow.submit("aad-bo", await repo.new_draft("aad-bo", bo))
    return pid


async def _open(data: Path) -> Records:
    records = Records(await TinyBackend.open(data))
    await records.open()
    return records


async def test_erase_user_leaves_no_trace_and_keeps_the_decision(
    service: Service, settings: Settings
) -> None:
    """After erase-user nothing in the data folder names Anna; her approved proposal stays."""
    pid = await _anna_everywhere(service)
    await service.stop()
    data = settings.data_dir
    assert _grep(data, ANNA_EMAIL), "the set-up should have stored Anna's e-mail"
    assert _grep(data, ANNA_NAME)

    done = run_omtanke(
        ["erase-user", ANNA_EMAIL.lower()],
        data,
        OMTANKE_RUG_MEMBERS=str(settings.rug_members_path),
        OMTANKE_ADMINS=str(settings.admins_path),
    )

    assert done.returncode == 0, done.stderr
    assert "Personuppgifterna är borttagna" in done.stdout
    assert _grep(data, ANNA_EMAIL, ANNA_NAME, "aad-anna") == []
    records = await _open(data)
    try:
        proposal = await records.proposals.get(pid)
        assert proposal is not None
        pseudonym = proposal.initiator.name
        assert (
            pseudonym.startswith(PSEUDONYM_PREFIX) and len(pseudonym) == len(PSEUDONYM_PREFIX) + 8
        )
        assert (proposal.initiator.email, proposal.initiator.aad_object_id) == ("", pseudonym)
        assert proposal.status == Status.APPROVED
        assert proposal.decision is not None and proposal.decision.by == "Rolf Rugman"
        assert proposal.rug_endorsement is not None
        assert proposal.initiator.organisation == "Varbergs kommun, hemsjukvården"
        assert await records.proposals.draft_of("aad-anna") is None
        assert await records.feedback.all() == []
        assert await records.escalations.all() == []
        assert await records.references.personal("aad-anna") is None
        assert await records.references.personal("aad-rut") is not None
        bo = [p for p in await records.proposals.all() if p.initiator.aad_object_id == "aad-bo"]
        assert [p.initiator.email for p in bo] == ["bo.berg@varberg.se"]
        audit = await records.audit.read()
        erased = [e for e in audit if e["action"] == "personal_data_erased"]
        assert [e["subject"] for e in erased] == [pseudonym]
        assert "decided" in [e["action"] for e in audit if e["subject"] == pid]
    finally:
        await records.close()
    # The same person gets the same pseudonym again (a second run finds nothing to erase).
    again = run_omtanke(["erase-user", "--aad", "aad-anna"], data)
    assert again.returncode == 1
    assert "Hittade inga uppgifter" in again.stderr


async def test_erase_user_refuses_while_the_service_holds_the_lock(
    service: Service, settings: Settings
) -> None:
    """With the store open elsewhere, erase-user says so, exits 1 and changes nothing."""
    await meet_everyone(service)
    before = _files(settings.data_dir)

    done = run_omtanke(["erase-user", "--aad", "aad-anna"], settings.data_dir)

    assert done.returncode == 1
    assert "Stoppa tjänsten" in done.stderr and "Ingenting har ändrats" in done.stderr
    assert _files(settings.data_dir) == before


async def test_backup_while_serving_under_load_restores_every_acknowledged_proposal(
    tmp_path: Path,
) -> None:
    """`omtanke backup` during load; `omtanke restore` into a fresh folder loads and has them."""
    data, backup, fresh = tmp_path / "data", tmp_path / "backup", tmp_path / "fresh"
    connector = await FakeConnector().start()
    ledger = Ledger()
    process, base = await start_serve(data, connector.url)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            users = [UserLedger(f"aad-b{n}") for n in range(4)]
            tasks = [
                asyncio.create_task(walk(http, base, connector, mine, ledger, f"P {mine.aad}"))
                for mine in users
            ]
            await wait_until(lambda: len(ledger.proposals) >= 6)
            before_backup = dict(ledger.proposals)
            assert before_backup
            copying = await asyncio.create_subprocess_exec(
                *omtanke_command(),
                "backup",
                str(backup),
                env=cli_env(data),
                cwd=REPO_ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(copying.communicate(), 30)
            assert copying.returncode == 0, err.decode()
            assert "Säkerhetskopian är klar" in out.decode()
            # A restore into the folder the service is using is refused.
            busy = run_omtanke(["restore", str(backup), "--replace"], data)
            assert busy.returncode == 1 and "Stoppa tjänsten" in busy.stderr
            process.kill()
            process.wait(timeout=10)
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert all(isinstance(r, ServerDied) for r in results), results
    finally:
        if process.poll() is None:
            process.kill()
        await connector.stop()

    restored = run_omtanke(["restore", str(backup)], fresh)

    assert restored.returncode == 0, restored.stderr
    assert "Återställt:" in restored.stdout
    records = await _open(fresh)
    try:
        stored = {p.id: p for p in await records.proposals.all()}
        missing = [pid for pid in before_backup if pid not in stored]
        assert missing == []
        for pid, (aad, title) in before_backup.items():
            assert (stored[pid].title, stored[pid].initiator.aad_object_id) == (title, aad)
    finally:
        await records.close()
    print(
        f"backup under load: {len(before_backup)} acknowledged before the backup, "
        f"{len(stored)} in the restored folder"
    )
