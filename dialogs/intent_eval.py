"""Measure the intent routing: precision and recall per intent on a labelled set, and how many
of the knowledge base's own questions it would take away from the knowledge base.

    python -m dialogs.intent_eval [LABELLED.jsonl ...]

Each line of a labelled set is {"text", "label", "lang", "style"}; the labels are the intents'
names plus "question" (for the knowledge base) and "process_question" (a question about
proposing: answered, with a button to start one). Exit status 1 when a question of the
knowledge sets with a topic is routed to small talk.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dialogs.intents import SMALL_TALK, Intent, classify, mentions_proposing

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "eval" / "intents" / "labelled.jsonl"
# Written by a second writer, measured once after the last change (see the README).
HOLDOUT = ROOT / "eval" / "intents" / "holdout.jsonl"
# A third writer, briefed on phone-typed follow-ups, measured once before it was trained on.
PHONE = ROOT / "eval" / "intents" / "phone.jsonl"
WRITERS = (LABELLED, HOLDOUT, PHONE)
KNOWLEDGE_SETS = ROOT / "eval"
QUESTION = "question"
PROCESS_QUESTION = "process_question"


def predict(text: str) -> str:
    """The label the routing gives a message."""
    found = classify(text)
    if found.intent != Intent.NONE:
        return found.intent.value
    return PROCESS_QUESTION if found.title or mentions_proposing(text) else QUESTION


@dataclass
class Scores:
    """Confusion counts over one labelled set."""

    pairs: list[tuple[str, str, str, str]] = field(default_factory=list)  # label, got, lang, text

    def add(self, label: str, got: str, lang: str, text: str) -> None:
        self.pairs.append((label, got, lang, text))

    @property
    def labels(self) -> list[str]:
        return sorted({label for label, *_ in self.pairs} | {got for _, got, *_ in self.pairs})

    def per_label(self, label: str) -> tuple[float, float, int]:
        """Precision, recall and support of one label."""
        true_positive = sum(1 for a, b, *_ in self.pairs if a == label and b == label)
        predicted = sum(1 for _, b, *_ in self.pairs if b == label)
        support = sum(1 for a, *_ in self.pairs if a == label)
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / support if support else 0.0
        return precision, recall, support

    def accuracy(self, lang: str | None = None) -> tuple[float, int]:
        chosen = [(a, b) for a, b, language, _ in self.pairs if lang in (None, language)]
        right = sum(1 for a, b in chosen if a == b)
        return (right / len(chosen) if chosen else 0.0), len(chosen)


def read_labelled(paths: Iterable[Path]) -> list[dict[str, str]]:
    """Every labelled message of the files."""
    rows: list[dict[str, str]] = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                row = json.loads(line)
                if not isinstance(row.get("text"), str) or not isinstance(row.get("label"), str):
                    raise SystemExit(f"{path}:{number}: needs 'text' and 'label'")
                rows.append(row)
    return rows


def score(rows: Sequence[dict[str, str]]) -> Scores:
    """Route every labelled message."""
    scores = Scores()
    for row in rows:
        scores.add(row["label"], predict(row["text"]), row.get("lang", ""), row["text"])
    return scores


def knowledge_questions() -> list[tuple[str, bool]]:
    """(question, has a topic) of every knowledge-base set in eval/."""
    found: list[tuple[str, bool]] = []
    for path in sorted(KNOWLEDGE_SETS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                found.append((str(row["q"]), row.get("topic") is not None))
    return found


def taken_from_the_knowledge_base(questions: Sequence[tuple[str, bool]]) -> Counter[str]:
    """How many questions with a topic each non-question intent would take."""
    taken: Counter[str] = Counter()
    for question, in_scope in questions:
        if in_scope:
            intent = classify(question).intent
            if intent != Intent.NONE:
                taken[intent.value] += 1
    return taken


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", type=Path, default=list(WRITERS))
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    rows = read_labelled(args.files)
    scores = score(rows)
    print(f"intent routing on {len(rows)} labelled messages ({', '.join(map(str, args.files))})")
    print(f"{'label':18} {'precision':>9} {'recall':>7} {'n':>4}")
    for label in scores.labels:
        precision, recall, support = scores.per_label(label)
        print(f"{label:18} {precision:9.1%} {recall:7.1%} {support:4d}")
    for lang in (None, "sv", "en"):
        accuracy, count = scores.accuracy(lang)
        print(f"accuracy {lang or 'all'}: {accuracy:.1%} of {count}")
    if args.verbose:
        for label, got, _lang, text in scores.pairs:
            if label != got:
                print(f"  {label:16} → {got:16} {text}")
    questions = knowledge_questions()
    taken = taken_from_the_knowledge_base(questions)
    in_scope = sum(1 for _q, has_topic in questions if has_topic)
    small_talk = sum(taken[i.value] for i in SMALL_TALK)
    print(
        f"knowledge-base questions with a topic: {in_scope}; routed away from the knowledge "
        f"base: {sum(taken.values())} {dict(taken)}; to small talk: {small_talk}"
    )
    return 1 if small_talk else 0


if __name__ == "__main__":
    sys.exit(main())
