"""The search index over the entries: weighted term frequencies, BM25 postings, phrasings.

Built once from the texts of every entry (title, keywords, phrasings, answer and extra
texts); answering only reads it.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from knowledge.clauses import question_kind
from knowledge.text import STOPWORDS, split_compound, stem
from knowledge.text import normalize as _normalize

# entry id → field name → texts to index ("kind" holds a declared question kind).
IndexTexts = Mapping[str, Mapping[str, Sequence[str]]]

# Field weights: a hit in the title or the curated vocabulary says more than one in prose.
FIELD_WEIGHTS = {"title": 3.0, "keywords": 2.5, "phrasings": 1.0, "answer": 0.5, "extra": 0.4}
BM25_K1 = 1.2
BM25_B = 0.5
# Who/when/how/where: a question of the same kind as an entry's title gets this bonus.
KIND_BONUS = 0.04
# An entry that declares its kind in the data ("kind": "when" for the time plan, whose
# title asks "vad är tidplanen …") is a surer match for a question of that kind.
DECLARED_KIND_BONUS = 0.1
# An unknown word in the question counts against every entry, but less than a known one
# counts for it: staff wrap real questions in words the KB has never seen.
UNKNOWN_WEIGHT = 0.45
# Every title and phrasing is also a question of its own (see Index.asked).
ASKED_FIELDS = ("title", "phrasings")
# Fuzzy matching runs over titles and keywords; the many phrasings are matched one by one
# through ASKED_FIELDS, which is cheaper than fuzzy-comparing each of them.
FUZZY_FIELDS = ("title", "keywords")
# Abbreviations as the entries write them: RUG, GNHH, HSU.
_ACRONYM = re.compile(r"\b[A-ZÅÄÖ]{2,6}\b")
# E-mail and web addresses: their words ("regionhalland") are no compounds of the language.
_ADDRESS = re.compile(r"\S+@\S+|https?://\S+|\b[\w.-]+\.(?:se|com|org|nu)\b\S*")


@dataclass
class IndexedEntry:
    """An entry's weighted term frequencies and its strings for fuzzy matching."""

    tf: dict[str, float]
    length: float
    fuzzy_strings: list[str] = field(default_factory=list)
    title_terms: frozenset[str] = frozenset()
    title_kind: str | None = None
    kind_bonus: float = 0.0


def raw_stems(text: str, fold: Callable[[str], str] = _normalize) -> list[str]:
    """Stems of the content words of text (no compound parts); fold is normalize or a cache
    of it."""
    return [stem(w) for w in fold(text).split() if w not in STOPWORDS and len(w) > 1]


def fuzzy_form(text: str, fold: Callable[[str], str] = _normalize) -> str:
    """Folded text without stop words, for rapidfuzz comparison."""
    return " ".join(w for w in fold(text).split() if w not in STOPWORDS)


