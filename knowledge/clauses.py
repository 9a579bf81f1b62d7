"""How a staff message is built: its clauses, the asker's self-description, the sign-off.

Staff wrap real questions in who they are ("jag jobbar i hemtjänsten i Hylte och …"),
in greetings and in letter endings ("Mvh Leila, sjuksköterska i Varberg"). This module
cuts a message into clauses and weighs each word by how much it says about the topic;
it also guesses the message's language and whether free text reads as a question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from knowledge.language import LANGUAGE
from knowledge.text import STOPWORDS, fold, normalize

MAX_QUESTION_CHARS = 500

# A self-description weighs this much; a clause that is not the question itself, when
# another clause asks, weighs SIDE_WEIGHT. An unknown word in them costs correspondingly
# less (knowledge.scoring).
CONTEXT_WEIGHT = 0.2
SIDE_WEIGHT = 0.4
_CLAUSE_SPLIT = re.compile(r"([.!?;:\n,]+|\s[-–—]\s)")
# Who is asking, not what: "jag jobbar i hemtjänsten i Hylte", "som undersköterska på …",
# "min chef sa att", "enhetschef här", "I'm a doctor working at …".
_CONTEXT_PREFIX = re.compile(LANGUAGE.patterns["context_prefix"])
# A message may end like a letter ("Mvh Leila", "Hälsningar, enhetschef i Varberg",
# "/kommunpolitiker"): the sign-off and what follows it say nothing about the question.
_SIGN_OFF = re.compile(LANGUAGE.patterns["sign_off"], re.IGNORECASE | re.DOTALL)

# Words that tell an English question from a Swedish one (folded).
_ENGLISH_WORDS = LANGUAGE.words["english_words"]
_SWEDISH_WORDS = LANGUAGE.words["swedish_words"]
QUESTION_STARTS = LANGUAGE.words["question_starts"]

Weighted = list[tuple[str, float]]
# Words of a request that name no topic: "kan du hjälpa mig?", "vet du?", "can you help?"
# A clause of them asks, but the topic is in the clauses around it.
_GENERIC_ASK = LANGUAGE.words["generic_ask"]


def _is_content(word: str) -> bool:
    """A word that can carry the topic of a clause."""
    return word not in STOPWORDS and word not in _GENERIC_ASK and len(word) > 1


def looks_like_question(text: str) -> bool:
    """Whether free text reads as a question (ends with '?' or starts with a question word)."""
    stripped = text.strip()
    if not stripped:
        return False
    if stripped.endswith("?"):
        return True
    words = normalize(stripped[:MAX_QUESTION_CHARS]).split()
    return bool(words) and words[0] in QUESTION_STARTS


def is_english(normalized_words: Sequence[str]) -> bool:
    """Guess whether the question is English from its function words."""
    en = sum(1 for w in normalized_words if w in _ENGLISH_WORDS)
    sv = sum(1 for w in normalized_words if w in _SWEDISH_WORDS)
    return en > sv


def weighted_words(text: str) -> Weighted:
    """The question's normalized words, each with how much it says about the topic."""
    return [word for clause in weighted_clauses(text) for word in clause]


def topic_words(clauses: Sequence[Weighted]) -> Weighted:
    """The words that say what is asked: without the self-description, when others remain.

    Who asks ("jag jobbar som undersköterska i Varberg") says nothing about which entry
    answers; left in, even at a low weight, its words are unknown to the knowledge and
    make a well-asked question look unsure. When the self-description is all the content
    there is, it stays, at full weight.
    """
    words = [word for clause in clauses for word in clause]
    rest = [(w, c) for w, c in words if c > CONTEXT_WEIGHT]
    if any(_is_content(w) for w, _ in rest):
        return rest
    # The asking clause points back at the self-description ("Vi har fått frågan om nära
    # vård från politikerna, vad är det?"): it holds the topic, at full weight.
    return [(w, 1.0 if c == CONTEXT_WEIGHT else c) for w, c in words]


