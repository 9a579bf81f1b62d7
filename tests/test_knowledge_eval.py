"""Quality gate: the knowledge base against its targets on every question set.

Targets for the product: ≥ 95 % of in-scope questions answered with an acceptable entry,
≥ 92 % of out-of-scope questions declined. Answer time (target: median < 2 ms) is printed
by `make eval` and `make bench`; no test asserts a duration, so a slower machine passes too.

- dev, dev2, dev3, holdout3–holdout8 and train11–train22 are training sets (holdout3 on
  and the train sets were written blind: seeds and entry titles only). The re-ranker
  (knowledge/data/ranker.json) is trained on them and the decision model
  (knowledge/data/decision.json) fitted on them, so their figures say little about new
  questions. tests/test_knowledge_ranker.py checks
  one set with a ranker trained without it.
- holdout9 and holdout10 were written blind by two more writers and measured once, after
  the last change of the round, against the code at its start and its end: in scope
  90.7 % → 95.6 % (196/205) and 94.1 % → 98.5 % (202/205), declined 95.4 % → 98.5 %
  (64/65) and 90.8 % → 96.9 % (63/65).

Where a target is not met, the test asserts the figure reached minus 1 point, so a
regression fails; raise the floors to the targets when a new blind set meets them.
"""

from __future__ import annotations

from functools import cache

import pytest

from knowledge.eval import Report, evaluate, format_report
from knowledge.kb import KnowledgeBase
from knowledge.questions import EVAL_DIR

TARGET_IN_SCOPE = 0.95
TARGET_DECLINED = 0.92

# (file, in-scope floor, declined floor); a floor below the target is the figure reached
# minus 1 point, with the gap in the comment.
FLOORS = [
    ("dev.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("dev2.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("dev3.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("holdout3.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("holdout4.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("holdout5.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("holdout6.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("holdout7.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("holdout8.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("train11.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("train12.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("train13.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("train14.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("train15.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("train16.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("train17.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("train18.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("train19.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("train20.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("train21.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("train22.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("holdout9.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("holdout10.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
]


@cache
def _run(name: str) -> Report:
    """Evaluate the packaged KB on one question file (once per test session)."""
    return evaluate(KnowledgeBase.load(), EVAL_DIR / name, repeats=1)


@pytest.mark.parametrize("name", [name for name, _, _ in FLOORS])
def test_question_sets_are_complete(name: str) -> None:
    # Every set is big enough to say something: ≥ 80 in scope and ≥ 25 to decline.
    report = _run(name)
    assert report.in_scope >= 80, format_report(report)
    assert report.out_of_scope >= 25, format_report(report)


@pytest.mark.parametrize(("name", "in_scope_floor", "declined_floor"), FLOORS)
def test_quality_does_not_fall_below_its_floor(
    name: str, in_scope_floor: float, declined_floor: float
) -> None:
    report = _run(name)
    summary = format_report(report)
    assert report.accuracy >= in_scope_floor, summary
    assert report.decline_rate >= declined_floor, summary
