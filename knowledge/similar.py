"""Finds existing proposals that resemble a new one, so people can join instead of duplicating."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from knowledge.text import fold

# Below this, two proposals merely share common words of the field ("vård", "äldre").
SIMILARITY_THRESHOLD = 62.0


@dataclass(frozen=True)
class Candidate:
    """An existing proposal, reduced to what similarity needs."""

    id: str
    title: str
    description: str
    status: str


def similarity(title: str, description: str, other: Candidate) -> float:
    """0–100: how alike two proposals are, weighing the titles most."""
    a_title, b_title = fold(title), fold(other.title)
    a_all = f"{a_title} {fold(description)}"
    b_all = f"{b_title} {fold(other.description)}"
    by_title = fuzz.token_sort_ratio(a_title, b_title) if a_title and b_title else 0.0
    by_text = fuzz.token_set_ratio(a_all, b_all) if a_all.strip() and b_all.strip() else 0.0
    return max(by_title, 0.85 * by_text)


def find_similar(
    title: str, description: str, candidates: Sequence[Candidate], limit: int = 3
) -> list[tuple[Candidate, float]]:
    """The most similar existing proposals above the threshold, best first."""
    scored = [(c, similarity(title, description, c)) for c in candidates]
    alike = [(c, s) for c, s in scored if s >= SIMILARITY_THRESHOLD]
    return sorted(alike, key=lambda pair: pair[1], reverse=True)[:limit]
