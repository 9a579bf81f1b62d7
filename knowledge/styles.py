"""How a question is written: style tags by rule, and cheap variants in other styles.

Staff ask in different styles, and a knowledge base tuned on one style can fail on
another. Every labelled question carries its styles (stored in the question sets, set by
`python -m knowledge.styles --write`); `make eval` reports accuracy per style and
leave-one-style-out (knowledge.eval). The variants rewrite a labelled question the way
other people would write it – without diacritics, with one typo, with the asker's role
first, with a greeting or a sign-off, in lower case, or with the domain's terms said in
everyday words (knowledge/data/paraphrases.json: "gruppen som beslutar om förslagen" for
RUG) – and keep its label.
"""

from __future__ import annotations

import argparse
import json
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from knowledge.clauses import CONTEXT_WEIGHT, is_english, question_parts, weighted_words
from knowledge.errors import KnowledgeDataError, read_data_object
from knowledge.kb import KnowledgeBase
from knowledge.text import STOPWORDS, fold

# The labelled question sets (data, not code), beside the packages.
EVAL_DIR = Path(__file__).resolve().parents[1] / "eval"

STYLES = (
    "short_chat", "long_self_description", "no_diacritics_typos", "english",
    "two_questions", "wrapped", "formal", "paraphrase",
)
# A question none of the rules tag; reported, but no style of its own to leave out.
PLAIN = "plain"

_SHORT_WORDS = 6
_LONG_WORDS = 15
_FORMAL_WORDS = 10
_DIACRITICS = re.compile(r"[åäöéÅÄÖÉ]")
_GREETING = re.compile(
    r"^\s*(?:hej|hejsan|hallå|halla|halloj|tjena|tja|hallåj|god morgon|god dag|goddag"
    r"|hi|hello|hey|dear|good morning|good afternoon)\b",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"(?:\b(?:mvh|m\.v\.h|hälsningar|halsningar|hälsning|med vänlig|vänliga|tack på förhand"
    r"|tack i förväg|kind regards|best regards|regards|best wishes|thanks in advance|cheers)\b"
    r"|\s/\s*\w[\w .,-]{0,60}$|\b(?:tack|thanks|thank you)[!.]*\s*$)",
    re.IGNORECASE,
)
_FORMAL_MARKERS = re.compile(
    r"\b(?:vänligen|redogör|redogöra|beträffande|avseende|med anledning av|i egenskap av"
    r"|önskar|skulle vilja|skulle ni kunna|skulle du kunna|var god|härmed|torde|i vilken"
    r" utsträckning|på vilket sätt|hur förhåller sig|i enlighet med|ämnar|avser"
    r"|kindly|could you please|would you please|i would like to|to what extent|in what way"
    r"|please describe|please explain)\b",
    re.IGNORECASE,
)
_PERSONAL = re.compile(
    r"\b(?:jag|mig|min|mitt|mina|vi|oss|vår|våra|vårt|du|dig|din|ditt|dina|man|i|me|my|we"
    r"|our|us|you|your)\b",
    re.IGNORECASE,
)
_CHAT_MARKERS = re.compile(
    r"\b(?:nån|nåt|nå|e|typ|asså|ba|lr|iaf|mkt|o|btw|pls|plz|ok|okej|hmm|eh)\b|\?\?|!|\.\.\.|:\)",
    re.IGNORECASE,
)
# A question of at least this many words that names none of the domain's official terms
# describes what it asks about in its own words.
_PARAPHRASE_WORDS = 5
PARAPHRASES_PATH = Path(__file__).parent / "data" / "paraphrases.json"


@dataclass(frozen=True)
class Paraphrases:
    """The domain's terms and their everyday descriptions, per language ("sv", "en").

    `official` holds folded word starts of the official terms (a question without any of
    them is written in its own words); `groups` are (forms, descriptions): the forms of one
    term as a question writes them and what the same thing is called in everyday words.
    """

    official: dict[str, tuple[str, ...]]
    groups: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]]

    def names_official_term(self, question: str, lang: str) -> bool:
        """Whether the question uses one of the official terms of its language."""
        folded = " " + re.sub(r"[^a-z0-9]+", " ", fold(question)) + " "
        return any(f" {term}" in folded for term in self.official[lang])


_PACKAGED: list[Paraphrases] = []


def packaged_paraphrases() -> Paraphrases:
    """The packaged table, read the first time it is needed."""
    if not _PACKAGED:
        _PACKAGED.append(read_paraphrases())
    return _PACKAGED[0]


