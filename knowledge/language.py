"""The words and patterns retrieval reads Swedish and English with (knowledge/data/language.json).

Stop words, synonyms onto the Swedish vocabulary, compound parts, stemming exceptions, the
question words that tell the language and the asking, and the patterns for a self-description,
a sign-off and "explain it simply". They are the package's own constant data, read once when
knowledge.text is first imported; a damaged file raises KnowledgeDataError naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.errors import KnowledgeDataError, read_data_object

DEFAULT_LANGUAGE_PATH = Path(__file__).parent / "data" / "language.json"
_WORD_LISTS = (
    "stopwords",
    "compound_parts",
    "english_words",
    "swedish_words",
    "question_starts",
    "generic_ask",
    "ranker_cues",
    "provisional_status",
    "points_back",
)
_MAPS = ("synonyms", "stem_exceptions")
# A pattern is a list of pieces, joined: one piece per alternative keeps long ones readable.
_PATTERNS = (
    "how_to_end",
    "how_to_answer",
    "explain_simply",
    "context_prefix",
    "sign_off",
    "question_words",
    "second_question",
    "expletive",
    "maybe_two",
)


@dataclass(frozen=True)
class Language:
    """The lists, maps and patterns of language.json (patterns as written, not compiled)."""

    words: dict[str, frozenset[str]]
    maps: dict[str, dict[str, str]]
    patterns: dict[str, str]


def load_language(path: Path | None = None) -> Language:
    """Read and check language.json; KnowledgeDataError names a field that is wrong."""
    path = path or DEFAULT_LANGUAGE_PATH
    raw = read_data_object(path)
    words = {name: frozenset(_texts(path, raw, name)) for name in _WORD_LISTS}
    maps = {name: _map(path, raw, name) for name in _MAPS}
    patterns = {name: _pattern(path, raw, name) for name in _PATTERNS}
    # "{question_words}" in a pattern stands for that pattern (regex braces stay as they are).
    patterns = {
        name: pattern.replace("{question_words}", patterns["question_words"])
        for name, pattern in patterns.items()
    }
    return Language(words, maps, patterns)


def _texts(path: Path, raw: dict[str, Any], name: str) -> list[str]:
    value = raw.get(name)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KnowledgeDataError(path, name, "not_texts")
    return value


def _map(path: Path, raw: dict[str, Any], name: str) -> dict[str, str]:
    value = raw.get(name)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise KnowledgeDataError(path, name, "text_map")
    return dict(value)


def _pattern(path: Path, raw: dict[str, Any], name: str) -> str:
    pattern = "".join(_texts(path, raw, name))
    try:
        re.compile(pattern)
    except re.error as exc:
        raise KnowledgeDataError(path, name, "pattern_invalid", error=str(exc)) from exc
    return pattern


LANGUAGE = load_language()
