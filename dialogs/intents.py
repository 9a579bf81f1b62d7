"""What a typed message asks the bot to do, before the knowledge base sees it.

The words are data (dialogs/data/intents.json, Swedish and English), folded like every message
(lower case, no diacritics, punctuation collapsed) and compared with rapidfuzz, so typos pass.
Four kinds of recognition, in order:

1. a proposal id with a few case words around it ("visa OH-2026-0003"): one case;
2. a whole-message command ("mina förslag", "avbryt"), also inside a greeting or thanks
   ("hej! vem är du?");
3. small talk: a message made only of greeting, thanks and goodbye words ("tack så mycket!");
4. an idea in the user's own words: a lead-in ("jag har en idé om", "vi vill föreslå") and,
   after it, the suggested title.

Anything else is a question (Intent.NONE) for the knowledge base; `mentions_proposing` says
whether such a question is about proposing something. `python -m dialogs.intent_eval`
measures all of this on a labelled set.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from dialogs.intent_model import QUESTION, THRESHOLD, DenseModel, predict
from domain.proposal import PROPOSAL_ID
from knowledge.clauses import looks_like_question

DATA_FILE = Path(__file__).resolve().parent / "data" / "intents.json"


class Intent(StrEnum):
    """What a typed message asks the bot to do."""

    IDEA = "idea"
    IDEA_IN_WORDS = "idea_in_words"
    MY_PROPOSALS = "my_proposals"
    HELP = "help"
    ABOUT = "about"
    GREETING = "greeting"
    THANKS = "thanks"
    GOODBYE = "goodbye"
    CANCEL = "cancel"
    BACK = "back"
    SKIP = "skip"
    RUG_CASES = "rug_cases"
    RUG_CASE = "rug_case"
    RUG_HELP = "rug_help"
    PORTFOLIO = "portfolio"
    # "skicka in" typed inside the proposal dialog; outside it the words start nothing new.
    SUBMIT = "submit"
    REGISTER_CHANNEL = "register_channel"
    REGISTER_COORDINATOR_CHANNEL = "register_coordinator_channel"
    YES = "yes"
    NO = "no"
    CONTINUE = "continue"
    RESTART = "restart"
    NONE = "none"


SMALL_TALK = frozenset({Intent.GREETING, Intent.THANKS, Intent.GOODBYE})
# Commands that only mean something inside a running dialog that asks for them.
_DIALOG_ONLY = frozenset({Intent.SUBMIT})
# Short words must match almost exactly, or "ja" would match "jag".
_MIN_SCORE = 90
_MAX_COMMAND_CHARS = 60
_MAX_SMALL_TALK_WORDS = 12
_MAX_TITLE_CHARS = 120
_MAX_CUE_WORDS = 30
_CASE_ID = re.compile(PROPOSAL_ID.pattern, re.IGNORECASE)


@dataclass(frozen=True)
class Recognised:
    """The intent, and what came with it: an idea's suggested title, a case's id."""

    intent: Intent
    title: str = ""
    case_id: str = ""
    # False when only the learned model recognised it: what would start something asks first.
    sure: bool = True


def fold(text: str) -> str:
    """Lower-case, strip diacritics and collapse punctuation and spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"[^\w?\-]+", " ", plain)
    return re.sub(r"\s+", " ", plain).strip(" .!")


@dataclass(frozen=True)
class _Words:
    """The data file, folded and indexed."""

    commands: dict[Intent, tuple[str, ...]]
    greeting: frozenset[str]
    greeting_phrases: tuple[str, ...]
    thanks: frozenset[str]
    goodbye_phrases: tuple[str, ...]
    address: frozenset[str]
    small_talk: frozenset[str]
    leads: tuple[tuple[str, ...], ...]
    topic_markers: frozenset[str]
    nouns: frozenset[str]
    clause_breaks: frozenset[str]
    process_words: frozenset[str]
    process_phrases: tuple[str, ...]
    cues: tuple[tuple[Intent, tuple[tuple[tuple[str, ...], ...], ...]], ...]


def _folded(values: Any) -> tuple[str, ...]:
    return tuple(fold(str(v)) for v in values)


