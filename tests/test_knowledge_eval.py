"""Quality gate: the knowledge base against its targets on dev, dev2 and holdout2.

Targets for the product: ≥ 95 % of in-scope questions answered with an acceptable entry,
≥ 92 % of out-of-scope questions declined, median answer time < 2 ms.

- dev.jsonl and dev2.jsonl are tuning sets (dev2 was the first holdout; it has been seen).
- holdout2.jsonl was written blind from the entry titles only, measured once before and
  once after a round of tuning on dev + dev2: in scope 83.8 % → 91.1 % (163/179),
  declined 79.7 % → 94.9 % (56/59).
"""

from __future__ import annotations

from functools import cache

import pytest

from knowledge.eval import EVAL_DIR, Report, evaluate, format_report
from knowledge.kb import KnowledgeBase

TARGET_IN_SCOPE = 0.95
MIN_DECLINED = 0.92
MAX_MEDIAN_MS = 2.0

# holdout2 in scope reached 163/179 = 91.1 %, 3.9 points short of the 95 % target. This
# floor (the reached figure minus 1 point) guards against regressions; raise it to
# TARGET_IN_SCOPE when a new blind set shows the target is met.
HOLDOUT2_IN_SCOPE_FLOOR = 0.901


@cache
def _run(name: str) -> Report:
    """Evaluate the packaged KB on one question file (once per test session)."""
    return evaluate(KnowledgeBase.load(), EVAL_DIR / name, repeats=1)


@pytest.mark.parametrize(
    ("name", "min_in_scope", "min_out_of_scope"),
    [("dev.jsonl", 100, 25), ("dev2.jsonl", 80, 20), ("holdout2.jsonl", 150, 40)],
)
def test_question_sets_are_complete(name: str, min_in_scope: int, min_out_of_scope: int) -> None:
    report = _run(name)
    assert report.in_scope >= min_in_scope, format_report(report)
    assert report.out_of_scope >= min_out_of_scope, format_report(report)


@pytest.mark.parametrize("name", ["dev.jsonl", "dev2.jsonl"])
def test_tuning_sets_meet_all_targets(name: str) -> None:
    report = _run(name)
    summary = format_report(report)
    assert report.accuracy >= TARGET_IN_SCOPE, summary
    assert report.decline_rate >= MIN_DECLINED, summary
    assert report.median_ms < MAX_MEDIAN_MS, summary


def test_holdout2_meets_decline_and_speed_targets() -> None:
    report = _run("holdout2.jsonl")
    summary = format_report(report)
    assert report.decline_rate >= MIN_DECLINED, summary
    assert report.median_ms < MAX_MEDIAN_MS, summary


def test_holdout2_in_scope_does_not_regress() -> None:
    # Below the 95 % target (gap 3.9 points at 91.1 %): assert the level reached.
    report = _run("holdout2.jsonl")
    assert report.accuracy >= HOLDOUT2_IN_SCOPE_FLOOR, format_report(report)
