"""`omtanke serve` as a real child process, and users walking the proposal dialog against it
at once until it is killed: the crash-safety and backup-under-load tests."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from presentation.texts import Texts
from tests.builders import card_actions, card_of, teams_message, user
from tests.commands import REPO_ROOT, cli_env, free_port, omtanke_command
from tests.dialog_scenario import ANSWERS
from tests.fake_connector import FakeConnector

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


def spawn_serve(data: Path, port: int, **env: str) -> subprocess.Popen[bytes]:
    """`omtanke serve` as a child process on the data folder and port."""
    return subprocess.Popen(
        [*omtanke_command(), "serve"],
        env=cli_env(data, PORT=str(port), **env),
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def start_serve(
    data: Path, connector_url: str, **env: str
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `omtanke serve` on a free port and wait until /healthz answers 200."""
    port = free_port()
    process = spawn_serve(data, port, **env)
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


async def post_turn(
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


# The bot's answer when the store is busy: nothing was saved, and the user is asked to retry.
_CANNOT_SAVE = Texts.load().get("general.cannot_save", "sv")
_SAVE_ATTEMPTS = 20


def _texts(replies: list[dict[str, Any]]) -> list[str]:
    return [str(r.get("text", "")) for r in replies]


async def _until_saved(
    http: aiohttp.ClientSession,
    base: str,
    connector: FakeConnector,
    who: dict[str, Any],
    text: str | None = None,
    value: dict[str, Any] | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """One turn, sent again (as the reply asks) while the bot says it could not save it: on a
    loaded machine the store can be busy, and an answer it did not save is not acknowledged."""
    for attempt in range(_SAVE_ATTEMPTS):
        status, replies = await post_turn(http, base, connector, who, text, value)
        if status != 201 or not any(_CANNOT_SAVE in t for t in _texts(replies)):
            return status, replies
        await asyncio.sleep(0.05 * (attempt + 1))
    raise AssertionError(f"the bot could not save {text or value!r} in {_SAVE_ATTEMPTS} tries")


async def walk(
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
        status, _ = await post_turn(http, base, connector, who, "vad är RUG?")
        assert status == 201
        ledger.turns += 1
        mine.title = f"Trygg hemgång {mine.aad} nr {number}"
        mine.started, mine.acknowledged, mine.submitting = False, {}, False
        replies: list[dict[str, Any]] = []
        for index, (text, field_name) in enumerate(STEPS):
            mine.in_flight = field_name
            answer = text.format(title=mine.title)
            status, replies = await _until_saved(http, base, connector, who, text=answer)
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
        status, replies = await _until_saved(http, base, connector, who, value=data)
        done = [r for r in replies if "är inskickat" in str(r.get("text", ""))]
        if status == 201 and done:
            found = PROPOSAL_ID.search(str(done[-1]["text"]))
            assert found is not None
            ledger.proposals[found.group()] = (mine.aad, mine.title)
        elif status == 201:
            # Anything else would leave the draft open and the next round's answers misfiled.
            raise AssertionError(f"submit not acknowledged: {_texts(replies)}")
        mine.started, mine.acknowledged, mine.submitting = False, {}, False
