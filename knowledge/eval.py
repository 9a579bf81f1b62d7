"""Evaluate the knowledge base against the question sets: `python -m knowledge.eval`.

Prints, for the packaged model: each set's in-scope accuracy and decline rate, the same
per style (knowledge.styles) over every set's own questions and over generated variants
of them, and the answer time. Most sets are training sets, so these figures flatter;
the figures that count are leave-one-style-out (`python -m knowledge.loso`) and sets
never trained on.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.kb import Answer, KnowledgeBase
from knowledge.questions import (
    DEFAULT_FILES,
    Labelled,
    Question,
    labelled_pool,
    read_questions,
)
from knowledge.styles import PLAIN, STYLES, tagger_for

__all__ = ["Report", "evaluate", "evaluate_questions", "format_report", "main", "style_table"]


@dataclass
class Report:
    """Outcome of one group of questions (a set, or one style)."""

    name: str
    in_scope: int = 0
    in_scope_right: int = 0
    out_of_scope: int = 0
    declined: int = 0
    # Not answered, but "Menar du …?" offered the right entry / offered anything.
    in_scope_suggested: int = 0
    out_of_scope_suggested: int = 0
    timings_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Share of in-scope questions answered with an acceptable topic."""
        return self.in_scope_right / self.in_scope if self.in_scope else 1.0

    @property
    def decline_rate(self) -> float:
        """Share of out-of-scope questions that were declined."""
        return self.declined / self.out_of_scope if self.out_of_scope else 1.0

    @property
    def median_ms(self) -> float:
        """Median answer time in milliseconds."""
        return statistics.median(self.timings_ms) if self.timings_ms else 0.0

    @property
    def p95_ms(self) -> float:
        """95th-percentile answer time in milliseconds."""
        if not self.timings_ms:
            return 0.0
        ordered = sorted(self.timings_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def add(self, q: str, topics: Sequence[str], answer: Answer) -> None:
        """Count one answer to a labelled question."""
        offered = [eid for eid, _ in answer.suggestions]
        if topics:
            self.in_scope += 1
            if answer.answered and answer.topic in topics:
                self.in_scope_right += 1
                return
            if any(eid in topics for eid in offered):
                self.in_scope_suggested += 1
            got = answer.topic if answer.answered else (
                f"förslag {'/'.join(offered)}" if offered else f"avböjd ({answer.reason})")
            self.failures.append(
                f"{q!r}: väntade {'/'.join(topics)}, fick {got} (score {answer.score})"
            )
        else:
            self.out_of_scope += 1
            if offered:
                self.out_of_scope_suggested += 1
            if not answer.answered:
                self.declined += 1
            else:
                self.failures.append(
                    f"{q!r}: skulle avböjas, fick {answer.topic} (score {answer.score})")


def evaluate_questions(
    kb: KnowledgeBase, name: str, questions: Iterable[Question | Labelled], repeats: int = 1
) -> Report:
    """Ask every question and measure accuracy, decline rate and time."""
    report = Report(name)
    for question in questions:
        best = float("inf")
        # The fastest of a few runs measures the code, not a scheduler hiccup.
        for _ in range(repeats):
            start = time.perf_counter()
            answer = kb.answer(question.q)
            best = min(best, (time.perf_counter() - start) * 1000.0)
        report.timings_ms.append(best)
        report.add(question.q, question.topics, answer)
    return report


def evaluate(kb: KnowledgeBase, path: Path, repeats: int = 3) -> Report:
    """Ask every question in path and measure accuracy, decline rate and time."""
    return evaluate_questions(kb, path.name, read_questions(path), repeats)


def format_report(report: Report) -> str:
    """Human-readable summary of one report."""
    lines = [
        f"== {report.name}",
        f"in scope:     {report.in_scope_right}/{report.in_scope} rätt "
        f"({report.accuracy:.1%})",
        f"out of scope: {report.declined}/{report.out_of_scope} avböjda "
        f"({report.decline_rate:.1%})",
        f"tid:          median {report.median_ms:.3f} ms, p95 {report.p95_ms:.3f} ms",
    ]
    lines.extend(f"  FEL {f}" for f in report.failures)
    return "\n".join(lines)


def format_row(report: Report) -> str:
    """One line of a table: in-scope right, out-of-scope declined, and "Menar du …?".

    The last two columns count the questions not answered that got suggestions: in scope
    with the right entry among them, out of scope with any.
    """
    return (f"  {report.name:24} {report.in_scope_right:5}/{report.in_scope:<5} "
            f"{report.accuracy:6.1%}   {report.declined:4}/{report.out_of_scope:<4} "
            f"{report.decline_rate:6.1%}   {report.in_scope_suggested:5} "
            f"{report.out_of_scope_suggested:5}")


TABLE_HEAD = (f"  {'':24} {'i scope rätt':>18}   {'utanför avböjda':>16}   "
              f"{'menar du: rätt':>14} {'utanför':>5}")


def by_style(reports_of: dict[str, Report], styles: Sequence[str]) -> list[Report]:
    """The reports in STYLES order, then plain."""
    return [reports_of[s] for s in (*STYLES, PLAIN) if s in reports_of and s in styles]


def style_table(
    kb: KnowledgeBase, questions: Iterable[Question | Labelled], styles: Sequence[str]
) -> list[Report]:
    """One report per style: every question counts for each of its styles."""
    reports: dict[str, Report] = {}
    for question in questions:
        answer = kb.answer(question.q)
        for style in question.styles or (PLAIN,):
            if style in styles:
                reports.setdefault(style, Report(style)).add(question.q, question.topics, answer)
    return by_style(reports, styles)


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation on the given files (default: the tuning sets and the blind sets)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*", type=Path, default=list(DEFAULT_FILES))
    parser.add_argument("--answers", type=Path, default=None,
                        help="write every (set, question, answered, topic, score, reason) to "
                             "this file, one JSON array per line, to compare two versions")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="list every question answered wrongly")
    args = parser.parse_args(argv)
    kb = KnowledgeBase.load()
    if args.answers is not None:
        write_answers(kb, args.files, args.answers)
    reports = [evaluate(kb, path) for path in args.files]
    print("== per frågeuppsättning (de flesta är träningsdata)")
    print(TABLE_HEAD)
    for report in reports:
        print(format_row(report))
    if args.verbose:
        for report in reports:
            print(format_report(report))

    pool = labelled_pool(args.files, tagger_for(kb))
    every = (*STYLES, PLAIN)
    print("\n== per stil, frågornas egna formuleringar (alla uppsättningar)")
    print(TABLE_HEAD)
    for report in style_table(kb, [p for p in pool if p.original], every):
        print(format_row(report))
    print("\n== per stil, genererade varianter (utan diakritiska tecken, ett stavfel, roll "
          "först, hälsning, avslutning, gemener)")
    print(TABLE_HEAD)
    for report in style_table(kb, [p for p in pool if not p.original], every):
        print(format_row(report))
    timings = [t for report in reports for t in report.timings_ms]
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else 0.0
    print(f"\ntid per fråga i processen ({len(timings)} frågor, bästa av 3): "
          f"median {statistics.median(timings) if timings else 0.0:.3f} ms, p95 {p95:.3f} ms")
    return 0


def write_answers(kb: KnowledgeBase, paths: list[Path], out: Path) -> None:
    """One line per question: what a change of the code must leave as it is, or explain."""
    lines = []
    for path in paths:
        for question in read_questions(path):
            a = kb.answer(question.q)
            lines.append(json.dumps([path.name, question.q, a.answered, a.topic, a.score,
                                     a.reason], ensure_ascii=False))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