@cache
def _words() -> _Words:
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    commands = {
        Intent(name): _folded(phrases)
        for name, phrases in raw["commands"].items()
        if not name.startswith("_")
    }
    talk = raw["small_talk"]
    greeting_phrases = _folded(talk["greeting_phrases"])
    goodbye_phrases = _folded(talk["goodbye_phrases"])
    vocabulary = {
        word
        for group in ("greeting", "thanks", "filler", "address")
        for word in _folded(talk[group])
    }
    vocabulary |= {w for phrase in (*greeting_phrases, *goodbye_phrases) for w in phrase.split()}
    leads = sorted((tuple(lead.split()) for lead in _folded(raw["ideas"]["leads"])), key=len)
    return _Words(
        commands=commands,
        greeting=frozenset(_folded(talk["greeting"])),
        greeting_phrases=greeting_phrases,
        thanks=frozenset(_folded(talk["thanks"])),
        goodbye_phrases=goodbye_phrases,
        address=frozenset(_folded(talk["address"])),
        small_talk=frozenset(vocabulary),
        leads=tuple(reversed(leads)),  # longest first
        topic_markers=frozenset(_folded(raw["ideas"]["topic_markers"])),
        nouns=frozenset(_folded(raw["ideas"]["nouns"])),
        clause_breaks=frozenset(_folded(raw["ideas"]["clause_breaks"])),
        process_words=frozenset(_folded(raw["process_words"]["words"])),
        process_phrases=_folded(raw["process_words"]["phrases"]),
        cues=tuple(
            (
                Intent(name),
                tuple(tuple(_cue_words(group) for group in pattern) for pattern in patterns),
            )
            for name, patterns in raw["cues"].items()
            if not name.startswith("_")
        ),
    )


def _cue_words(group: Any) -> tuple[str, ...]:
    """A group of cues, folded; a trailing * (a prefix) is kept."""
    return tuple(fold(str(c)) + ("*" if str(c).endswith("*") else "") for c in group)


def _known(word: str, vocabulary: frozenset[str]) -> bool:
    """The word, or a typo of it (words of five letters or more), is in the vocabulary.

    Four letters must match exactly: "alla" is not a typo of "hallå".
    """
    if word in vocabulary:
        return True
    return len(word) >= 5 and _near(word, vocabulary)


@lru_cache(maxsize=16384)
def _near(word: str, vocabulary: frozenset[str]) -> bool:
    """A word of four letters or more in the vocabulary is within one typo of this one.

    Words repeat across messages, so each (word, vocabulary) is compared once; the
    vocabularies are few module-level sets (a frozenset keeps its hash)."""
    match = process.extractOne(word, _typo_targets(vocabulary), scorer=fuzz.ratio, score_cutoff=88)
    return match is not None


@lru_cache(maxsize=64)
def _typo_targets(vocabulary: frozenset[str]) -> tuple[str, ...]:
    return tuple(known for known in vocabulary if len(known) >= 4)


def _has_phrase(folded: str, phrases: tuple[str, ...]) -> bool:
    padded = f" {folded} "
    return any(f" {phrase} " in padded for phrase in phrases)


def _small_talk(words: list[str]) -> Intent:
    """Which small talk a message of only small-talk words is, or NONE."""
    w = _words()
    if not words or len(words) > _MAX_SMALL_TALK_WORDS:
        return Intent.NONE
    if not all(_known(word, w.small_talk) for word in words):
        return Intent.NONE
    folded = " ".join(words)
    if any(_known(word, w.thanks) for word in words):
        return Intent.THANKS
    if _has_phrase(folded, w.goodbye_phrases):
        return Intent.GOODBYE
    if any(_known(word, w.greeting) for word in words) or _has_phrase(folded, w.greeting_phrases):
        return Intent.GREETING
    return Intent.NONE


def _command(folded: str, allowed: frozenset[Intent] | None) -> Intent:
    """The whole-message command the folded text is, or NONE.

    The exact phrase wins; else the nearest phrase of five letters or more (a typo), the
    first of equals in the data file's order. Phrases of four letters must match exactly.
    """
    if not folded or len(folded) > _MAX_COMMAND_CHARS:
        return Intent.NONE
    exact, intents, phrases = _command_phrases(allowed)
    if folded in exact:
        return exact[folded]
    match = process.extractOne(folded, phrases, scorer=fuzz.ratio, score_cutoff=_MIN_SCORE)
    return Intent.NONE if match is None else intents[match[2]]


@lru_cache(maxsize=16)
def _command_phrases(
    allowed: frozenset[Intent] | None,
) -> tuple[dict[str, Intent], tuple[Intent, ...], tuple[str, ...]]:
    """The commands open to a message: exact phrase → intent, and the phrases typos may hit."""
    exact: dict[str, Intent] = {}
    pairs: list[tuple[Intent, str]] = []
    for intent, phrases in _words().commands.items():
        if (allowed is None and intent in _DIALOG_ONLY) or (
            allowed is not None and intent not in allowed
        ):
            continue
        for phrase in phrases:
            exact.setdefault(phrase, intent)
            if len(phrase) > 4:
                pairs.append((intent, phrase))
    return exact, tuple(i for i, _ in pairs), tuple(p for _, p in pairs)


