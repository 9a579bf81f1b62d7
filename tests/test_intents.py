"""The intent routing against the labelled sets: nothing the knowledge base answers is small talk,
and the labelled set is the size the issue asked for (its figures are in `make eval`)."""

from __future__ import annotations

from collections import Counter

from dialogs.intent_eval import (
    LABELLED,
    knowledge_questions,
    read_labelled,
    score,
    taken_from_the_knowledge_base,
)
from dialogs.intents import SMALL_TALK, Intent, classify

KNOWN_LABELS = {i.value for i in Intent} | {"question", "process_question"}


def test_no_question_of_the_knowledge_sets_is_routed_to_small_talk() -> None:
    questions = knowledge_questions()
    taken = taken_from_the_knowledge_base(questions)

    assert sum(1 for _q, has_topic in questions if has_topic) > 4000
    assert {intent: n for intent, n in taken.items() if Intent(intent) in SMALL_TALK} == {}


def test_the_labelled_set_covers_every_intent_in_both_languages() -> None:
    rows = read_labelled([LABELLED])
    labels = Counter(row["label"] for row in rows)

    assert len(rows) >= 300
    assert {row["lang"] for row in rows} == {"sv", "en"}
    assert min(labels.values()) >= 10, labels
    # Every label is one the routing can give (a typo in a label would never be right).
    assert set(labels) <= set(score(rows).labels) & KNOWN_LABELS


def test_small_talk_around_a_question_leaves_it_a_question() -> None:
    for text in ["hej! vad är nära vård?", "tack, och vad är färdplanen?",
                 "God morgon, vilka är skallkraven?", "Thanks! What is RUG?"]:  # fmt: skip
        assert classify(text).intent == Intent.NONE, text


def test_a_message_naming_a_case_id_asks_for_that_case() -> None:
    for text in ("vad står det i OH-2026-0018?", "kan du ta fram oh-2026-0119 åt mig",
                 "återremittera OH-2026-0013"):
        found = classify(text)
        assert found.intent == Intent.RUG_CASE, text
        assert found.case_id.startswith("OH-2026-"), found
    long_text = "Jag skrev om OH-2026-0013 i mitt förslag " + "och så vidare " * 20
    assert classify(long_text).intent != Intent.RUG_CASE
