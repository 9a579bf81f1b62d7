"""The answer/decline model: loading, validation and calibration."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from knowledge.calibrate import Evidence, choose_threshold
from knowledge.calibrate import main as calibrate_main
from knowledge.decision import FEATURES, DecisionModel
from knowledge.errors import KnowledgeDataError
from knowledge.eval import evaluate
from knowledge.kb import KnowledgeBase
from knowledge.loader import PACKAGED, read_decision, read_ranker
from knowledge.questions import EVAL_DIR


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _valid() -> dict[str, object]:
    return {"weights": {name: 0.5 for name in FEATURES}, "bias": -1.0, "threshold": 0.5}


def test_the_packaged_model_loads() -> None:
    model = read_decision(PACKAGED.decision)
    assert set(model.weights) == set(FEATURES)
    assert 0.0 < model.threshold < 1.0


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"weights": {"score": 1.0}}, "weights"),
        ({"bias": "hög"}, "bias"),
        ({"threshold": 1.5}, "threshold"),
        ({"weights": {**{name: 0.5 for name in FEATURES}, "score": "x"}}, "weights.score"),
    ],
)
def test_a_malformed_model_fails_loudly_naming_file_and_field(
    tmp_path: Path, change: dict[str, object], named: str
) -> None:
    path = _write(tmp_path / "decision.json", {**_valid(), **change})
    with pytest.raises(KnowledgeDataError) as caught:
        read_decision(path)
    assert str(path) in str(caught.value)
    assert named in str(caught.value)


def test_a_model_that_never_trusts_the_retrieval_declines_everything(tmp_path: Path) -> None:
    path = _write(tmp_path / "decision.json",
                  {"weights": {name: 0.0 for name in FEATURES}, "bias": -50.0, "threshold": 0.5})
    kb = KnowledgeBase.load(decision=read_decision(path))
    answer = kb.answer("Vad är nära vård?")
    assert (answer.answered, answer.reason) == (False, "low_confidence")


def test_calibration_writes_a_model_that_meets_its_decline_target(tmp_path: Path) -> None:
    out = tmp_path / "decision.json"
    ranker_out = tmp_path / "ranker.json"
    dev = EVAL_DIR / "dev.jsonl"
    assert calibrate_main([str(dev), "--decline", "0.95", "--out", str(out),
                           "--ranker-out", str(ranker_out)]) == 0
    model = read_decision(out)
    kb = KnowledgeBase.load(decision=model, ranker=read_ranker(ranker_out))
    report = evaluate(kb, dev, repeats=1)
    assert report.decline_rate >= 0.95
    assert report.accuracy >= 0.9


def _evidence(right: list[float], outside: list[float]) -> Evidence:
    """Written questions whose best entry has these confidences (under _by_confidence)."""
    evidence = Evidence()
    for confidence, label, out in ([(c, 1, False) for c in right]
                                   + [(c, 0, True) for c in outside]):
        features = {name: 0.0 for name in FEATURES}
        features["score"] = math.log(confidence / (1.0 - confidence))
        evidence.samples.append([features[name] for name in FEATURES])
        evidence.labels.append(label)
        evidence.out_flags.append(out)
        evidence.original.append(True)
    evidence.in_scope, evidence.out_of_scope = len(right), len(outside)
    return evidence


_by_confidence = DecisionModel({name: (1.0 if name == "score" else 0.0) for name in FEATURES},
                               0.0, 0.5)


def test_the_threshold_is_the_lowest_that_reaches_the_decline_target() -> None:
    evidence = _evidence(right=[0.8] * 10, outside=[0.1] * 9 + [0.3])
    threshold, right, declined = choose_threshold(_by_confidence, evidence, 0.95)
    assert (threshold, right, declined) == (0.31, 1.0, 1.0)


def test_a_decline_target_out_of_reach_does_not_cost_more_answers_than_it_gains() -> None:
    # Reaching 95 % declined needs 0.95, which would leave 1 of 10 in-scope questions
    # answered; at 0.11 all ten are answered and 8 of 10 declined, the best balance.
    evidence = _evidence(right=[0.6] + [0.9] * 8 + [0.97], outside=[0.1] * 8 + [0.92, 0.94])
    threshold, right, declined = choose_threshold(_by_confidence, evidence, 0.95)
    assert (threshold, right, declined) == (0.11, 1.0, 0.8)