class Index:
    """Vocabulary, per-entry term frequencies, idf, postings and the asked phrasings."""

    def __init__(self, index_texts: IndexTexts) -> None:
        """Build weighted term frequencies, document frequencies and fuzzy strings."""
        # Each text is read by several passes below; folding and stemming it once each
        # halves the build (a tenth of a second of every start-up). Same functions, same
        # results.
        normalize = functools.cache(_normalize)
        stems_of = functools.cache(lambda text: tuple(raw_stems(text, normalize)))
        base_vocab: set[str] = set()
        surface: set[str] = set()
        acronyms: set[str] = set()
        compounds: set[str] = set()
        for fields in index_texts.values():
            for field_name, texts in fields.items():
                if field_name == "kind":
                    continue
                for text in texts:
                    base_vocab.update(stems_of(text))
                    surface.update(w for w in normalize(text).split()
                                   if w not in STOPWORDS and len(w) > 2)
                    acronyms.update(normalize(found) for found in _ACRONYM.findall(text))
                    compounds.update(w for w in normalize(_ADDRESS.sub(" ", text)).split()
                                     if w not in STOPWORDS and len(w) >= 6)
        self.vocab_base = frozenset(base_vocab)
        # Folded words written in the entries, and their abbreviations (for typos).
        self.surface = frozenset(surface)
        self.acronyms = frozenset(acronyms)
        # Words of six letters or more written in the entries' prose, outside addresses: what
        # two words typed apart ("mål bilden") may be joined into.
        self.compounds = frozenset(compounds)

        # The compound parts of a stem, as expand() finds them, once per stem.
        parts_of = functools.cache(
            lambda s: tuple(p for p in split_compound(s, self.vocab_base) if p != s)
        )

        self.docs: dict[str, IndexedEntry] = {}
        for entry_id, fields in index_texts.items():
            tf: dict[str, float] = {}
            fuzzy_strings: list[str] = []
            for field_name, texts in fields.items():
                if field_name == "kind":
                    continue
                weight = FIELD_WEIGHTS.get(field_name, 1.0)
                for text in texts:
                    for s in stems_of(text):
                        tf[s] = tf.get(s, 0.0) + weight
                        for term in parts_of(s):
                            tf[term] = tf.get(term, 0.0) + weight
                    if field_name in FUZZY_FIELDS:
                        fuzzy_strings.append(fuzzy_form(text, normalize))
            titles = fields.get("title", ())
            title_terms = frozenset(t for text in titles for t in stems_of(text))
            kinds = fields.get("kind", ())
            declared = bool(kinds)
            title_kind = kinds[0] if kinds else (
                question_kind(normalize(titles[0]).split()[:1]) if titles else None
            )
            self.docs[entry_id] = IndexedEntry(
                tf, sum(tf.values()), fuzzy_strings, title_terms, title_kind,
                DECLARED_KIND_BONUS if declared else KIND_BONUS,
            )

        df: Counter[str] = Counter()
        for doc in self.docs.values():
            df.update(doc.tf.keys())
        n = len(self.docs)
        self.idf = {t: math.log(1.0 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.unknown_idf = math.log(1.0 + (n - 0.5) / 1.5) * UNKNOWN_WEIGHT
        avg_len = sum(d.length for d in self.docs.values()) / max(n, 1)
        self.vocab_list = sorted(self.idf)
        self.surface_list = sorted(self.surface)
        # term → (entry id, tf, BM25 length norm, term in the title)
        self.postings: dict[str, list[tuple[str, float, float, bool]]] = {}
        for entry_id, doc in self.docs.items():
            norm = BM25_K1 * (1.0 - BM25_B + BM25_B * doc.length / avg_len)
            for t, freq in doc.tf.items():
                self.postings.setdefault(t, []).append(
                    (entry_id, freq, norm, t in doc.title_terms)
                )
        self.training_texts = [
            (text, entry_id)
            for entry_id, fields in index_texts.items()
            for field_name in ("title", "phrasings", "keywords")
            for text in fields.get(field_name, ())
        ]
        # Every title and phrasing is also a question of its own: a staff question close to
        # one of them is a surer match than one that shares words with the entry as a whole.
        self.asked: list[tuple[str, frozenset[str], float]] = []
        self.asked_postings: dict[str, list[int]] = {}
        for entry_id, fields in index_texts.items():
            for field_name in ASKED_FIELDS:
                for text in fields.get(field_name, ()):
                    stems = frozenset(stems_of(text))
                    mass = sum(self.idf[t] for t in stems)
                    if not mass:
                        continue
                    for t in stems:
                        self.asked_postings.setdefault(t, []).append(len(self.asked))
                    self.asked.append((entry_id, stems, mass))

    def expand(self, stems: Iterable[str]) -> list[str]:
        """Add compound parts to stems, using the KB's own vocabulary to validate splits."""
        out: list[str] = []
        for s in stems:
            out.append(s)
            out.extend(p for p in split_compound(s, self.vocab_base) if p != s)
        return out
