"""What the knowledge base holds and what it returns: an entry and an answer."""

from __future__ import annotations

from dataclasses import dataclass

# Why an answer was declined: nothing asked, no entry safe enough, a question outside the
# knowledge, or one that must go to a person (medicine, a patient, HR, IT).
# "uncertain" is the middle band: the best entries are plausible but not sure, and are
# offered as suggestions ("Menar du …?").
DECLINE_REASONS = ("empty", "low_confidence", "out_of_scope", "sensitive", "uncertain")
LANGUAGES = ("sv", "en")


@dataclass(frozen=True)
class Entry:
    """One knowledge entry: a question label, a short answer and where it comes from."""

    id: str
    title: str
    answer: str
    source: str
    related: tuple[str, ...]
    answer_en: str | None = None
    title_en: str | None = None

    def title_in(self, lang: str) -> str:
        """The title in a language ("sv" or "en"), Swedish when there is no English one."""
        return self.title_en if lang == "en" and self.title_en else self.title

    def answer_in(self, lang: str) -> str:
        """The answer in a language ("sv" or "en"), Swedish when there is no English one."""
        return self.answer_en if lang == "en" and self.answer_en else self.answer


@dataclass(frozen=True)
class Answer:
    """The result of asking the knowledge base.

    - answered: True when `text` is an entry's answer; False for a decline or suggestions.
    - text: what the user reads – the answer, or the decline, or (reason "uncertain") the
      "Menar du …?" line followed by the suggested titles, one "• " line each.
    - topic: the entry id when answered, else None.
    - score: the decision model's confidence (0–1) in the best entry; a rule-based
      decline (empty, sensitive, out of scope, unsupported detail) scores 0.
    - source: the entry's source document when answered, else None.
    - related: (entry id, title) of up to three related entries, titles in `lang`.
    - reason: None when answered, else one of DECLINE_REASONS.
    - lang: "sv" or "en", the language `text` and every title are in (an English
      question, or the English locale, gets English).
    - suggestions: (entry id, title in `lang`) of the two or three most likely entries
      when reason is "uncertain" ("Menar du …?"); empty otherwise – never for medical,
      personal-data or clearly off-topic questions.
    - parts: for a question that asks two things ("vad är RUG och hur skickar jag in?"),
      one Answer per part, in order; each part is answered, uncertain (with suggestions)
      or declined on its own. The main fields describe the first part that is answered
      (the first part when none is). Empty for a question that asks one thing.
    """

    answered: bool
    text: str
    topic: str | None
    score: float
    source: str | None
    related: tuple[tuple[str, str], ...]
    reason: str | None = None
    lang: str = "sv"
    suggestions: tuple[tuple[str, str], ...] = ()
    parts: tuple[Answer, ...] = ()
