"""Crash safety: `omtanke serve` killed with SIGKILL under load loses no acknowledged proposal.

Several users walk the proposal dialog over HTTP at once, against the real server process; a
local stand-in for the Bot Connector records the replies. The process is killed at a random
moment (seeded), the crash state is checked, and the server is started again on the same data.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from domain.fields import REQUIRED_TEXT_FIELD_IDS
from domain.proposal import Status
from storage.records import Records
from storage.tiny_backend import TinyBackend
from tests.builders import card_actions, card_of, teams_message, user
from tests.conftest import REPO_ROOT, cli_env, free_port, omtanke_command
from tests.fake_connector import FakeConnector
from tests.test_proposal_dialog import ANSWERS

SEED = 20261122
ROUNDS = 5
USERS = 6
PROPOSAL_ID = re.compile(r"OH-\d{4}-\d{4}")
# (text typed, draft field it fills); None where the answer is not checked in the draft.
STEPS: list[tuple[str, str | None]] = [
    ("jag har en idé", None),
    ("{title}", "title"),
    (ANSWERS["background"], "background"),
    (ANSWERS["description"], "description"),
    (ANSWERS["organisations"], None),
    (ANSWERS["target_groups"], None),
    (ANSWERS["malbild"], None),
    (ANSWERS["motivation"], "motivation"),
    (ANSWERS["expected_effects"], "expected_effects"),
    (ANSWERS["follow_up"], "follow_up"),
    ("hoppa över", None),
    ("hoppa över", None),
    (ANSWERS["initiator_org"], "initiator_org"),
    ("hoppa över", None),
]


@dataclass
class UserLedger:
    """What one user's requests got acknowledged in the current draft."""

    aad: str
    title: str = ""
    started: bool = False
    acknowledged: dict[str, str] = field(default_factory=dict)
    in_flight: str | None = None
    submitting: bool = False


@dataclass
class Ledger:
    """Everything the test was told succeeded, over all rounds."""

    proposals: dict[str, tuple[str, str]] = field(default_factory=dict)  # id → (aad, title)
    turns: int = 0
    users: list[UserLedger] = field(default_factory=list)


class ServerDied(Exception):
    """The request got no answer: the server was killed."""


def _spawn(data: Path, port: int) -> subprocess.Popen[bytes]:
    """`omtanke serve` as a child process on the data folder and port."""
    return subprocess.Popen(
        [*omtanke_command(), "serve"],
        env=cli_env(data, PORT=str(port)),
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def _start(data: Path, connector_url: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start `omtanke serve` on a free port and wait until /healthz answers 200."""
    port = free_port()
    process = _spawn(data, port)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                _out, err = process.communicate()
                raise AssertionError(f"omtanke serve exited: {err.decode(errors='replace')}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return process, base
            await asyncio.sleep(0.05)
    process.kill()
    raise AssertionError("omtanke serve did not answer /healthz within 15 s")


async def _post(
    http: aiohttp.ClientSession,
    base: str,
    connector: FakeConnector,
    who: dict[str, Any],
    text: str | None = None,
    value: dict[str, Any] | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """One turn; returns the status and the messages the bot sent to this user meanwhile."""
    conversation = f"a:personal-{who['aadObjectId']}"
    before = len(connector.calls)
    body = teams_message(
        text, value=value, service_url=connector.url, sender=who, conversation_id=conversation
    )
    try:
        async with http.post(f"{base}/api/messages", json=body) as response:
            status = response.status
    except (TimeoutError, aiohttp.ClientError) as error:
        raise ServerDied from error
    replies = [
        c.body
        for c in connector.calls[before:]
        if c.method == "POST"
        and c.body.get("type") == "message"
        and (c.body.get("conversation") or {}).get("id") == conversation
    ]
    return status, replies


async def _walk(
    http: aiohttp.ClientSession,
    base: str,
    connector: FakeConnector,
    mine: UserLedger,
    ledger: Ledger,
    name: str,
) -> None:
    """Walk the dialog and submit, again and again, until the server dies."""
    who = user(mine.aad, name)
    number = 0
    while True:
        number += 1
        status, _ = await _post(http, base, connector, who, "vad är RUG?")
        assert status == 201
        ledger.turns += 1
        mine.title = f"Trygg hemgång {mine.aad} nr {number}"
        mine.started, mine.acknowledged, mine.submitting = False, {}, False
        replies: list[dict[str, Any]] = []
        for index, (text, field_name) in enumerate(STEPS):
            mine.in_flight = field_name
            status, replies = await _post(http, base, connector, who, text.format(title=mine.title))
            assert status == 201
            ledger.turns += 1
            mine.in_flight = None
            if index == 0:
                mine.started = True
            if field_name is not None:
                mine.acknowledged[field_name] = text.format(title=mine.title)
        data = next(
            a["data"]
            for reply in replies
            for a in card_actions(card_of(reply))
            if a.get("data", {}).get("action") == "submit"
        )
        mine.submitting = True
        status, replies = await _post(http, base, connector, who, value=data)
        done = [r for r in replies if "är inskickat" in str(r.get("text", ""))]
        if status == 201 and done:
            found = PROPOSAL_ID.search(str(done[-1]["text"]))
            assert found is not None
            ledger.proposals[found.group()] = (mine.aad, mine.title)
        mine.started, mine.acknowledged, mine.submitting = False, {}, False


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
                process, base = await _start(data, connector.url)
                users = [UserLedger(f"aad-r{round_number}-u{n}") for n in range(USERS)]
                ledger.users = users
                tasks = [
                    asyncio.create_task(
                        _walk(http, base, connector, mine, ledger, f"Person {mine.aad}")
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
            process, _base = await _start(data, connector.url)
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
