"""Coverage audit of the seeds: is every statement of the source documents in some answer?

`python -m knowledge.coverage` (part of `make eval`) splits each seed document
(seeds/*.txt, plain-text extracts of slide decks) into its statements – slide lines and
headings, bullets, sentences of the prose, table rows and dates – and reports for each
which entry's Swedish answer carries it. A statement is carried when an answer holds
enough of its words (stems, so inflections meet) and every e-mail address, web address
and date in it; a short one (three words or fewer) must be carried whole.

Some statements are no content to hand out, and are listed as excluded with the reason:
page footers and layout fragments of the extraction, and the names and e-mail addresses
of individual officials (seeds/README.md: only the shared mailbox is content).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.kb import KnowledgeBase
from knowledge.model import Entry
from knowledge.text import STOPWORDS, fold, stem

SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"
SHARED_MAILBOX = "omtankehalland@regionhalland.se"
# A statement of more words is carried by an answer holding this share of them.
CARRIED_SHARE = 0.75
_SHORT = 3

_BULLET = re.compile(r"^\s*(?:[●•▪◦‣]|\d{1,2}\.(?=\s))\s*")
_END = re.compile(r"[.?!:;…]\s*$")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-ZÅÄÖ”\"])")
# Abbreviations that end in a full stop inside a sentence.
_ABBREVIATIONS = re.compile(r"\b(?:t\. ?ex|bl\. ?a|m\. ?m|t\.o\.m|ca|nr|s\.k)\.$", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_FOOTER = re.compile(r"^(?:Region Halland\s*│\s*)?Halland – Bästa livsplatsen(?: \d+)?$")
_MONTHS = {
    "januari": "jan", "februari": "feb", "mars": "mar", "april": "apr", "maj": "maj",
    "juni": "jun", "juli": "jul", "augusti": "aug", "september": "sep", "oktober": "okt",
    "november": "nov", "december": "dec",
}
_MONTH_ABBREVIATIONS = frozenset(_MONTHS.values()) | {"sept"}
_DATE = re.compile(
    r"\b(\d{1,2}) (" + "|".join([*_MONTHS, *sorted(_MONTH_ABBREVIATIONS)]) + r")\b"
)


@dataclass(frozen=True)
class Statement:
    """One statement of a seed document: where it starts and what it says."""

    doc: str
    line: int
    text: str


@dataclass(frozen=True)
class Finding:
    """The audit of one statement: the entry that carries it, or why none needs to."""

    statement: Statement
    entry: str | None
    share: float
    excluded: str | None = None

    @property
    def covered(self) -> bool:
        """Whether an entry carries the statement."""
        return self.entry is not None


@dataclass(frozen=True)
class Audit:
    """The findings for every statement, and the entries without an English answer or title."""

    findings: tuple[Finding, ...]
    without_english: tuple[str, ...] = ()

    @property
    def covered(self) -> list[Finding]:
        return [f for f in self.findings if f.covered]

    @property
    def excluded(self) -> list[Finding]:
        return [f for f in self.findings if f.excluded is not None]

    @property
    def uncovered(self) -> list[Finding]:
        return [f for f in self.findings if not f.covered and f.excluded is None]


# ----- splitting -----------------------------------------------------------------------


def _join(left: str, right: str) -> str:
    """Join two pieces of one statement broken across lines by the extraction."""
    left = left.rstrip()
    right = right.strip()
    if not left:
        return right
    # "HÄLSO-" + "FRÄMJANDE", "omtankehalland@regionhallan" + "d.se"
    if left.endswith("-") and right[:1].isalpha() and not left.endswith(" -"):
        return left[:-1] + right
    if re.search(r"@[\w-]+$", left.split()[-1]):
        return left + right
    return f"{left} {right}"


def split_statements(doc: str, text: str) -> list[Statement]:
    """The statements of one seed document, in order (duplicates removed)."""
    lines = text.replace("\xa0", " ").replace("\t", " ").split("\n")
    pieces: list[tuple[int, str]] = []  # (first line, text)
    current: tuple[int, str] | None = None
    ended_block = False
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip()
        if not line.strip():
            ended_block = current is not None
            continue
        stripped = line.strip()
        starts_new = (
            current is None
            or bool(_BULLET.match(line))
            # A line indented by the extraction starts a new text box.
            or line.startswith(" ")
            or stripped.startswith(("mailto:", "http"))
        )
        if current is not None and not starts_new and ended_block:
            # After a blank line only a lower-case continuation of an unfinished
            # sentence belongs to the same statement ("… av kommunerna och" / "regionen").
            tail = current[1].rstrip()
            starts_new = not (stripped[:1].islower() and not _END.search(tail))
            # "tillsamma" / "ns": a word broken by the extraction.
            if not starts_new and len(stripped) <= 3 and stripped.isalpha():
                current = (current[0], tail + stripped)
                ended_block = False
                continue
        elif current is not None and not starts_new:
            # Within a block, a finished sentence followed by a capital starts anew,
            # except a heading of the same slide ("Lansering av" / "Färdplan för …").
            starts_new = bool(_END.search(current[1])) and stripped[:1].isupper()
        if starts_new:
            if current is not None:
                pieces.append(current)
            current = (number, _BULLET.sub("", line).strip())
        else:
            assert current is not None
            current = (current[0], _join(current[1], stripped))
        ended_block = False
    if current is not None:
        pieces.append(current)

    statements: list[Statement] = []
    seen: set[str] = set()
    for number, piece in pieces:
        for sentence in _sentences(piece):
            key = " ".join(fold(sentence).split())
            if key and key not in seen:
                seen.add(key)
                statements.append(Statement(doc, number, sentence))
    return statements


def _sentences(piece: str) -> list[str]:
    """A piece of prose cut into its sentences (abbreviations kept whole)."""
    out: list[str] = []
    for part in _SENTENCE_END.split(piece.strip()):
        if out and _ABBREVIATIONS.search(out[-1]):
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return [p.strip() for p in out if p.strip()]


# ----- matching ------------------------------------------------------------------------


def _dates(text: str) -> set[str]:
    """Day and month of every date in text, folded ("5 november" and "5 nov" meet)."""
    return {f"{day} {_MONTHS.get(month, month)[:3]}" for day, month in _DATE.findall(fold(text))}


def _words(text: str) -> set[str]:
    """The content stems of a text for the audit: stop words out, numbers and months in."""
    out: set[str] = set()
    for word in re.split(r"[^a-z0-9]+", fold(_URL.sub(" ", _EMAIL.sub(" ", text)))):
        if not word or word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        out.add(_MONTHS.get(word, word) if word in _MONTHS or word in _MONTH_ABBREVIATIONS
                else stem(word))
    return out


def excluded_reason(statement: Statement) -> str | None:
    """Why a statement is no content to hand out, or None."""
    text = statement.text
    if not re.search(r"[A-Za-zÅÄÖåäö]{2}", text):
        return "layout: no words"
    if _FOOTER.match(text.strip()):
        return "layout: page footer"
    addresses = [a.lower() for a in _EMAIL.findall(text)]
    if any(a != SHARED_MAILBOX for a in addresses):
        return "personal: an official's name and e-mail address"
    if text.lower().startswith("mailto:") and addresses == [SHARED_MAILBOX]:
        return "layout: link target of the shared mailbox"
    return None


@dataclass(frozen=True)
class _Carrier:
    """An answer as the audit reads it: folded text, dates and content stems."""

    folded: str
    dates: set[str]
    words: set[str]

    @classmethod
    def of(cls, answer: str) -> _Carrier:
        return cls(fold(answer), _dates(answer), _words(answer))


def carried_share(statement: Statement, answer: str | _Carrier) -> float:
    """How much of the statement the answer holds (0–1); 0 if an address or date is missing."""
    carrier = answer if isinstance(answer, _Carrier) else _Carrier.of(answer)
    for literal in [*_EMAIL.findall(statement.text), *_URL.findall(statement.text)]:
        if fold(literal).rstrip("/.") not in carrier.folded:
            return 0.0
    if not _dates(statement.text) <= carrier.dates:
        return 0.0
    words = _words(statement.text)
    if not words:
        return 1.0
    return len(words & carrier.words) / len(words)


def audit(statements: Sequence[Statement], entries: Sequence[Entry]) -> Audit:
    """Which entry's answer carries each statement.

    Between entries that carry a statement equally well (a short heading such as
    "Planering"), the one that carries the next statement of the same document wins:
    a heading belongs to what follows it.
    """
    carriers = {e.id: _Carrier.of(e.answer) for e in entries}
    shares = [{eid: carried_share(s, c) for eid, c in carriers.items()} for s in statements]
    findings: list[Finding] = []
    for i, statement in enumerate(statements):
        reason = excluded_reason(statement)
        if reason is not None:
            findings.append(Finding(statement, None, 0.0, reason))
            continue
        best = max(shares[i].values(), default=0.0)
        tied = [e for e, share in shares[i].items() if share == best]
        if len(tied) > 1:
            following = [j for j in range(i + 1, len(statements))
                         if statements[j].doc == statement.doc][:2]
            tied.sort(key=lambda e: -max((shares[j][e] for j in following), default=0.0))
        needed = 1.0 if len(_words(statement.text)) <= _SHORT else CARRIED_SHARE
        if best > 0.0 and best >= needed:
            findings.append(Finding(statement, tied[0], best))
        else:
            findings.append(Finding(statement, None, best))
    # An English question gets the English answer: every entry needs one.
    without_english = tuple(e.id for e in entries if not (e.answer_en and e.title_en))
    return Audit(tuple(findings), without_english)


def read_seeds(seeds_dir: Path = SEEDS_DIR) -> list[Statement]:
    """The statements of every seed document in the folder."""
    statements: list[Statement] = []
    for path in sorted(seeds_dir.glob("*.txt")):
        statements.extend(split_statements(path.name, path.read_text(encoding="utf-8")))
    return statements


def format_audit(result: Audit, verbose: bool = False) -> str:
    """The totals, the uncovered statements, and with verbose every finding."""
    lines = ["== täckning av källdokumenten (seeds/)"]
    if verbose:
        for f in result.findings:
            s = f.statement
            where = f.entry if f.covered else (f"utesluten ({f.excluded})" if f.excluded
                                                else "EJ TÄCKT")
            lines.append(f"  {s.doc[:3]}:{s.line:<4} {where:<24} {f.share:4.2f}  {s.text}")
    total = len(result.findings)
    lines.append(f"påståenden:   {total}")
    lines.append(f"täckta:       {len(result.covered)}")
    lines.append(f"uteslutna:    {len(result.excluded)}")
    lines.append(f"ej täckta:    {len(result.uncovered)}")
    reasons: dict[str, int] = {}
    for f in result.excluded:
        reasons[f.excluded or ""] = reasons.get(f.excluded or "", 0) + 1
    lines.extend(f"  utesluten: {reason} × {count}" for reason, count in sorted(reasons.items()))
    lines.append(f"poster utan engelskt svar eller engelsk titel: {len(result.without_english)}"
                 + (f" ({', '.join(result.without_english)})" if result.without_english else ""))
    lines.extend(
        f"  EJ TÄCKT {f.statement.doc[:3]}:{f.statement.line} ({f.share:.2f}): {f.statement.text}"
        for f in result.uncovered
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Audit the seeds against the packaged entries; exit 1 when something is uncovered."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=Path, default=SEEDS_DIR)
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="list every statement with the entry that carries it")
    args = parser.parse_args(argv)
    result = audit(read_seeds(args.seeds), KnowledgeBase.load().entries)
    print(format_audit(result, args.verbose))
    return 1 if result.uncovered or result.without_english else 0


if __name__ == "__main__":
    raise SystemExit(main())
