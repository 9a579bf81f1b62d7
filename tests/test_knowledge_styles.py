"""Style tags, generated variants, and leaving one style out of training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.calibrate import training_for
from knowledge.kb import KnowledgeBase
from knowledge.loso import leave_out
from knowledge.questions import EVAL_DIR, labelled_pool, read_questions
from knowledge.styles import STYLES, StyleTagger, make_variant, tagger_for, variants


@pytest.fixture(scope="module")
def tagger() -> StyleTagger:
    return tagger_for(KnowledgeBase.load())


@pytest.mark.parametrize(
    ("question", "styles"),
    [
        ("vad är rug", ("short_chat",)),
        ("vad ar fardplanen for nagot", ("short_chat", "no_diacritics_typos")),
        ("Hur skickar jag in mitt initativ, och vem bestämmer om förslagen sedan?",
         ("no_diacritics_typos", "two_questions", "paraphrase")),
        ("What are the four success factors?", ("short_chat", "english")),
        ("Jag jobbar som undersköterska i Varberg och undrar hur processen för nya "
         "initiativ går till", ("long_self_description", "paraphrase")),
        ("Vem är det som bestämmer vilka av våra idéer som blir av?", ("paraphrase",)),
        ("Vem är det i RUG som bestämmer vilka idéer som blir av?", ()),
        ("Vad är RUG och hur skickar jag in ett förslag?", ("two_questions",)),
        ("Hej! Vad är nära vård?", ("short_chat", "wrapped", "paraphrase")),
        ("Vad gör RUG? Mvh Leila", ("short_chat", "wrapped")),
        ("Vänligen redogör för tidplanen för yttrandet över granskningen.", ("formal",)),
    ],
)
def test_questions_are_tagged_by_rule(
    tagger: StyleTagger, question: str, styles: tuple[str, ...]
) -> None:
    assert tagger.tag(question) == styles


def test_a_word_the_knowledge_does_not_use_is_no_typo(tagger: StyleTagger) -> None:
    assert "no_diacritics_typos" not in tagger.tag("Vilka steg går ett förslag igenom?")


def test_every_set_stores_the_styles_its_rules_give(tagger: StyleTagger) -> None:
    for path in sorted(EVAL_DIR.glob("*.jsonl")):
        for question in read_questions(path):
            assert set(question.styles) <= set(STYLES), (path.name, question.q)
            assert question.styles == tagger.tag(question.q), (path.name, question.q)


@pytest.mark.parametrize(
    ("kind", "question", "expected"),
    [
        ("no_diacritics", "Vad är målbilden?", "Vad ar malbilden?"),
        ("lower_case", "Vad är RUG?", "vad är rug?"),
        ("typo", "Vad är RUG?", None),  # no word of five letters to slip in
    ],
)
def test_variants_rewrite_the_question(kind: str, question: str, expected: str | None) -> None:
    assert make_variant(question, kind, english=False) == expected


def test_variants_keep_the_question_and_add_their_style(tagger: StyleTagger) -> None:
    question = "Vilka är de fyra skallkraven?"
    made = variants(question, tagger, per_question=6)
    assert {v.kind for v in made} == {"no_diacritics", "typo", "role_prefix", "sign_off",
                                      "lower_case", "greeting", "paraphrase"}
    by_kind = {v.kind: v for v in made}
    assert by_kind["role_prefix"].q.endswith(question[1:])
    assert "long_self_description" in by_kind["role_prefix"].styles
    assert "wrapped" in by_kind["greeting"].styles and "wrapped" in by_kind["sign_off"].styles
    assert "no_diacritics_typos" in by_kind["typo"].styles
    assert "skallkrav" not in by_kind["paraphrase"].q.lower()
    assert "paraphrase" in by_kind["paraphrase"].styles
    # The same question always gets the same variants.
    assert variants(question, tagger, per_question=6) == made


@pytest.mark.parametrize(
    ("question", "english", "gone"),
    [
        ("Vem i RUG beslutar om förslagen?", False, ("rug", "beslutar")),
        ("Var hittar jag mallen på vårdgivarwebben?", False, ("mallen", "vårdgivarwebben")),
        ("Vad är skillnaden mellan målbilden och färdplanen?", False, ("målbild", "färdplan")),
        ("Who in RUG decides on it?", True, ("rug",)),
    ],
)
def test_a_paraphrase_says_the_terms_in_everyday_words(
    tagger: StyleTagger, question: str, english: bool, gone: tuple[str, ...]
) -> None:
    made = make_variant(question, "paraphrase", english)
    assert made is not None and made[:1].isupper()
    assert not any(term in made.lower() for term in gone), made


def test_a_question_without_a_term_has_no_paraphrase() -> None:
    assert make_variant("Hur går det till?", "paraphrase", english=False) is None


def test_english_questions_get_english_wrapping(tagger: StyleTagger) -> None:
    made = {v.kind: v.q for v in variants("What is RUG?", tagger, per_question=6)}
    assert made["role_prefix"].startswith(("I work as", "I'm a"))
    assert "no_diacritics" not in made


def test_the_pool_labels_variants_like_their_question(tmp_path: Path, tagger: StyleTagger
                                                      ) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps({"q": "Vad är färdplanen?", "topic": "fardplan",
                                "styles": ["short_chat"]}) + "\n", encoding="utf-8")
    pool = labelled_pool([path], tagger, per_question=2)
    # Two variants of the rotating kinds, and the paraphrase of "färdplanen".
    assert [p.original for p in pool] == [True, False, False, False]
    assert pool[-1].kind == "paraphrase"
    assert all(p.topics == ("fardplan",) and p.set_name == "set.jsonl" for p in pool)


def test_leaving_a_style_out_trains_without_it_and_measures_on_it() -> None:
    train = [EVAL_DIR / "dev.jsonl", EVAL_DIR / "dev2.jsonl"]
    training = training_for(train)
    measure = labelled_pool([EVAL_DIR / "dev3.jsonl"], tagger_for(training.base))
    result = leave_out(training, measure, "english", folds=2)
    written = [q for q in measure if q.original and "english" in q.styles]
    assert result.written.in_scope + result.written.out_of_scope == len(written) > 0
    assert result.variants.in_scope + result.variants.out_of_scope > 0
    assert 0.0 < result.threshold < 1.0
    # Trained on two small sets only, English is still mostly answered or declined right.
    assert result.written.accuracy >= 0.8
