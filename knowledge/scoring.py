"""Scoring the entries for one question, and the evidence the decision weighs.

The retrieval score is 0.7 lexical (BM25 over weighted fields) + 0.15 fuzzy + 0.15 title
coverage, blended with the closest single phrasing (NEAREST_SHARE), plus the learned
re-ranker's probability (knowledge.ranker). Whether to answer is decided from this and
other evidence by the calibrated model in knowledge.decision, not by a fixed threshold.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from knowledge.clauses import CONTEXT_WEIGHT, Weighted, focus_word, question_kind
from knowledge.index import BM25_K1, Index
from knowledge.language import LANGUAGE
from knowledge.ranker import OUTSIDE, PAIR, TermRanker
from knowledge.text import STOPWORDS, stem
from knowledge.typos import TypoCorrector

_LEXICAL_SHARE = 0.7
_FUZZY_SHARE = 0.15
# The rest of the score is title coverage: the share of the question's weight found in
# an entry's title. Titles are the entries' questions, so between a broad entry and a
# narrow one that both mention a term, the one whose question it is wins.
_TITLE_SHARE = 1.0 - _LEXICAL_SHARE - _FUZZY_SHARE
# Fuzzy matching compares the question with the strings of the entries it shares most words
# with: further down, an entry cannot win on fuzziness (the same answer for all 6,815 set
# questions at 12; at 8 one changes), and matching every sharing entry took a quarter of an answer.
_FUZZY_ENTRIES = 12
# The word a question asks about ("vilka *kommuner* är med …", "vad är *målet* …")
# counts this much more than the words around it.
_FOCUS_BOOST = 2.0
# Between two entries this close, the one whose title has the question's focus word wins.
_TIE_MARGIN = 0.03
# Share of the score that comes from the closest single title or phrasing.
_NEAREST_SHARE = 0.3
# How many of the best entries a ranking keeps (for "Menar du …?").
_CANDIDATES = 3
# A clause scored on its own is discounted this much against the whole question.
_CLAUSE_FACTOR = 0.85

# Function words the re-ranker sees (see with_cues): question words, modal verbs,
# pronouns that say who acts, and the same in English.
_RANKER_CUES = LANGUAGE.words["ranker_cues"]


@dataclass(frozen=True)
class Scored:
    """Every entry's score for one question, and what the question itself looked like."""

    by_entry: dict[str, tuple[float, bool]]
    nearest: dict[str, float]
    unknown_share: float
    content: int
    kind: str | None
    learned: dict[str, float]


@dataclass(frozen=True)
class Ranked:
    """The best entry for a question, its score and the evidence the decision weighs."""

    entry_id: str
    score: float
    features: dict[str, float]
    # The best entries with their scores, best first (the chosen entry leads).
    candidates: tuple[tuple[str, float], ...] = ()


def with_cues(
    terms: Mapping[str, float], weighted: Sequence[tuple[str, float]]
) -> dict[str, float]:
    """The terms plus the question's cue words, as "?kan", "?hur" (the re-ranker's input).

    Retrieval drops function words, but some tell close entries apart: "*kan* jag lämna
    ett förslag" asks who may propose, "*hur* lämnar jag" how to submit. Cue tokens cannot
    clash with stems, which never start with "?".
    """
    out = dict(terms)
    for word, weight in weighted:
        if word in _RANKER_CUES and weight > CONTEXT_WEIGHT:
            token = f"?{word}"
            out[token] = max(out.get(token, 0.0), weight)
    kept = [(w if w in STOPWORDS else stem(w), c) for w, c in weighted if c > CONTEXT_WEIGHT]
    for (a, ca), (b, cb) in itertools.pairwise(kept):
        token = f"{a}{PAIR}{b}"
        out[token] = max(out.get(token, 0.0), min(ca, cb))
    return out


def content_words(weighted: Sequence[tuple[str, float]]) -> Weighted:
    """The weighted words that can carry a topic (no stop words, no single letters)."""
    return [(w, c) for w, c in weighted if w not in STOPWORDS and len(w) > 1]


