"""The RUG workflow over the real HTTP endpoint: endorsement, RUG channel, decisions, komplettering.

The app runs on 127.0.0.1 with a local stand-in for the Bot Connector that records proactive
messages (POST) and card updates (PUT); every step is followed by a restart on the same data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.settings import Settings, SmtpSettings
from domain.proposal import Status
from knowledge.kb import KnowledgeBase
from presentation.texts import Texts
from tests.builders import card_actions, card_of, card_texts, teams_message, wait_until
from tests.commands import free_port
from tests.rug_scenario import (
    ADA,
    ANNA,
    CHANNEL,
    ROLF,
    RUT,
    complete_proposal,
    fill_in_the_dialog,
    meet_everyone,
    outbox_drained,
    submit_directly,
)
from tests.service import Service


async def test_whole_path_from_skicka_in_to_bifall_with_komplettering_and_restarts(
    service: Service,
) -> None:
    """Skicka in → förankring → RUG card → komplettering → resubmit → bifall; restart between."""
    c = service.connector
    await meet_everyone(service)
    assert "Klart! Den här kanalen är nu RUG:s kanal." in c.texts_to(f"{CHANNEL};messageid=111")[-1]

    # The dialog's "Skicka in" over HTTP.
    assert await service.click(ANNA, await fill_in_the_dialog(service)) == 201
    pid = (await service.services.records.proposals.for_initiator("aad-anna"))[0].id
    assert (await service.proposal(pid)).status == Status.AWAITING_ENDORSEMENT
    requests = c.cards_to("a:personal-aad-rut", "endorse")
    assert len(requests) == 1
    assert f"{pid} Trygg hemgång" in card_texts(requests[0][0])
    await service.restart()

    # Someone outside RUG clicks the endorsement card: refused, logged, nothing changes.
    endorse = {"action": "endorse", "proposal": pid, "choice": "yes", "comment": ""}
    assert await service.click(ANNA, endorse) == 201
    assert "Det här kan bara deltagare i RUG" in c.texts_to("a:personal-aad-anna")[-1]
    assert (await service.proposal(pid)).rug_endorsement is None
    assert "endorsement_refused" in await service.audit(pid)
    await service.restart()

    # Rut endorses: her card updates in place, Anna is told, the case goes to the channel.
    endorse["comment"] = "Bra idé!"
    assert await service.click(RUT, endorse, reply_to=requests[0][1]) == 201
    proposal = await service.proposal(pid)
    assert proposal.status == Status.WITH_RUG
    assert proposal.rug_endorsement is not None and proposal.rug_endorsement.name == "Rut Rugsson"
    assert "Förankrat av Rut Rugsson" in "\n".join(card_texts(card_of(c.updates()[-1])))
    anna = c.texts_to("a:personal-aad-anna")
    assert "Ditt förslag " + pid + " är förankrat" in anna[-1]
    assert "Kommentar: Bra idé!" in anna[-1]
    cases = c.cards_to(CHANNEL, "decide")
    assert len(cases) == 1
    case_texts = "\n".join(card_texts(cases[0][0]))
    assert "Initiativtagare: Anna Andersson" in case_texts
    assert "✔ 4. Godkänt av minst en deltagare i RUG" in case_texts
    assert [a["title"] for a in card_actions(cases[0][0])] == [
        "Bifall",
        "Avslag",
        "Begär komplettering",
    ]
    await service.restart()

    # Rolf asks for more about the follow-up.
    more = {
        "action": "decide",
        "proposal": pid,
        "outcome": "komplettering_begard",
        "motivation": "Beskriv hur ni följer upp tryggheten.",
        "fields": "follow_up",
    }
    conv = {"conversation_id": f"{CHANNEL};messageid={cases[0][1]}", "conversation_type": "channel"}
    assert await service.click(ROLF, more, reply_to=cases[0][1], **conv) == 201
    assert (await service.proposal(pid)).status == Status.MORE_INFO_REQUESTED
    notice = c.last_card_to("a:personal-aad-anna")
    assert "RUG:s motivering: Beskriv hur ni följer upp tryggheten." in card_texts(notice)
    assert "Det här behöver kompletteras: Uppföljning." in card_texts(notice)
    complement = [a["data"] for a in card_actions(notice) if a["data"]["action"] == "confirm"]
    await service.restart()

    # Anna reopens it at the follow-up, answers, and submits: back to RUG.
    assert await service.click(ANNA, complement[0]) == 201
    assert "Nu kompletterar du förslaget" in c.texts_to("a:personal-aad-anna")[-2]
    assert (
        await service.say(ANNA, "Vi frågar personerna efter en månad hur trygga de känt sig.")
        == 201
    )
    summary = card_of(c.messages()[-1])
    submit = next(a["data"] for a in card_actions(summary) if a["data"]["action"] == "submit")
    assert await service.click(ANNA, submit) == 201
    proposal = await service.proposal(pid)
    assert proposal.status == Status.WITH_RUG
    assert proposal.follow_up == "Vi frågar personerna efter en månad hur trygga de känt sig."
    assert [e.action for e in proposal.history][-2:] == ["completed", "forwarded"]
    assert "Kompletteringen av " + pid in c.texts_to("a:personal-aad-anna")[-1]
    cases = c.cards_to(CHANNEL, "decide")
    assert len(cases) == 2
    await service.restart()

    # The first card is stale now.
    approve = {"action": "decide", "proposal": pid, "outcome": "bifallen", "motivation": "Bra!"}
    assert await service.click(ROLF, approve, reply_to=cases[0][1], **conv) == 201
    assert "inaktuellt" in c.texts_to(f"{CHANNEL};messageid={cases[0][1]}")[-1]
    assert (await service.proposal(pid)).status == Status.WITH_RUG

    # Bifall on the new card: decided, the card shows it, Anna hears the next step.
    conv["conversation_id"] = f"{CHANNEL};messageid={cases[1][1]}"
    assert await service.click(ROLF, approve, reply_to=cases[1][1], **conv) == 201
    proposal = await service.proposal(pid)
    assert proposal.status == Status.APPROVED
    assert proposal.decision is not None
    assert (proposal.decision.outcome, proposal.decision.by) == ("bifallen", "Rolf Rugman")
    assert "Beslut: bifallen av Rolf Rugman" in "\n".join(card_texts(card_of(c.updates()[-1])))
    assert card_actions(card_of(c.updates()[-1])) == []
    anna = c.texts_to("a:personal-aad-anna")[-1]
    assert Texts.load().get("rug.notify.bifallen.next") in anna
    assert "RUG:s motivering: Bra!" in anna
    await service.restart()

    # A second click: refused, the card says it is decided, nothing changes.
    reject = {**approve, "outcome": "avslagen", "motivation": "Nej"}
    assert await service.click(ROLF, reject, reply_to=cases[1][1], **conv) == 201
    assert "redan beslutat" in c.texts_to(conv["conversation_id"])[-1]
    assert "Beslut: bifallen" in "\n".join(card_texts(card_of(c.updates()[-1])))
    assert (await service.proposal(pid)).status == Status.APPROVED
    actions = await service.audit(pid)
    assert actions.count("decided") == 1
    assert actions[:3] == ["submitted", "endorsement_requested", "endorsement_refused"]


async def test_avslag_needs_a_motivation_and_non_members_cannot_decide(service: Service) -> None:
    """No motivation: nothing changes. A non-member: refused and audited. Then avslag."""
    c = service.connector
    await meet_everyone(service)
    pid = (await submit_directly(service, complete_proposal(service, "Digital hemgång"))).id
    endorse = {"action": "endorse", "proposal": pid, "choice": "yes"}
    assert await service.click(RUT, endorse) == 201
    card_id = c.cards_to(CHANNEL, "decide")[0][1]
    conv = {"conversation_id": f"{CHANNEL};messageid={card_id}", "conversation_type": "channel"}
    reject = {"action": "decide", "proposal": pid, "outcome": "avslagen"}

    assert await service.click(ADA, {**reject, "motivation": "x"}, card_id, **conv) == 201
    assert "Det här kan bara deltagare i RUG" in c.texts_to(conv["conversation_id"])[-1]
    assert await service.click(ROLF, reject, card_id, **conv) == 201
    assert "Skriv en motivering" in c.texts_to(conv["conversation_id"])[-1]
    assert (await service.proposal(pid)).status == Status.WITH_RUG
    assert "decision_refused" in await service.audit(pid)

    assert (
        await service.click(ROLF, {**reject, "motivation": "Finns redan."}, card_id, **conv) == 201
    )
    proposal = await service.proposal(pid)
    assert proposal.status == Status.REJECTED
    assert proposal.decision is not None and proposal.decision.motivation == "Finns redan."
    assert "RUG har avslagit ditt förslag" in c.texts_to("a:personal-aad-anna")[-1]


async def test_inte_nu_and_no_contact_wait_for_endorsement(service: Service) -> None:
    """'Inte nu' keeps the status and tells Anna; without a contact the channel is asked."""
    c = service.connector
    await meet_everyone(service)
    pid = (await submit_directly(service, complete_proposal(service, "Hälsosamtal"))).id
    assert await service.click(RUT, {"action": "endorse", "proposal": pid, "choice": "no"}) == 201
    assert (await service.proposal(pid)).status == Status.AWAITING_ENDORSEMENT
    assert "svarat ”Inte nu”" in c.texts_to("a:personal-aad-anna")[-1]

    before = len(c.cards_to(CHANNEL, "endorse"))
    lone = await submit_directly(service, complete_proposal(service, "Utan kontakt", contact=""))
    assert len(c.cards_to(CHANNEL, "endorse")) == before + 1
    assert await service.say(ANNA, "Mina förslag") == 201
    assert (
        f"{lone.id} ”Utan kontakt” – väntar på förankring" in c.texts_to("a:personal-aad-anna")[-1]
    )


async def test_endorsement_in_channel_with_mention_when_no_personal_chat(
    service: Service,
) -> None:
    """Rolf has no chat with the bot: his request goes to the channel with an @mention."""
    await meet_everyone(service)
    pid = (await submit_directly(service, complete_proposal(service, "X", "Rolf Rugman"))).id
    card, _ = service.connector.cards_to(CHANNEL, "endorse")[0]
    assert card["msteams"]["entities"][0]["mentioned"] == {"id": "aad-rolf", "name": "Rolf Rugman"}
    assert any("<at>Rolf Rugman</at>" in t for t in card_texts(card))
    assert pid in "\n".join(card_texts(card))


async def test_rug_cases_for_members_and_admins_only(service: Service) -> None:
    """'Ärenden hos RUG' lists open proposals oldest first; others are refused politely."""
    await meet_everyone(service)
    first = await submit_directly(service, complete_proposal(service, "Första"))
    second = await submit_directly(service, complete_proposal(service, "Andra"))
    for who in (ADA, RUT):
        assert await service.say(who, "ärenden hos RUG") == 201
        lines = service.connector.texts_to(f"a:personal-{who['aadObjectId']}")[-1]
        assert lines.index(first.id) < lines.index(second.id)
    assert await service.say(ANNA, "ärenden hos RUG") == 201
    assert "kan bara deltagare i RUG" in service.connector.texts_to("a:personal-aad-anna")[-1]


async def test_channel_registered_when_a_member_adds_the_bot(service: Service) -> None:
    """conversationUpdate in a team channel, installed by a RUG member, registers the channel."""
    body = teams_message(
        service_url=service.connector.url,
        sender=ROLF,
        conversation_id=CHANNEL,
        conversation_type="channel",
    )
    body.update(type="conversationUpdate", membersAdded=[{"id": "28:omtanke-bot"}])
    assert await service.post(body) == 201
    await service.restart()
    reference = await service.services.records.references.rug_channel()
    assert reference is not None and reference["conversation"]["id"] == CHANNEL
    assert "RUG:s kanal" in service.connector.texts_to(CHANNEL)[-1]


async def test_adding_the_bot_to_another_channel_does_not_move_rugs_channel(
    service: Service,
) -> None:
    """A RUG member adds the bot to a second channel (say the coordinators'): RUG's channel
    stays where it is, the bot introduces itself there without claiming it, and only
    "registrera RUG-kanal" typed there moves it."""
    other = "19:samordnare@thread.tacv2"

    def added_by(who: dict[str, Any], conversation_id: str) -> dict[str, Any]:
        body = teams_message(
            service_url=service.connector.url,
            sender=who,
            conversation_id=conversation_id,
            conversation_type="channel",
        )
        body.update(type="conversationUpdate", membersAdded=[{"id": "28:omtanke-bot"}])
        return body

    async def rug_channel() -> str:
        reference = await service.services.records.references.rug_channel()
        assert reference is not None
        return str(reference["conversation"]["id"])

    assert await service.post(added_by(ROLF, CHANNEL)) == 201
    assert await service.post(added_by(RUT, other)) == 201
    await service.restart()
    assert await rug_channel() == CHANNEL
    intro = service.connector.texts_to(other)[-1]
    assert "RUG:s kanal" not in intro.replace("om det är RUG:s kanal", "")
    assert "registrera RUG-kanal" in intro
    # Installed again in RUG's own channel: still RUG's, and it says so.
    assert await service.post(added_by(RUT, CHANNEL)) == 201
    assert await rug_channel() == CHANNEL
    assert "Den här kanalen är nu RUG:s kanal" in service.connector.texts_to(CHANNEL)[-1]
    # Moving it is a deliberate act.
    assert (
        await service.say(
            RUT,
            "registrera RUG-kanal",
            conversation_id=f"{other};messageid=7",
            conversation_type="channel",
        )
        == 201
    )
    assert await rug_channel() == other


async def test_message_kept_and_retried_when_the_connector_is_down(service: Service) -> None:
    """The connector fails: the notice stays in the outbox and goes out when it is back."""
    await meet_everyone(service)
    pid = (await submit_directly(service, complete_proposal(service, "Nere"))).id
    service.connector.fail_with = 503
    assert await service.click(RUT, {"action": "endorse", "proposal": pid, "choice": "yes"}) == 201
    outbox = service.services.records.outbox
    assert len(await outbox.pending()) >= 1
    service.connector.fail_with = None
    await wait_until(lambda: outbox_drained(service))
    assert await outbox.pending() == []
    assert any("är förankrat" in t for t in service.connector.texts_to("a:personal-aad-anna"))


async def test_email_with_word_attachment_retried_until_the_server_is_up(
    settings: Settings, knowledge: KnowledgeBase
) -> None:
    """SMTP down: kept and retried; after a restart with the server up, delivered with .docx."""
    import io
    from email import message_from_bytes

    from aiosmtpd.controller import Controller
    from docx import Document


    class Inbox:
        def __init__(self) -> None:
            self.messages: list[bytes] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.messages.append(envelope.content)
            return "250 OK"

    port = free_port()
    smtp = SmtpSettings(
        host="127.0.0.1",
        port=port,
        sender="omtanke@example.org",
        recipient="omtankehalland@regionhalland.se",
    )
    mail_settings = Settings(
        data_dir=settings.data_dir,
        port=0,
        rug_members_path=settings.rug_members_path,
        admins_path=settings.admins_path,
        smtp=smtp,
    )
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    async with Service.running(mail_settings, kb=knowledge) as service:
        try:
            await meet_everyone(service)
            pid = (await submit_directly(service, complete_proposal(service, "Mejlat förslag"))).id
            await service.click(RUT, {"action": "endorse", "proposal": pid, "choice": "yes"})
            outbox = service.services.records.outbox

            async def mails() -> list[dict[str, Any]]:
                return [i.data for i in await outbox.pending() if i.data["kind"] == "mail"]

            # Retried while the server is down: poll for the second attempt, no fixed sleep.
            await wait_until(lambda: _retried(mails))
            pending = await mails()
            assert len(pending) == 1 and pending[0]["attempts"] >= 2
            await service.stop()
            controller.start()
            await service.start()
            await wait_until(lambda: bool(inbox.messages))
        finally:
            controller.stop()
    assert len(inbox.messages) == 1
    mail = message_from_bytes(inbox.messages[0])
    assert mail["To"] == "omtankehalland@regionhalland.se"
    assert pid in mail["Subject"]
    parts = list(mail.walk())
    body = next(p for p in parts if p.get_content_type() == "text/plain").get_payload(decode=True)
    text = body.decode("utf-8").replace("\r\n", "\n")
    assert "Uppföljning:\nVi mäter återinskrivningar." in text
    assert "✔ 4. Godkänt av minst en deltagare i RUG" in text
    attachment = next(p for p in parts if p.get_filename() == f"{pid}.docx")
    document = Document(io.BytesIO(attachment.get_payload(decode=True)))
    assert f"{pid} Mejlat förslag" in [p.text for p in document.paragraphs]


async def _retried(mails: Callable[[], Awaitable[list[dict[str, Any]]]]) -> bool:
    found = await mails()
    return bool(found) and found[0]["attempts"] >= 2
