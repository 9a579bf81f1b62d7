"""The seven Omtanke organisations and a tolerant reading of how people write them.

Decision: a vårdcentral counts as Region Halland even when it names a municipality
("vårdcentralen i Laholm"), because vårdcentraler are run by the region or contracted by
it under Vårdval Halland. Municipal services (hemsjukvård, äldreomsorg, socialförvaltning,
"vård och omsorg") count as the municipality they name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from domain.messages import Message, Names, Parts, Value
from knowledge.errors import KnowledgeDataError, read_data_object

DEFAULT_ORGANISATIONS_PATH = Path(__file__).parent / "data" / "organisations.json"

REGION = "Region Halland"
MUNICIPALITIES = (
    "Kungsbacka kommun",
    "Varbergs kommun",
    "Falkenbergs kommun",
    "Hylte kommun",
    "Halmstads kommun",
    "Laholms kommun",
)
ORGANISATIONS = (REGION, *MUNICIPALITIES)

# "other": a party outside Omtanke Halland, written as one ("övrig part: Göteborgs stad"); it
# is recorded but never counts toward skallkrav 1.
Kind = Literal["region", "kommun", "other"]

# Fuzzy thresholds (rapidfuzz 0–100): one or two wrong letters in a place name still match.
_NAME_TYPO_SCORE = 80.0
# Service and unit words allow one wrong letter, two from this length on.
_LONG_WORD = 10
_WHOLE_TEXT_SCORE = 85.0
# Shorter words match only as whole words: "HS", "VC", "RH", "BUP", "LSS".
_SHORT_WORD = 3
# Shorter tokens are never compared fuzzily, too many ordinary words would match.
_MIN_FUZZY_TOKEN = 5

# Hard separators always split; soft ones (the data's joining words "och", "samt", and "&",
# "/", "+") split only when both halves are organisations, so "vård och omsorg" stays together.
_HARD_SPLIT = re.compile(r"[,;\n]+")
_SOFT_SIGNS = r"\s*&\s*|\s*/\s*|\s*\+\s*"


@lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """Lower-case, drop diacritics (å→a, ä→a, ö→o) and punctuation, collapse spaces.

    Cached: every turn that reads organisations folds the whole alias table again."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


@dataclass(frozen=True)
class OrgMatch:
    """How one piece of free text was understood as an organisation, and why (``via``)."""

    text: str
    organisation: str | None
    kind: Kind | None
    via: Message


@dataclass(frozen=True)
class _Words:
    """A group of words that point at one kind of organisation, with the reason why."""

    words: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class _Municipality:
    """One municipality: canonical name, place name and other places in it."""

    name: str
    place: str
    places: tuple[str, ...]


@dataclass(frozen=True)
class OrganisationData:
    """The alias table from organisations.json."""

    region_aliases: tuple[str, ...]
    municipalities: tuple[_Municipality, ...]
    all_municipalities: tuple[str, ...]
    region_units: tuple[_Words, ...]
    municipal_services: tuple[_Words, ...]
    # The soft separators (see _SOFT_SIGNS) and words never taken as a misspelt place.
    soft_split: re.Pattern[str]
    ordinary_words: frozenset[str]
    # How a party outside Omtanke Halland is introduced ("övrig part: …"), folded.
    other_party_words: tuple[str, ...] = ()