def weighted_clauses(text: str) -> list[Weighted]:
    """The question's clauses, each a list of normalized words with their weights.

    The text is cut into clauses at punctuation. A leading self-description ("jag
    jobbar i hemtjänsten i Hylte", "som ledamot i HSU", "enhetschef här") weighs
    CONTEXT_WEIGHT. When some clause asks (a question word first, or a "?") and has
    content words, the clauses that do not ask weigh SIDE_WEIGHT. Otherwise (the asking
    clause is "vad menas med det?") the context carries the topic and keeps full weight.
    """
    parts = _CLAUSE_SPLIT.split(_SIGN_OFF.sub("", text))
    clauses: list[tuple[list[str], int, bool]] = []  # words, prefix length, asks
    for i in range(0, len(parts), 2):
        words = normalize(parts[i]).split()
        if not words:
            continue
        delimiter = parts[i + 1] if i + 1 < len(parts) else ""
        match = _CONTEXT_PREFIX.match(" ".join(words))
        prefix = len(match.group(0).split()) if match else 0
        rest = words[prefix:]
        asks = "?" in delimiter or (bool(rest) and rest[0] in QUESTION_STARTS)
        clauses.append((words, prefix, asks))
    if len(clauses) == 1 and clauses[0][1] == 0:
        aside = _asides(clauses[0][0])
        return [[(w, ASIDE_WEIGHT if j in aside else 1.0) for j, w in enumerate(clauses[0][0])]]
    asking_has_content = any(
        asks and any(_is_content(w) for w in words[prefix:]) for words, prefix, asks in clauses
    )
    out: list[Weighted] = []
    for words, prefix, asks in clauses:
        side = SIDE_WEIGHT if asking_has_content and not asks else 1.0
        aside = _asides(words)
        out.append([(w, CONTEXT_WEIGHT if j < prefix else ASIDE_WEIGHT if j in aside else side)
                     for j, w in enumerate(words)])
    return out


# Where the asker heard of the topic ("alla pratar om nära vård *på APT:n*") says nothing
# about it: those words weigh less than a self-description and, like it, are left out
# when other content remains.
ASIDE_WEIGHT = 0.15
_HEARSAY = frozenset(
    "pratar pratas pratade talar talas talade hor hort horde namns namnas namnt namnde sags "
    "diskuteras diskuterar diskuterade tjatar nams hear heard hearing talk talking talked "
    "mentioned discussed".split())
_PLACE_LINKS = frozenset("pa under vid at during in".split())
# A place phrase at the end of a hearsay clause: the preposition and at most three words.
_PLACE_REACH = 4


def _asides(words: Sequence[str]) -> set[int]:
    """Positions of a clause's words that weigh ASIDE_WEIGHT (see above)."""
    out: set[int] = set()
    heard = next((i for i, w in enumerate(words) if w in _HEARSAY), None)
    if heard is not None:
        # The place follows the topic: some content word between the verb and it.
        for k in range(len(words) - 1, max(heard + 1, len(words) - _PLACE_REACH), -1):
            if words[k] in _PLACE_LINKS and any(_is_content(w) for w in words[heard + 1:k]):
                out.update(range(k, len(words)))
                break
    return out

# The word a question asks about follows one of these ("vilka *kommuner* är med …").
FOCUS_CUES = frozenset("vad vilka vilken vilket vem which what".split())
_FOCUS_REACH = 3
# Who/when/how/why/where, by the question word.
QUESTION_KINDS = {
    "vem": "who", "vems": "who", "nar": "when", "when": "when", "hur": "how", "how": "how",
    "varfor": "why", "why": "why", "vart": "where", "where": "where", "var": "where",
}
ENTRY_KINDS = frozenset(QUESTION_KINDS.values())


def question_kind(normalized_words: Sequence[str]) -> str | None:
    """Who/when/how/why/where from the first question word ("var" only as first word).

    A question that opens with "vad"/"vilka"/"what" asks for a thing, even when a "när"
    follows ("vad händer när RUG har beslutat?").
    """
    for i, word in enumerate(normalized_words[:6]):
        if word in FOCUS_CUES and word not in QUESTION_KINDS:
            return None
        kind = QUESTION_KINDS.get(word)
        if kind is not None and (word != "var" or i == 0):
            return kind
    return None


