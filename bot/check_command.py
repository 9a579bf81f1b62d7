"""`omtanke check [--json] FILE`: check a proposal file (export format) against the skallkrav."""

from __future__ import annotations

import json
from pathlib import Path

from domain.messages import Message, Names, Value
from domain.proposal import Proposal, ProposalFormatError
from knowledge.skallkrav import CheckContext, SkallkravResult, check_proposal
from presentation.messages import say
from presentation.problems import format_error_text
from presentation.texts import Texts
from rug import checklist as krav

EXIT_COMPLETE = 0
EXIT_INCOMPLETE = 1
EXIT_BAD_FILE = 2


class BadFileError(ValueError):
    """The file cannot be checked; ``message`` says why, for the person who gave it."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.key)
        self.message = message


def _read(path: Path, texts: Texts) -> Proposal:
    """Read and parse the file; raise BadFileError when that fails."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BadFileError(Message("check.file.missing", {"path": file})) from exc
    except (OSError, UnicodeDecodeError) as exc:
        values = {"path": file, "error": str(exc)}
        raise BadFileError(Message("check.file.unreadable", values)) from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        at: dict[str, Value] = {"line": exc.lineno, "column": exc.colno, "error": exc.msg}
        raise BadFileError(Message("check.file.not_json", {"path": file, **at})) from exc
    if not isinstance(raw, dict):
        raise BadFileError(Message("check.file.not_object", {"path": file}))
    try:
        return Proposal.from_export(raw)
    except ProposalFormatError as exc:
        values = {"path": file, "problem": format_error_text(texts, exc)}
        raise BadFileError(Message("check.file.wrong_form", values)) from exc


def _readable(path: Path, proposal: Proposal, result: SkallkravResult, texts: Texts) -> str:
    """The report a person reads: one ✔/✖ line per krav and what to do."""
    title = proposal.title or texts.get("check.untitled")
    lines = [texts.get("check.heading", title=title, file=path.name), ""]
    for item in result.items:
        mark, number = krav.mark(item), item.number
        heading = krav.title(texts, number)
        lines.append(texts.get("check.krav", mark=mark, number=number, title=heading))
        lines.append(f"  {krav.message(texts, item)}")
    if result.understood_organisations:
        lines += ["", texts.get("check.organisations")]
        lines += [f"  {m.text} – {say(texts, m.via)}" for m in result.understood_organisations]
    lines.append("")
    if result.complete:
        lines.append(texts.get("check.complete"))
    else:
        met = len(result.items) - len(result.unmet)
        numbers = Names.of(str(n) for n in result.unmet)
        case = "check.incomplete_one" if len(result.unmet) == 1 else "check.incomplete_many"
        lines.append(say(texts, Message(case, {"met": met, "missing": numbers})))
    return "\n".join(lines)


def run_check(
    path: Path, as_json: bool, ctx: CheckContext, texts: Texts | None = None
) -> tuple[int, str]:
    """Check one proposal file; return (exit code, output): 0 complete, 1 incomplete, 2 bad file.

    The output is Swedish, the coordinators' language; --json's "messages" too.
    """
    texts = texts or Texts.load()
    try:
        proposal = _read(path, texts)
    except BadFileError as exc:
        message = say(texts, exc.message)
        if as_json:
            return EXIT_BAD_FILE, json.dumps({"error": message}, ensure_ascii=False)
        return EXIT_BAD_FILE, message
    result = check_proposal(proposal, ctx)
    code = EXIT_COMPLETE if result.complete else EXIT_INCOMPLETE
    if as_json:
        payload = {
            "complete": result.complete,
            "unmet": result.unmet,
            "messages": krav.messages(texts, result),
        }
        return code, json.dumps(payload, ensure_ascii=False)
    return code, _readable(path, proposal, result, texts)
