"""Evaluate the knowledge base against the question sets: `python -m knowledge.eval`."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.kb import KnowledgeBase

# The question sets are data, not code: they live in the top-level eval/ folder.
EVAL_DIR = Path(__file__).resolve().parents[1] / "eval"
# dev … holdout8 are training sets: each was once a blind holdout, measured once, and has
# since been seen and trained on (knowledge.calibrate trains the re-ranker and fits the
# decision on them). train11 … train22 were written the same way (the writer saw only the
# seeds and the entry titles) to be training data from the start. The blind sets were
# written the same way and are measured once, after the last change of a round; training
# on them makes them training sets, and new ones are needed.
TUNING_FILES = (
    "dev.jsonl", "dev2.jsonl", "dev3.jsonl", "holdout3.jsonl", "holdout4.jsonl", "holdout5.jsonl",
    "holdout6.jsonl", "holdout7.jsonl", "holdout8.jsonl", "train11.jsonl", "train12.jsonl",
    "train13.jsonl", "train14.jsonl", "train15.jsonl", "train16.jsonl", "train17.jsonl",
    "train18.jsonl", "train19.jsonl", "train20.jsonl", "train21.jsonl", "train22.jsonl",
)
BLIND_FILES = ("holdout9.jsonl", "holdout10.jsonl")
DEFAULT_FILES = tuple(EVAL_DIR / name for name in (*TUNING_FILES, *BLIND_FILES))


@dataclass(frozen=True)
class Question:
    """One evaluation question; an empty `topics` means it must be declined."""

    q: str
    topics: tuple[str, ...]


@dataclass
class Report:
    """Outcome of one question file."""

    name: str
    in_scope: int = 0
    in_scope_right: int = 0
    out_of_scope: int = 0
    declined: int = 0
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


def read_questions(path: Path) -> list[Question]:
    """Read a JSONL file of {"q": ..., "topic": id | [ids] | null}."""
    questions: list[Question] = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        raw = json.loads(line)
        topic = raw.get("topic")
        if topic is None:
            topics: tuple[str, ...] = ()
        elif isinstance(topic, str):
            topics = (topic,)
        elif isinstance(topic, list) and all(isinstance(t, str) for t in topic):
            topics = tuple(topic)
        else:
            raise ValueError(f"{path}:{line_no}: 'topic' ska vara en text, en lista eller null")
        questions.append(Question(str(raw["q"]), topics))
    return questions


def evaluate(kb: KnowledgeBase, path: Path, repeats: int = 3) -> Report:
    """Ask every question in path and measure accuracy, decline rate and time."""
    report = Report(path.name)
    for question in read_questions(path):
        best = float("inf")
        # The fastest of a few runs measures the code, not a scheduler hiccup.
        for _ in range(repeats):
            start = time.perf_counter()
            answer = kb.answer(question.q)
            best = min(best, (time.perf_counter() - start) * 1000.0)
        report.timings_ms.append(best)
        if question.topics:
            report.in_scope += 1
            if answer.answered and answer.topic in question.topics:
                report.in_scope_right += 1
            else:
                got = answer.topic if answer.answered else f"avböjd ({answer.reason})"
                report.failures.append(
                    f"{question.q!r}: väntade {'/'.join(question.topics)}, fick {got} "
                    f"(score {answer.score})"
                )
        else:
            report.out_of_scope += 1
            if not answer.answered:
                report.declined += 1
            else:
                report.failures.append(
                    f"{question.q!r}: skulle avböjas, fick {answer.topic} (score {answer.score})"
                )
    return report


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


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation on the given files (default: the tuning sets and the blind set)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*", type=Path, default=list(DEFAULT_FILES))
    parser.add_argument("--answers", type=Path, default=None,
                        help="write every (set, question, answered, topic, score, reason) to "
                             "this file, one JSON array per line, to compare two versions")
    args = parser.parse_args(argv)
    kb = KnowledgeBase.load()
    if args.answers is not None:
        write_answers(kb, args.files, args.answers)
    for path in args.files:
        print(format_report(evaluate(kb, path)))
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
