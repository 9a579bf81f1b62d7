"""What the knowledge base holds and what it returns: an entry and an answer."""

from __future__ import annotations

from dataclasses import dataclass

# Why an answer was declined: nothing asked, no entry safe enough, a question outside the
# knowledge, or one that must go to a person (medicine, a patient, HR, IT).
DECLINE_REASONS = ("empty", "low_confidence", "out_of_scope", "sensitive")


@dataclass(frozen=True)
class Entry:
    """One knowledge entry: a question label, a short answer and where it comes from."""

    id: str
    title: str
    answer: str
    source: str
    related: tuple[str, ...]
    answer_en: str | None = None


@dataclass(frozen=True)
class Answer:
    """The result of asking the knowledge base; declined answers carry a reason.

    `score` is the decision model's confidence (0–1) that the entry answers the question;
    a rule-based decline (empty, sensitive, out of scope, unsupported detail) scores 0.
    """

    answered: bool
    text: str
    topic: str | None
    score: float
    source: str | None
    related: tuple[tuple[str, str], ...]
    reason: str | None = None
