"""Issue 16's text holes, over the real HTTP endpoint and command line: personnummer however
written (item 4), forged log lines (item 5), erase-user and other people's words (item 7) and
what the admin tools write (item 9)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.rug_scenario import ANNA, RUT
from tests.service import Service

# ----- 4. personnummer however written -----------------------------------------------------------

# 19900101-1239 passes the Luhn check; 900161-1236 is a samordningsnummer (day 01 + 60).
DISGUISED = {
    "narrow no-break space": "900101\u202f1239",
    "HTML no-break space": "900101&nbsp;1239",
    "HTML non-breaking hyphen": "900101&#8209;1239",
    "left-to-right mark": "9001\u200e01-1239",
    "behind a lookalike": "05 05 900101 1239",
    "samordningsnummer, HTML line break": "900161<br>1236",
}
REFUSAL = "verkar innehålla ett personnummer"


def _stored(service: Service) -> bytes:
    data = service.settings.data_dir
    return b"".join(p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file())


@pytest.mark.parametrize("written", DISGUISED.values(), ids=DISGUISED.keys())
async def test_a_disguised_personnummer_is_refused_in_every_field(
    service: Service, written: str
) -> None:
    assert await service.say(ANNA, "Jag har en idé") == 201
    # Each text carries a marker: if any of it were stored, the marker would be.
    escalate = {"action": "escalate", "question": "x" * 498 + " MARK-ESC " + written}
    decide = {"action": "decide", "proposal": "OH-2026-0001", "outcome": "bifallen",
              "motivation": f"MARK-DEC {written}"}  # fmt: skip
    statuses = [
        await service.say(ANNA, f"MARK-TITLE {written}"),  # a dialog field, typed
        await service.click(ANNA, {"action": "step", "step": "title", "text": written}),
        await service.click(ANNA, escalate),  # 500 characters in only after the check
        await service.click(ANNA, {"action": "step", f"MARK-KEY {written}": "x"}),
        await service.click(RUT, decide),
    ]

    assert statuses == [201] * 5
    anna = service.connector.texts_to("a:personal-aad-anna")
    assert all(REFUSAL in text for text in anna[-4:]), anna[-4:]
    assert REFUSAL in service.connector.texts_to("a:personal-aad-rut")[-1]
    stored = _stored(service)
    assert b"MARK-" not in stored
    assert await service.services.records.escalations.all() == []
    draft = await service.services.records.proposals.draft_of("aad-anna")
    assert draft is not None and draft.proposal.title == ""


async def test_a_date_range_in_a_dialog_field_is_not_taken_for_a_personnummer(
    service: Service,
) -> None:
    assert await service.say(ANNA, "Jag har en idé") == 201

    # Read as 2026-01-05 + "–2026" before: a valid date and a Luhn digit that fits.
    assert await service.say(ANNA, "Pilot 2026-01-05–2026-04-05") == 201

    assert REFUSAL not in service.connector.texts_to("a:personal-aad-anna")[-1]
    draft = await service.services.records.proposals.draft_of("aad-anna")
    assert draft is not None and draft.proposal.title == "Pilot 2026-01-05–2026-04-05"


# ----- 5. log injection --------------------------------------------------------------------------

# A card value as the probe sent it: a line break, then what looks like a log line of its own.
FORGED = (
    "2026-12-03 10:00:00,000 INFO rug.workflow: decision on OH-2026-0001 by 'aad-rolf' recorded"
)
CARD_VALUE = f"OH-2026-0001\n{FORGED}\r{FORGED}\x1b[2K\u2028{FORGED}\x85{FORGED}"

# The command's own entry function, in a process of its own, with the server (or the chat)
# replaced by one that logs the card value as a careless log call would: with %s.
_RUN_WITH_LOGGING = """
import asyncio, logging, sys
value = sys.argv[2]

def log_it():
    logging.getLogger("rug.workflow").warning("decision on %s by 'aad-rolf' recorded", value)
    try:
        raise RuntimeError("the first line of a traceback\\nand its second")
    except RuntimeError:
        logging.getLogger("bot.app").exception("turn failed on %s", value)

