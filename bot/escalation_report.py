"""What the coordinators read on the server: `omtanke escalations` and `omtanke gaps`.

- `escalations`: every question users passed on, with status, age, asker and answer
  (`--open`: only the unanswered; `--json`: the stored records, one per line, with their status);
  `--knowledge-draft FILE`: the answered ones as draft knowledge-base entries for review.
- `gaps`: 👎 answers (the feedback log) and passed-on questions, counted by the nearest
  knowledge entry (the knowledge base's own ranking), so the coordinators see what to add.

Both read a snapshot of the data folder (bot.backends.open_checked), so they also run while the
service does. User text on a terminal is escaped (bot.logsafe): never obeyed.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.backends import data_source, open_checked
from bot.logsafe import escape_controls, json_safe
from bot.settings import Settings
from knowledge.kb import KnowledgeBase
from presentation.texts import Texts
from rug.escalations import ANSWERED, HANDLED, OPEN, status_of
from storage.errors import StoreError

Row = dict[str, Any]
# Column widths of the escalations table: asked, status, age, asker (the question follows).
_WIDTHS = (17, 10, 7, 21)
_GAP_LABEL = 47


async def _read(settings: Settings) -> tuple[list[Row], list[Row]]:
    """The escalations (oldest first) and the feedback votes, from a checked snapshot."""
    records = await open_checked(data_source(settings))
    try:
        escalations = await records.escalations.all()
        feedback = await records.feedback.all()
    finally:
        await records.close()
    escalations.sort(key=lambda r: (str(r.get("at", "")), str(r.get("id", ""))))
    return escalations, feedback


def _load_kb(settings: Settings) -> KnowledgeBase:
    from bot.services import load_directories, load_knowledge

    groups, _rug, _admins = load_directories(settings)
    return load_knowledge(groups)


def _age(at: str, now: datetime, texts: Texts) -> str:
    try:
        then = datetime.fromisoformat(at)
    except ValueError:
        return "?"
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    seconds = max(0, int((now - then).total_seconds()))
    if seconds >= 86400:
        return texts.get("cli.escalations.age.days", n=seconds // 86400)
    if seconds >= 3600:
        return texts.get("cli.escalations.age.hours", n=seconds // 3600)
    return texts.get("cli.escalations.age.minutes", n=seconds // 60)


def _columns(texts: Texts, key: str) -> list[str]:
    return re.split(r"\s{2,}", texts.get(key).strip())


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    padded = [cell[: width - 1].ljust(width) for cell, width in zip(cells, widths, strict=False)]
    return "".join(padded) + "".join(cells[len(widths) :])


def _when(value: Any) -> str:
    return str(value or "")[:16].replace("T", " ")


def run_escalations(
    settings: Settings,
    *,
    only_open: bool,
    as_json: bool,
    draft: Path | None,
    stdout: TextIO,
    stderr: TextIO,
    texts: Texts,
    now: datetime | None = None,
) -> int:
    """`omtanke escalations`; 0, or 1 when the data cannot be read."""
    try:
        rows, _feedback = asyncio.run(_read(settings))
    except StoreError as error:
        stderr.write(texts.get("cli.cannot_read_data", error=error) + "\n")
        return 1
    if draft is not None:
        return _write_drafts(settings, rows, draft, stdout, texts)
    if only_open:
        rows = [r for r in rows if status_of(r) == OPEN]
    if as_json:
        for row in rows:
            line = json.dumps({**row, "status": status_of(row)}, ensure_ascii=False)
            stdout.write(json_safe(line) + "\n")
        return 0
    if not rows:
        key = "cli.no_open_escalations" if only_open else "cli.no_escalations"
        stdout.write(texts.get(key) + "\n")
        return 0
    moment = now or datetime.now(UTC)
    stdout.write(_line(_columns(texts, "cli.escalations.columns"), _WIDTHS) + "\n")
    for row in rows:
        status = status_of(row)
        cells = [
            _when(row.get("at")),
            texts.get(f"cli.escalations.status.{status}"),
            _age(str(row.get("at", "")), moment, texts),
            str(row.get("name") or row.get("user") or ""),
            str(row.get("question", "")),
        ]
        # User text on a terminal: escapes and line breaks are shown, never obeyed.
        stdout.write(escape_controls(_line(cells, _WIDTHS)) + "\n")
        by = str(row.get("answered_by") or "–")
        if status == ANSWERED:
            line = texts.get(
                "cli.escalations.answer",
                by=by,
                when=_when(row.get("answered_at")),
                answer=row.get("answer", ""),
            )
            stdout.write(escape_controls(line) + "\n")
        elif status == HANDLED and row.get("answered_at"):
            when = _when(row.get("answered_at"))
            line = texts.get("cli.escalations.handled_by", by=by, when=when)
            stdout.write(escape_controls(line) + "\n")
    return 0


def _nearest(kb: KnowledgeBase, question: str) -> str | None:
    """The entry the knowledge base ranks first for the question; None when a rule declines it
    before ranking (off topic, a patient, medicine …)."""
    evidence = kb.evidence(question)
    return evidence[0] if evidence else None


def _write_drafts(
    settings: Settings, rows: list[Row], path: Path, stdout: TextIO, texts: Texts
) -> int:
    """The answered questions as draft entries: the question as a phrasing, the answer as a
    draft answer, the nearest existing entry named (add the phrasing there, or a new entry)."""
    kb = _load_kb(settings)
    entries = []
    for row in rows:
        if status_of(row) != ANSWERED or not row.get("answer"):
            continue
        question = str(row["question"])
        nearest = _nearest(kb, question)
        entries.append(
            {
                "id": f"draft_{str(row['id'])[-8:]}",
                "draft": True,
                "title": question,
                "answer": str(row["answer"]),
                "source": texts.get(
                    "cli.knowledge_draft.source",
                    by=row.get("answered_by", ""),
                    when=str(row.get("answered_at", ""))[:10],
                ),
                "keywords": [],
                "phrasings": [question],
                "nearest_entry": nearest,
                "nearest_title": kb.entry(nearest).title if nearest else None,
                "escalation": row["id"],
                "locale": row.get("locale", "sv"),
            }
        )
    document = {"draft": True, "note": texts.get("cli.knowledge_draft.note"), "entries": entries}
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    stdout.write(texts.get("cli.knowledge_draft.done", count=len(entries), path=path) + "\n")
    return 0


@dataclass
class Gap:
    """One knowledge entry (or none) with what pointed at it."""

    entry: str | None
    title: str | None
    thumbs_down: int = 0
    thumbs_up: int = 0
    escalated: int = 0
    questions: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """👎 plus passed-on questions: what the coordinators should look at."""
        return self.thumbs_down + self.escalated


def gaps(kb: KnowledgeBase, escalations: list[Row], feedback: list[Row]) -> list[Gap]:
    """👎 votes by their entry and passed-on questions by their nearest entry, most first."""
    known = {e.id: e for e in kb.entries}
    found: dict[str | None, Gap] = {}

    def gap(entry_id: str | None) -> Gap:
        if entry_id not in found:
            title = known[entry_id].title if entry_id in known else None
            found[entry_id] = Gap(entry_id, title)
        return found[entry_id]

    for vote in feedback:
        topic = str(vote.get("topic", ""))
        if topic not in known:
            continue
        if vote.get("helpful"):
            # Counted only where there are also complaints (below): 👍 alone is no gap.
            gap(topic).thumbs_up += 1
        else:
            gap(topic).thumbs_down += 1
    for row in escalations:
        question = str(row.get("question", ""))
        item = gap(_nearest(kb, question))
        item.escalated += 1
        item.questions.append(question)
    rows = [g for g in found.values() if g.total]
    return sorted(rows, key=lambda g: (-g.total, -g.thumbs_down, g.entry or "~"))


def run_gaps(
    settings: Settings, *, as_json: bool, stdout: TextIO, stderr: TextIO, texts: Texts
) -> int:
    """`omtanke gaps`; 0, or 1 when the data cannot be read."""
    try:
        escalations, feedback = asyncio.run(_read(settings))
    except StoreError as error:
        stderr.write(texts.get("cli.cannot_read_data", error=error) + "\n")
        return 1
    rows = gaps(_load_kb(settings), escalations, feedback)
    if as_json:
        for g in rows:
            record = {
                "entry": g.entry,
                "title": g.title,
                "thumbs_down": g.thumbs_down,
                "thumbs_up": g.thumbs_up,
                "escalated": g.escalated,
                "total": g.total,
                "questions": g.questions,
            }
            stdout.write(json_safe(json.dumps(record, ensure_ascii=False)) + "\n")
        return 0
    if not rows:
        stdout.write(texts.get("cli.gaps.none") + "\n")
        return 0
    names = _columns(texts, "cli.gaps.columns")
    stdout.write(names[0].ljust(_GAP_LABEL) + "   ".join(names[1:]) + "\n")
    for g in rows:
        label = f"{g.entry} – {g.title}" if g.entry else texts.get("cli.gaps.no_entry")
        if len(label) >= _GAP_LABEL:
            label = label[: _GAP_LABEL - 2] + "…"
        counts = f"{g.thumbs_down:>2}   {g.escalated:>6}   {g.total:>6}"
        stdout.write(escape_controls(label.ljust(_GAP_LABEL) + counts) + "\n")
        for question in g.questions:
            stdout.write(escape_controls(f"    – {question}") + "\n")
    return 0