def focus_word(words: Sequence[str]) -> str | None:
    """The first content word right after a question word: what the question asks for."""
    for i, word in enumerate(words):
        if word not in FOCUS_CUES:
            continue
        for follower in words[i + 1 : i + 1 + _FOCUS_REACH]:
            if follower not in STOPWORDS and len(follower) > 1:
                return follower
        return None
    return None


def answer_language(text: str, locale: str) -> str:
    """"en" for the English locale or a question in English, else "sv".

    Read on the folded words, not the normalized ones: synonym mapping turns English
    content words into Swedish ("who" → "vem").
    """
    if locale.lower().startswith("en"):
        return "en"
    return "en" if is_english(re.findall(r"[a-z0-9]+", fold(text))) else "sv"


_QUESTION_WORDS = LANGUAGE.patterns["question_words"]
# "vad är RUG *och hur* skickar jag in": a second question joined by a conjunction.
_SECOND_QUESTION = re.compile(LANGUAGE.patterns["second_question"])
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
# A later part that points back ("… och när lanserades *den*?") is no question on its own,
# unless the pronoun points at nothing ("finns det", "is there").
_POINTS_BACK = LANGUAGE.words["points_back"]
_EXPLETIVE = re.compile(LANGUAGE.patterns["expletive"])
# Cheap test before the split: a second question mark or a joining word.
_MAYBE_TWO = re.compile(LANGUAGE.patterns["maybe_two"], re.IGNORECASE | re.DOTALL)


def question_parts(text: str, independent: bool = True) -> list[str]:
    """The questions a message asks: two when it asks two things, else the message itself.

    Two asking sentences ("Vad är RUG? Hur skickar jag in?"), or a question word after
    "och"/"and" in an asking sentence ("vad är RUG och hur skickar jag in?"). Sentences
    that do not ask (who the asker is, a greeting) go with the question that follows
    them; a sign-off goes. Each part must name a topic of its own, else it is one
    question ("vad är det och hur funkar det?"), and so does a second part that points
    back with a pronoun ("… och när lanserades den?"). A third question joins the second.
    With independent=False those two checks are left out: the message still asks twice
    (knowledge.styles tags it so), though its parts cannot be answered apart.
    """
    if not _MAYBE_TWO.search(text):
        return [text]
    body = _SIGN_OFF.sub("", text).strip()
    parts: list[str] = []
    pending = ""
    for sentence in _SENTENCE_END.split(body):
        words = normalize(sentence).split()
        if sentence.rstrip().endswith("?") or (words and words[0] in QUESTION_STARTS):
            parts.append(f"{pending} {sentence}".strip())
            pending = ""
        else:
            pending = f"{pending} {sentence}".strip()
    if pending:
        if parts:
            parts[-1] = f"{parts[-1]} {pending}"
        else:
            parts = [pending]
    if len(parts) == 1:
        parts = _split_joined_question(parts[0])
    if len(parts) < 2:
        return [text]
    parts = [parts[0], " ".join(parts[1:])]
    if not independent:
        return parts
    if not all(any(_is_content(w) for w in normalize(p).split()) for p in parts):
        return [text]
    if _POINTS_BACK & set(re.findall(r"[a-z]+", _EXPLETIVE.sub(" ", fold(parts[1])))):
        return [text]
    return parts


def _split_joined_question(text: str) -> list[str]:
    """"vad är RUG och hur skickar jag in?" → two parts; one part when no question word
    starts the sentence and another follows "och"/"and"."""
    sentences = _SENTENCE_END.split(text)
    last = sentences[-1]
    folded = fold(last)
    if len(folded) != len(last):  # folding changed the length: positions would not match
        return [text]
    first = re.match(rf"^\W*(?:\w+\W+){{0,3}}?{_QUESTION_WORDS}\b", folded)
    second = _SECOND_QUESTION.search(folded)
    if first is None or second is None or second.start() <= first.end():
        return [text]
    head = " ".join([*sentences[:-1], last[: second.start()].rstrip(" ,;")]).strip()
    tail = last[second.end():].strip()
    return [head + ("?" if last.rstrip().endswith("?") and not head.endswith("?") else ""),
            tail]