def _strings(path: Path, entry: str, value: Any) -> tuple[str, ...]:
    """Return a list of non-empty strings or raise naming file and entry."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise KnowledgeDataError(path, entry, "not_texts")
    return tuple(v.strip() for v in value)


def _word_groups(path: Path, key: str, raw: dict[str, Any]) -> tuple[_Words, ...]:
    """Parse a list of {"words": [...], "why": "..."} entries."""
    items = raw.get(key)
    if not isinstance(items, list):
        raise KnowledgeDataError(path, key, "not_list")
    groups = []
    for i, item in enumerate(items):
        entry = f"{key}[{i}]"
        if not isinstance(item, dict):
            raise KnowledgeDataError(path, entry, "not_object")
        why = item.get("why")
        if not isinstance(why, str) or not why.strip():
            raise KnowledgeDataError(path, entry, "field_not_text", field="'why'")
        groups.append(_Words(_strings(path, entry, item.get("words")), why.strip()))
    return tuple(groups)


def load_organisation_data(path: Path | None = None) -> OrganisationData:
    """Load the organisation alias table; a malformed file raises KnowledgeDataError."""
    path = path or DEFAULT_ORGANISATIONS_PATH
    raw = read_data_object(path)
    region = raw.get("region")
    if not isinstance(region, dict) or region.get("name") != REGION:
        raise KnowledgeDataError(path, "region", "region_form", name=repr(REGION))
    raw_munis = raw.get("municipalities")
    if not isinstance(raw_munis, list):
        raise KnowledgeDataError(path, "municipalities", "not_list")
    munis = []
    for i, item in enumerate(raw_munis):
        entry = f"municipalities[{i}]"
        if not isinstance(item, dict):
            raise KnowledgeDataError(path, entry, "not_object")
        name, place = item.get("name"), item.get("place")
        if name not in MUNICIPALITIES or not isinstance(place, str) or not place.strip():
            names = ", ".join(MUNICIPALITIES)
            raise KnowledgeDataError(path, entry, "municipality_form", names=names)
        places = _strings(path, entry, item.get("places", []))
        munis.append(_Municipality(name, place.strip(), places))
    if sorted(m.name for m in munis) != sorted(MUNICIPALITIES):
        raise KnowledgeDataError(path, "municipalities", "six_municipalities")
    return OrganisationData(
        region_aliases=_strings(path, "region.aliases", region.get("aliases")),
        municipalities=tuple(munis),
        all_municipalities=_strings(path, "all_municipalities", raw.get("all_municipalities")),
        region_units=_word_groups(path, "region_units", raw),
        municipal_services=_word_groups(path, "municipal_services", raw),
        soft_split=_soft_split(_strings(path, "joining_words", raw.get("joining_words"))),
        ordinary_words=frozenset(_strings(path, "ordinary_words", raw.get("ordinary_words"))),
        other_party_words=tuple(
            fold(w) for w in _strings(path, "other_party_words", raw.get("other_party_words", []))
        ),
    )


def _soft_split(joining_words: tuple[str, ...]) -> re.Pattern[str]:
    """The soft separators: the joining words between spaces, and the signs."""
    words = "".join(rf"\s+{re.escape(w)}\s+|" for w in joining_words)
    return re.compile(f"({words}{_SOFT_SIGNS})", re.IGNORECASE)


@lru_cache(maxsize=1)
def default_organisation_data() -> OrganisationData:
    """Return the packaged alias table, loaded once."""
    return load_organisation_data()


def split_organisations(text: str, data: OrganisationData | None = None) -> list[str]:
    """Split free text into organisation mentions at commas, newlines, "och", "&", "/", "samt"."""
    data = data or default_organisation_data()
    pieces: list[str] = []
    for part in _HARD_SPLIT.split(text):
        pieces.extend(_split_soft(part, data))
    return [p for p in pieces if p]


def _split_soft(part: str, data: OrganisationData) -> list[str]:
    """Split at soft separators, gluing back halves that are no organisation on their own."""
    tokens = data.soft_split.split(part.strip())
    pieces = [tokens[0].strip()]
    glue: list[str] = []
    for i in range(1, len(tokens), 2):
        glue.append(tokens[i])
        pieces.append(tokens[i + 1].strip())
    merged = [pieces[0]]
    for sep, piece in zip(glue, pieces[1:], strict=True):
        # A fragment ("Hälso-" in "Hälso- och sjukvården i Varberg") stays with its neighbour.
        if _is_organisation(piece, data) and _is_organisation(merged[-1], data):
            merged.append(piece)
        else:
            merged[-1] = f"{merged[-1]}{sep}{piece}".strip()
    return [m for m in merged if m and not re.fullmatch(r"[\W_]*", m)]


def _is_organisation(text: str, data: OrganisationData) -> bool:
    """True when the text on its own names an organisation (or all municipalities)."""
    if not text.strip():
        return False
    return any(m.organisation is not None for m in _understand_many(text, data))


def understand_organisation(text: str, data: OrganisationData | None = None) -> OrgMatch:
    """Understand one mention ("vårdcentralen i Laholm", "Varbärg") as one organisation."""
    return _understand_one(text, data or default_organisation_data())


def understand_organisations(
    texts: str | Iterable[str], data: OrganisationData | None = None
) -> list[OrgMatch]:
    """Split and understand every mention; "alla kommuner" becomes all six municipalities."""
    data = data or default_organisation_data()
    items = [texts] if isinstance(texts, str) else list(texts)
    matches: list[OrgMatch] = []
    for item in items:
        for piece in split_organisations(item, data):
            matches.extend(_understand_many(piece, data))
    return matches


def _understand_many(text: str, data: OrganisationData) -> list[OrgMatch]:
    """Understand one piece, expanding "alla kommuner" to six matches."""
    one = _understand_one(text, data)
    if one.kind == "kommun" and one.organisation is None and _is_all(fold(text), data):
        return [OrgMatch(text, name, "kommun", one.via) for name in MUNICIPALITIES]
    return [one]


def _is_all(folded: str, data: OrganisationData) -> bool:
    """True for "alla kommuner", "samtliga kommuner i Halland" and the like."""
    return any(_contains(folded, fold(p)) for p in data.all_municipalities)


def _contains(folded: str, word: str) -> bool:
    """Word-start match: "vardcentral" is found in "vardcentralen i laholm"."""
    if not word:
        return False
    if len(word) <= _SHORT_WORD:
        return word in folded.split()
    return _word_start(word).search(folded) is not None


@lru_cache(maxsize=4096)
def _word_start(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![0-9a-z]){re.escape(word)}")


def _find_word(folded: str, groups: tuple[_Words, ...]) -> tuple[str, _Words] | None:
    """Return the longest word of any group found in the text (typos allowed), and its group."""
    tokens = folded.split()
    best: tuple[str, _Words] | None = None
    for group in groups:
        for raw_word in group.words:
            word = fold(raw_word)
            hit = _contains(folded, word) or (
                " " not in word
                and len(word) > _MIN_FUZZY_TOKEN
                and any(_typo_prefix(word, t) for t in tokens)
            )
            if hit and (best is None or len(word) > len(best[0])):
                best = (word, group)
    return best


def _typo_prefix(word: str, token: str) -> bool:
    """True when the token starts with the word, give or take a letter ("vårdcentarlen")."""
    if len(token) <= _MIN_FUZZY_TOKEN or token[0] != word[0]:
        return False
    allowed = 1 if len(word) < _LONG_WORD else 2
    return any(
        Levenshtein.distance(word, token[:n]) <= allowed
        for n in range(len(word) - 1, len(word) + 2)
    )


def _original_word(text: str, token: str) -> str:
    """Return the word as the person wrote it ("Varbärg" for the folded "varbarg")."""
    for word in re.split(r"[\s\-/]+", text):
        if fold(word) == token:
            return word
    return token


def _find_municipality(
    text: str, folded: str, data: OrganisationData, known: frozenset[str]
) -> tuple[_Municipality, Message | None] | None:
    """Return the first municipality named (by place, genitive, locality or typo) and why."""
    for token in folded.split():
        for muni in data.municipalities:
            place = fold(muni.place)
            if token in (place, place + "s"):
                return muni, None
            for other in muni.places:
                if token == fold(other):
                    return muni, Message("org.locality", {"place": other, "name": muni.name})
    for token in folded.split():
        if len(token) < _MIN_FUZZY_TOKEN or token in known:
            continue
        scored = [
            (max(fuzz.ratio(token, fold(m.place)), fuzz.ratio(token, fold(m.place) + "s")), m)
            for m in data.municipalities
            if fold(m.place)[0] == token[0]
        ]
        if not scored:
            continue
        score, muni = max(scored, key=lambda pair: pair[0])
        if score >= _NAME_TYPO_SCORE:
            written = Names((_original_word(text, token),), quoted=True)
            return muni, Message("org.spelling", {"text": written, "place": muni.place})
    return None


@lru_cache(maxsize=8)
def vocabulary(data: OrganisationData) -> frozenset[str]:
    """Every single word in the alias table, folded (no piece of a list on its own)."""
    return frozenset(_vocabulary(data))


def _vocabulary(data: OrganisationData) -> set[str]:
    """Every single word in the alias table; such tokens are never taken as place-name typos."""
    words: set[str] = set(data.ordinary_words)
    for text in (*data.region_aliases, *data.all_municipalities):
        words.update(fold(text).split())
    for group in (*data.region_units, *data.municipal_services):
        for word in group.words:
            words.update(fold(word).split())
    return words


def _understand_one(text: str, data: OrganisationData) -> OrgMatch:
    """Apply the rules: explicit region, region unit, named municipality, service word, typo."""
    folded = fold(text)
    if not folded:
        return OrgMatch(text, None, None, Message("org.empty"))
    if _is_all(folded, data):
        return OrgMatch(text, None, "kommun", Message("org.all_municipalities"))
    if any(folded.startswith(f"{w} ") for w in data.other_party_words):
        return OrgMatch(text, None, "other", Message("org.other_party"))

    region_alias = any(_contains(folded, fold(a)) for a in data.region_aliases)
    unit = _find_word(folded, data.region_units)
    service = _find_word(folded, data.municipal_services)
    muni = _find_municipality(text, folded, data, vocabulary(data))

    # The longest word decides: "socialpsykiatri" (kommun) beats "psykiatri" (region),
    # "vårdcentralen" (region) beats "kommun" in "vårdcentralen i Laholms kommun".
    if unit is not None and (service is None or len(unit[0]) >= len(service[0])):
        reason = Parts((unit[1].why,))
        via = Message("org.as_because", {"name": REGION, "reasons": reason})
        return OrgMatch(text, REGION, "region", via)
    if region_alias:
        return OrgMatch(text, REGION, "region", Message("org.as", {"name": REGION}))
    if muni is not None:
        municipality, why = muni
        # "kommun" itself needs no explanation; "hemsjukvården" does.
        service_why = service[1].why if service and not service[0].startswith("kommun") else ""
        reasons = tuple(r for r in (why, service_why) if r)
        values: dict[str, Value] = {"name": municipality.name}
        if reasons:
            values["reasons"] = Parts(reasons, separator="; ")
            return OrgMatch(text, municipality.name, "kommun", Message("org.as_because", values))
        return OrgMatch(text, municipality.name, "kommun", Message("org.as", values))
    if service is not None:
        return OrgMatch(text, None, "kommun", Message("org.service_without_municipality"))
    return _whole_text_guess(text, folded, data)


def _whole_text_guess(text: str, folded: str, data: OrganisationData) -> OrgMatch:
    """Last resort: compare the whole text with the full names, allowing typos."""
    candidates = [(fold(a), REGION, "region") for a in data.region_aliases if len(fold(a)) > 4]
    candidates += [(fold(m.name), m.name, "kommun") for m in data.municipalities]
    best = max(candidates, key=lambda c: fuzz.ratio(folded, c[0]))
    if fuzz.ratio(folded, best[0]) >= _WHOLE_TEXT_SCORE:
        kind: Kind = "region" if best[2] == "region" else "kommun"
        via = Message("org.as_similar", {"name": best[1], "text": Names((text,), quoted=True)})
        return OrgMatch(text, best[1], kind, via)
    return OrgMatch(text, None, None, Message("org.unknown"))