if sys.argv[1] == "serve":
    import aiohttp.web, bot.app
    aiohttp.web.run_app = lambda app, **kw: log_it()
    bot.app.create_app = lambda settings: aiohttp.web.Application()
else:
    import bot.chat
    async def chat(settings):
        log_it()
        return 0
    bot.chat.run_chat = chat
from bot.cli import main
sys.exit(main([sys.argv[1]]))
"""


@pytest.mark.parametrize("command", ["serve", "chat"])
def test_a_card_value_with_line_breaks_is_one_log_line(command: str, tmp_path: Path) -> None:
    from tests.commands import REPO_ROOT, cli_env

    done = subprocess.run(
        [sys.executable, "-c", _RUN_WITH_LOGGING, command, CARD_VALUE],
        capture_output=True, text=True, env=cli_env(tmp_path / "data"), cwd=REPO_ROOT,
        timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    decision = [line for line in lines if "WARNING rug.workflow: decision on" in line]
    assert len(decision) == 1, lines  # one record, one line: the forged ones are inside it
    assert not [line for line in lines if line.startswith(FORGED[:24])], lines
    assert "OH-2026-0001\\n2026-12-03" in decision[0] and "\\x1b[2K\\u2028" in decision[0]
    # The traceback is the exception's, as Python wrote it: not escaped, after one message line.
    failed = next(n for n, line in enumerate(lines) if "turn failed on" in line)
    assert "\\n" + FORGED[:24] in lines[failed]
    assert lines[failed + 1] == "Traceback (most recent call last):"
    assert "RuntimeError: the first line of a traceback" in lines
    assert "and its second" in lines


def test_the_log_formatter_escapes_marks_and_lone_surrogates() -> None:
    import logging

    from bot.logsafe import SafeFormatter

    # "\ud800" arrives from a JSON body's "\\ud800"; raw, it would break the stream's encoder.
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", ("a\u200fb\ud800c",), None)
    assert SafeFormatter("%(message)s").format(record) == "a\\u200fb\\ud800c"


# ----- 7. erase-user touches only the person -----------------------------------------------------


async def test_erase_user_replaces_her_full_name_and_fields_never_a_first_name(
    service: Service,
) -> None:
    from domain.proposal import Initiator
    from tests.builders import user
    from tests.commands import run_omtanke
    from tests.rug_scenario import complete_proposal

    # In Teams she is just "Ida" (her chat's reference says so); her proposal has her full name.
    assert await service.say(user("aad-ida", "Ida"), "hjälp") == 201
    repo, workflow = service.services.records.proposals, service.services.workflow
    hers = complete_proposal(service, "Idas idé om trygg hemgång")
    hers.initiator = Initiator(
        name="Ida Svensson", email="ida.svensson@varberg.se", aad_object_id="aad-ida"
    )
    await workflow.submit("aad-ida", await repo.new_draft("aad-ida", hers))
    bos = complete_proposal(service, "Bidrag till vidare samverkan idag")
    bos.description = (
        "Vi bidrar idag med IDA-modellen; Ida på Solgården och Ida Svenssons team är med. "
        "Frågor till ida.svensson@varberg.se eller Ida."
    )
    bos.initiator = Initiator(name="Bo Berg", email="bo.berg@varberg.se", aad_object_id="aad-bo")
    await workflow.submit("aad-bo", await repo.new_draft("aad-bo", bos))
    await service.stop()

    done = run_omtanke(["erase-user", "ida.svensson@varberg.se"], service.settings.data_dir)

    assert done.returncode == 0, done.stdout + done.stderr
    await service.start()
    stored = {
        p.initiator.email or "erased": p for p in await service.services.records.proposals.all()
    }
    bo, hers = stored["bo.berg@varberg.se"], stored["erased"]
    pseudonym = hers.initiator.aad_object_id
    assert pseudonym.startswith("borttagen-") and hers.initiator.name == pseudonym
    assert bo.title == "Bidrag till vidare samverkan idag"
    assert bo.description == (
        f"Vi bidrar idag med IDA-modellen; Ida på Solgården och {pseudonym}:s team är med. "
        f"Frågor till {pseudonym} eller Ida."
    )
    assert bo.initiator.name == "Bo Berg"
    # In her own proposal even the one-word name is hers.
    assert hers.title == f"{pseudonym}:s idé om trygg hemgång"


# ----- 9. the admin tools' output ----------------------------------------------------------------

# What a terminal obeys: ESC and the 8-bit CSI (C1, U+009B), NEL, the line separator, a bidi
# override. None may reach the terminal raw.
OBEYED = "\x1b[2J\x9b31m\x85\u2028\u202e"
CONTROLS = "\x1b\x9b\x85\u2028\u202e"


def _on_a_terminal(args: list[str], data: Path) -> bytes:
    """What `omtanke ARGS` writes to standard output when that is a terminal (a pty)."""
    import os

    from tests.commands import REPO_ROOT, cli_env, omtanke_command

    leader, follower = os.openpty()
    process = subprocess.Popen(
        [*omtanke_command(), *args], stdout=follower, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, env=cli_env(data), cwd=REPO_ROOT,
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the other end closed: the command has ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    return b"".join(chunks)


async def _two_proposals(service: Service, *titles: str) -> Path:
    from tests.rug_scenario import complete_proposal

    repo = service.services.records.proposals
    for title in titles:
        proposal = complete_proposal(service, title)
        proposal.description = f"Beskrivning {OBEYED} slut"
        await service.services.workflow.submit(
            "aad-anna", await repo.new_draft("aad-anna", proposal)
        )
    await service.services.records.escalations.record("aad-anna", f"Fråga {OBEYED} slut", "sv")
    await service.stop()
    return service.settings.data_dir


async def test_escalations_as_json_hold_the_same_text_and_nothing_a_terminal_obeys(
    service: Service,
) -> None:
    import json

    from tests.commands import run_omtanke

    data = await _two_proposals(service, "Trygg hemgång")

    listed = run_omtanke(["escalations", "--json"], data)

    assert listed.returncode == 0, listed.stderr
    assert not [char for char in CONTROLS if char in listed.stdout]
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [row["question"] for row in rows] == [f"Fråga {OBEYED} slut"]


async def test_export_on_a_terminal_shows_escapes_and_never_a_formula(service: Service) -> None:
    import csv
    import io
    import json

    from tests.commands import run_omtanke

    data = await _two_proposals(
        service, '\uff1dHYPERLINK("http://127.0.0.1/x")', f"Titel {OBEYED}", "\uff20SUM(A1)"
    )

    as_csv = _on_a_terminal(["export", "--format", "csv"], data)
    as_json = _on_a_terminal(["export", "--format", "json"], data)
    to_a_file = run_omtanke(["export", "--format", "csv"], data)

    for written in (as_csv, as_json):
        assert not [char for char in CONTROLS if char.encode() in written]
    assert b"Titel \\x1b[2J\\x9b31m" in as_csv
    exported = json.loads(as_json.decode().replace("\r\n", "\n"))  # the pty's line ends
    assert f"Titel {OBEYED}" in [p["title"] for p in exported["proposals"]]
    # In a file the text is as written, but no cell starts a formula (full-width signs too).
    cells = [cell for row in csv.reader(io.StringIO(to_a_file.stdout)) for cell in row]
    assert f"Titel {OBEYED}" in cells
    assert '\'\uff1dHYPERLINK("http://127.0.0.1/x")' in cells and "'\uff20SUM(A1)" in cells


async def test_export_to_word_writes_a_control_character_as_its_escape(service: Service) -> None:
    import zipfile

    from tests.commands import run_omtanke

    data = await _two_proposals(service, "Titel \x1b[31m röd \x00 slut")
    out = data.parent / "export.docx"

    done = run_omtanke(["export", "--format", "docx", "--out", str(out)], data)

    assert done.returncode == 0, done.stderr
    body = zipfile.ZipFile(out).read("word/document.xml").decode()
    assert "Titel \\x1b[31m röd \\x00 slut" in body