def read_paraphrases(path: Path = PARAPHRASES_PATH) -> Paraphrases:
    """Read and check paraphrases.json; KnowledgeDataError names the field that is wrong."""
    raw = read_data_object(path)
    official_raw = raw.get("official")
    if not isinstance(official_raw, dict):
        raise KnowledgeDataError(path, "official", "not_texts")
    official: dict[str, tuple[str, ...]] = {}
    groups: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {}
    for lang in ("sv", "en"):
        terms = official_raw.get(lang)
        if not isinstance(terms, list) or not all(isinstance(t, str) and t for t in terms):
            raise KnowledgeDataError(path, f"official.{lang}", "not_texts")
        official[lang] = tuple(re.sub(r"[^a-z0-9]+", " ", fold(t)).strip() for t in terms)
        items = raw.get(lang)
        if not isinstance(items, list):
            raise KnowledgeDataError(path, lang, "not_texts")
        parsed = []
        for i, item in enumerate(items):
            forms = item.get("forms") if isinstance(item, dict) else None
            say = item.get("say") if isinstance(item, dict) else None
            if not (isinstance(forms, list) and forms and isinstance(say, list) and say
                    and all(isinstance(t, str) and t for t in (*forms, *say))):
                raise KnowledgeDataError(path, f"{lang}[{i}]", "not_texts")
            parsed.append((tuple(forms), tuple(say)))
        groups[lang] = tuple(parsed)
    return Paraphrases(official, groups)


# Folded Swedish function words that are written with diacritics ("ar" for "är").
_FOLDED_FUNCTION_WORDS = frozenset(
    "ar pa for sa nar far maste ocksa var vara dar aven fran hur mal vard nara att".split()
)


def _crc(text: str) -> int:
    """A hash of text that is the same in every run (Python's hash() is not)."""
    return zlib.crc32(text.encode("utf-8"))


class StyleTagger:
    """Tags questions by rule; the knowledge's own vocabulary tells a typo from a word."""

    def __init__(self, vocabulary: Iterable[str], paraphrases: Paraphrases | None = None
                 ) -> None:
        self._paraphrases = paraphrases or packaged_paraphrases()
        words = {w for text in vocabulary for w in re.findall(r"[^\W\d_]+", text.lower())}
        # Folded forms of words written with diacritics: "vard" stands for "vård".
        self._folded_diacritic = frozenset(fold(w) for w in words if _DIACRITICS.search(w))
        self._known = sorted({fold(w) for w in words if len(w) >= 4})
        self._known_set = frozenset(self._known)

    def tag(self, question: str) -> tuple[str, ...]:
        """The styles of a question, in STYLES order (empty: plain)."""
        text = question.strip()
        words = text.split()
        # Folded, not normalized: synonym mapping turns "who" into "vem".
        normalized = re.findall(r"[a-z0-9]+", fold(text))
        english = is_english(normalized)
        styles: set[str] = set()
        if english:
            styles.add("english")
        if len(words) <= _SHORT_WORDS:
            styles.add("short_chat")
        if not english and (self._lacks_diacritics(text, normalized) or self._has_typo(text)):
            styles.add("no_diacritics_typos")
        described = any(weight == CONTEXT_WEIGHT for _, weight in weighted_words(text))
        if described or (len(words) >= _LONG_WORDS and re.search(
                r"\b(?:jag|vi) (?:är|ar|jobbar|arbetar|sitter|har|ska)\b|\bI(?: am|'m| work)\b",
                text, re.IGNORECASE)):
            styles.add("long_self_description")
        # The split the knowledge base answers by, also where the parts lean on each other.
        if len(question_parts(text, independent=False)) >= 2:
            styles.add("two_questions")
        if _GREETING.search(text) or _SIGN_OFF.search(text):
            styles.add("wrapped")
        # Formal: the register's own words, or a complete impersonal question of some length.
        if _FORMAL_MARKERS.search(text) or (
            len(words) >= _FORMAL_WORDS and text[:1].isupper() and text[-1:] in "?."
            and not _CHAT_MARKERS.search(text) and not _PERSONAL.search(text)
            and not described and (english or bool(_DIACRITICS.search(text)))
        ):
            styles.add("formal")
        # In its own words: long enough to describe something, and no official term.
        if len(words) >= _PARAPHRASE_WORDS and not any(
                self._paraphrases.names_official_term(text, lang) for lang in ("sv", "en")):
            styles.add("paraphrase")
        return tuple(s for s in STYLES if s in styles)

    def _lacks_diacritics(self, text: str, normalized: Sequence[str]) -> bool:
        """Swedish written without å, ä, ö: a folded form of a word that has them."""
        if _DIACRITICS.search(text):
            return False
        folded = {w for w in re.findall(r"[a-z]+", text.lower())}
        return bool(folded & (self._folded_diacritic | _FOLDED_FUNCTION_WORDS))

    def _has_typo(self, text: str) -> bool:
        """A word of six letters or more that is one slip away from a word of the knowledge."""
        for word in re.findall(r"[^\W\d_]{6,}", text.lower()):
            folded = fold(word)
            if folded in self._known_set or folded in STOPWORDS:
                continue
            match = process.extractOne(folded, self._known, scorer=fuzz.ratio,
                                       score_cutoff=88.0)
            # An inflection shares the start and differs at the end; a typo keeps the
            # first letter ("igenom" is no slip of "genom").
            if match is not None and match[0][0] == folded[0] and not (
                    match[0].startswith(folded[:-2]) or folded.startswith(match[0][:-1])):
                return True
        return False


