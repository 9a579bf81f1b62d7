"""A learned re-ranker: which entry a question's words point to, learned from examples.

The lexical retrieval (knowledge.scoring) scores each entry by the words it shares with the
question. It cannot learn that "vad händer med mitt förslag" asks about the process and
not about what happens after RUG's decision, or that "APT" in a self-description says
nothing about the material entry. This model can: a multinomial logistic regression over
the question's indexed terms (the same stems, typo corrections and clause weights the
retrieval uses), its cue words ("?kan", "?hur") and its pairs of neighbouring words
("kan+jag"), trained on the entries' own titles, phrasings and keywords and on the
labelled staff questions of the tuning sets. Its probability for an entry is added to the
retrieval score with weight `share` (RANKER_SHARE).

Training needs numpy and scipy (development dependencies, `make calibrate`); answering reads the
weights from data/ranker.json (knowledge.loader) with plain Python. Entries added after
training simply get no learned boost until the model is trained again.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Measured by training on all but one labelled set and ranking the held-out one: top-1
# rose from 91–95 % to 94–97 % at a share of 0.2–0.5 of the retrieval score; with the
# decision refitted, 0.5 reached 95.9 % right at 95.3 % declined (pooled, cross-fitted)
# against 95.7 % for 0.3.
RANKER_SHARE = 0.5
# The class of questions the knowledge does not answer (trained on the tuning sets'
# out-of-scope questions); its probability is evidence for the decision, never an answer.
OUTSIDE = "(utanför)"
# L2 strength as scikit-learn's C (inverse), and weights smaller than this are not stored.
# With word pairs, cross-fitted over 15 sets at 95 % declined: C = 1: 97.4 % right,
# 3: 97.2 %, 10: 96.9 %, 30: 96.6 %.
_C = 3.0
# Pruning weights under 0.02 halved the file (105,000 → 53,000 weights) and changed none
# of the 6,163 answers to the question sets.
_STORE_CUTOFF = 0.02
# Joins the two words of a word-pair term ("kan+jag"); see knowledge.scoring.with_cues.
PAIR = "+"
_MIN_PAIR_COUNT = 2


@dataclass(frozen=True)
class TermRanker:
    """Per-term weights per entry, a bias per entry, and its share of the score."""

    classes: tuple[str, ...]
    bias: tuple[float, ...]
    weights: Mapping[str, Mapping[int, float]]
    share: float = RANKER_SHARE

    def probabilities(self, terms: Mapping[str, float]) -> dict[str, float]:
        """Probability per entry id, given the question's terms and their weights."""
        if not self.classes:
            return {}
        logits = list(self.bias)
        for term, value in terms.items():
            for index, w in self.weights.get(term, {}).items():
                logits[index] += w * value
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def to_json(self) -> dict[str, object]:
        """The model as stored in data/ranker.json (sparse, rounded)."""
        return {
            "share": self.share,
            "classes": list(self.classes),
            "bias": [round(b, 4) for b in self.bias],
            "weights": {
                term: {str(i): round(w, 3) for i, w in sorted(row.items())}
                for term, row in sorted(self.weights.items())
            },
        }


# No learned boost: for training the ranker itself and for tests of the retrieval alone.
NO_RANKER = TermRanker((), (), {}, 0.0)


def train(
    examples: Sequence[tuple[Mapping[str, float], str]], classes: Sequence[str],
    c: float = _C, iterations: int = 300,
) -> TermRanker:
    """Fit the multinomial logistic regression (L2, full-batch Adam) on (terms, entry id)."""
    # Development dependencies: only training needs them.
    import numpy as np
    from scipy import sparse

    # A word pair seen once says nothing general and would only grow the model.
    pairs = Counter(t for terms, _ in examples for t in terms if PAIR in t)
    vocabulary = sorted({t for terms, _ in examples for t in terms
                         if PAIR not in t or pairs[t] >= _MIN_PAIR_COUNT})
    column = {t: i for i, t in enumerate(vocabulary)}
    row_of = {cls: i for i, cls in enumerate(classes)}
    # The inputs are sparse: a question has a dozen of some thousand terms.
    triples = [(i, column[t], v) for i, (terms, _) in enumerate(examples)
               for t, v in terms.items() if t in column]
    rows, cols, values = zip(*triples, strict=True)
    x = sparse.csr_matrix((values, (rows, cols)), shape=(len(examples), len(vocabulary)))
    x_t = x.T.tocsr()
    y = np.zeros((len(examples), len(classes)))
    for i, (_, label) in enumerate(examples):
        y[i, row_of[label]] = 1.0
    w = np.zeros((len(vocabulary), len(classes)))
    b = np.zeros(len(classes))
    params = [w, b]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    rate, beta1, beta2 = 0.05, 0.9, 0.999
    for step in range(1, iterations + 1):
        logits = x @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        delta = p - y
        grads = [x_t @ delta + w / c, delta.sum(axis=0)]
        for param, grad, (first, second) in zip(params, grads, moments, strict=True):
            first *= beta1
            first += (1 - beta1) * grad
            second *= beta2
            second += (1 - beta2) * grad * grad
            param -= (rate * (first / (1 - beta1**step))
                      / (np.sqrt(second / (1 - beta2**step)) + 1e-8))
    weights = {
        term: {j: float(w[i, j]) for j in range(len(classes)) if abs(w[i, j]) >= _STORE_CUTOFF}
        for term, i in column.items()
    }
    return TermRanker(tuple(classes), tuple(float(v) for v in b),
                      {t: row for t, row in weights.items() if row})
