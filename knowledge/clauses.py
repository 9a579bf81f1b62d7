"""How a staff message is built: its clauses, the asker's self-description, the sign-off.

Staff wrap real questions in who they are ("jag jobbar i hemtjänsten i Hylte och …"),
in greetings and in letter endings ("Mvh Leila, sjuksköterska i Varberg"). This module
cuts a message into clauses and weighs each word by how much it says about the topic;
it also guesses the message's language and whether free text reads as a question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from knowledge.text import STOPWORDS, normalize

MAX_QUESTION_CHARS = 500

# A self-description weighs this much; a clause that is not the question itself, when
# another clause asks, weighs SIDE_WEIGHT. An unknown word in them costs correspondingly
# less (knowledge.scoring).
CONTEXT_WEIGHT = 0.2
SIDE_WEIGHT = 0.4
_CLAUSE_SPLIT = re.compile(r"([.!?;:\n,]+|\s[-–—]\s)")
_CONTEXT_PREFIX = re.compile(
    r"^(?:(?:hej|hejsan|hallo) )?(?:"
    r"(?:jag|vi) (?:ar|jobbar|arbetar|sitter|kommer fran|har (?:precis |nyss |just )?"
    r"(?:borjat|kommit|fatt)|ska (?:presentera|prata|halla))"
    r"(?: (?!(?:och|men|sa|hur|vad|vart|var|vilka|vilken|vilket|nar|kan|ska|maste)\b)\w+)*"
    r"|som (?!vem\b)\w+(?: (?:i|pa|inom|vid|for) \w+)*"
    r"|(?:min|var) (?:chef|kollega|kollegor|kollegorna|handledare)(?: (?:i|pa|inom) \w+)?"
    r" (?:sa|sager|tycker|menar|pastar|har sagt|namnde|pratade om|tog upp|berattade)"
    r"(?: att)?"
    # "Enhetschef här", "medicinsk sekreterare i Varberg här": a clause that only says who.
    r"|(?!(?:vad|vilka|vilken|vilket|varfor|nar|vem|vems|var|vart|hur|kan|far|ar|finns|ska"
    r"|maste|behover)\b)(?:\w+ ){0,6}\w+ har$"
    # The same in English: "I'm a doctor trained abroad, now working at Halmstad hospital".
    r"|(?:i|we) (?:am|m|are|work|have (?:just )?(?:started|joined))"
    r"(?: (?!(?:and|but|so|how|what|where|which|when|can|should|must)\b)\w+)*"
    r")"
)
# A message may end like a letter ("Mvh Leila", "Hälsningar, enhetschef i Varberg",
# "/kommunpolitiker"): the sign-off and what follows it say nothing about the question.
_SIGN_OFF = re.compile(
    r"(?:^|(?<=[\s.!?,;:]))(?:mvh|m\.v\.h|med v[äa]nlig(?:a)? h[äa]lsning(?:ar)?"
    r"|v[äa]nlig(?:a)? h[äa]lsning(?:ar)?|h[äa]lsningar|h[äa]lsning|tack p[åa] f[öo]rhand"
    r"|tack i f[öo]rv[äa]g|kind regards|best regards|regards|best wishes|thanks in advance"
    r"|cheers)\b.*$|\s/\s*\w[\w .,-]{0,60}$",
    re.IGNORECASE | re.DOTALL,
)

# Words that tell an English question from a Swedish one (folded).
_ENGLISH_WORDS = frozenset(
    "what how who which why when where does do is are the can could should my our your "
    "about mean means explain tell please there".split()
)
_SWEDISH_WORDS = frozenset(
    "vad hur vilka vilken vilket varfor nar vem var ar och att det som for med pa jag kan "
    "far finns ska maste den en ett om".split()
)
QUESTION_STARTS = frozenset(
    """
    vad vilka vilken vilket varfor nar vem vems var vart hur kan far ar finns ska maste
    behover gar galler stammer hjalp beratta forklara
    what how which who whom whose why when where can could is are does do did should may
    will would tell explain
    """.split()
)

Weighted = list[tuple[str, float]]
# Words of a request that name no topic: "kan du hjälpa mig?", "vet du?", "can you help?"
# A clause of them asks, but the topic is in the clauses around it.
_GENERIC_ASK = frozenset("hjalpa hjalp veta vet svara svar fraga fragan help know answer".split())


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
    there is, it stays.
    """
    words = [word for clause in clauses for word in clause]
    rest = [(w, c) for w, c in words if c > CONTEXT_WEIGHT]
    return rest if any(_is_content(w) for w, _ in rest) else words


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
        return [[(w, 1.0) for w in clauses[0][0]]]
    asking_has_content = any(
        asks and any(_is_content(w) for w in words[prefix:]) for words, prefix, asks in clauses
    )
    out: list[Weighted] = []
    for words, prefix, asks in clauses:
        side = SIDE_WEIGHT if asking_has_content and not asks else 1.0
        out.append([(w, CONTEXT_WEIGHT if j < prefix else side) for j, w in enumerate(words)])
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
