"""The answer/decline model: loading, validation and calibration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.calibrate import main as calibrate_main
from knowledge.decision import FEATURES
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
