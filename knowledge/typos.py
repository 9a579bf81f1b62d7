"""Typing slips: misspelt words mapped to the index's vocabulary, joined words split.

Staff type fast: "skalkraven", "tryg", "ghnh", "naravard", "vadär". Corrections only go
towards words the entries themselves use, so a slip can only lead to the knowledge's own
vocabulary. Results are memoised: the corrector is read-only apart from its caches.
"""

from __future__ import annotations

from rapidfuzz import fuzz, process

from knowledge.index import Index
from knowledge.text import STOPWORDS, normalize, stem

_TYPO_CUTOFF = 84.0


class TypoCorrector:
    """Corrections towards one index's vocabulary, with their caches."""

    def __init__(self, index: Index) -> None:
        self._index = index
        self._typo_cache: dict[str, str | None] = {}
        self._joined_cache: dict[str, list[str] | None] = {}

    def correct_known(self, term: str) -> str | None:
        """The term itself when indexed, else its typo correction (or None)."""
        return term if term in self._index.idf else self.correct(term)

    def correct(self, term: str) -> str | None:
        """Map an unknown stem to the nearest vocabulary stem (typos), or None."""
        if term in self._typo_cache:
            return self._typo_cache[term]
        found: str | None = None
        if len(term) >= 4:
            match = process.extractOne(
                term, self._index.vocab_list, scorer=fuzz.ratio, score_cutoff=_TYPO_CUTOFF
            )
            # A four-letter word is only a typo of a word of its own length: "namn" is no
            # misspelt "namnd" (nämnd).
            if match is not None and (len(term) > 4 or len(match[0]) == len(term)):
                found = match[0]
        if found is None and len(term) >= 3:
            found = self._slip(term)
        self._typo_cache[term] = found
        return found

    def _slip(self, term: str) -> str | None:
        """A known stem one slip of the fingers away from a short unknown one, or None.

        Short words are too short for a fuzzy ratio, but two slips are common and rarely
        make another word: two neighbouring letters of an abbreviation swapped ("ghnh" →
        "gnhh", "rgu" → "rug") and a double letter typed once ("tryg" → "trygg").
        """
        for i in range(len(term) - 1):
            swapped = term[:i] + term[i + 1] + term[i] + term[i + 2:]
            # Only towards an abbreviation: folded Swedish words swap into each other
            # ("färg" → "frag", fråga).
            if swapped != term and swapped in self._index.acronyms:
                return swapped
        for i, letter in enumerate(term):
            doubled = term[: i + 1] + letter + term[i + 1 :]
            if doubled in self._index.idf:
                return doubled
        return None

    def correct_word(self, word: str) -> str | None:
        """The stem of the KB word closest to an unknown word, for typos in short stems.

        A typo can shorten the stem below what correct() trusts ("skikar" → "skik", "lämar"
        → "lam"); the whole word still carries enough letters to find "skickar", "lämnar".
        """
        if len(word) < 5:
            return None
        key = f"word:{word}"
        if key not in self._typo_cache:
            match = process.extractOne(
                word, self._index.surface_list, scorer=fuzz.ratio, score_cutoff=_TYPO_CUTOFF
            )
            found = stem(match[0]) if match is not None else None
            self._typo_cache[key] = found if found in self._index.idf else None
        return self._typo_cache[key]

    def split_joined(self, weighted: list[tuple[str, float]]) -> list[tuple[str, float]]:
        """Split words typed without a space ("naravard", "vadär") into known words, and
        join what was split apart: an abbreviation spelt out letter by letter, as dictation
        writes it ("g n h h", "hs u"), and a compound written in two words ("mål bilden",
        "färd planen")."""
        out: list[tuple[str, float]] = []
        for word, weight in self._join_split(weighted):
            parts = self._joined_parts(word)
            out.extend((p, weight) for p in parts or [word])
        return out

    def _join_split(self, weighted: list[tuple[str, float]]) -> list[tuple[str, float]]:
        """Neighbouring words that together make one known word, as that word.

        Only towards the knowledge's own vocabulary: letters of two or fewer characters
        join into an abbreviation the entries use, and two words of three letters or more
        into a compound the entries write, when neither is a function word.
        """
        out: list[tuple[str, float]] = []
        i = 0
        while i < len(weighted):
            joined = self._letters_at(weighted, i) or self._compound_at(weighted, i)
            if joined is None:
                out.append(weighted[i])
                i += 1
                continue
            end, word = joined
            out.append((word, max(weight for _, weight in weighted[i:end])))
            i = end
        return out

    def _letters_at(self, weighted: list[tuple[str, float]], i: int) -> tuple[int, str] | None:
        """(end, abbreviation) for the longest run of short words from i that spells one."""
        end = i
        while end < len(weighted) and len(weighted[end][0]) <= 2:
            end += 1
        while end - i >= 2:
            run = [word for word, _ in weighted[i:end]]
            if any(len(word) == 1 for word in run) and "".join(run) in self._index.acronyms:
                return end, "".join(run)
            end -= 1
        return None

    def _compound_at(self, weighted: list[tuple[str, float]], i: int) -> tuple[int, str] | None:
        """(i + 2, compound) when word i and the next are one compound of the entries."""
        if i + 1 >= len(weighted):
            return None
        head, tail = weighted[i][0], weighted[i + 1][0]
        if len(head) < 3 or len(tail) < 3 or head in STOPWORDS or tail in STOPWORDS:
            return None
        compound = head + tail
        return (i + 2, compound) if compound in self._index.compounds else None

    def _joined_parts(self, word: str) -> list[str] | None:
        """Known words that word is made of, synonym-mapped; None if it is no such join."""
        if word in self._joined_cache:
            return self._joined_cache[word]
        found: list[str] | None = None
        if len(word) >= 5 and word not in STOPWORDS and word not in self._index.surface:
            if stem(word) not in self._index.idf:
                best = 0
                for i in range(2, len(word) - 1):
                    head, tail = word[:i], word[i:]
                    both_stop = head in STOPWORDS and tail in STOPWORDS  # "vad|är"
                    if not (both_stop or (self._is_word(head) and self._is_word(tail))):
                        continue
                    # Prefer the split whose shorter part is longest ("nara|vard").
                    if min(len(head), len(tail)) > best:
                        best = min(len(head), len(tail))
                        found = normalize(f"{head} {tail}").split()
        self._joined_cache[word] = found
        return found

    def _is_word(self, part: str) -> bool:
        """A stop word of three letters or more, or a word written in the KB.

        Short endings ("ar", "en") are no words of their own: "rapporterar" is an
        inflection, not "rapporter är".
        """
        if part in STOPWORDS:
            return len(part) >= 3
        return len(part) >= 3 and part in self._index.surface
