"""Swedish text handling for retrieval: folding, tokens, stems, stop words, compounds, synonyms."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from functools import lru_cache

import snowballstemmer

from knowledge.language import LANGUAGE

# Letters that NFKD does not decompose into base letter + combining mark.
_EXTRA_FOLDS = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss", "ł": "l", "đ": "d"})
_NON_WORD = re.compile(r"[^a-z0-9]+")

# Folded Swedish and English function words. Domain words that fold onto a stop word
# ("vår" → "var") are safe to drop too: they carry no topic on their own.
STOPWORDS: frozenset[str] = LANGUAGE.words["stopwords"]

# Phrase-level synonyms on folded, space-separated text: English and variant spellings
# are mapped onto the Swedish vocabulary so one index serves both languages.
SYNONYMS: dict[str, str] = LANGUAGE.maps["synonyms"]

_SYNONYM_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in sorted(SYNONYMS, key=len, reverse=True)) + r")\b"
)

# Compound parts that appear in the domain but not always as free words in the entries.
COMPOUND_PARTS: frozenset[str] = LANGUAGE.words["compound_parts"]

_MIN_PART = 3


@lru_cache(maxsize=1)
def _part_stems() -> frozenset[str]:
    """Compound parts plus their stems, so inflected tails ("frag") are recognised."""
    return COMPOUND_PARTS | frozenset(stem(p) for p in COMPOUND_PARTS)


def fold_slowly(text: str) -> str:
    """fold() spelled out: NFKD, then every combining mark dropped (the reference for tests)."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_EXTRA_FOLDS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class _FoldTable(dict[int, str]):
    """What each character folds to, worked out the first time it is seen.

    Folding is per character: NFKD decomposes each character on its own and only reorders
    combining marks, which are all dropped, so one str.translate gives fold_slowly()'s result.
    """

    def __missing__(self, code: int) -> str:
        folded = self[code] = fold_slowly(chr(code))
        return folded


_FOLDS = _FoldTable()


def fold(text: str) -> str:
    """Lower-case and strip diacritics (å→a, ä→a, ö→o, é→e) so spelling variants meet."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    return lowered.translate(_FOLDS)


# A question that ends in "hur gör jag/vi/man (då/nu)?" asks for a way to proceed; the
# same words inside a sentence ("hur gör jag vården trygg") do not.
_HOW_TO_END = re.compile(LANGUAGE.patterns["how_to_end"])
HOW_TO = "tillvagagangssatt"
# "Förklara enkelt", "på ett enkelt sätt", "kort och enkelt" say how to answer, not what
# about: left in, "enkelt" would pull every such question to the success factor Enkel.
_HOW_TO_ANSWER = re.compile(LANGUAGE.patterns["how_to_answer"])
# "Förklara nära vård enkelt": an "enkelt" a few words after förklara/beskriv/berätta says
# how to answer, not that the question is about the success factor Enkel.
_EXPLAIN_SIMPLY = re.compile(LANGUAGE.patterns["explain_simply"])


def normalize(text: str) -> str:
    """Fold, turn punctuation into spaces and map synonyms onto the Swedish vocabulary."""
    spaced = _NON_WORD.sub(" ", fold(text)).strip()
    spaced = _HOW_TO_END.sub(f"hur {HOW_TO}", spaced)
    spaced = _EXPLAIN_SIMPLY.sub(r"\1", _HOW_TO_ANSWER.sub(" ", spaced))
    return _SYNONYM_PATTERN.sub(lambda m: SYNONYMS[m.group(1)], spaced)


def tokenize(text: str) -> list[str]:
    """Split text into folded, synonym-mapped word tokens (stop words kept)."""
    return normalize(text).split()


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:
    """Return the shared Swedish stemmer (built lazily, not at import)."""
    return snowballstemmer.stemmer("swedish")


# Words the stemmer would merge with a different concept ("närhet" → "när", like "nära").
STEM_EXCEPTIONS: dict[str, str] = LANGUAGE.maps["stem_exceptions"]

# Latin "-tor" nouns: snowball cuts "faktor" to "fak" but "faktorer" to "faktor".
_TOR_NOUN = re.compile(r"^(.{3,}tor)(?:er|erna|ernas|ers|n|ns|s)?$")
# Verbal nouns meet their verb: "lansering"/"lanserades", "omställning"/"ställa om".
_NOUN_SUFFIX = re.compile(r"^(.{5,}?)(?:ning|ing)$")


@lru_cache(maxsize=65536)
def stem(token: str) -> str:
    """Stem a folded token with the Swedish snowball stemmer.

    Stemming the folded form keeps "vårdnivå" and "vardniva" on the same stem.
    """
    if token in STEM_EXCEPTIONS:
        return STEM_EXCEPTIONS[token]
    tor = _TOR_NOUN.match(token)
    if tor:
        return tor.group(1)
    stemmed = str(_stemmer().stemWord(token))
    verbal = _NOUN_SUFFIX.match(stemmed)
    return verbal.group(1) if verbal else stemmed


def content_tokens(text: str) -> list[str]:
    """Folded tokens without stop words and one-letter noise."""
    return [t for t in tokenize(text) if t not in STOPWORDS and len(t) > 1]


def split_compound(token: str, vocabulary: Collection[str]) -> tuple[str, ...]:
    """Split a folded compound into known parts ("hemsjukvard" → hem, sjukvard), else ().

    Parts must be known stems (from the vocabulary or COMPOUND_PARTS); a linking "s"
    between the parts is allowed. The longest known tail wins, since Swedish compounds
    put the head last.
    """
    if len(token) < 2 * _MIN_PART + 1:
        return ()

    def known(part: str) -> bool:
        return part in vocabulary or part in _part_stems() or stem(part) in vocabulary

    for i in range(_MIN_PART, len(token) - _MIN_PART + 1):
        head, tail = token[:i], token[i:]
        tail_stem = stem(tail)
        if not (known(tail) or known(tail_stem)):
            continue
        if known(head):
            return (head, tail_stem)
        if head.endswith("s") and len(head) > _MIN_PART and known(head[:-1]):
            return (head[:-1], tail_stem)
    return ()


def terms(text: str, vocabulary: Collection[str] = ()) -> list[str]:
    """Index terms for text: stems of content tokens plus compound parts found in vocabulary."""
    out: list[str] = []
    for token in content_tokens(text):
        stemmed = stem(token)
        out.append(stemmed)
        for part in split_compound(stemmed, vocabulary):
            if part != stemmed:
                out.append(part)
    return out
