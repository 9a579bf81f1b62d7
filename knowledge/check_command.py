"""`omtanke check [--json] FILE`: check a proposal file (export format) against the skallkrav."""

from __future__ import annotations

import json
from pathlib import Path

from knowledge.skallkrav import (
    SKALLKRAV_TITLES,
    CheckContext,
    SkallkravResult,
    check_proposal,
    swedish_list,
)
from domain.proposal import Proposal, ProposalFormatError

EXIT_COMPLETE = 0
EXIT_INCOMPLETE = 1
EXIT_BAD_FILE = 2


def _read(path: Path) -> Proposal:
    """Read and parse the file; raise ValueError with a Swedish message when that fails."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ValueError(f"Filen {path} finns inte.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"Filen {path} går inte att läsa ({exc}).") from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"Filen {path} är inte giltig JSON (rad {exc.lineno}, kolumn {exc.colno}: {exc.msg})."
        ) from exc
    if not isinstance(raw, dict):
        raise ValueError(f"Filen {path} ska innehålla ett JSON-objekt med ett förslag.")
    try:
        return Proposal.from_export(raw)
    except ProposalFormatError as exc:
        raise ValueError(f"Filen {path} har fel form. {exc}") from exc


def _readable(path: Path, proposal: Proposal, result: SkallkravResult) -> str:
    """The report a person reads: one ✔/✖ line per krav and what to do."""
    title = proposal.title or "(utan rubrik)"
    lines = [f"Skallkraven för »{title}« ({path.name})", ""]
    for item in result.items:
        mark = "✔" if item.met else "✖"
        lines.append(f"{mark} Krav {item.number}: {SKALLKRAV_TITLES[item.number]}")
        lines.append(f"  {item.message}")
    if result.understood_organisations:
        lines += ["", "Så tolkades organisationerna:"]
        lines += [f"  {m.text} – {m.via}" for m in result.understood_organisations]
    lines.append("")
    if result.complete:
        lines.append("Alla fyra skallkrav är uppfyllda. Förslaget kan skickas till RUG.")
    else:
        met = len(result.items) - len(result.unmet)
        numbers = [str(n) for n in result.unmet]
        missing = swedish_list(numbers)
        done = "åtgärdat" if len(numbers) == 1 else "åtgärdade"
        lines.append(
            f"{met} av 4 skallkrav är uppfyllda. Förslaget kan skickas till RUG när "
            f"krav {missing} är {done}."
        )
    return "\n".join(lines)


def run_check(path: Path, as_json: bool, ctx: CheckContext) -> tuple[int, str]:
    """Check one proposal file; return (exit code, output): 0 complete, 1 incomplete, 2 bad file."""
    try:
        proposal = _read(path)
    except ValueError as exc:
        message = str(exc)
        if as_json:
            return EXIT_BAD_FILE, json.dumps({"error": message}, ensure_ascii=False)
        return EXIT_BAD_FILE, message
    result = check_proposal(proposal, ctx)
    code = EXIT_COMPLETE if result.complete else EXIT_INCOMPLETE
    if as_json:
        payload = {"complete": result.complete, "unmet": result.unmet, "messages": result.messages}
        return code, json.dumps(payload, ensure_ascii=False)
    return code, _readable(path, proposal, result)