# ----- variants --------------------------------------------------------------------------

_ROLES_SV = (
    "undersköterska", "sjuksköterska", "distriktssköterska", "enhetschef", "fysioterapeut",
    "arbetsterapeut", "läkare", "biståndshandläggare", "medicinsk sekreterare",
    "nämndsekreterare", "kurator", "verksamhetsutvecklare",
)
_ROLES_EN = ("nurse", "assistant nurse", "unit manager", "physiotherapist", "doctor",
             "medical secretary", "social worker")
_PLACES = ("Kungsbacka", "Varberg", "Falkenberg", "Hylte", "Halmstad", "Laholm")
_PREFIXES_SV = (
    "Jag är {role} i {place} och undrar {q}",
    "Jag jobbar som {role} i {place}. {Q}",
    "{Role} i {place} här. {Q}",
    "Som {role} i {place} undrar jag: {q}",
)
_PREFIXES_EN = (
    "I work as a {role} in {place}. {Q}",
    "I'm a {role} in {place} and I wonder: {q}",
)
_SIGN_OFFS_SV = (" Mvh Anna", " Tack på förhand!", " Hälsningar, {role} i {place}",
                 " /{role}, {place}")
_SIGN_OFFS_EN = (" Kind regards, Sam", " Thanks in advance!", " Best wishes, a {role}")
_GREETINGS_SV = ("Hej! ", "Hej, ", "Hejsan! ", "God morgon! ")
_GREETINGS_EN = ("Hi! ", "Hello, ")
VARIANT_KINDS = ("no_diacritics", "typo", "role_prefix", "sign_off", "lower_case", "greeting")
# Not in the rotation: every question that names a term of the table also gets it said in
# everyday words, so the other kinds keep their share.
PARAPHRASE = "paraphrase"
_KIND_STYLE = {
    "paraphrase": "paraphrase",
    "no_diacritics": "no_diacritics_typos", "typo": "no_diacritics_typos",
    "role_prefix": "long_self_description", "sign_off": "wrapped", "greeting": "wrapped",
}


@dataclass(frozen=True)
class Variant:
    """A generated rewrite of a labelled question: its text, kind and styles."""

    q: str
    kind: str
    styles: tuple[str, ...]


