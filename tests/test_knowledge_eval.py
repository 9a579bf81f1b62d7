"""Quality gate: the knowledge base against its targets on dev, dev2, dev3 and holdout3.

Targets for the product: ≥ 95 % of in-scope questions answered with an acceptable entry,
≥ 92 % of out-of-scope questions declined, median answer time < 2 ms.

- dev.jsonl, dev2.jsonl and dev3.jsonl are tuning sets (dev2 was the first holdout, dev3
  the second, formerly holdout2.jsonl; both have been seen and tuned on).
- holdout3.jsonl was written blind from the entry ids and titles only, measured once
  before and once after a round of tuning on dev + dev2 + dev3:
  in scope 87.3 % → 90.8 % (157/173), declined 90.4 % → 92.3 % (48/52).
"""

from __future__ import annotations

from functools import cache

import pytest

from knowledge.eval import EVAL_DIR, Report, evaluate, format_report
from knowledge.kb import KnowledgeBase

TARGET_IN_SCOPE = 0.95
MIN_DECLINED = 0.92
MAX_MEDIAN_MS = 2.0

# Floors where the in-scope target is not met: the reached figure minus 1 point, to catch
# regressions. Raise them to TARGET_IN_SCOPE when a new blind set shows the target is met.
# dev3 reached 169/179 = 94.4 %, 0.6 points short of the 95 % target.
DEV3_IN_SCOPE_FLOOR = 0.934
# holdout3 reached 157/173 = 90.8 %, 4.2 points short of the 95 % target.
HOLDOUT3_IN_SCOPE_FLOOR = 0.897


@cache
def _run(name: str) -> Report:
    """Evaluate the packaged KB on one question file (once per test session)."""
    return evaluate(KnowledgeBase.load(), EVAL_DIR / name, repeats=1)


@pytest.mark.parametrize(
    ("name", "min_in_scope", "min_out_of_scope"),
    [
        ("dev.jsonl", 100, 25),
        ("dev2.jsonl", 80, 20),
        ("dev3.jsonl", 150, 40),
        ("holdout3.jsonl", 150, 40),
    ],
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


@pytest.mark.parametrize("name", ["dev3.jsonl", "holdout3.jsonl"])
def test_decline_and_speed_targets_are_met(name: str) -> None:
    report = _run(name)
    summary = format_report(report)
    assert report.decline_rate >= MIN_DECLINED, summary
    assert report.median_ms < MAX_MEDIAN_MS, summary


@pytest.mark.parametrize(
    ("name", "floor"),
    [("dev3.jsonl", DEV3_IN_SCOPE_FLOOR), ("holdout3.jsonl", HOLDOUT3_IN_SCOPE_FLOOR)],
)
def test_in_scope_does_not_regress(name: str, floor: float) -> None:
    # Below the 95 % target (dev3 gap 0.6 points, holdout3 gap 4.2 points): assert the
    # level reached minus 1 point.
    report = _run(name)
    assert report.accuracy >= floor, format_report(report)
