"""A learned second opinion on what a message asks for, after the rules in dialogs.intents.

The rules (phrases, small talk, lead-ins, cue words) are precise but miss what they were not
written for: "tack, det var precis det jag behövde veta", "vidare med utkastet", "visa
inkorgen för rug". This model is a multinomial logistic regression (the same one the knowledge
base's re-ranker uses, knowledge.ranker) over a message's words, stems, word pairs and a few
shape marks, trained by `python -m dialogs.intent_train` on the labelled intent sets, the data
file's own phrases and every question of the knowledge sets (as "question"). It is consulted
only when the rules find nothing, and only a probability of at least THRESHOLD routes a
message away from the knowledge base.

Answering reads data/intent_model.json with plain Python; training needs numpy and scipy.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from knowledge.clauses import QUESTION_STARTS
from knowledge.loader import read_ranker
from knowledge.ranker import PAIR, TermRanker
from knowledge.text import stem, tokenize

MODEL_FILE = Path(__file__).resolve().parent / "data" / "intent_model.json"
# The class of messages for the knowledge base.
QUESTION = "question"
# The least probability that routes a message to an intent. Chosen by training without one
# writer's set and measuring on it (dialogs.intent_train prints the sweep): see the README.
THRESHOLD = 0.6
_MAX_WORDS = 40


def features(text: str) -> dict[str, float]:
    """The message's terms: words, stems, neighbouring pairs, its first word and shape marks.

    Words are folded and English is mapped onto the Swedish vocabulary (knowledge.text), so
    "proposal" and "förslag" meet."""
    all_words = tokenize(text)
    words = all_words[:_MAX_WORDS]
    found: dict[str, float] = {}
    for word in words:
        found[f"w:{word}"] = 1.0
        found[f"s:{stem(word)}"] = 1.0
    for first, second in itertools.pairwise(words):
        found[f"{first}{PAIR}{second}"] = 1.0
    if words:
        found[f"f:{words[0]}"] = 1.0
    found["len:" + ("1" if len(words) <= 1 else "short" if len(words) <= 4 else
                    "mid" if len(words) <= 12 else "long")] = 1.0
    # As knowledge.clauses.looks_like_question, on the words already normalised.
    if text.rstrip().endswith("?") or (all_words and all_words[0] in QUESTION_STARTS):
        found["shape:asks"] = 1.0
    return found


@dataclass(frozen=True)
class DenseModel:
    """A TermRanker with one row of per-class weights per term, for scoring a message fast
    (the sparse rows cost 0.19 ms a message, these 0.03 ms)."""

    classes: tuple[str, ...]
    bias: tuple[float, ...]
    rows: dict[str, tuple[float, ...]]

    @classmethod
    def of(cls, ranker: TermRanker) -> DenseModel:
        width = len(ranker.classes)
        rows = {
            term: tuple(row.get(i, 0.0) for i in range(width))
            for term, row in ranker.weights.items()
        }
        return cls(ranker.classes, ranker.bias, rows)

    def best(self, terms: dict[str, float]) -> tuple[str, float]:
        """The most likely class and its probability (the terms are all 1.0)."""
        logits = list(self.bias)
        for term in terms:
            row = self.rows.get(term)
            if row is not None:
                logits = [a + b for a, b in zip(logits, row, strict=True)]
        top = max(logits)
        total = sum(math.exp(z - top) for z in logits)
        return self.classes[logits.index(top)], 1.0 / total


@cache
def model() -> DenseModel:
    """The packaged model (an empty one, which never routes, when the file is missing)."""
    if not MODEL_FILE.exists():
        return DenseModel((), (), {})
    return DenseModel.of(read_ranker(MODEL_FILE))


def predict(text: str, learned: DenseModel | None = None) -> tuple[str, float]:
    """The most likely label of the message and its probability."""
    scorer = learned or model()
    if not scorer.classes:
        return QUESTION, 1.0
    return scorer.best(features(text))
