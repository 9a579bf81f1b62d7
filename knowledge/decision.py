"""Whether to answer: a logistic model over the retrieval's evidence, calibrated from data.

The retrieval picks the best entry; this decides whether that entry is a safe answer or
whether the bot should decline. One fixed score threshold cannot tell a long question
wrapped in context (low score, right entry) from a short near miss ("när har RUG nästa
möte?", high score, wrong question), so the decision weighs several signals: the score,
the margin to the runner-up, the closest single phrasing, the share of unknown words,
the question's length, a who/when/how mismatch with the entry, whether one clause alone
carried the question, the language, and the re-ranker's probabilities for the entry and
for "outside the knowledge" (knowledge.ranker). `python -m knowledge.calibrate` fits the weights
on the labelled question sets and writes them to data/decision.json.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

FEATURES = (
    "score", "margin", "nearest", "unknown", "kind_mismatch", "english",
    "learned", "outside",
)


@dataclass(frozen=True)
class DecisionModel:
    """Logistic weights per feature, a bias, and the confidence needed to answer.

    Between `suggest` and `threshold` the best entries are plausible but not sure: the
    knowledge base offers them ("Menar du …?") instead of answering or declining. With
    `suggest` equal to the threshold there is no such band.
    """

    weights: dict[str, float]
    bias: float
    threshold: float
    suggest: float | None = None

    @property
    def suggest_from(self) -> float:
        """The lowest confidence at which the best entries are offered as suggestions."""
        return self.threshold if self.suggest is None else self.suggest

    def confidence(self, features: Mapping[str, float]) -> float:
        """Estimated probability that the chosen entry answers the question."""
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        if z < -60.0:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict[str, object]:
        """The model as stored in data/decision.json."""
        return {"weights": self.weights, "bias": self.bias, "threshold": self.threshold,
                "suggest": self.suggest_from}