def _core(words: list[str]) -> list[str]:
    """The words without a greeting before them and thanks or a goodbye after them.

    The shortest small-talk start is cut ("god morgon", "hej"), with any more greetings and
    ways of addressing the bot after it ("hej hej Omtanke"); at the end, the longest
    small-talk run ("tack för hjälpen, ha en bra dag"). "vi" or "bra" alone stay.
    """
    w = _words()
    # Only a run of small-talk words can be small talk: look no further than where it ends.
    talk_head = next((n for n, word in enumerate(words) if not _known(word, w.small_talk)),
                     len(words))
    talk_tail = next((n for n, word in enumerate(reversed(words))
                      if not _known(word, w.small_talk)), len(words))
    start = next((n for n in range(1, talk_head + 1) if _small_talk(words[:n]) != Intent.NONE), 0)
    if start:
        leading = w.greeting | w.thanks | w.address
        while start < len(words) and _known(words[start], leading):
            start += 1
    end = next(
        (n for n in range(max(start, len(words) - talk_tail), len(words))
         if _small_talk(words[n:]) != Intent.NONE),
        len(words),
    )
    return words[start:end]


def _idea(text: str, words: list[str]) -> Recognised | None:
    """An idea in the user's own words, with the words after the lead-in as its title.

    Recognised(NONE, title) when a later clause asks something: a question to answer, whose
    answer can offer to start the proposal with that title.
    """
    w = _words()
    core = _core(words)
    offset = _index_of(words, core)
    for lead, at in _leads_in(core, w.leads, text):
        rest, stop = offset + at + len(lead), offset + len(core)
        marked = rest < stop and words[rest] in w.topic_markers
        while rest < stop and words[rest] in w.topic_markers:
            rest += 1
        tail = _original_words(text, rest, stop)
        first, later = _first_clause(tail, w.clause_breaks)
        title = _as_title(first) if marked or lead[-1] not in w.nouns else ""
        asks = (
            "?" in later
            or _starts_question(first)
            or any(_starts_question(clause) for clause in _CLAUSE.split(later))
        )
        return Recognised(Intent.NONE if asks else Intent.IDEA_IN_WORDS, title=title)
    return None


def _leads_in(
    core: list[str], leads: tuple[tuple[str, ...], ...], text: str = ""
) -> list[tuple[tuple[str, ...], int]]:
    """Where a lead-in starts the words (typos allowed), else where one of two words or more
    stands later, after a self-description ("Jag jobbar som … och vill föreslå att …")."""
    found = []
    asks: bool | None = None  # whether the message asks something: worked out once, if needed
    for lead in leads:
        if len(core) < len(lead):
            continue
        head, wanted = " ".join(core[: len(lead)]), " ".join(lead)
        if head == wanted or fuzz.ratio(head, wanted) >= _MIN_SCORE:
            return [(lead, 0)]
        later = len(lead) >= 2 and lead[0] not in _words().nouns
        if later and asks is None:
            asks = _starts_question(" ".join(core)) or _asks_somewhere(text)
        if later and not asks:
            found += [
                (lead, at)
                for at in range(1, len(core) - len(lead) + 1)
                if core[at : at + len(lead)] == list(lead)
            ][:1]
    return sorted(found, key=lambda item: (item[1], -len(item[0])))[:1]


def _asks_somewhere(text: str) -> bool:
    """A clause of the text starts with a question word ("Jag ska … . Vilka steg …?")."""
    return any(_starts_question(clause) for clause in _CLAUSE.split(text) if clause.strip())


def _cue(text: str, words: list[str]) -> Intent:
    """A command said in other words: every group of one of its patterns is in the message."""
    if len(words) > _MAX_CUE_WORDS:
        return Intent.NONE
    padded = f" {' '.join(words)} "
    asks = _starts_question(" ".join(words)) or _asks_somewhere(text)
    for intent, patterns in _words().cues:
        if (asks and intent != Intent.ABOUT) or (intent == Intent.HELP and len(words) > 12):
            continue
        for groups in patterns:
            if all(any(_has_cue(padded, words, cue) for cue in group) for group in groups):
                return intent
    return Intent.NONE


def _has_cue(padded: str, words: list[str], cue: str) -> bool:
    if cue.endswith("*"):
        return any(word.startswith(cue[:-1]) for word in words)
    return f" {cue} " in padded


_CLAUSE = re.compile(r"[,;:.!?–—]+")


def _first_clause(text: str, breaks: frozenset[str]) -> tuple[str, str]:
    """The text up to its first comma, dash, full stop or 'men' – and the rest."""
    found = re.search(r"[,;:.!–—]|\s(?:" + "|".join(sorted(breaks)) + r")\s", text)
    if found is None:
        return text, ""
    return text[: found.start()], text[found.start() :]


