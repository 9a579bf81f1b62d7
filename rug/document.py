"""A proposal as RUG reads it: the e-mail text and the Word file (rug.checklist: the skallkrav).

Pure and synchronous: no botbuilder, no I/O except building the Word document in memory.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from domain.proposal import Proposal, Status
from domain.transitions import EventKind
from knowledge.skallkrav import CheckContext
from presentation.proposal_view import sections
from presentation.texts import Texts
from rug.checklist import checklist


def mail_text(
    proposal: Proposal, texts: Texts, checks: Sequence[tuple[bool, str]], reason: str
) -> str:
    """The e-mail body: plain Swedish, the template's fields in order, then the skallkrav."""
    lines = [
        texts.get(f"rug.mail.intro.{reason}", "sv", id=proposal.id, title=proposal.title),
        "",
    ]
    for section in sections(proposal, texts):
        lines += [f"{section.label}:", section.value, ""]
    lines.append(texts.get("proposal.summary.checklist", "sv") + ":")
    lines += [line for _met, line in checks]
    lines += ["", texts.get("rug.mail.outro", "sv")]
    return "\n".join(lines)


# The note of an endorsement request sent to the whole RUG channel rather than to one member.
CHANNEL_REQUEST = "rug-channel"


def asked_members(proposal: Proposal) -> list[str]:
    """Every RUG member the proposal's endorsement was requested from, in order."""
    names: list[str] = []
    for event in proposal.history:
        if event.action != EventKind.ENDORSEMENT_REQUESTED.value:
            continue
        if event.note and event.note != CHANNEL_REQUEST:
            if event.note not in names:
                names.append(event.note)
    return names


def record_lines(proposal: Proposal, texts: Texts, locale: str = "sv") -> list[str]:
    """Who was asked, who endorsed and who decided, as lines for documents and exports."""
    lines = [
        texts.get("rug.doc.status", locale, status=texts.get(f"status.{proposal.status}", locale))
    ]
    asked = asked_members(proposal)
    if asked:
        lines.append(texts.get("rug.doc.asked", locale, names=", ".join(asked)))
    for event in proposal.history:
        if event.action == EventKind.ENDORSEMENT_REQUESTED.value and event.note == CHANNEL_REQUEST:
            lines.append(texts.get("rug.doc.asked_channel", locale, when=event.at[:10]))
    endorsement = proposal.rug_endorsement
    if endorsement is not None:
        lines.append(
            texts.get("rug.doc.endorsed", locale, name=endorsement.name, when=endorsement.at[:10])
        )
    elif proposal.status != Status.DRAFT:
        lines.append(texts.get("rug.doc.not_endorsed", locale))
    for event in proposal.history:
        if event.action == EventKind.ENDORSEMENT_DECLINED.value:
            lines.append(texts.get("rug.doc.declined", locale, name=event.who, when=event.at[:10]))
    request = proposal.complement_request
    if request is not None and proposal.status == Status.MORE_INFO_REQUESTED:
        lines.append(
            texts.get(
                "rug.doc.complement",
                locale,
                by=request.by,
                when=request.at[:10],
                motivation=request.motivation,
            )
        )
    if proposal.decision is not None:
        d = proposal.decision
        lines.append(
            texts.get(
                "rug.doc.decision",
                locale,
                outcome=texts.get(f"status.{d.outcome}", locale),
                by=d.by,
                when=d.at[:10],
                motivation=d.motivation or texts.get("proposal.not_given", locale),
            )
        )
    return lines


def proposals_docx(
    proposals: Sequence[Proposal],
    texts: Texts,
    context: CheckContext | None = None,
    summary: Sequence[tuple[str, Sequence[tuple[str, int]]]] = (),
    now: datetime | None = None,
) -> bytes:
    """A Word document: a title and date, an optional summary of counts, then each proposal
    under its title with who was asked, endorsed and decided, the skallkrav (when `context`
    is given) and the template's fields in order."""
    from docx import Document  # python-docx is only needed for the attachment and the export

    document = Document()
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    document.add_heading(_xml_text(texts.get("rug.doc.title", "sv")), level=0)
    document.add_paragraph(texts.get("rug.doc.created", "sv", when=when, n=len(proposals)))
    for heading, counts in summary:
        document.add_heading(_xml_text(heading), level=2)
        for name, number in counts:
            document.add_paragraph(_xml_text(f"{name}: {number}"), style="List Bullet")
    for proposal in proposals:
        document.add_page_break()
        document.add_heading(_xml_text(f"{proposal.id} {proposal.title}".strip()), level=1)
        for line in record_lines(proposal, texts):
            document.add_paragraph(_xml_text(line))
        if context is not None:
            document.add_heading(_xml_text(texts.get("proposal.summary.checklist", "sv")), level=2)
            for _met, line in checklist(proposal, context, texts):
                document.add_paragraph(_xml_text(line))
        for section in sections(proposal, texts)[1:]:
            document.add_heading(_xml_text(section.label), level=2)
            for line in section.value.split("\n"):
                document.add_paragraph(_xml_text(line))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# What XML 1.0 cannot hold (python-docx refuses it with ValueError): C0 controls but tab, line
# feed and carriage return, lone surrogates, U+FFFE/U+FFFF. A proposal's text may carry one
# (a control character typed or sent in a card); it is written as its escape, so the document
# is still made and shows what was there.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)
