"""Questions that describe a concept in everyday words instead of naming it.

Staff who do not know the terms say "gruppen som bestämmer om idéerna" for RUG or "reglerna
som måste vara uppfyllda" for the skallkrav. They must reach the entry about the concept,
and a question about something the sources do not cover, said the same way, must still be
declined. None of these questions is in a question set.
"""

from __future__ import annotations

import pytest

from knowledge.kb import KnowledgeBase
from knowledge.questions import EVAL_DIR, read_questions
from knowledge.text import fold

ANSWERED = [
    ("Vem är det som bestämmer om våra idéer får bli av?", "rug"),
    ("Vilka regler måste en idé klara innan den tas upp?", "skallkrav"),
    ("Vad är den gemensamma bilden av hur vård och omsorg i Halland ska bli?", "malbild"),
    ("Hur lämnar vi in vår idé om ett samarbete?", "skicka_in"),
    ("Who says yes or no to the ideas people send in?", "rug"),
]
DECLINED = [
    "Hur mycket pengar har gruppen som bestämmer om idéerna att dela ut?",
    "Vad heter den som leder gruppen som godkänner förslagen?",
    "Vilket IT-system ska vi använda för att vården ska hänga ihop?",
    "Hur mycket blodtrycksmedicin ska en äldre patient ta?",
]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


def test_the_questions_are_in_no_question_set() -> None:
    asked = {fold(q) for q, _ in ANSWERED} | {fold(q) for q in DECLINED}
    for path in sorted(EVAL_DIR.glob("*.jsonl")):
        assert not asked & {fold(q.q) for q in read_questions(path)}, path.name


@pytest.mark.parametrize(("question", "topic"), ANSWERED)
def test_a_concept_described_in_everyday_words_gets_its_entry(
    kb: KnowledgeBase, question: str, topic: str
) -> None:
    answer = kb.answer(question)
    assert answer.answered and answer.topic == topic, (answer.topic, answer.reason)


@pytest.mark.parametrize("question", DECLINED)
def test_what_the_sources_do_not_cover_is_still_declined(
    kb: KnowledgeBase, question: str
) -> None:
    assert not kb.answer(question).answered
