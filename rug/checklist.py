"""The skallkrav as people read them: each krav's title and message, worded in one place.

knowledge.skallkrav says whether each krav is met and why, as a locale key with values; the
dialog after each step and on its summary, RUG's case card, the e-mail and `omtanke check`
all show it through these functions.
"""

from __future__ import annotations

from domain.proposal import Proposal
from knowledge.skallkrav import CheckContext, SkallkravItem, SkallkravResult, check_proposal
from presentation.messages import say
from presentation.texts import DEFAULT_LOCALE, Texts

MET = "✔"
UNMET = "✖"
PENDING = "⏳"


def mark(item: SkallkravItem) -> str:
    """✔ or ✖."""
    return MET if item.met else UNMET


def title(texts: Texts, number: int, locale: str = DEFAULT_LOCALE) -> str:
    """The krav's short heading ("Berör både regionen och kommunerna")."""
    return texts.get(f"skallkrav.title.{number}", locale)


def message(texts: Texts, item: SkallkravItem, locale: str = DEFAULT_LOCALE) -> str:
    """What the check found and what to do, as sentences."""
    return say(texts, item.message, locale)


def messages(texts: Texts, result: SkallkravResult, locale: str = DEFAULT_LOCALE) -> list[str]:
    """The four messages, in order."""
    return [message(texts, item, locale) for item in result.items]


def step_line(texts: Texts, item: SkallkravItem, locale: str = DEFAULT_LOCALE) -> str:
    """One krav as the dialog shows it after the step that settles it."""
    return texts.get(
        "skallkrav.step_line",
        locale,
        mark=mark(item),
        number=item.number,
        message=message(texts, item, locale),
    )


def checklist_line(
    texts: Texts, number: int, sign: str, said: str, locale: str = DEFAULT_LOCALE
) -> str:
    """One line of a checklist: the mark, the number, the title and what was found."""
    return texts.get(
        "skallkrav.checklist_line",
        locale,
        mark=sign,
        number=number,
        title=title(texts, number, locale),
        message=said,
    )


def checklist(
    proposal: Proposal, context: CheckContext, texts: Texts, locale: str = DEFAULT_LOCALE
) -> list[tuple[bool, str]]:
    """The four skallkrav as (met, line) pairs."""
    return [
        (
            item.met,
            checklist_line(texts, item.number, mark(item), message(texts, item, locale), locale),
        )
        for item in check_proposal(proposal, context).items
    ]
