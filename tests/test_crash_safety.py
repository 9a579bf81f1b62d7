"""Crash safety: `omtanke serve` killed with SIGKILL under load loses no acknowledged proposal.

Several users walk the proposal dialog over HTTP at once, against the real server process; a
local stand-in for the Bot Connector records the replies. The process is killed at a random
moment (seeded), the crash state is checked, and the server is started again on the same data.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
from pathlib import Path
from typing import Any

import aiohttp

from domain.fields import REQUIRED_TEXT_FIELD_IDS
from domain.proposal import Status
from storage.records import Records
from storage.tiny_backend import TinyBackend
from tests.builders import card_actions, card_of, user
from tests.fake_connector import FakeConnector
from tests.serve_process import (
    PROPOSAL_ID,
    STEPS,
    Ledger,
    ServerDied,
    UserLedger,
    post_turn,
    start_serve,
    walk,
)

SEED = 20261122
ROUNDS = 5
USERS = 6


def _draft_fields(proposal: Any) -> dict[str, str]:
    """The checked answers as the draft holds them."""
    return {
        "title": proposal.title,
        "background": proposal.background,
        "description": proposal.description,
        "motivation": proposal.success_factors.get("Trygg", ""),
        "expected_effects": proposal.expected_effects,
        "follow_up": proposal.follow_up,
        "initiator_org": proposal.initiator.organisation,
    }


async def _check(data: Path, ledger: Ledger) -> tuple[int, int, int]:
    """Every acknowledged proposal is stored complete; drafts hold every acknowledged answer.

    Returns (proposals found, drafts checked, drafts at the expected step).
    """
    records = Records(await TinyBackend.open(data))
    try:
        # As start-up opens it: every record checked, interrupted changes finished.
        await records.open()
        stored = {p.id: p for p in await records.proposals.all()}
        found = 0
        for pid, (aad, title) in ledger.proposals.items():
            proposal = stored.get(pid)
            assert proposal is not None, f"acknowledged {pid} is lost"
            assert (proposal.title, proposal.initiator.aad_object_id) == (title, aad)
            assert all(proposal.texts[name] for name in REQUIRED_TEXT_FIELD_IDS), pid
            assert proposal.organisations and proposal.target_groups, pid
            assert proposal.success_factors, pid
            assert proposal.status in Status.ALL and proposal.status != Status.DRAFT, pid
            found += 1
        checked = expected = 0
        titles = {p.title for p in stored.values()}
        for mine in ledger.users:
            if not mine.started:
                continue
            checked += 1
            draft = await records.proposals.draft_of(mine.aad)
            if draft is None:
                # Only a submission that was in flight (unacknowledged) may have taken it.
                assert mine.submitting and mine.title in titles, mine.aad
                expected += 1
                continue
            have = _draft_fields(draft.proposal)
            for name, value in mine.acknowledged.items():
                assert have[name] == value, (mine.aad, name)
            extra = {n for n, v in have.items() if v and n not in mine.acknowledged}
            # Beyond the acknowledged answers, at most the one in flight may have been saved.
            assert extra <= ({mine.in_flight} - {None}), (mine.aad, extra)
            expected += 1
        return found, checked, expected
    finally:
        await records.close()


async def test_sigkill_under_load_loses_no_acknowledged_proposal(tmp_path: Path) -> None:
    """Five SIGKILLs at random moments: every acknowledged proposal and answer survives."""
    rng = random.Random(SEED)
    data = tmp_path / "data"
    connector = await FakeConnector().start()
    ledger = Ledger()
    report: list[str] = []
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            for round_number in range(ROUNDS):
                process, base = await start_serve(data, connector.url)
                users = [UserLedger(f"aad-r{round_number}-u{n}") for n in range(USERS)]
                ledger.users = users
                tasks = [
                    asyncio.create_task(
                        walk(http, base, connector, mine, ledger, f"Person {mine.aad}")
                    )
                    for mine in users
                ]
                await asyncio.sleep(rng.uniform(1.0, 4.0))
                process.kill()
                process.wait(timeout=10)
                results = await asyncio.gather(*tasks, return_exceptions=True)
                for result in results:
                    assert isinstance(result, ServerDied), result
                # Check the crash state on a copy, so the next start replays it itself.
                crashed = tmp_path / f"crash-{round_number}"
                shutil.copytree(data, crashed)
                found, checked, expected = await _check(crashed, ledger)
                assert found == len(ledger.proposals)
                assert expected == checked
                report.append(
                    f"round {round_number}: acknowledged {len(ledger.proposals)}, found {found}, "
                    f"drafts at the expected step {expected}/{checked}"
                )
            process, _base = await start_serve(data, connector.url)
            process.terminate()
            process.wait(timeout=10)
            assert process.returncode == 0
        ledger.users = []
        found, _checked, _expected = await _check(data, ledger)
    finally:
        await connector.stop()
    print("\n".join(report))
    print(
        f"kill rounds {ROUNDS}; acknowledged {len(ledger.proposals)}, found {found}, "
        f"lost {len(ledger.proposals) - found}; acknowledged turns {ledger.turns}"
    )
    assert len(ledger.proposals) >= ROUNDS
    assert found == len(ledger.proposals)


SUBMIT_ROUNDS = 4
SUBMITTERS = 4


async def _to_summary(
    http: aiohttp.ClientSession, base: str, connector: FakeConnector, who: dict[str, Any]
) -> dict[str, Any]:
    """Walk one user's dialog to the summary, anchored with Rut; the submit card's data."""
    replies: list[dict[str, Any]] = []
    steps = [text.format(title=f"Idé av {who['name']}") for text, _field in STEPS]
    steps[-1] = "Rut Rugsson"
    for text in steps:
        status, replies = await post_turn(http, base, connector, who, text)
        assert status == 201
    return next(
        a["data"]
        for reply in replies
        for a in card_actions(card_of(reply))
        if a.get("data", {}).get("action") == "submit"
    )


async def _submit(
    http: aiohttp.ClientSession,
    base: str,
    connector: FakeConnector,
    who: dict[str, Any],
    data: dict[str, Any],
) -> str | None:
    """Skicka in; the proposal id when the bot acknowledged it, None if the server died."""
    try:
        status, replies = await post_turn(http, base, connector, who, value=data)
    except ServerDied:
        return None
    for reply in replies:
        found = PROPOSAL_ID.search(str(reply.get("text", "")))
        if status == 201 and found and "inskickat" in str(reply.get("text", "")):
            return found.group()
    return None


async def _each_has_one_request(data: Path) -> dict[str, str]:
    """Open the data as start-up does; every proposal has its audit entry and one request."""
    records = Records(await TinyBackend.open(data))
    try:
        await records.open()
        requests: dict[str, int] = {}
        for item in await records.outbox.all():
            if item["purpose"].get("kind") == "endorse_card":
                pid = str(item["purpose"]["proposal"])
                requests[pid] = requests.get(pid, 0) + 1
        stored = {p.id: p.initiator.aad_object_id for p in await records.proposals.all()}
        for pid in stored:
            actions = [e["action"] for e in await records.audit.read(pid)]
            assert actions.count("submitted") == 1, (pid, actions)
            assert requests.get(pid) == 1, (pid, requests.get(pid))
        assert set(requests) <= set(stored)
        return stored
    finally:
        await records.close()


async def test_sigkill_during_submits_leaves_every_proposal_with_one_request(
    tmp_path: Path,
) -> None:
    """Killed while four people press Skicka in at once: each stored proposal has its audit
    entry and exactly one endorsement request after start-up; a retry never makes a second."""
    rng = random.Random(SEED + 1)
    rug = tmp_path / "rug.json"
    rug.write_text(
        json.dumps([{"name": "Rut Rugsson", "aad_object_id": "aad-rut"}]), encoding="utf-8"
    )
    env = {"OMTANKE_RUG_MEMBERS": str(rug)}
    data = tmp_path / "data"
    connector = await FakeConnector().start()
    acknowledged: dict[str, str] = {}
    crash_counts: list[int] = []  # proposals stored by the submits the kill interrupted
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            for round_number in range(SUBMIT_ROUNDS):
                before = round_number * SUBMITTERS
                process, base = await start_serve(data, connector.url, **env)
                people = [
                    user(f"aad-s{round_number}-{n}", f"Person {round_number}-{n}")
                    for n in range(SUBMITTERS)
                ]
                cards = [await _to_summary(http, base, connector, who) for who in people]
                tasks = [
                    asyncio.create_task(_submit(http, base, connector, who, card))
                    for who, card in zip(people, cards, strict=True)
                ]
                await asyncio.sleep(rng.uniform(0.0, 0.3))
                process.kill()
                process.wait(timeout=10)
                for who, pid in zip(people, await asyncio.gather(*tasks), strict=True):
                    if pid is not None:
                        acknowledged[pid] = who["aadObjectId"]
                crashed = tmp_path / f"crash-{round_number}"
                shutil.copytree(data, crashed)
                stored = await _each_has_one_request(crashed)
                assert {pid: stored.get(pid) for pid in acknowledged} == acknowledged
                crash_counts.append(len(stored) - before)
                before = len(stored)
                # Started again, everyone presses Skicka in again on the same card.
                process, base = await start_serve(data, connector.url, **env)
                for who, card in zip(people, cards, strict=True):
                    await _submit(http, base, connector, who, card)
                process.terminate()
                process.wait(timeout=10)
                stored = await _each_has_one_request(data)
                assert sorted(stored.values()).count(people[0]["aadObjectId"]) == 1
                assert all(sorted(stored.values()).count(p["aadObjectId"]) == 1 for p in people)
    finally:
        await connector.stop()
    print(
        f"submit kill rounds {SUBMIT_ROUNDS}; stored at each kill {crash_counts} of "
        f"{SUBMITTERS}; acknowledged before the kill {len(acknowledged)}"
    )
