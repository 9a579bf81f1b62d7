"""`omtanke export`: the portfolio of proposals as CSV, JSON or Word, with a small summary table.

Run on the server by the coordinators (admins): whoever can run it can read the data folder.
It reads a snapshot of the folder (storage.snapshot), so it works while the service runs.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from domain.proposal import Proposal
from knowledge.organisations import understand_organisations
from presentation.texts import Texts
from rug.document import proposals_docx
from storage.errors import StoreError
from storage.snapshot import open_snapshot

FORMATS = ("csv", "json", "docx")
CSV_COLUMNS = (
    "id",
    "title",
    "status",
    "created_at",
    "updated_at",
    "initiator_name",
    "initiator_organisation",
    "organisations",
    "target_groups",
    "goal_properties",
    "success_factors",
    "rug_contact",
    "endorsed_by",
    "decision",
    "decided_by",
    "decided_at",
    "decision_motivation",
)


async def load_proposals(data_dir: Path) -> list[Proposal]:
    """Every submitted proposal in the data folder, oldest first (read-only, every record
    checked as at start-up; StoreError names a damaged one)."""
    records = await open_snapshot(data_dir)
    try:
        return await records.proposals.all()
    finally:
        await records.close()


def canonical_organisations(proposal: Proposal) -> list[str]:
    """The organisations as the seven canonical names (unrecognised text kept as written)."""
    names: list[str] = []
    for match in understand_organisations(proposal.organisations):
        name = match.organisation or match.text
        if name not in names:
            names.append(name)
    return names


def to_json(proposals: Sequence[Proposal]) -> str:
    """All proposals in the export format, with status, decision and history."""
    return json.dumps(
        [
            {**p.to_export(), "created_at": p.created_at, "updated_at": p.updated_at}
            for p in proposals
        ],
        ensure_ascii=False,
        indent=2,
    )


def to_csv(proposals: Sequence[Proposal]) -> str:
    """One row per proposal; lists joined with "; "."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for p in proposals:
        d = p.decision
        writer.writerow(
            [
                p.id,
                p.title,
                p.status,
                p.created_at,
                p.updated_at,
                p.initiator.name,
                p.initiator.organisation,
                "; ".join(canonical_organisations(p)),
                "; ".join(p.target_groups),
                "; ".join(p.goal_properties),
                "; ".join(p.success_factors),
                p.rug_contact,
                p.rug_endorsement.name if p.rug_endorsement else "",
                d.outcome if d else "",
                d.by if d else "",
                d.at if d else "",
                d.motivation if d else "",
            ]
        )
    return out.getvalue()


def counts(proposals: Sequence[Proposal]) -> dict[str, Counter[str]]:
    """How many proposals involve each organisation, target group and success factor."""
    result: dict[str, Counter[str]] = {
        "Organisation": Counter(),
        "Målgrupp": Counter(),
        "Framgångsfaktor": Counter(),
    }
    for p in proposals:
        result["Organisation"].update(set(canonical_organisations(p)))
        result["Målgrupp"].update(set(p.target_groups))
        result["Framgångsfaktor"].update(set(p.success_factors))
    return result


def summary_table(proposals: Sequence[Proposal]) -> str:
    """The counts as a small aligned text table, most frequent first."""
    rows: list[tuple[str, str, str]] = []
    for kind, counter in counts(proposals).items():
        for name, number in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
            rows.append((kind, name, str(number)))
    header = ("Vad", "Namn", "Antal")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    lines = [f"Förslag totalt: {len(proposals)}", ""]
    for row in [header, *rows]:
        lines.append(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}")
        if row is header:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_export(data_dir: Path, fmt: str, out: Path | None, stdout: TextIO, stderr: TextIO) -> int:
    """Write the export (to --out, or CSV/JSON to stdout) and print the summary table."""
    if fmt not in FORMATS:
        stderr.write(f"Okänt format {fmt!r}: välj {', '.join(FORMATS)}.\n")
        return 2
    try:
        proposals = asyncio.run(load_proposals(data_dir))
    except StoreError as error:
        stderr.write(f"Kunde inte läsa datamappen: {error}\n")
        return 1
    if fmt == "docx":
        target = out or Path("omtanke-export.docx")
        target.write_bytes(proposals_docx(proposals, Texts.load()))
    else:
        text = to_csv(proposals) if fmt == "csv" else to_json(proposals) + "\n"
        if out is None:
            stdout.write(text)
        else:
            out.write_text(text, encoding="utf-8")
    # With the data on stdout, the table goes to stderr so the data stays machine-readable.
    table_stream = stderr if out is None and fmt != "docx" else stdout
    table_stream.write(summary_table(proposals) + "\n")
    if out is not None or fmt == "docx":
        stdout.write(f"Skrev {len(proposals)} förslag till {out or 'omtanke-export.docx'}.\n")
    return 0
