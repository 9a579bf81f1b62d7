"""The learned re-ranker: loading, validation, training, and what it does to answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.calibrate import training_for
from knowledge.errors import KnowledgeDataError
from knowledge.eval import evaluate
from knowledge.kb import KnowledgeBase
from knowledge.loader import PACKAGED, read_ranker
from knowledge.questions import EVAL_DIR, TUNING_FILES
from knowledge.ranker import NO_RANKER, OUTSIDE, PAIR, TermRanker, train


def _valid() -> dict[str, object]:
    return {"share": 0.5, "classes": ["a", "b"], "bias": [0.0, 0.0],
            "weights": {"vard": {"0": 1.5}}}


def test_the_packaged_ranker_knows_every_entry_and_the_outside_class() -> None:
    ranker = read_ranker(PACKAGED.ranker)
    kb = KnowledgeBase.load()
    assert set(ranker.classes) == {entry.id for entry in kb.entries} | {OUTSIDE}
    assert 0.0 < ranker.share <= 1.0


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"classes": ["a", "a"]}, "classes"),
        ({"bias": [0.0]}, "bias"),
        ({"share": 2.0}, "share"),
        ({"weights": {"vard": {"7": 1.0}}}, "weights.vard"),
        ({"weights": {"vard": {"0": "mycket"}}}, "weights.vard.0"),
        ({"weights": {"vard": {"1": 0.5, "0": True}}}, "weights.vard.0"),
        ({"weights": []}, "weights"),
    ],
)
def test_a_malformed_ranker_fails_loudly_naming_file_and_field(
    tmp_path: Path, change: dict[str, object], named: str
) -> None:
    path = tmp_path / "ranker.json"
    path.write_text(json.dumps({**_valid(), **change}), encoding="utf-8")
    with pytest.raises(KnowledgeDataError) as caught:
        read_ranker(path)
    assert str(path) in str(caught.value)
    assert named in str(caught.value)


def test_probabilities_follow_the_weights_and_sum_to_one() -> None:
    ranker = TermRanker(("a", "b"), (0.0, 0.0), {"vard": {0: 2.0}})
    neutral = ranker.probabilities({})
    leaning = ranker.probabilities({"vard": 1.0})
    assert neutral == {"a": 0.5, "b": 0.5}
    assert leaning["a"] > 0.85
    assert sum(leaning.values()) == pytest.approx(1.0)
    assert NO_RANKER.probabilities({"vard": 1.0}) == {}


def test_training_learns_which_words_point_where() -> None:
    examples = [({"rug": 1.0}, "rug"), ({"mall": 1.0}, "mallen"), ({"rug": 1.0, "beslut": 1.0},
                "rug"), ({"mall": 1.0, "blankett": 1.0}, "mallen")] * 3
    ranker = train(examples, ["rug", "mallen"], c=10.0, iterations=200)
    assert ranker.probabilities({"blankett": 1.0})["mallen"] > 0.7
    assert ranker.probabilities({"beslut": 1.0})["rug"] > 0.7
    # What is stored survives the round trip through the data file.
    raw = json.loads(json.dumps(ranker.to_json()))
    assert raw["classes"] == ["rug", "mallen"]


def test_a_ranker_never_trained_on_a_set_still_answers_it_well() -> None:
    # holdout8 was measured blind before it joined the training data. Trained without it
    # (the KB's own texts, the other sets and their variants), the ranker reached 202/205
    # = 98.5 % in scope and 64/65 = 98.5 % declined on it; the floors are one point under.
    held_out = "holdout8.jsonl"
    training = training_for([EVAL_DIR / name for name in TUNING_FILES if name != held_out])
    kb = KnowledgeBase.load(ranker=training.ranker())
    report = evaluate(kb, EVAL_DIR / held_out, repeats=1)
    assert report.accuracy >= 0.975, report.failures
    assert report.decline_rate >= 0.975, report.failures


def test_an_entry_added_after_training_is_still_found(tmp_path: Path) -> None:
    # Coordinators add entries without retraining: the new entry has no learned weights,
    # and the lexical retrieval must still answer its own questions with it.
    raw = json.loads(PACKAGED.entries.read_text(encoding="utf-8"))
    raw["entries"].append({
        "id": "tack_rug",
        "title": "Hur tackar vi RUG-deltagarna efter ett avslutat initiativ?",
        "answer": "Vi firar tillsammans när initiativet har spridits.",
        "source": raw["entries"][0]["source"],
        "keywords": ["tacka rug"],
        "phrasings": ["hur visar vi uppskattning till rug-deltagarna"],
        "related": [],
    })
    path = tmp_path / "entries.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    kb = KnowledgeBase.load(path)
    answer = kb.answer("Hur visar vi uppskattning till RUG-deltagarna?")
    assert (answer.answered, answer.topic) == (True, "tack_rug")
    assert kb.answer("vad är nära vård?").topic == "nara_vard"


def test_question_terms_carry_cue_words_and_word_pairs() -> None:
    kb = KnowledgeBase.load(ranker=NO_RANKER)
    terms = kb.question_terms("Kan jag själv lämna ett förslag?")
    # "kan" and "själv" are no retrieval terms, but they tell who-may-propose from how-to.
    assert {"?kan", "?jag", "?sjalv"} <= set(terms)
    assert f"kan{PAIR}jag" in terms
    # The speaker's self-description gives no cues; the question after it does.
    terms = kb.question_terms("Vi jobbar i hemtjänsten och undrar vad RUG är")
    assert "?vi" not in terms and "?vad" in terms


def test_a_word_pair_seen_once_is_not_learned() -> None:
    examples = [({"rug": 1.0, f"rug{PAIR}beslut": 1.0}, "rug"),
                ({"mall": 1.0, f"var{PAIR}mall": 1.0}, "mallen"),
                ({"mall": 1.0, f"var{PAIR}mall": 1.0}, "mallen")]
    ranker = train(examples, ["rug", "mallen"], iterations=50)
    assert f"rug{PAIR}beslut" not in ranker.weights
    assert f"var{PAIR}mall" in ranker.weights
