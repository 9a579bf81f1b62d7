"""Problems and format errors from the domain, as sentences people read."""

from __future__ import annotations

from domain.proposal import DECISION_OUTCOMES, ProposalFormatError, Status
from domain.validation import Problem
from presentation.texts import DEFAULT_LOCALE, Texts


def problem_text(texts: Texts, problem: Problem, locale: str = DEFAULT_LOCALE) -> str:
    """A validation problem (domain.validation) as a sentence."""
    if problem.code == "identity_number":
        return texts.get("general.identity_number", locale)
    label = texts.get(f"problem.label.{problem.field}", locale) if problem.field else ""
    return texts.get(f"problem.{problem.code}", locale, label=label, **problem.values)


def format_error_text(
    texts: Texts, error: ProposalFormatError, locale: str = DEFAULT_LOCALE
) -> str:
    """Why a proposal document could not be read, as a sentence."""
    if error.expected == "status":
        return texts.get(
            "format_error.status", locale, value=error.value, allowed=", ".join(Status.ALL)
        )
    if error.expected == "outcome":
        allowed = " / ".join(DECISION_OUTCOMES)
        return texts.get("format_error.outcome", locale, value=error.value, allowed=allowed)
    expected = texts.get(f"format_error.expected.{error.expected}", locale)
    if not error.field:
        return texts.get("format_error.document", locale, expected=expected)
    return texts.get("format_error.field", locale, field=error.field, expected=expected)
