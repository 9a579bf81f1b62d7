"""The Swedish knowledge base: answering staff questions from the entries, or declining.

This is the facade the rest of the product uses. The work is done by:
knowledge.loader (the data files), knowledge.clauses (clauses, self-description, sign-off,
language), knowledge.policy (the decline rules), knowledge.index (the search index),
knowledge.typos (typing slips), knowledge.scoring (ranking and evidence) and
knowledge.decision (whether the best entry is safe to give).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from knowledge.clauses import (
    MAX_QUESTION_CHARS,
    SIDE_WEIGHT,
    answer_language,
    looks_like_question,
    question_parts,
    topic_words,
    weighted_clauses,
)
from knowledge.decision import DecisionModel
from knowledge.index import Index, IndexTexts, raw_stems
from knowledge.loader import (
    PACKAGED,
    KnowledgePaths,
    read_decision,
    read_decline_policy,
    read_entries,
    read_ranker,
)
from knowledge.model import Answer, Entry
from knowledge.policy import DeclinePolicy
from knowledge.ranker import TermRanker
from knowledge.scoring import Scorer, content_words, with_cues
from knowledge.text import normalize
from knowledge.typos import TypoCorrector

__all__ = ["Answer", "Entry", "KnowledgeBase", "looks_like_question"]

# A decline reason, or the best entry with the evidence the decision weighs and the best
# entries with their scores.
Outcome = str | tuple[str, dict[str, float], tuple[tuple[str, float], ...]]
# A runner-up is offered as a suggestion when it scores this share of the best.
_SUGGEST_SHARE = 0.5


class KnowledgeBase:
    """Entries plus an index built once at load; answering is pure and synchronous."""

    def __init__(
        self,
        entries: Sequence[Entry],
        index_texts: IndexTexts,
        declines: Mapping[str, Mapping[str, str]],
        decision: DecisionModel,
        ranker: TermRanker,
        policy: DeclinePolicy,
    ) -> None:
        """Index the entries; index_texts maps entry id → field → texts to index."""
        self._decision = decision
        self._entries = tuple(entries)
        self._by_id = {e.id: e for e in self._entries}
        self._declines = {lang: dict(texts) for lang, texts in declines.items()}
        self._policy = policy
        self._index = Index(index_texts)
        self._typos = TypoCorrector(self._index)
        self._scorer = Scorer(self._index, self._typos, ranker)

    @classmethod
    def load(
        cls,
        entries_path: Path | None = None,
        target_groups: Sequence[tuple[str, str]] | None = None,
        decision: DecisionModel | None = None,
        ranker: TermRanker | None = None,
        policy: DeclinePolicy | None = None,
        paths: KnowledgePaths = PACKAGED,
    ) -> KnowledgeBase:
        """Load the entries (and the target-group entry) and the models from data files.

        Each of entries_path, decision, ranker and policy, when given, replaces the file
        in paths; a malformed file raises KnowledgeDataError naming it.
        """
        data = read_entries(entries_path or paths.entries, target_groups, paths)
        return cls(
            data.entries,
            data.index_texts,
            data.declines,
            decision if decision is not None else read_decision(paths.decision),
            ranker if ranker is not None else read_ranker(paths.ranker),
            policy if policy is not None else read_decline_policy(paths.decline_policy),
        )

    @property
    def entries(self) -> tuple[Entry, ...]:
        """All entries, including the one built from the target-group list."""
        return self._entries

    def entry(self, entry_id: str) -> Entry:
        """Return the entry with this id; KeyError if unknown."""
        return self._by_id[entry_id]

    def answer(self, question: str, locale: str = "sv") -> Answer:
        """Answer a staff question from the KB, offer suggestions, or decline with a reason.

        A question that asks two things gets one answer per part (Answer.parts), when the
        whole message is answered or at least plausible ("uncertain"): a decline of the
        whole – by a rule (medicine, a patient, off topic, a detail the sources do not
        give) or by the decision – stands, since a part alone loses what the other part
        said about it ("Hur länge gäller strategin och vilka mål innehåller *den*?").
        """
        whole = self._answer_one(question, locale)
        texts = question_parts(question[:MAX_QUESTION_CHARS]) if question else []
        if len(texts) < 2 or not (whole.answered or whole.reason == "uncertain"):
            return whole
        # The language of the whole message: a part alone may be too short to tell.
        parts = [self._answer_one(text, whole.lang) for text in texts]
        answered = [p for p in parts if p.answered]
        if not answered:
            return whole
        topics = {p.topic for p in answered}
        # The whole message's answer, which a part was unsure about, reads the parts
        # together better than the split does.
        if whole.answered and whole.topic not in topics and any(
                s[0] == whole.topic for p in parts for s in p.suggestions):
            return whole
        # A part whose best guesses include the answered topic asks about the same thing
        # ("vad står RUG för och vad gör gruppen?").
        same = all(p.answered or any(s[0] in topics for s in p.suggestions) for p in parts)
        if len(topics) == 1 and same:
            return answered[0]
        return replace(answered[0], parts=tuple(parts))

    def _answer_one(self, question: str, locale: str) -> Answer:
        """One question: the entry's answer, suggestions in the middle band, or a decline."""
        lang, outcome = self._assess(question, locale)
        if isinstance(outcome, str):
            return self._decline(outcome, lang, 0.0)
        entry_id, features, candidates = outcome
        confidence = self._decision.confidence(features)
        if confidence >= self._decision.threshold:
            return self._answer_with(self._by_id[entry_id], lang, confidence)
        if confidence >= self._decision.suggest_from:
            return self._suggest(candidates, lang, confidence)
        return self._decline("low_confidence", lang, confidence)

    def answer_topic(self, entry_id: str, locale: str = "sv") -> Answer | None:
        """The answer of one entry, for a related-question or suggestion button.

        None if the id is unknown; `locale` "en…" gives the English answer and titles.
        """
        entry = self._by_id.get(entry_id)
        if entry is None:
            return None
        return self._answer_with(entry, "en" if locale.lower().startswith("en") else "sv", 1.0)

    def evidence(self, question: str) -> tuple[str, dict[str, float]] | None:
        """The best entry and the evidence the decision weighs; None if a rule declines first.

        For calibration (knowledge.calibrate): the same path as answer(), without deciding.
        """
        _, outcome = self._assess(question, "sv")
        return None if isinstance(outcome, str) else outcome[:2]

    def training_texts(self) -> list[tuple[str, str]]:
        """(text, entry id) of every title, phrasing and keyword: the ranker's own examples."""
        return list(self._index.training_texts)

    def question_terms(self, question: str) -> dict[str, float]:
        """The indexed terms of a question with their clause weights (the ranker's input)."""
        weighted = self._typos.split_joined(
            topic_words(weighted_clauses(question[:MAX_QUESTION_CHARS]))
        )
        terms = self._scorer.term_weights(content_words(weighted))[0]
        return with_cues(terms, weighted)

    def _assess(self, question: str, locale: str) -> tuple[str, Outcome]:
        """The answer language, and a decline reason or the best entry with its evidence."""
        text = (question or "")[:MAX_QUESTION_CHARS]
        normalized = normalize(text)
        words = normalized.split()
        lang = answer_language(text, locale)
        if not words:
            return lang, "empty"
        whole = f" {normalized} "
        reason = self._policy.whole_reason(whole)
        if reason is not None:
            return lang, reason
        clauses = weighted_clauses(text)
        weighted = self._typos.split_joined(topic_words(clauses))
        # "Som ledamot i HSU vill jag veta …" asks about the statement, not about members:
        # the other rules look at what is asked – the asking clauses, without the speaker's
        # self-description and the clauses around them ("… hör det på utbildningar. Vad
        # är nära vård?"). When no clause asks with content, that is all but the
        # self-description.
        core = f" {' '.join(w for w, weight in weighted if weight > SIDE_WEIGHT)} "
        reason = self._policy.question_reason(whole, core)
        if reason is not None:
            return lang, reason
        details = self._policy.details(whole, core)
        ranked = self._scorer.rank_question(clauses, weighted)
        if ranked is None or not all(self._mentions(ranked.entry_id, d) for d in details):
            return lang, "low_confidence"
        features = {**ranked.features, "english": float(lang == "en")}
        return lang, (ranked.entry_id, features, ranked.candidates)

    def _mentions(self, entry_id: str, detail: str) -> bool:
        """Whether an asked-for detail is one word that the entry's own text has.

        "Öppettider" is a detail the sources do not give, except where they do: the entry
        on nearness names opening hours, so a question about them is no unsupported detail.
        A detail of several words ("hur många förslag", "vilka sitter i") is a question
        form the sources cannot answer, whatever words the entry shares with it.
        """
        tf = self._index.docs[entry_id].tf
        return len(detail.split()) == 1 and all(s in tf for s in raw_stems(detail))

    def _answer_with(self, entry: Entry, lang: str, score: float) -> Answer:
        """The answer of an entry in a language, with its related questions."""
        related = tuple((r, self._by_id[r].title_in(lang)) for r in entry.related[:3])
        return Answer(True, entry.answer_in(lang), entry.id, round(score, 3), entry.source,
                      related, lang=lang)

    def _suggest(
        self, candidates: Sequence[tuple[str, float]], lang: str, score: float
    ) -> Answer:
        """"Menar du …?": the two or three most likely entries, as (id, title) and as text.

        The runners-up are offered when they score at least half the best; the second
        always is, so there is a choice.
        """
        best = candidates[0][1] if candidates else 0.0
        chosen = [eid for i, (eid, s) in enumerate(candidates)
                  if i < 2 or s >= _SUGGEST_SHARE * best]
        suggestions = tuple((eid, self._by_id[eid].title_in(lang)) for eid in chosen)
        text = "\n".join([self._declines[lang]["uncertain"],
                          *(f"• {title}" for _, title in suggestions)])
        return Answer(False, text, None, round(score, 3), None, (), "uncertain", lang,
                      suggestions)

    def _decline(self, reason: str, lang: str, score: float) -> Answer:
        """A polite decline that offers to pass the question on to the coordinators."""
        return Answer(
            answered=False,
            text=self._declines[lang][reason],
            topic=None,
            score=round(score, 3),
            source=None,
            related=(),
            reason=reason,
            lang=lang,
        )
