"""Reading a typed list of known names so that no item is lost without a word.

A list is split at commas, semicolons and new lines, and also at the joining words ("och",
"samt") and the signs "&", "+", "/" – but only where every part stands on its own: a part
that is made only of words the known names use ("barn" in "Barn och unga med psykisk
ohälsa", "vård" in "vård och omsorg") or that ends in a hyphen ("vård- och omsorgsbehov")
stays with its neighbour. Numbers ("1, 3", "1 och 3") pick from the numbered list shown, and
a name written with one wrong letter ("tryg") is read as the name it is one letter from.

Every piece comes back as a ListItem; one with no names was not understood and is for the
caller to name back to the person.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from knowledge.malbild import Malbild
from knowledge.organisations import (
    ORGANISATIONS,
    OrganisationData,
    default_organisation_data,
    fold,
    understand_organisation,
    vocabulary,
)
from knowledge.skallkrav import recognise_malbild
from knowledge.target_groups import TargetGroupList

_HARD_SPLIT = re.compile(r"[,;\n]+")
_JOINING_WORDS = ("och", "samt")
_SOFT_SPLIT = re.compile(
    "|".join([*(rf"\s+{w}\s+" for w in _JOINING_WORDS), r"\s*&\s*", r"\s*\+\s*", r"\s*/\s*"]),
    re.IGNORECASE,
)
_NUMBERS = re.compile(
    r"\d+(?:(?:\s+(?:och|samt)\s+|\s*[&+/]\s*|\s+)\d+)*", re.IGNORECASE
)
# More soft pieces than this in one part are not tried in every way (2^n segmentations).
_MAX_PIECES = 8
# Shorter words are not corrected: too many ordinary words are one letter from a short name.
_MIN_TYPO_LENGTH = 4

Understand = Callable[[str], tuple[str, ...]]


@dataclass(frozen=True)
class ListItem:
    """One item as written and the known names it was read as (none: not understood).

    ``number`` is set when the item was a number from the shown list; ``corrected`` when a
    name written with one wrong letter was read as the name.
    """

    text: str
    names: tuple[str, ...]
    number: int | None = None
    corrected: bool = False

    @property
    def understood(self) -> bool:
        """Whether the item was read as at least one known name."""
        return bool(self.names)


@dataclass(frozen=True)
class ListReader:
    """How one kind of list is read: what understands a piece, the numbered list, the words."""

    understand: Understand
    numbered: tuple[str, ...]
    terms: tuple[tuple[str, str], ...]
    vocabulary: frozenset[str]

    def read(self, text: str) -> list[ListItem]:
        """Split and read a typed list; every piece written comes back, understood or not."""
        items: list[ListItem] = []
        understand = lru_cache(maxsize=256)(self._understand)
        for part in _HARD_SPLIT.split(str(text or "")):
            part = part.strip()
            if not part or not fold(part):
                continue
            if _NUMBERS.fullmatch(part):
                items.extend(self._number(int(n)) for n in re.findall(r"\d+", part))
                continue
            items.extend(understand(piece) for piece in self._segments(part, understand))
        return items

    def _number(self, number: int) -> ListItem:
        """A number from the shown list, or an item not understood when out of range."""
        if 1 <= number <= len(self.numbered):
            return ListItem(str(number), (self.numbered[number - 1],), number=number)
        return ListItem(str(number), (), number=number)

    def _understand(self, text: str) -> ListItem:
        """Read one piece: as the caller understands it, else a name one letter away."""
        names = self.understand(text)
        if names:
            return ListItem(text, names)
        folded = fold(text)
        if len(folded) < _MIN_TYPO_LENGTH:
            return ListItem(text, ())
        close = {name for term, name in self.terms if Levenshtein.distance(folded, term) <= 1}
        if len(close) == 1:
            return ListItem(text, (close.pop(),), corrected=True)
        return ListItem(text, ())

    def _segments(self, part: str, understand: Callable[[str], ListItem]) -> list[str]:
        """The best way to split a part at its joining words (see the module's docstring)."""
        tokens = _SOFT_SPLIT.split(part)
        seps = _SOFT_SPLIT.findall(part)
        if len(tokens) == 1 or len(tokens) > _MAX_PIECES:
            return [part]
        best: tuple[tuple[int, int], list[str]] | None = None
        for cuts in range(2 ** (len(seps))):
            pieces = _join(tokens, seps, cuts)
            if pieces is None:
                continue
            read = [understand(p) for p in pieces]
            if any(not r.understood and self._only_known_words(r.text) for r in read):
                if len(pieces) > 1:
                    continue
            score = (sum(r.understood for r in read), len(pieces))
            if best is None or score > best[0]:
                best = (score, pieces)
        return best[1] if best else [part]

    def _only_known_words(self, text: str) -> bool:
        """Whether every word of a piece is a word the known names use ("barn", "vård")."""
        return all(word in self.vocabulary for word in fold(text).split())


def _join(tokens: list[str], seps: list[str], cuts: int) -> list[str] | None:
    """The pieces when cutting at the separators whose bit is set; None across a hyphen."""
    pieces = [tokens[0].strip()]
    for i, sep in enumerate(seps):
        token = tokens[i + 1].strip()
        if cuts & (1 << i):
            if pieces[-1].endswith("-") or not fold(pieces[-1]) or not fold(token):
                return None
            pieces.append(token)
        else:
            pieces[-1] = f"{pieces[-1]}{sep}{token}"
    return pieces


def vocabulary_of(texts: Iterable[str], extra: Iterable[str] = ()) -> frozenset[str]:
    """Every folded word of the known names and aliases, and the extra ordinary words."""
    words: set[str] = {fold(w) for w in extra}
    for text in texts:
        words.update(fold(text).split())
    return frozenset(words)


def terms_of(pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """(folded way of writing, name) pairs for the one-letter correction."""
    return tuple((fold(term), name) for term, name in pairs if fold(term))


# Words between the known names' words that never make a piece of its own.
_ORDINARY = ("och", "samt", "med", "eller", "i", "for", "av", "pa", "inom", "personer", "vard")


def target_group_reader(groups: TargetGroupList) -> ListReader:
    """Target groups: by name, alias or id, numbered as the step lists them."""

    def understand(text: str) -> tuple[str, ...]:
        group = groups.match(text)
        return (group.name,) if group is not None else ()

    texts = [t for g in groups for t in (g.name, *g.aliases)]
    pairs = [(t, g.name) for g in groups for t in (g.id, g.name, *g.aliases)]
    return ListReader(
        understand, tuple(groups.names()), terms_of(pairs), vocabulary_of(texts, _ORDINARY)
    )


def organisation_reader(data: OrganisationData | None = None) -> ListReader:
    """Organisations: each piece as written when it points at a kind of organisation."""
    data = data or default_organisation_data()

    def understand(text: str) -> tuple[str, ...]:
        match = understand_organisation(text, data)
        return (text,) if match.kind is not None else ()

    return ListReader(understand, ORGANISATIONS, (), vocabulary(data))


def malbild_reader(malbild: Malbild) -> ListReader:
    """Goal properties then success factors, numbered in that order."""

    def understand(text: str) -> tuple[str, ...]:
        return tuple(recognise_malbild(text, malbild))

    items = [(p.id, p.name) for p in malbild.goal_properties]
    items += [(f.id, f.name) for f in malbild.factors]
    pairs = [(t, name) for key, name in items for t in (key, name, *malbild.variants_of(key))]
    texts = [t for _key, t in pairs]
    return ListReader(
        understand,
        tuple(name for _key, name in items),
        terms_of(pairs),
        vocabulary_of(texts, (*_ORDINARY, *malbild.filler)),
    )