def _starts_question(clause: str) -> bool:
    """The clause begins with a question word ("hur gör jag")."""
    return looks_like_question(clause.strip().rstrip("?"))


def _index_of(words: list[str], core: list[str]) -> int:
    """Where core starts in words (core is a slice of words)."""
    for start in range(len(words) - len(core) + 1):
        if words[start : start + len(core)] == core:
            return start
    return 0


def _original_words(text: str, start: int, stop: int) -> str:
    """The text as written from its word `start` to before `stop` (as fold counts words)."""
    kept: list[str] = []
    seen = 0
    for piece in text.split():
        if start <= seen < stop:
            kept.append(piece)
        seen += len(_split(fold(piece)))
    return " ".join(kept)


def _as_title(words: str) -> str:
    """A suggested title: trimmed, capitalised, at most _MAX_TITLE_CHARS."""
    title = words.strip(" .!?,;:–-")[:_MAX_TITLE_CHARS].rstrip()
    if len(title) < 3:
        return ""
    return title[0].upper() + title[1:]


def _case(text: str, words: list[str]) -> Recognised | None:
    """A proposal id in a message of at most _MAX_CUE_WORDS words, whatever the words around it.

    The knowledge base knows no proposal ids, so a message naming one asks about that case:
    "visa OH-2026-0003", "vad står det i OH-2026-0018?", "återremittera OH-2026-0013". (The
    case view says what the asker may do with it; someone outside RUG sees their own.)"""
    found = _CASE_ID.search(text)
    if found is None or len(words) > _MAX_CUE_WORDS:
        return None
    return Recognised(Intent.RUG_CASE, case_id=found.group().upper())


def classify(
    text: str | None,
    allowed: frozenset[Intent] | None = None,
    *,
    learned: DenseModel | None = None,
    threshold: float = THRESHOLD,
) -> Recognised:
    """What the message asks for; Intent.NONE when it is a question or an answer.

    The rules first; when they find nothing, the learned model (dialogs.intent_model, or
    `learned`) routes a message it is sure enough of. With `allowed`, only those intents are
    recognised by the rules (a running dialog's commands), and the model is not asked.
    """
    found = _by_rules(text, allowed)
    if found.intent != Intent.NONE or found.title or allowed is not None or not text:
        return found
    return _by_model(text, learned, threshold) or found


def _by_model(text: str, learned: DenseModel | None, threshold: float) -> Recognised | None:
    """The model's intent for a message the rules did not recognise, if it is sure enough."""
    label, probability = predict(text, learned)
    if label == QUESTION or probability < threshold:
        return None
    intent = Intent(label)
    if intent == Intent.RUG_CASE:
        found = _CASE_ID.search(text)
        return Recognised(intent, case_id=found.group().upper(), sure=False) if found else None
    return Recognised(intent, sure=False)


def _by_rules(text: str | None, allowed: frozenset[Intent] | None) -> Recognised:
    """What the data file's words say the message asks for (see the module's docstring)."""
    if not text:
        return Recognised(Intent.NONE)
    folded = fold(text)
    words = _split(folded)
    if not words:
        return Recognised(Intent.NONE)

    def wanted(intent: Intent) -> bool:
        return allowed is None or intent in allowed

    if wanted(Intent.RUG_CASE) and (case := _case(text, words)) is not None:
        return case
    command = _command(folded, allowed)
    if command != Intent.NONE:
        return Recognised(command)
    talk = _small_talk(words)
    if talk != Intent.NONE:
        return Recognised(talk if wanted(talk) else Intent.NONE)
    core = _core(words)
    if core and len(core) < len(words):
        command = _command(" ".join(core), allowed)
        if command != Intent.NONE:
            return Recognised(command)
    if wanted(Intent.IDEA_IN_WORDS) and (idea := _idea(text, words)) is not None:
        return idea
    if allowed is None and (cued := _cue(text, _core(words) or words)) != Intent.NONE:
        return Recognised(cued)
    return Recognised(Intent.NONE)


def recognise(text: str | None, allowed: frozenset[Intent] | None = None) -> Intent:
    """The intent alone (see classify)."""
    return classify(text, allowed).intent


def mentions_proposing(text: str) -> bool:
    """Whether a question is about proposing something (its answer offers to start one)."""
    w = _words()
    words = _split(fold(text))
    return any(word in w.process_words for word in words) or _has_phrase(
        " ".join(words), w.process_phrases
    )


def _split(folded: str) -> list[str]:
    """The words of a folded text, without question marks."""
    return [word for word in folded.replace("?", " ").split() if word]
