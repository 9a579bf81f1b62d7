"""Train the re-ranker and fit the answer/decline model: `python -m knowledge.calibrate`.

1. The re-ranker (knowledge.ranker) is trained on the entries' titles, phrasings and
   keywords and on the in-scope questions of the tuning sets, and written to
   knowledge/data/ranker.json.
2. For the decision, every question in the tuning sets is ranked by a re-ranker trained
   *without that question's set* (cross-fitting), so the evidence looks as it will on
   questions the model has never seen. The best entry's evidence (see
   knowledge.decision) is a sample, labelled 1 when the question is in scope and the
   entry is a right one, else 0 (a wrong entry is worse than a decline). A logistic
   regression with a small L2 penalty is fitted by Newton's method, and the confidence
   threshold is the lowest one that still declines `--decline` of the out-of-scope
   questions. The result is written to knowledge/data/decision.json.

Run it again after edits to entries.json and check the blind set with
`python -m knowledge.eval`.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from knowledge.decision import FEATURES, DecisionModel
from knowledge.eval import EVAL_DIR, TUNING_FILES, read_questions
from knowledge.kb import KnowledgeBase
from knowledge.loader import PACKAGED
from knowledge.ranker import NO_RANKER, OUTSIDE, TermRanker, train

_PERMISSIVE = DecisionModel({name: 0.0 for name in FEATURES}, 0.0, 1e-9)


def collect(
    kb: KnowledgeBase, paths: list[Path]
) -> tuple[list[list[float]], list[int], list[bool], int, int]:
    """Samples, labels, out-of-scope flags, and the in-scope and out-of-scope totals."""
    samples: list[list[float]] = []
    labels: list[int] = []
    out_flags: list[bool] = []
    in_scope = out_of_scope = 0
    for path in paths:
        for question in read_questions(path):
            if question.topics:
                in_scope += 1
            else:
                out_of_scope += 1
            evidence = kb.evidence(question.q)
            if evidence is None:
                continue  # declined before ranking (empty, sensitive, out of scope)
            entry_id, features = evidence
            samples.append([features[name] for name in FEATURES])
            labels.append(1 if entry_id in question.topics else 0)
            out_flags.append(not question.topics)
    return samples, labels, out_flags, in_scope, out_of_scope


Examples = list[tuple[dict[str, float], str]]


def labelled_examples(kb: KnowledgeBase, path: Path) -> Examples:
    """(terms, entry id or OUTSIDE) of the questions of one question file."""
    return [(kb.question_terms(q.q), q.topics[0] if q.topics else OUTSIDE)
            for q in read_questions(path)]


def train_ranker(kb: KnowledgeBase, paths: list[Path]) -> TermRanker:
    """Train the re-ranker on the KB's own texts and the labelled questions in paths."""
    examples: Examples = [(kb.question_terms(text), entry_id)
                          for text, entry_id in kb.training_texts()]
    for path in paths:
        examples.extend(labelled_examples(kb, path))
    return train([e for e in examples if e[0]], [*(entry.id for entry in kb.entries), OUTSIDE])


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Solve a small linear system by Gaussian elimination with partial pivoting."""
    n = len(vector)
    a = [[*row, vector[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(n):
            if r != col and a[col][col]:
                f = a[r][col] / a[col][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[col], strict=True)]
    return [a[i][n] / a[i][i] if a[i][i] else 0.0 for i in range(n)]


def fit(samples: list[list[float]], labels: list[int], l2: float = 1.0) -> list[float]:
    """Logistic regression (bias first) by Newton's method with an L2 penalty."""
    rows = [[1.0, *x] for x in samples]
    k = len(rows[0])
    beta = [0.0] * k
    for _ in range(25):
        grad = [0.0] * k
        hess = [[0.0] * k for _ in range(k)]
        for x, y in zip(rows, labels, strict=True):
            z = sum(b * v for b, v in zip(beta, x, strict=True))
            p = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
            for i in range(k):
                grad[i] += (y - p) * x[i]
                for j in range(k):
                    hess[i][j] += p * (1.0 - p) * x[i] * x[j]
        for i in range(1, k):
            grad[i] -= l2 * beta[i]
            hess[i][i] += l2
        step = _solve(hess, grad)
        beta = [b + s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-8:
            break
    return beta


def choose_threshold(
    model: DecisionModel, samples: list[list[float]], labels: list[int],
    out_flags: list[bool], in_scope: int, out_of_scope: int, decline: float,
) -> tuple[float, float, float]:
    """Lowest threshold declining `decline` of out-of-scope; (threshold, accuracy, declined)."""
    confidences = [model.confidence(dict(zip(FEATURES, x, strict=True))) for x in samples]
    figures = (0.99, 0.0, 0.0)
    for step in range(1, 100):
        threshold = step / 100
        kept = [(y, out) for c, y, out in zip(confidences, labels, out_flags, strict=True)
                if c >= threshold]
        declined = (out_of_scope - sum(1 for _, out in kept if out)) / max(out_of_scope, 1)
        figures = (threshold, sum(1 for y, _ in kept if y) / max(in_scope, 1), declined)
        if declined >= decline:
            break
    # Unreachable target: the strictest threshold, with what it reaches.
    return figures


def main(argv: list[str] | None = None) -> int:
    """Train the re-ranker, fit the decision on cross-fitted evidence, write both."""
    parser = argparse.ArgumentParser(description=__doc__)
    # The blind set is never used here: it measures the result.
    parser.add_argument("files", nargs="*", type=Path,
                        default=[EVAL_DIR / name for name in TUNING_FILES])
    # Cross-fitted evidence still flatters declining: on three sets written later
    # (train20-22, ranked by a model trained without them) the decline rate was 4-5
    # points under the cross-fitted one, while the in-scope rate hardly moved between
    # thresholds 0.24 (the one for 0.95) and 0.50: 95.4 % -> 95.1 % right, 90.3 % ->
    # 91.8 % declined.
    parser.add_argument("--decline", type=float, default=0.965,
                        help="share of out-of-scope questions to decline (default 0.965)")
    parser.add_argument("--out", type=Path, default=PACKAGED.decision)
    parser.add_argument("--ranker-out", type=Path, default=PACKAGED.ranker)
    args = parser.parse_args(argv)
    base = KnowledgeBase.load(decision=_PERMISSIVE, ranker=NO_RANKER)
    samples: list[list[float]] = []
    labels: list[int] = []
    out_flags: list[bool] = []
    in_scope = out_of_scope = 0
    for held_out in args.files:
        others = [p for p in args.files if p != held_out]
        kb = KnowledgeBase.load(decision=_PERMISSIVE, ranker=train_ranker(base, others))
        got = collect(kb, [held_out])
        samples += got[0]
        labels += got[1]
        out_flags += got[2]
        in_scope += got[3]
        out_of_scope += got[4]
    beta = fit(samples, labels)
    model = DecisionModel(dict(zip(FEATURES, beta[1:], strict=True)), beta[0], 0.5)
    threshold, accuracy, declined = choose_threshold(
        model, samples, labels, out_flags, in_scope, out_of_scope, args.decline
    )
    model = DecisionModel(model.weights, model.bias, threshold)
    ranker = train_ranker(base, list(args.files))
    args.ranker_out.write_text(json.dumps(ranker.to_json(), separators=(",", ":")) + "\n",
                               encoding="utf-8")
    args.out.write_text(json.dumps(model.to_json(), indent=2) + "\n", encoding="utf-8")
    print(f"{len(samples)} rankade frågor; tröskel {threshold:.2f}: "
          f"rätt {accuracy:.1%}, avböjda {declined:.1%} "
          f"(på inställningsfrågorna, var och en rankad utan sin egen fil)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
