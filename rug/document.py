"""A proposal as RUG reads it: the skallkrav checklist, the e-mail text and the Word file.

Pure and synchronous: no botbuilder, no I/O except building the Word document in memory.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from domain.proposal import Proposal
from knowledge.skallkrav import SKALLKRAV_TITLES, CheckContext, check_proposal
from presentation.proposal_view import sections
from presentation.texts import Texts

def checklist(proposal: Proposal, context: CheckContext) -> list[tuple[bool, str]]:
    """The four skallkrav as (met, line) pairs."""
    result = check_proposal(proposal, context)
    return [
        (
            item.met,
            f"{'✔' if item.met else '✖'} {item.number}. "
            f"{SKALLKRAV_TITLES[item.number]} – {item.message}",
        )
        for item in result.items
    ]


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


def proposals_docx(proposals: Iterable[Proposal], texts: Texts) -> bytes:
    """A Word document with each proposal under its title, fields in the template's order."""
    from docx import Document  # python-docx is only needed for the attachment and the export

    document = Document()
    first = True
    for proposal in proposals:
        if not first:
            document.add_page_break()
        first = False
        document.add_heading(f"{proposal.id} {proposal.title}".strip(), level=1)
        status = texts.get(f"status.{proposal.status}", "sv")
        document.add_paragraph(texts.get("rug.doc.status", "sv", status=status))
        if proposal.decision is not None:
            d = proposal.decision
            document.add_paragraph(
                texts.get(
                    "rug.doc.decision",
                    "sv",
                    outcome=texts.get(f"status.{d.outcome}", "sv"),
                    by=d.by,
                    when=d.at[:10],
                    motivation=d.motivation or texts.get("proposal.not_given", "sv"),
                )
            )
        for section in sections(proposal, texts)[1:]:
            document.add_heading(section.label, level=2)
            for line in section.value.split("\n"):
                document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