class Scorer:
    """Scores entries on one index, with typo correction and the learned re-ranker."""

    def __init__(self, index: Index, typos: TypoCorrector, ranker: TermRanker) -> None:
        self._index = index
        self._typos = typos
        self._ranker = ranker

    def rank_question(
        self, clauses: Sequence[Sequence[tuple[str, float]]], weighted: Weighted
    ) -> Ranked | None:
        """The best entry for the whole question or, discounted, for one of its clauses.

        A long question with context ("Jag är ny i hemtjänsten och alla pratar om nära
        vård. Vad betyder det?") may name its topic in one clause: that clause alone,
        without the self-description, is scored too, discounted by _CLAUSE_FACTOR.
        """
        ranked = self.rank(weighted)
        clause_won = 0.0
        if len(clauses) > 1:
            for clause in clauses:
                own = self._typos.split_joined(
                    [(w, 1.0) for w, c in clause if c > CONTEXT_WEIGHT]
                )
                if sum(1 for w, _ in own if w not in STOPWORDS and len(w) > 1) < 2:
                    continue
                candidate = self.rank(own)
                if candidate is None:
                    continue
                discounted = candidate.score * _CLAUSE_FACTOR
                if ranked is None or discounted > ranked.score:
                    ranked = Ranked(candidate.entry_id, discounted,
                                    {**candidate.features, "score": discounted},
                                    candidate.candidates)
                    clause_won = 1.0
        if ranked is None:
            return None
        return Ranked(ranked.entry_id, ranked.score, {**ranked.features, "clause": clause_won},
                      ranked.candidates)

    def rank(self, weighted: Sequence[tuple[str, float]]) -> Ranked | None:
        """Score every entry for the question; return the best entry with its evidence.

        Entries within _TIE_MARGIN of the best are close calls: one whose title asks for
        the word the question asks for wins ("vilket *mål* har regionen …" → the entry
        "Vilka mål har regionen …", not the budget entry that mentions "mål och budget").
        """
        result = self.scores(weighted)
        if result is None:
            return None
        scored = result.by_entry
        best_id = max(scored, key=lambda e: scored[e][0])
        best = scored[best_id][0]
        if not scored[best_id][1]:
            close = [e for e, (score, focus_in_title) in scored.items()
                     if focus_in_title and best - score <= _TIE_MARGIN]
            if close:
                best_id = max(close, key=lambda e: scored[e][0])
        score = scored[best_id][0]
        others = sorted(((e, v[0]) for e, v in scored.items() if e != best_id),
                        key=lambda item: -item[1])
        runner_up = others[0][1] if others else 0.0
        kind_mismatch = (result.kind is not None
                         and result.kind != self._index.docs[best_id].title_kind)
        return Ranked(best_id, score, {
            "score": score,
            "margin": score - runner_up,
            "nearest": result.nearest.get(best_id, 0.0),
            "unknown": result.unknown_share,
            "words": math.log1p(result.content),
            "kind_mismatch": 1.0 if kind_mismatch else 0.0,
            **self._learned_evidence(best_id, result),
        }, ((best_id, score), *others[:_CANDIDATES - 1]))

    def _learned_evidence(self, entry_id: str, result: Scored) -> dict[str, float]:
        """The re-ranker's probabilities for the entry and for "outside the knowledge".

        An entry added after training is no class of the ranker, which then counts that
        entry's questions as "outside": for it, that is no evidence. In its place stands
        how closely the question matches one of the entry's own phrasings, which is what
        the ranker would have learned from them.
        """
        if entry_id in result.learned or not result.learned:
            return {"learned": result.learned.get(entry_id, 0.0),
                    "outside": result.learned.get(OUTSIDE, 0.0)}
        return {"learned": result.nearest.get(entry_id, 0.0), "outside": 0.0}

    def scores(self, weighted: Sequence[tuple[str, float]]) -> Scored | None:
        """(score, focus word in title) of every entry sharing a term with the question.

        The score combines lexical (BM25 over weighted fields), fuzzy and title coverage;
        each word counts with its clause weight (see knowledge.clauses.weighted_words).
        """
        index = self._index
        words = [w for w, _ in weighted]
        content = content_words(weighted)
        if not content:
            return None
        focus = focus_word(words)
        kind = question_kind(words)
        focus_term = self._typos.correct_known(stem(focus)) if focus else None
        term_weight, unknown_weight = self.term_weights(content)
        if not term_weight:
            return None
        weight = {
            t: index.idf[t] * c * (_FOCUS_BOOST if t == focus_term else 1.0)
            for t, c in term_weight.items()
        }
        max_total = sum(weight.values()) + unknown_weight

        # Walk the postings of the question's terms, not every entry: the same sums, in the
        # same order, for the entries that share a term.
        totals: dict[str, float] = {}
        in_title: dict[str, float] = {}
        for t, w_t in weight.items():
            for entry_id, tf, norm, titled in index.postings.get(t, ()):
                totals[entry_id] = (
                    totals.get(entry_id, 0.0)
                    + w_t * tf * (BM25_K1 + 1.0) / (tf + norm) / (BM25_K1 + 1.0)
                )
                if titled:
                    in_title[entry_id] = in_title.get(entry_id, 0.0) + w_t
        lexical = {e: total / max_total for e, total in totals.items() if total}
        title = {e: in_title.get(e, 0.0) / max_total for e in lexical}
        if not lexical:
            return None

        query = " ".join(w for w, c in content if c > CONTEXT_WEIGHT) or " ".join(
            w for w, _ in content
        )
        # Only entries with a lexical score are scored below; the best of them are compared.
        fuzzed = sorted(lexical, key=lexical.__getitem__, reverse=True)[:_FUZZY_ENTRIES]
        choices = [c for e in fuzzed for c in index.docs[e].fuzzy_strings]
        owners = [e for e in fuzzed for _ in index.docs[e].fuzzy_strings]
        fuzzy: dict[str, float] = {}
        for _, ratio, idx in process.extract(
            query, choices, scorer=fuzz.token_set_ratio, limit=None, score_cutoff=50
        ):
            owner = owners[idx]
            fuzzy[owner] = max(fuzzy.get(owner, 0.0), ratio / 100.0)

        nearest = self._nearest_asked(weight, max_total)
        learned = self._ranker.probabilities(with_cues(term_weight, weighted))
        out: dict[str, tuple[float, bool]] = {}
        for entry_id, lex in lexical.items():
            doc = index.docs[entry_id]
            same_kind = kind is not None and kind == doc.title_kind
            score = (
                _LEXICAL_SHARE * lex + _FUZZY_SHARE * fuzzy.get(entry_id, 0.0)
                + _TITLE_SHARE * title[entry_id] + (doc.kind_bonus if same_kind else 0.0)
            )
            score = (1.0 - _NEAREST_SHARE) * score + _NEAREST_SHARE * nearest.get(entry_id, 0.0)
            score += self._ranker.share * learned.get(entry_id, 0.0)
            out[entry_id] = (score, focus_term is not None and focus_term in doc.title_terms)
        return Scored(out, nearest, unknown_weight / max_total, len(content), kind, learned)

    def term_weights(
        self, content: Sequence[tuple[str, float]]
    ) -> tuple[dict[str, float], float]:
        """Indexed terms of the content words with their clause weights, and unknown weight.

        Only unknown compounds are split: a known one already matches as a whole, and its
        parts ("mal" in "malbild") would pull towards unrelated entries.
        """
        idf = self._index.idf
        term_weight: dict[str, float] = {}
        unknown_weight = 0.0
        for w, c in content:
            s = stem(w)
            if s not in idf and self._typos.correct(s) is None:
                s = self._typos.correct_word(w) or s
            candidates = [s] if s in idf else self._index.expand([s])
            for part in candidates:
                known = part if part in idf else self._typos.correct(part)
                if known is not None:
                    term_weight[known] = max(term_weight.get(known, 0.0), c)
                else:
                    unknown_weight += self._index.unknown_idf * c
        return term_weight, unknown_weight

    def _nearest_asked(self, weight: Mapping[str, float], total: float) -> dict[str, float]:
        """Per entry, how closely the question matches its closest title or phrasing.

        Recall is the share of the question's weight the phrasing covers, precision the
        share of the phrasing's weight the question covers; their harmonic mean scores.
        """
        index = self._index
        shared: dict[int, tuple[float, float]] = {}
        for t, w_t in weight.items():
            for i in index.asked_postings.get(t, ()):
                got_w, got_idf = shared.get(i, (0.0, 0.0))
                shared[i] = (got_w + w_t, got_idf + index.idf[t])
        best: dict[str, float] = {}
        for i, (got_w, got_idf) in shared.items():
            owner, _, mass = index.asked[i]
            recall = got_w / total
            precision = got_idf / mass
            f1 = 2.0 * recall * precision / (recall + precision)
            if f1 > best.get(owner, 0.0):
                best[owner] = f1
        return best
