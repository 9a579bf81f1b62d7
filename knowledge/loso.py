"""Leave one style out: `python -m knowledge.loso` (part of `make eval`).

For each style (knowledge.styles), the re-ranker is trained and the decision fitted
without any question of that style – neither the written questions nor the generated
variants – and the result is measured on the questions of that style: the ones people
wrote in every set (the blind sets included), and the variants. It tells how the
knowledge base does on a way of asking it has never been trained on, which is what a
new user brings; the worst style's figure is the one that counts.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.calibrate import DECLINE_TARGET, Training, fit_decision, training_for
from knowledge.eval import TABLE_HEAD, Report, evaluate_questions, format_row
from knowledge.questions import DEFAULT_FILES, EVAL_DIR, TUNING_FILES, Labelled, labelled_pool
from knowledge.styles import STYLES, tagger_for

# Folds for the decision's cross-fitting within each run: three keep a run to about half
# a minute; the decision comes out close to calibrate's seven (see the README).
LOSO_FOLDS = 3


@dataclass(frozen=True)
class StyleResult:
    """One style left out: the written questions and the variants of that style."""

    style: str
    written: Report
    variants: Report
    threshold: float


def leave_out(
    training: Training, measure: Sequence[Labelled], style: str,
    folds: int = LOSO_FOLDS, decline: float = DECLINE_TARGET,
) -> StyleResult:
    """Train and fit without the style, then measure on it."""
    def keep(question: Labelled) -> bool:
        return style not in question.styles

    decision, _, _ = fit_decision(training.cross_fitted(keep, folds), decline)
    kb = training.knowledge_base(training.ranker(keep), decision)
    written = [q for q in measure if q.original and style in q.styles]
    generated = [q for q in measure if not q.original and style in q.styles]
    return StyleResult(style, evaluate_questions(kb, style, written),
                       evaluate_questions(kb, style, generated), decision.threshold)


def format_results(results: Sequence[StyleResult]) -> str:
    """The table of written questions, the table of variants, and the worst style."""
    lines = ["== lämna en stil utanför (tränad och kalibrerad utan stilen, mätt på den)",
             "-- frågor som människor skrivit, alla uppsättningar", TABLE_HEAD]
    lines += [format_row(r.written) + f"   tröskel {r.threshold:.2f}" for r in results]
    lines += ["-- genererade varianter", TABLE_HEAD]
    lines += [format_row(r.variants) for r in results if r.variants.in_scope
              or r.variants.out_of_scope]
    if results:
        worst_in = min(results, key=lambda r: r.written.accuracy)
        worst_out = min(results, key=lambda r: r.written.decline_rate)
        lines.append(f"sämsta stil, i scope: {worst_in.style} {worst_in.written.accuracy:.1%}; "
                     f"utanför: {worst_out.style} {worst_out.written.decline_rate:.1%} avböjda")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Leave each style out in turn and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--styles", nargs="*", default=list(STYLES), choices=STYLES)
    parser.add_argument("--train", nargs="*", type=Path,
                        default=[EVAL_DIR / name for name in TUNING_FILES])
    parser.add_argument("--measure", nargs="*", type=Path, default=list(DEFAULT_FILES))
    parser.add_argument("--folds", type=int, default=LOSO_FOLDS)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="list the written questions answered wrongly")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    training = training_for(args.train)
    measure = labelled_pool(args.measure, tagger_for(training.base))
    results = [leave_out(training, measure, style, args.folds) for style in args.styles]
    print(format_results(results))
    if args.verbose:
        for result in results:
            print(f"== {result.style}")
            print("\n".join(f"  FEL {f}" for f in result.written.failures))
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
