"""Issue 16's probe, replayed over the real HTTP endpoint and command line.

Each test is one hole the probe found: identity from another channel, self-approval, decisions
outside the RUG channel's card, deeply nested JSON before authentication, auth off on a public
interface.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.settings import Settings, SettingsError
from domain.proposal import Initiator, Proposal, Status
from tests.builders import card_actions, card_of, teams_message, wait_until
from tests.commands import run_omtanke
from tests.rug_scenario import (
    ANNA,
    CHANNEL,
    ROLF,
    RUT,
    complete_proposal,
    dialog_answers,
    fill_in_the_dialog,
    meet_everyone,
    outbox_drained,
)
from tests.service import Service
from tests.test_faults import CANNOT_SAVE, fill_the_disk

# ----- 1. identity only from Teams ------------------------------------------------------------


def _from_webchat(service: Service, who: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """What a Web Chat user can write: any aadObjectId, the allowed tenant, their own chat."""
    body = teams_message(
        service_url=service.connector.url, sender=who, conversation_id="attacker-chat", **kw
    )
    body["channelId"] = "webchat"
    return body


async def test_an_activity_from_web_chat_is_refused_and_moves_no_reference(
    service: Service,
) -> None:
    await meet_everyone(service)
    pid = await _with_rug(service, complete_proposal(service, "Trygg hemgång"))
    case = service.connector.cards_to(CHANNEL, "decide")[-1]
    before = await service.services.records.references.personal("aad-rut")
    calls = len(service.connector.calls)
    decide = {"action": "decide", "proposal": pid, "outcome": "bifallen", "motivation": ""}

    statuses = [
        await service.post(_from_webchat(service, RUT, text="hjälp")),
        await service.post(_from_webchat(service, RUT, value=decide)),
    ]

    assert statuses == [403, 403]
    assert (await service.proposal(pid)).status == Status.WITH_RUG
    assert await service.services.records.references.personal("aad-rut") == before
    assert before is not None and before["conversation"]["id"] == "a:personal-aad-rut"
    assert len(service.connector.calls) == calls
    assert case[1]  # the real card is still the one to decide on


# ----- 2. no self-approval; decisions only on the RUG channel's card ---------------------------


def _by_rut(service: Service, title: str) -> Proposal:
    """A complete proposal whose initiator, Rut, is herself in RUG; anchored with Rolf."""
    proposal = complete_proposal(service, title, contact="Rolf Rugman")
    proposal.initiator = Initiator(
        name="Rut Rugsson", organisation="Region Halland", aad_object_id="aad-rut"
    )
    return proposal


async def _submitted(service: Service, proposal: Proposal) -> str:
    """Submit through the workflow as the initiator and deliver what it queued."""
    services = service.services
    person = proposal.initiator.aad_object_id
    draft = await services.records.proposals.new_draft(person, proposal)
    submitted, _created, deliver = await services.workflow.submit(person, draft)
    await services.deliver_now(deliver)
    return submitted.id


async def _endorse(service: Service, who: dict[str, Any], pid: str) -> int:
    endorse = {"action": "endorse", "proposal": pid, "choice": "yes", "comment": ""}
    return await service.click(who, endorse)


async def _with_rug(service: Service, proposal: Proposal) -> str:
    """Submitted and endorsed by its RUG contact: the case card is in the channel."""
    pid = await _submitted(service, proposal)
    contact = RUT if proposal.rug_contact == "Rut Rugsson" else ROLF
    assert await _endorse(service, contact, pid) == 201
    assert (await service.proposal(pid)).status == Status.WITH_RUG
    return pid


def _case_card(service: Service, pid: str) -> str:
    """The activity id of the newest case card about pid in the RUG channel."""
    cards = [
        activity_id
        for card, activity_id in service.connector.cards_to(CHANNEL, "decide")
        if any(a["data"].get("proposal") == pid for a in card_actions(card))
    ]
    assert cards, f"no case card for {pid}"
    return cards[-1]


async def test_the_initiator_cannot_endorse_their_own_proposal(service: Service) -> None:
    await meet_everyone(service)
    pid = await _submitted(service, _by_rut(service, "Egen idé"))

    assert await _endorse(service, RUT, pid) == 201

    assert (
        "Du är själv initiativtagare till " + pid
        in service.connector.texts_to("a:personal-aad-rut")[-1]
    )
    proposal = await service.proposal(pid)
    assert proposal.status == Status.AWAITING_ENDORSEMENT
    assert proposal.rug_endorsement is None
    assert "endorsement_refused" in await service.audit(pid)
    # Someone else in RUG still can.
    assert await _endorse(service, ROLF, pid) == 201
    assert (await service.proposal(pid)).status == Status.WITH_RUG


async def test_the_initiator_cannot_decide_on_their_own_proposal(service: Service) -> None:
    await meet_everyone(service)
    pid = await _with_rug(service, _by_rut(service, "Egen idé"))
    card = _case_card(service, pid)
    approve = {"action": "decide", "proposal": pid, "outcome": "bifallen", "motivation": ""}
    thread = f"{CHANNEL};messageid={card}"

    status = await service.click(
        RUT, approve, reply_to=card, conversation_id=thread, conversation_type="channel"
    )

    assert status == 201
    assert "Du är själv initiativtagare till " + pid in service.connector.texts_to(thread)[-1]
    assert (await service.proposal(pid)).decision is None
    assert "decision_refused" in await service.audit(pid)


async def test_a_decision_from_a_personal_chat_is_refused(service: Service) -> None:
    await meet_everyone(service)
    pid = await _with_rug(service, complete_proposal(service, "Trygg hemgång"))
    card = _case_card(service, pid)
    approve = {"action": "decide", "proposal": pid, "outcome": "bifallen", "motivation": ""}

    status = await service.click(ROLF, approve, reply_to=card)  # from Rolf's 1:1 chat

    assert status == 201
    assert "RUG-kanalen" in service.connector.texts_to("a:personal-aad-rolf")[-1]
    assert (await service.proposal(pid)).status == Status.WITH_RUG
    # Another channel of the same team is not the RUG channel either.
    other = {"conversation_id": "19:other@thread.tacv2", "conversation_type": "channel"}
    assert await service.click(ROLF, approve, reply_to=card, **other) == 201
    assert (await service.proposal(pid)).status == Status.WITH_RUG


async def test_a_decision_without_the_cards_id_is_stale(service: Service) -> None:
    await meet_everyone(service)
    pid = await _with_rug(service, complete_proposal(service, "Trygg hemgång"))
    card = _case_card(service, pid)
    approve = {"action": "decide", "proposal": pid, "outcome": "bifallen", "motivation": ""}
    thread = {"conversation_id": f"{CHANNEL};messageid={card}", "conversation_type": "channel"}

    assert await service.click(ROLF, approve, **thread) == 201  # no replyToId
    assert await service.click(ROLF, approve, reply_to="some-other-card", **thread) == 201

    replies = service.connector.texts_to(thread["conversation_id"])
    assert all("inaktuellt" in reply for reply in replies[-2:])
    assert (await service.proposal(pid)).status == Status.WITH_RUG
    # The card itself decides.
    assert await service.click(ROLF, approve, reply_to=card, **thread) == 201
    assert (await service.proposal(pid)).status == Status.APPROVED


async def test_the_dialog_does_not_offer_the_initiator_as_their_own_rug_contact(
    service: Service,
) -> None:
    # Anna's answers, with Rut's organisation, up to the RUG contact step.
    answers = [*dialog_answers(service)[:-2], "Region Halland"]
    for text in answers:
        assert await service.say(RUT, text) == 201
    step = card_of(service.connector.messages()[-1])
    assert step is not None
    offered = json.dumps(step, ensure_ascii=False)
    assert "Rolf Rugman" in offered and "Rut Rugsson" not in offered

    assert await service.say(RUT, "Rut Rugsson") == 201

    replies = service.connector.texts_to("a:personal-aad-rut")
    assert "ditt eget förslag" in "\n".join(replies[-2:]), replies[-3:]
    draft = await service.services.records.proposals.draft_of("aad-rut")
    assert draft is not None and draft.proposal.rug_contact == ""


# ----- 6. deeply nested JSON is a 400 before anything else -------------------------------------


def _nested(depth: int) -> str:
    """JSON text of objects nested depth levels deep (too deep for json.dumps to write)."""
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    "where", ["value", "channelData", "entities", "attachments", "from", "conversation"]
)
async def test_deep_nesting_anywhere_in_the_activity_is_a_400(service: Service, where: str) -> None:
    body = teams_message("hej", service_url=service.connector.url, sender=ANNA)
    body[where] = "NESTED"
    raw = json.dumps(body).replace('"NESTED"', _nested(1200))

    status, text = await service.request(raw=raw)

    assert (status, json.loads(text)["error"]) == (400, "request body is nested too deeply")
    assert service.connector.calls == []


async def test_a_body_of_a_thousand_brackets_is_a_400(service: Service) -> None:
    status, text = await service.request(raw="[" * 1000)
    assert status == 400
    assert "Traceback" not in text
    status, text = await service.request(raw="[" * 100_000 + "]" * 100_000)
    assert status == 400
    # An ordinary activity is still answered.
    assert await service.say(ANNA, "Vad är RUG?") == 201
    await wait_until(lambda: bool(service.connector.texts_to("a:personal-aad-anna")))
    assert "RUG" in service.connector.texts_to("a:personal-aad-anna")[-1]


# ----- 10. no authentication off on a public interface ----------------------------------------


def test_serve_refuses_a_public_host_without_authentication(tmp_path: Any) -> None:
    result = run_omtanke(["serve"], tmp_path / "data", OMTANKE_HOST="0.0.0.0", PORT="0")

    assert result.returncode != 0
    assert "OMTANKE_HOST=0.0.0.0 is not a loopback address" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()


def test_only_an_explicit_override_allows_it() -> None:
    with pytest.raises(SettingsError, match="loopback"):
        Settings.from_env({"OMTANKE_HOST": "10.0.0.5"})
    assert Settings.from_env({"OMTANKE_HOST": "::1"}).host == "::1"
    insecure = Settings.from_env({"OMTANKE_HOST": "0.0.0.0", "OMTANKE_ALLOW_INSECURE": "1"})
    assert (insecure.host, insecure.allow_insecure, insecure.auth_enabled) == (
        "0.0.0.0",
        True,
        False,
    )


# ----- 11. replays and races --------------------------------------------------------------------


async def test_the_same_activity_delivered_twice_is_applied_once(service: Service) -> None:
    assert await service.say(ANNA, "Jag har en idé") == 201
    title = teams_message(
        "Min titel",
        service_url=service.connector.url,
        sender=ANNA,
        conversation_id="a:personal-aad-anna",
    )
    replies = len(service.connector.texts_to("a:personal-aad-anna"))

    first = await service.post(title)
    again = await asyncio.gather(service.post(title), service.post(title))  # and concurrently

    assert [first, *again] == [201, 201, 201]
    draft = await service.services.records.proposals.draft_of("aad-anna")
    assert draft is not None
    assert (draft.proposal.title, draft.proposal.background) == ("Min titel", "")
    after = service.connector.texts_to("a:personal-aad-anna")[replies:]
    assert len(after) == 1 and "Steg 2 av 12" in after[0]
    # A new activity with the same words is a new answer, as ever.
    assert await service.say(ANNA, "Min bakgrund") == 201
    draft = await service.services.records.proposals.draft_of("aad-anna")
    assert draft is not None and draft.proposal.background == "Min bakgrund"


async def test_the_same_activity_after_a_restart_is_still_applied_once(service: Service) -> None:
    assert await service.say(ANNA, "Jag har en idé") == 201
    title = teams_message(
        "Min titel",
        service_url=service.connector.url,
        sender=ANNA,
        conversation_id="a:personal-aad-anna",
    )
    assert await service.post(title) == 201
    await service.restart()  # another instance, or this one started again: state remembers

    assert await service.post(title) == 201

    draft = await service.services.records.proposals.draft_of("aad-anna")
    assert draft is not None
    assert (draft.proposal.title, draft.proposal.background) == ("Min titel", "")


async def test_a_question_delivered_twice_is_answered_once_and_not_written_down(
    service: Service,
) -> None:
    chat = "a:personal-aad-anna"
    key = f"msteams/conversations/{chat}"
    first = teams_message(
        "Vad är nära vård?", service_url=service.connector.url, sender=ANNA, conversation_id=chat
    )
    assert await service.post(first) == 201  # the chat's first turn stores its dialog state
    store = service.services.bot_storage.store
    stored = await store.read_versioned(key)
    question = teams_message(
        "Vad är RUG?", service_url=service.connector.url, sender=ANNA, conversation_id=chat
    )
    replies = len(service.connector.texts_to(chat))

    statuses = [await service.post(question), *await asyncio.gather(
        service.post(question), service.post(question)
    )]

    assert statuses == [201, 201, 201]
    assert len(service.connector.texts_to(chat)) == replies + 1
    # Nothing in the conversation changed, so nothing was written (not even the id).
    again = await store.read_versioned(key)
    assert stored is not None and again is not None and again.etag == stored.etag
    recent = str(again.document)
    assert first["id"] in recent and question["id"] not in recent


async def test_ten_concurrent_clicks_on_skicka_in_give_one_proposal_and_one_request(
    service: Service,
) -> None:
    await meet_everyone(service)
    submit = await fill_in_the_dialog(service)

    statuses = await asyncio.gather(*(service.click(ANNA, submit) for _ in range(10)))

    assert statuses == [201] * 10
    proposals = await service.services.records.proposals.for_initiator("aad-anna")
    assert len(proposals) == 1
    pid = proposals[0].id
    queued = [
        item
        for item in await service.services.records.outbox.all()
        if item["purpose"].get("kind") == "endorse_card"
    ]
    assert [item["purpose"]["proposal"] for item in queued] == [pid]
    await wait_until(lambda: outbox_drained(service))
    assert len(service.connector.cards_to("a:personal-aad-rut", "endorse")) == 1
    assert (await service.audit(pid)).count("submitted") == 1
    replies = "\n".join(service.connector.texts_to("a:personal-aad-anna"))
    assert replies.count(f"Ditt förslag {pid}") == 1, replies[-2000:]


async def test_a_full_disk_is_apologised_for_once_per_turn(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await service.say(ANNA, "Jag har en idé") == 201
    assert await service.say(ANNA, "Min titel") == 201
    before = len(service.connector.texts_to("a:personal-aad-anna"))

    with monkeypatch.context() as patch:
        fill_the_disk(patch)
        status = await service.say(ANNA, "Min bakgrund")

    assert status in (200, 201, 500)
    replies = service.connector.texts_to("a:personal-aad-anna")[before:]
    assert len(replies) == 1 and CANNOT_SAVE in replies[0], replies


# ----- 4. personnummer however written ----------------------------------------------------------

# 19900101-1239 passes the Luhn check; each form below is how the probe got it through.
WRITTEN_FORMS = [
    "900101\u00a01239", "900101\u202f1239", "900101\u20111239", "900101\u22121239",
    "900101\u20131239", "900101\u20141239", "900101\u20121239", "900101\n1239", "900101/1239",
    "900101:1239", "900101_1239", "9001\u200b01-1239", "1990-01-01-1239", "90 01 01-1239",
]  # fmt: skip


def _stored_bytes(service: Service) -> bytes:
    data = service.settings.data_dir
    return b"".join(p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file())


@pytest.mark.parametrize("written", WRITTEN_FORMS)
async def test_a_personnummer_however_written_is_refused_in_text_and_cards(
    service: Service, written: str
) -> None:
    assert await service.say(ANNA, "Jag har en idé") == 201
    escalate = {"action": "escalate", "question": "x" * 498 + " " + written}
    endorse = {"action": "endorse", "proposal": "OH-2026-0001", "choice": "yes",
               "comment": f"ok {written}"}  # fmt: skip
    statuses = [
        await service.say(ANNA, f"Titel för {written}"),
        await service.click(ANNA, escalate),
        await service.click(RUT, endorse),
        await service.click(ANNA, {"action": "step", "step": "title", "text": written}),
    ]

    assert statuses == [201] * 4
    refusal = "verkar innehålla ett personnummer"
    assert all(refusal in t for t in service.connector.texts_to("a:personal-aad-anna")[-3:])
    assert refusal in service.connector.texts_to("a:personal-aad-rut")[-1]
    stored = _stored_bytes(service)
    assert not any(part in stored for part in (b"900101", b"90 01 01", b"1990-01-01", b"9001\\u"))
    assert await service.services.records.escalations.all() == []
    draft = await service.services.records.proposals.draft_of("aad-anna")
    assert draft is not None and draft.proposal.title == ""


def test_numbers_that_are_not_personnummer_pass() -> None:
    from domain.personnummer import contains_identity_number

    for text in ["OH-2026-0001", "070-123 45 67", "2026-11-22 10:00", "tel 0701234567",
                 "kl 10.00-12.00 2026", "19900101-1238", "20261322-1234"]:  # fmt: skip
        assert not contains_identity_number(text), text
    assert contains_identity_number("900161-1236")  # samordningsnummer: day + 60


# ----- 5. log injection -------------------------------------------------------------------------

FORGED_LINE = "2026-12-03 10:00:00,000 INFO rug.workflow: decision on OH-2026-0001 by 'aad-rolf'"


async def test_a_newline_in_a_card_field_forges_no_log_line(tmp_path: Any) -> None:
    from tests.fake_connector import FakeConnector
    from tests.serve_process import post_turn, start_serve

    connector = await FakeConnector().start()
    process, base = await start_serve(tmp_path / "data", connector.url, OMTANKE_LOG_LEVEL="DEBUG")
    try:
        import aiohttp

        async with aiohttp.ClientSession() as http:
            for field in ("proposal", "motivation", "outcome"):
                value = {"action": "decide", "proposal": "OH-2026-0001", "outcome": "bifallen"}
                value[field] = f"{value.get(field, '')}\n{FORGED_LINE}\r{FORGED_LINE}"
                status, _ = await post_turn(http, base, connector, ROLF, value=value)
                assert status == 201
            # A copy: teams_message uses the sender dict as "from", and ROLF is shared.
            forged = teams_message("hej", service_url=connector.url, sender=dict(ROLF))
            forged["from"]["aadObjectId"] = f"x\n{FORGED_LINE}"
            async with http.post(f"{base}/api/messages", json=forged) as response:
                assert response.status == 201
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=30)
        await connector.stop()
    lines = err.decode(errors="replace").splitlines()
    assert lines, "the service logged nothing"
    assert not [line for line in lines if line.startswith(FORGED_LINE[:30])]


def test_the_log_formatter_escapes_control_characters() -> None:
    import logging

    from bot.logsafe import SafeFormatter

    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "got %s", ("a\nb\x1b[31m\u2028c",), None
    )
    line = SafeFormatter("%(levelname)s %(message)s").format(record)
    assert line == "INFO got a\\nb\\x1b[31m\\u2028c"


# ----- 7. erase-user touches only the person -----------------------------------------------------


async def test_erase_user_never_changes_parts_of_other_peoples_words(service: Service) -> None:
    repo = service.services.records.proposals
    ida = complete_proposal(service, "Idas idé om trygg hemgång")
    ida.initiator = Initiator(name="Ida", email="ida@varberg.se", aad_object_id="aad-ida")
    await service.services.workflow.submit("aad-ida", await repo.new_draft("aad-ida", ida))
    bo = complete_proposal(service, "Bidrag till vidare samverkan idag")
    bo.description = "Vi bidrar idag med IDA-modellen; Idalyckan och Idas team är med."
    bo.initiator = Initiator(name="Bo Berg", email="bo.berg@varberg.se", aad_object_id="aad-bo")
    await service.services.workflow.submit("aad-bo", await repo.new_draft("aad-bo", bo))
    await service.stop()

    done = run_omtanke(["erase-user", "--aad", "aad-ida"], service.settings.data_dir)

    assert done.returncode == 0, done.stderr
    await service.start()
    stored = {p.initiator.aad_object_id or p.initiator.name: p for p in await repo_all(service)}
    theirs = stored["aad-bo"]
    assert theirs.title == "Bidrag till vidare samverkan idag"
    # No part of a word is hers, and a one-word name is a first name: Bo's "Idas" may be
    # someone else's (tests/test_security_text.py has her full name in Bo's text).
    assert theirs.description == "Vi bidrar idag med IDA-modellen; Idalyckan och Idas team är med."
    assert theirs.initiator.name == "Bo Berg"
    erased = [p for key, p in stored.items() if key != "aad-bo"]
    assert len(erased) == 1 and "ida@varberg.se" not in repr(erased[0].to_dict())


async def repo_all(service: Service) -> list[Proposal]:
    return await service.services.records.proposals.all()


# ----- 9. the admin tools' output ---------------------------------------------------------------


async def test_admin_tools_neither_obey_escapes_nor_write_formulas(service: Service) -> None:
    repo = service.services.records.proposals
    formula = '=HYPERLINK("http://127.0.0.1/x","Klicka")'
    for title in (formula, "+1+2", "-3", "@SUM(A1)"):
        proposal = complete_proposal(service, title)
        await service.services.workflow.submit(
            "aad-anna", await repo.new_draft("aad-anna", proposal)
        )
    question = "Hur gör jag?\x1b[2J\x1b[31m\n2026-12-03 10:00  Falsk rad\r"
    await service.services.records.escalations.record("aad-anna", question, "sv")
    await service.stop()
    data = service.settings.data_dir

    exported = run_omtanke(["export", "--format", "csv"], data)
    listed = run_omtanke(["escalations"], data)

    assert exported.returncode == 0 and listed.returncode == 0, exported.stderr + listed.stderr
    import csv
    import io

    cells = [cell for row in csv.reader(io.StringIO(exported.stdout)) for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]
    assert "'" + formula in cells and "'@SUM(A1)" in cells
    assert "\x1b" not in listed.stdout and "\r" not in listed.stdout
    # The table's header and the question, on one line however it was written.
    assert listed.stdout.count("\n") == 2 and "\\x1b[2J" in listed.stdout


# ----- 12. a newcomer's steps work as written ---------------------------------------------------


def test_manifest_needs_only_the_ids(tmp_path: Any) -> None:
    out = tmp_path / "appPackage.zip"
    result = run_omtanke(
        ["manifest", "--out", str(out)],
        tmp_path / "data",
        timeout=120,
        MicrosoftAppId="3f2b6c1e-8a4d-4f7b-9c2e-1d5a7b9e0c11",
        OMTANKE_BOT_DOMAIN="bot.example.org",
    )  # no MicrosoftAppPassword, as the README's step 4 says

    assert result.returncode == 0, result.stderr
    assert out.is_file()


def test_env_example_can_be_sourced_and_is_a_working_configuration() -> None:
    import subprocess

    from tests.commands import REPO_ROOT

    shell = subprocess.run(
        ["sh", "-c", "set -a; . ./.env.example; set +a; env -0"],
        cwd=REPO_ROOT, capture_output=True, check=False, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert shell.returncode == 0, shell.stderr
    env = dict(item.split("=", 1) for item in shell.stdout.decode().split("\0") if "=" in item)
    assert env["OMTANKE_DEVELOPER_NAME"] == "Region Halland"
    settings = Settings.from_env(env)
    assert (settings.host, settings.auth_enabled) == ("127.0.0.1", False)
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "the path of a JSON file of people" in readme
