"""Quality gate: the knowledge base against its targets on every question set.

Targets for the product: ≥ 95 % of in-scope questions answered with an acceptable entry,
≥ 92 % of out-of-scope questions declined, median answer time < 2 ms.

- dev, dev2, dev3, holdout3, holdout4 and holdout5 are tuning sets: each was once a blind
  holdout, and the decision model (knowledge/data/decision.json) is fitted on them.
- holdout6 was written blind (the writer saw only the seeds and the entry titles) and
  measured once after the last change: in scope 82.4 % → 86.8 % (178/205), declined
  84.6 % → 89.2 % (58/65), against the code at the start and the end of this round.

Where a target is not met, the test asserts the figure reached minus 1 point, so a
regression fails; raise the floors to the targets when a new blind set meets them.
"""

from __future__ import annotations

from functools import cache

import pytest

from knowledge.eval import EVAL_DIR, Report, evaluate, format_report
from knowledge.kb import KnowledgeBase

TARGET_IN_SCOPE = 0.95
TARGET_DECLINED = 0.92
MAX_MEDIAN_MS = 2.0

# (file, in-scope floor, declined floor); a floor below the target is the figure reached
# minus 1 point, with the gap in the comment.
FLOORS = [
    ("dev.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    ("dev2.jsonl", TARGET_IN_SCOPE, TARGET_DECLINED),
    # dev3 reached 170/179 = 94.97 %, a hair under the target.
    ("dev3.jsonl", 0.939, TARGET_DECLINED),
    # holdout3 reached 163/173 = 94.2 %, 0.8 points short of the target.
    ("holdout3.jsonl", 0.932, TARGET_DECLINED),
    # holdout4 reached 182/205 = 88.8 % (6.2 short) and declined 59/65 = 90.8 % (1.2 short).
    ("holdout4.jsonl", 0.878, 0.898),
    # holdout5 reached 184/205 = 89.8 % (5.2 short).
    ("holdout5.jsonl", 0.888, TARGET_DECLINED),
    # holdout6 (blind) reached 178/205 = 86.8 % (8.2 short) and 58/65 = 89.2 % (2.8 short).
    ("holdout6.jsonl", 0.858, 0.882),
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


@pytest.mark.parametrize("name", [name for name, _, _ in FLOORS])
def test_answering_is_fast(name: str) -> None:
    report = _run(name)
    assert report.median_ms < MAX_MEDIAN_MS, format_report(report)
