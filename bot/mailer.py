"""The optional e-mail copy of a proposal to RUG's mailbox, with the proposal as a Word file."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from bot.settings import SmtpSettings
from domain.proposal import Proposal
from knowledge.skallkrav import CheckContext
from presentation.texts import Texts
from rug.checklist import checklist
from rug.document import mail_text, proposals_docx

DOCX_TYPE = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
SMTP_TIMEOUT_SECONDS = 15.0


def attachment_name(proposal: Proposal) -> str:
    """A safe file name such as OH-2026-0001.docx."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", proposal.id or "forslag") + ".docx"


def build_message(
    smtp: SmtpSettings,
    proposal: Proposal,
    texts: Texts,
    context: CheckContext,
    reason: str = "forwarded",
) -> EmailMessage:
    """The e-mail: readable Swedish text, and the proposal attached as a Word document."""
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = smtp.recipient
    message["Subject"] = texts.get(
        f"rug.mail.subject.{reason}", "sv", id=proposal.id, title=proposal.title
    )
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="omtanke.local")
    message.set_content(mail_text(proposal, texts, checklist(proposal, context, texts), reason))
    message.add_attachment(
        proposals_docx([proposal], texts, context),
        maintype=DOCX_TYPE[0],
        subtype=DOCX_TYPE[1],
        filename=attachment_name(proposal),
    )
    return message


async def send_message(smtp: SmtpSettings, message: EmailMessage) -> None:
    """Deliver one message; raises on any failure so the outbox can retry."""
    await aiosmtplib.send(
        message,
        hostname=smtp.host,
        port=smtp.port,
        username=smtp.username or None,
        password=smtp.password or None,
        start_tls=smtp.starttls,
        timeout=SMTP_TIMEOUT_SECONDS,
    )
