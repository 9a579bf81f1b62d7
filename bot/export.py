"""`omtanke export`: the portfolio of proposals as CSV, JSON or Word, with a small summary table.

Run on the server by the coordinators (admins): whoever can run it can read the data folder.
It reads a snapshot of the folder (storage.snapshot), so it works while the service runs.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from bot.backends import DataSource, open_checked
from bot.logsafe import escape_controls, json_safe
from domain.proposal import Proposal
from knowledge.skallkrav import CheckContext
from presentation.texts import Texts
from rug.document import asked_members, proposals_docx
from rug.portfolio import as_dict, canonical_organisations, portfolio
from storage.errors import StoreError

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
    "endorsement_asked",
    "endorsed_by",
    "decision",
    "decided_by",
    "decided_at",
    "decision_motivation",
)


async def load_proposals(source: DataSource) -> list[Proposal]:
    """Every submitted proposal in the data folder or Azure account, oldest first (read-only,
    every record checked as at start-up; StoreError names a damaged one)."""
    records = await open_checked(source)
    try:
        return await records.proposals.all()
    finally:
        await records.close()


def to_json(proposals: Sequence[Proposal]) -> str:
    """All proposals in the export format, with status, decision and history, and the counts."""
    return json_safe(
        json.dumps(
            {
                "proposals": [
                    {**p.to_export(), "created_at": p.created_at, "updated_at": p.updated_at}
                    for p in proposals
                ],
                "counts": as_dict(portfolio(proposals)),
            },
            ensure_ascii=False,
            indent=2,
        )
    )


# OWASP's rule against CSV injection: a cell a spreadsheet would read as a formula gets a
# leading apostrophe ("=HYPERLINK(…)" in a title is text, not a link that runs). Besides
# OWASP's = + - @ tab and CR: a line feed, and the full-width forms some spreadsheets read
# as the same signs; spaces before them do not make a formula text either.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: object, on_terminal: bool = False) -> object:
    """A CSV cell that no spreadsheet runs as a formula (nor a terminal as an escape)."""
    if not isinstance(value, str):
        return value
    if value.lstrip(" ").startswith(_FORMULA_START):
        value = "'" + value
    return escape_controls(value) if on_terminal else value


def _write_row(writer: Any, row: Sequence[object], on_terminal: bool = False) -> None:
    writer.writerow([safe_cell(cell, on_terminal) for cell in row])


def to_csv(proposals: Sequence[Proposal], on_terminal: bool = False) -> str:
    """One row per proposal; lists joined with "; ". For a terminal, control characters in
    the cells are written as escapes (a line break inside a cell as \\n)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for p in proposals:
        d = p.decision
        _write_row(
            writer,
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
                "; ".join(asked_members(p)),
                p.rug_endorsement.name if p.rug_endorsement else "",
                d.outcome if d else "",
                d.by if d else "",
                d.at if d else "",
                d.motivation if d else "",
            ],
            on_terminal,
        )
    return out.getvalue()


def counts(proposals: Sequence[Proposal], texts: Texts) -> list[tuple[str, list[tuple[str, int]]]]:
    """How many proposals are in each status and involve each organisation, target group and
    success factor, most frequent first: (what, [(name, count)])."""
    figures = portfolio(proposals)
    return [
        (
            texts.get("export.counts.status"),
            [(texts.get(f"status.{s}"), n) for s, n in figures.by_status.items()],
        ),
        (texts.get("export.counts.organisation"), list(figures.by_organisation.items())),
        (texts.get("export.counts.target_group"), list(figures.by_target_group.items())),
        (texts.get("export.counts.success_factor"), list(figures.by_success_factor.items())),
    ]


def counts_csv(proposals: Sequence[Proposal], texts: Texts) -> str:
    """The counts as CSV rows: what, name, count."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("what", "name", "count"))
    for kind, rows in counts(proposals, texts):
        for name, number in rows:
            _write_row(writer, (kind, name, number))
    return out.getvalue()


def summary_table(proposals: Sequence[Proposal], texts: Texts) -> str:
    """The counts as a small aligned text table, most frequent first."""
    rows: list[tuple[str, str, str]] = []
    for kind, found in counts(proposals, texts):
        if kind == texts.get("export.counts.status"):
            continue
        for name, number in found:
            rows.append((kind, escape_controls(name), str(number)))
    header = tuple(texts.get(f"cli.export.{column}") for column in ("what", "name", "count"))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    lines = [texts.get("cli.export.total", count=len(proposals)), ""]
    for row in [header, *rows]:
        lines.append(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}")
        if row is header:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_export(
    data_dir: DataSource,
    fmt: str,
    out: Path | None,
    stdout: TextIO,
    stderr: TextIO,
    context: CheckContext | None = None,
    texts: Texts | None = None,
) -> int:
    """Write the export (to --out, or CSV/JSON to stdout) and print the summary table."""
    texts = texts or Texts.load()
    if fmt not in FORMATS:
        formats = ", ".join(FORMATS)
        stderr.write(texts.get("cli.export.unknown_format", format=fmt, formats=formats) + "\n")
        return 2
    try:
        proposals = asyncio.run(load_proposals(data_dir))
    except StoreError as error:
        stderr.write(texts.get("cli.cannot_read_data", error=error) + "\n")
        return 1
    if fmt == "docx":
        target = out or Path("omtanke-export.docx")
        target.write_bytes(proposals_docx(proposals, texts, context, counts(proposals, texts)))
    else:
        # The data on a terminal: escapes are shown, never obeyed (JSON is safe anywhere).
        on_terminal = out is None and _is_terminal(stdout)
        text = to_csv(proposals, on_terminal) if fmt == "csv" else to_json(proposals) + "\n"
        if out is None:
            stdout.write(text)
        else:
            out.write_text(text, encoding="utf-8")
            if fmt == "csv":
                # The counts beside the rows: one table per file keeps both easy to open.
                counts_path = out.with_name(f"{out.stem}-counts.csv")
                counts_path.write_text(counts_csv(proposals, texts), encoding="utf-8")
    # With the data on stdout, the table goes to stderr so the data stays machine-readable.
    table_stream = stderr if out is None and fmt != "docx" else stdout
    table_stream.write(summary_table(proposals, texts) + "\n")
    if out is not None or fmt == "docx":
        written = out or "omtanke-export.docx"
        stdout.write(texts.get("cli.export.written", count=len(proposals), path=written) + "\n")
    return 0


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
