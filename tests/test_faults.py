"""Faults: a full disk, a damaged store file at start-up, a connector that is down."""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path
from typing import Any

import pytest

from bot.services import open_services
from bot.settings import Settings
from domain.proposal import Initiator, Proposal
from knowledge.kb import KnowledgeBase
from tests.builders import BotHarness, wait_until
from tests.commands import free_port, run_omtanke
from tests.dialog_scenario import ANSWERS, fill_until_summary, last_text, submit_data
from tests.rug_scenario import (
    RUT,
    complete_proposal,
    meet_everyone,
    outbox_drained,
    submit_directly,
)
from tests.service import Service

CANNOT_SAVE = "Jag kan tyvärr inte spara just nu"


class FullDisk:
    """Stands in for the `os` module of the storage code: every write fails with ENOSPC."""

    def __getattr__(self, name: str) -> Any:
        """Everything else is the real os module."""
        return getattr(os, name)

    @staticmethod
    def _full(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    write = _full
    replace = _full
    fsync = _full


def fill_the_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every store write fail as on a full disk (chmod does not stop root)."""
    for module in ("storage.kv", "storage.files", "storage.jsonl"):
        monkeypatch.setattr(f"{module}.os", FullDisk())


async def test_full_disk_mid_dialog_says_so_and_saves_once_it_clears(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer is not pretended saved; after the fault clears the same answer is saved."""
    await harness.say("jag har en idé")
    await harness.say(ANSWERS["title"])
    repo = harness.services.records.proposals

    with monkeypatch.context() as patch:
        fill_the_disk(patch)
        failed = await harness.say(ANSWERS["background"])

    assert CANNOT_SAVE in last_text(failed)
    assert "Steg 3 av 12" not in last_text(failed)
    draft = await repo.draft_of("aad-anna")
    assert draft is not None and (draft.proposal.title, draft.proposal.background) == (
        ANSWERS["title"],
        "",
    )
    saved = await harness.say(ANSWERS["background"])
    assert "Steg 3 av 12" in last_text(saved)
    draft = await repo.draft_of("aad-anna")
    assert draft is not None and draft.proposal.background == ANSWERS["background"]


async def test_full_disk_at_skicka_in_submits_nothing_until_it_clears(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Skicka in" on a full disk: told it could not be saved, no proposal; then it works."""
    data = submit_data(await fill_until_summary(harness))

    with monkeypatch.context() as patch:
        fill_the_disk(patch)
        failed = await harness.submit(data)

    assert CANNOT_SAVE in last_text(failed)
    assert "är inskickat" not in last_text(failed)
    assert await harness.services.records.proposals.all() == []
    done = await harness.submit(data)
    assert "är inskickat" in last_text(done)
    assert len(await harness.services.records.proposals.all()) == 1


async def _data_with_proposals(data: Path, kb: KnowledgeBase) -> None:
    """A data folder with three submitted proposals (three audit lines)."""
    services = await open_services(Settings(data_dir=data), kb=kb)
    try:
        repo = services.records.proposals
        for n in range(3):
            person = f"aad-{n}"
            proposal = Proposal(title=f"Förslag {n}", initiator=Initiator(aad_object_id=person))
            draft = await repo.new_draft(person, proposal)
            await services.workflow.submit(person, draft)
    finally:
        await services.close()


async def test_serve_refuses_a_corrupt_proposals_file(
    tmp_path: Path, knowledge: KnowledgeBase
) -> None:
    """A damaged proposals.json stops `omtanke serve` with a message naming it."""
    data = tmp_path / "data"
    await _data_with_proposals(data, knowledge)
    proposals = data / "tables" / "proposals.json"
    proposals.write_bytes(proposals.read_bytes()[:-40])

    done = await asyncio.to_thread(run_omtanke, ["serve"], data, PORT=str(free_port()))

    assert done.returncode != 0
    assert str(proposals) in done.stderr
    assert "Traceback" not in done.stderr


async def test_serve_refuses_an_audit_log_damaged_in_the_middle(
    tmp_path: Path, knowledge: KnowledgeBase
) -> None:
    """A broken middle line of audit.jsonl (not a torn tail) stops `omtanke serve`."""
    data = tmp_path / "data"
    await _data_with_proposals(data, knowledge)
    audit = data / "audit.jsonl"
    lines = audit.read_bytes().split(b"\n")
    lines[1] = lines[1][:30]
    audit.write_bytes(b"\n".join(lines))

    done = await asyncio.to_thread(run_omtanke, ["serve"], data, PORT=str(free_port()))

    assert done.returncode != 0
    assert f"{audit}: line 2" in done.stderr


async def test_proactive_message_kept_while_connector_down_and_sent_after_restart(
    service: Service,
) -> None:
    """Connector down, then the service restarts: the outbox delivers the kept notice.

    tests/test_rug_workflow.py covers the retry while the service keeps running and the e-mail
    across a restart; this covers a Teams message across a restart.
    """
    await meet_everyone(service)
    pid = (await submit_directly(service, complete_proposal(service, "Nere"))).id
    service.connector.fail_with = 503
    assert await service.click(RUT, {"action": "endorse", "proposal": pid, "choice": "yes"}) == 201
    kept = await service.services.records.outbox.pending()
    assert any(item.data["target"] == "aad-anna" for item in kept)
    await service.stop()

    service.connector.fail_with = None
    await service.start()
    outbox = service.services.records.outbox
    await wait_until(lambda: outbox_drained(service))

    assert await outbox.pending() == []
    assert any("är förankrat" in t for t in service.connector.texts_to("a:personal-aad-anna"))