def _lower_first(text: str) -> str:
    """The question with a lower-case first letter, to follow "undrar …"."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _typo(text: str, seed: int) -> str | None:
    """One slip of the fingers in the question's longest word: swap, drop or double a letter."""
    words = [(m.start(), m.group(0)) for m in re.finditer(r"[^\W\d_]{5,}", text)]
    if not words:
        return None
    start, word = max(words, key=lambda sw: (len(sw[1]), -sw[0]))
    i = 1 + seed % (len(word) - 2)
    op = (seed // 7) % 3
    if op == 0:
        slipped = word[:i] + word[i + 1] + word[i] + word[i + 2:]
    elif op == 1:
        slipped = word[:i] + word[i + 1:]
    else:
        slipped = word[:i] + word[i] + word[i:]
    if slipped == word:
        slipped = word[:i] + word[i + 1:]
    return text[:start] + slipped + text[start + len(word):]


def _paraphrase(text: str, english: bool, seed: int,
                paraphrases: Paraphrases | None = None) -> str | None:
    """Every term of the table in the question said in everyday words, or None if it has none.

    Each occurrence gets one of its descriptions, chosen by the seed and its place; one at
    the start of the question starts with a capital letter.
    """
    table = paraphrases or packaged_paraphrases()
    groups = table.groups["en" if english else "sv"]
    say_of = {fold(form): say for forms, say in groups for form in forms}
    pattern = re.compile(
        r"(?<!\w)(" + "|".join(re.escape(f) for f in sorted(
            (f for forms, _ in groups for f in forms), key=len, reverse=True)) + r")(?!\w)",
        re.IGNORECASE,
    )
    count = 0

    def describe(match: re.Match[str]) -> str:
        nonlocal count
        say = say_of[fold(match.group(1))]
        count += 1
        chosen = say[(seed // 5 + 3 * count) % len(say)]
        return chosen[:1].upper() + chosen[1:] if match.start() == 0 else chosen

    rewritten = pattern.sub(describe, text)
    return rewritten if count else None


def make_variant(question: str, kind: str, english: bool) -> str | None:
    """One variant of the question, or None when the kind does not apply to it."""
    seed = _crc(f"{kind}:{question}")
    q = question.strip()
    if kind == "no_diacritics":
        stripped = "".join(fold(c) if _DIACRITICS.match(c) and c.islower()
                           else (fold(c).upper() if _DIACRITICS.match(c) else c) for c in q)
        return None if english or stripped == q else stripped
    if kind == "typo":
        return _typo(q, seed)
    if kind == "lower_case":
        return None if q.lower() == q else q.lower()
    if kind == "paraphrase":
        return _paraphrase(q, english, seed)
    roles = _ROLES_EN if english else _ROLES_SV
    role = roles[seed % len(roles)]
    place = _PLACES[(seed // 13) % len(_PLACES)]
    if kind == "role_prefix":
        prefixes: Sequence[str] = _PREFIXES_EN if english else _PREFIXES_SV
        form = prefixes[(seed // 3) % len(prefixes)]
        return form.format(role=role, Role=role[:1].upper() + role[1:], place=place,
                           q=_lower_first(q), Q=q)
    if kind == "sign_off":
        endings: Sequence[str] = _SIGN_OFFS_EN if english else _SIGN_OFFS_SV
        ending = endings[(seed // 3) % len(endings)].format(role=role, place=place)
        return q + ("" if q[-1:] in "?.!" else "?") + ending
    if kind == "greeting":
        greetings: Sequence[str] = _GREETINGS_EN if english else _GREETINGS_SV
        greeting = greetings[(seed // 3) % len(greetings)]
        return greeting + (_lower_first(q) if greeting.endswith(", ") else q)
    raise ValueError(f"unknown variant kind {kind!r}")


def variants(question: str, tagger: StyleTagger, per_question: int = 2) -> list[Variant]:
    """per_question variants of a question, of kinds chosen by its hash (all kinds occur),
    and its paraphrase when it names a term of the table."""
    english = "english" in tagger.tag(question)
    kinds = list(VARIANT_KINDS)
    offset = _crc(question) % len(kinds)
    out: list[Variant] = []
    for kind in [*kinds[offset:], *kinds[:offset], PARAPHRASE]:
        if len(out) >= per_question and kind != PARAPHRASE:
            continue
        text = make_variant(question, kind, english)
        if text is None or text == question:
            continue
        styles = set(tagger.tag(text))
        if kind in _KIND_STYLE:
            styles.add(_KIND_STYLE[kind])
        out.append(Variant(text, kind, tuple(s for s in STYLES if s in styles)))
    return out


# ----- the question sets -------------------------------------------------------------------


def write_styles(paths: Sequence[Path], tagger: StyleTagger) -> int:
    """Store each question's styles in its set; returns how many lines changed."""
    changed = 0
    for path in paths:
        lines = path.read_text(encoding="utf-8").splitlines()
        out: list[str] = []
        for line in lines:
            if not line.strip():
                continue
            raw = json.loads(line)
            styles = list(tagger.tag(str(raw["q"])))
            if raw.get("styles") != styles:
                changed += 1
            out.append(json.dumps({"q": raw["q"], "topic": raw.get("topic"), "styles": styles},
                                  ensure_ascii=False))
        path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    """Tag the question sets by rule: print the counts, or --write them into the sets."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*", type=Path,
                        default=sorted(EVAL_DIR.glob("*.jsonl")))
    parser.add_argument("--write", action="store_true", help="store the tags in the sets")
    args = parser.parse_args(argv)
    tagger = tagger_for(KnowledgeBase.load())
    if args.write:
        print(f"{write_styles(args.files, tagger)} frågor fick nya stilar")
        return 0
    counts: dict[str, int] = {}
    for path in args.files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                for style in tagger.tag(json.loads(line)["q"]) or (PLAIN,):
                    counts[style] = counts.get(style, 0) + 1
    for style in (*STYLES, PLAIN):
        print(f"{style:24} {counts.get(style, 0)}")
    return 0


def tagger_for(kb: KnowledgeBase) -> StyleTagger:
    """The tagger over a knowledge base's own texts (titles and answers)."""
    # Titles and answers only: the phrasings hold typos on purpose.
    return StyleTagger([text for e in kb.entries for text in (e.title, e.answer)])


if __name__ == "__main__":
    raise SystemExit(main())
