"""Recognises the few fixed commands a user can type; everything else is a question or an answer."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from rapidfuzz import fuzz


class Intent(StrEnum):
    """What a typed message asks the bot to do."""

    IDEA = "idea"
    MY_PROPOSALS = "my_proposals"
    HELP = "help"
    CANCEL = "cancel"
    BACK = "back"
    SKIP = "skip"
    RUG_CASES = "rug_cases"
    REGISTER_CHANNEL = "register_channel"
    YES = "yes"
    NO = "no"
    CONTINUE = "continue"
    RESTART = "restart"
    NONE = "none"


# Phrases are folded (lower case, no diacritics) before matching.
_PHRASES: dict[Intent, tuple[str, ...]] = {
    Intent.IDEA: (
        "jag har en ide",
        "jag har en ide om",
        "ny ide",
        "jag vill lamna ett forslag",
        "lamna forslag",
        "nytt forslag",
        "nytt initiativ",
        "lamna in en ide",
        "beskriv initiativ",
        "skapa forslag",
        "starta forslag",
        "i have an idea",
        "new idea",
        "new proposal",
    ),
    Intent.MY_PROPOSALS: (
        "mina forslag",
        "mina ideer",
        "mina initiativ",
        "status pa mitt forslag",
        "visa mina forslag",
        "my proposals",
        "my ideas",
    ),
    Intent.HELP: (
        "hjalp",
        "help",
        "?",
        "hjalp mig",
        "vad kan du",
        "vad kan du gora",
        "meny",
        "menu",
    ),
    Intent.CANCEL: ("avbryt", "cancel", "avsluta", "sluta", "stop", "stopp", "quit"),
    Intent.BACK: ("tillbaka", "back", "ga tillbaka", "bakat", "foregaende"),
    Intent.SKIP: ("hoppa over", "skip", "hoppa", "nasta", "next"),
    Intent.RUG_CASES: ("arenden hos rug", "rug arenden", "oppna arenden", "cases at rug"),
    Intent.REGISTER_CHANNEL: (
        "registrera rug-kanal",
        "registrera rug kanal",
        "register rug channel",
    ),
    Intent.YES: ("ja", "japp", "jo", "yes", "ok", "okej", "gor det", "ja tack", "sakert"),
    Intent.NO: ("nej", "no", "nej tack", "inte nu"),
    Intent.CONTINUE: ("fortsatt", "fortsatt dar jag var", "continue", "fortsatt utkastet"),
    Intent.RESTART: ("borja om", "starta om", "start over", "nytt utkast"),
}
# Short words must match almost exactly, or "ja" would match "jag".
_MIN_SCORE = 90


def fold(text: str) -> str:
    """Lower-case, strip diacritics and collapse punctuation and spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"[^\w?\-]+", " ", plain)
    return re.sub(r"\s+", " ", plain).strip(" .!")


def recognise(text: str | None, allowed: frozenset[Intent] | None = None) -> Intent:
    """The command a message expresses, or Intent.NONE when it is free text."""
    if not text:
        return Intent.NONE
    folded = fold(text)
    if not folded or len(folded) > 60:
        return Intent.NONE
    best, best_score = Intent.NONE, 0.0
    for intent, phrases in _PHRASES.items():
        if allowed is not None and intent not in allowed:
            continue
        for phrase in phrases:
            score = 100.0 if folded == phrase else fuzz.ratio(folded, phrase)
            if len(phrase) <= 4 and score < 100:
                continue
            if score > best_score:
                best, best_score = intent, score
    return best if best_score >= _MIN_SCORE else Intent.NONE
