"""The labelled question sets (eval/*.jsonl) and the training pool built from them.

The sets are data, not code: they live in the top-level eval/ folder, one JSON object
per line: {"q": question, "topic": entry id | [ids] | null (must be declined),
"styles": [how it is written, see knowledge.styles]}.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.styles import EVAL_DIR, StyleTagger, variants

# dev … holdout8 are training sets: each was once a blind holdout, measured once, and has
# since been seen and trained on (knowledge.calibrate trains the re-ranker and fits the
# decision on them). train11 … train22 were written the same way (the writer saw only the
# seeds and the entry titles) to be training data from the start. The blind sets were
# written the same way and are measured once, after the last change of a round; training
# on them makes them training sets, and new ones are needed.
TUNING_FILES = (
    "dev.jsonl", "dev2.jsonl", "dev3.jsonl", "holdout3.jsonl", "holdout4.jsonl", "holdout5.jsonl",
    "holdout6.jsonl", "holdout7.jsonl", "holdout8.jsonl", "train11.jsonl", "train12.jsonl",
    "train13.jsonl", "train14.jsonl", "train15.jsonl", "train16.jsonl", "train17.jsonl",
    "train18.jsonl", "train19.jsonl", "train20.jsonl", "train21.jsonl", "train22.jsonl",
)
BLIND_FILES = ("holdout9.jsonl", "holdout10.jsonl")
DEFAULT_FILES = tuple(EVAL_DIR / name for name in (*TUNING_FILES, *BLIND_FILES))
# Variants of each labelled question in the training pool: two per question (the kinds
# rotate over the questions, so every kind is there) keep training time in check; a question
# that names a term of knowledge/data/paraphrases.json gets its paraphrase besides.
VARIANTS_PER_QUESTION = 2
ORIGINAL = "original"


@dataclass(frozen=True)
class Question:
    """One labelled question; an empty `topics` means it must be declined.

    `styles` are how it is written (knowledge.styles), stored in the set.
    """

    q: str
    topics: tuple[str, ...]
    styles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Labelled:
    """A question of the pool: an original of a set, or a generated variant of one."""

    q: str
    topics: tuple[str, ...]
    styles: tuple[str, ...]
    set_name: str
    kind: str = ORIGINAL

    @property
    def original(self) -> bool:
        """Whether a person wrote it (not a generated variant)."""
        return self.kind == ORIGINAL


def read_questions(path: Path) -> list[Question]:
    """Read a JSONL file of {"q": ..., "topic": id | [ids] | null, "styles": [...]}."""
    questions: list[Question] = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        raw = json.loads(line)
        topic = raw.get("topic")
        if topic is None:
            topics: tuple[str, ...] = ()
        elif isinstance(topic, str):
            topics = (topic,)
        elif isinstance(topic, list) and all(isinstance(t, str) for t in topic):
            topics = tuple(topic)
        else:
            raise ValueError(f"{path}:{line_no}: 'topic' ska vara en text, en lista eller null")
        styles = raw.get("styles", [])
        if not isinstance(styles, list) or not all(isinstance(s, str) for s in styles):
            raise ValueError(f"{path}:{line_no}: 'styles' ska vara en lista med texter")
        questions.append(Question(str(raw["q"]), topics, tuple(styles)))
    return questions


def labelled_pool(
    paths: Sequence[Path], tagger: StyleTagger | None = None,
    per_question: int = VARIANTS_PER_QUESTION,
) -> list[Labelled]:
    """The questions of the sets and, with a tagger, per_question variants of each."""
    pool: list[Labelled] = []
    for path in paths:
        for question in read_questions(path):
            pool.append(Labelled(question.q, question.topics, question.styles, path.name))
            if tagger is None:
                continue
            pool.extend(Labelled(v.q, question.topics, v.styles, path.name, v.kind)
                        for v in variants(question.q, tagger, per_question))
    return pool
