"""Swedish text handling for retrieval: folding, tokens, stems, stop words, compounds, synonyms."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from functools import lru_cache

import snowballstemmer

# Letters that NFKD does not decompose into base letter + combining mark.
_EXTRA_FOLDS = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss", "ł": "l", "đ": "d"})
_NON_WORD = re.compile(r"[^a-z0-9]+")

# Folded Swedish and English function words. Domain words that fold onto a stop word
# ("vår" → "var") are safe to drop too: they carry no topic on their own.
STOPWORDS: frozenset[str] = frozenset(
    """
    a alla allt alltsa an annan andra at att av bara bade blir bli da de dem den denna
    deras dess dessa det detta dig din dina ditt du dar efter eller en ett finns for fran
    fa far gor gora gors ha har hade han hela hennes hon honom hur i icke ihop in inom
    inte jag ju kan kunde man med mej mellan men mig min mina mitt mot mycket ni nagon
    nagot nagra nar nu nagonting och ocksa om oss pa sa sadan sadana sig sin sina sitt
    sjalv ska skall skulle som star sa till tva under upp ut utan vad var vara varit
    vart vi manga mycket vid vilka vilken vilket vill vara ar era ens ert e nat typ egentligen
    alltid kanske liksom ju val hej tack snalla gang lite kort forklara berat beratta
    handlar menas betyder innebar innebara mena betyda galler sager saga
    enligt angaende gallande kring bland just sjalva nan nansin ba assa okej ok undrar
    fundera funderar undra egentligen hallo halla kunna ville borde
    beskriv beskriva sammanfatta sammanfattning sammanfattat korthet kortfattat overgripande
    the an is are was were be been of to in on for and or what how which when where
    why does do did can could should would will my our your their this that these those
    it its me we you they there here about with from by as at into please tell mean means
    explain i am whats s on describe summary summarize summarise briefly overview
    actually really exactly just now
    """.split()
)

# Phrase-level synonyms on folded, space-separated text: English and variant spellings
# are mapped onto the Swedish vocabulary so one index serves both languages.
SYNONYMS: dict[str, str] = {
    # nära vård
    "close care": "nara vard",
    "local care": "nara vard",
    "nearby care": "nara vard",
    "good and close care": "god nara vard",
    "integrated care": "sammanhallen vard",
    "level of care": "vardniva",
    "care level": "vardniva",
    "new level": "ny niva",
    "organisational level": "organisationsniva",
    "organizational level": "organisationsniva",
    "geographically": "geografiskt",
    "geographic": "geografiskt",
    "distance": "avstand",
    "continuity": "kontinuitet",
    "accessibility": "tillganglighet",
    "availability": "tillganglighet",
    "participation": "delaktighet",
    "involvement": "delaktighet",
    "person centred": "personcentrerad",
    "person centered": "personcentrerad",
    "patient centred": "personcentrerad",
    "patient centered": "personcentrerad",
    "cohesive": "sammanhallen",
    "coordinated": "sammanhallen",
    "seamless": "somlos",
    "cooperation": "samverkan",
    "collaboration": "samverkan",
    "collaborate": "samverkan",
    "home health care": "hemsjukvard",
    "home care": "hemsjukvard",
    "primary care": "primarvard",
    "specialist care": "specialistvard",
    # målbild
    "target image": "malbild",
    "target picture": "malbild",
    "vision": "malbild",
    "goal": "mal",
    "goals": "mal",
    "aim": "mal",
    "promise": "lofte",
    "success factors": "framgangsfaktor",
    "success factor": "framgangsfaktor",
    "key factors": "framgangsfaktor",
    "health promoting": "halsoframjande",
    "health promotion": "halsoframjande",
    "simple": "enkel",
    "easy": "enkel",
    "joint": "gemensam",
    "shared": "gemensam",
    "together": "tillsammans",
    "safe": "trygg",
    "secure": "trygg",
    "safety": "trygg",
    "trust": "tillit",
    "perspectives": "perspektiv",
    "perspective": "perspektiv",
    "employee": "medarbetare",
    "staff": "medarbetare",
    "individual": "individ",
    "who": "vem",
    "anyone": "vem som helst",
    "anybody": "vem som helst",
    "everyone": "alla",
    "three": "tre",
    "four": "fyra",
    "seven": "sju",
    # färdplan and process
    "roadmap": "fardplan",
    "road map": "fardplan",
    "launched": "lanserades",
    "launch": "lanserades",
    "idea": "ide",
    "ideas": "ide",
    "proposal": "forslag",
    "proposals": "forslag",
    "suggestion": "forslag",
    "initiative": "initiativ",
    "initiatives": "initiativ",
    "template": "mall",
    "blankett": "mall",
    "blanketten": "mall",
    "formular": "mall",
    "formularet": "mall",
    "mallen": "mall",
    "submit": "skicka in",
    "send": "skicka",
    "propose": "foresla",
    "suggest": "foresla",
    "requirements": "skallkrav",
    "requirement": "skallkrav",
    "criteria": "skallkrav",
    "must requirements": "skallkrav",
    "skall krav": "skallkrav",
    "ska krav": "skallkrav",
    "skalkrav": "skallkrav",
    "skalkraven": "skallkrav",
    "decides": "beslutar",
    "decide": "beslutar",
    "decision": "beslut",
    "feedback": "aterkoppling",
    "evaluate": "utvardera",
    "celebrate": "fira",
    "target groups": "malgrupp",
    "target group": "malgrupp",
    "municipalities": "kommun",
    "municipality": "kommun",
    "organisations": "organisation",
    "organizations": "organisation",
    "organization": "organisation",
    "e post": "mejl",
    "epost": "mejl",
    "email": "mejl",
    "e mail": "mejl",
    "mail": "mejl",
    "maila": "mejl",
    "mejla": "mejl",
    "mailbox": "mejl",
    "contact": "kontakt",
    "slides": "powerpoint",
    "ppt": "powerpoint",
    "arbetsplatstraff": "apt",
    "challenge": "utmaning",
    # The målbild's own name stands for the målbild: "Omtanke Halland" and "målbilden"
    # are one concept to the reader.
    "omtanke halland": "malbild",
    "omtanke hallands": "malbild",
    "omtanke": "malbild",
    "omtanke och respekt": "omtanke och respekt",
    # Swedish phrasings of the process vocabulary.
    "mailar": "mejl",
    "mejlar": "mejl",
    "mailade": "mejl",
    "mejlade": "mejl",
    "mailas": "mejl",
    "mejlas": "mejl",
    "mailen": "mejl",
    "mejlet": "mejl",
    "mailet": "mejl",
    "tanke": "ide",
    "tankar": "ide",
    "komma med": "foresla",
    "kommer med": "foresla",
    "star det i": "innehall",
    "star i": "innehall",
    "finns med i": "innehall",
    "finns det i": "innehall",
    "fa veta": "aterkoppling",
    "far veta": "aterkoppling",
    "far jag veta": "aterkoppling",
    "far man veta": "aterkoppling",
    "far vi veta": "aterkoppling",
    "fa besked": "aterkoppling",
    "far besked": "aterkoppling",
    # "Får en chef …", "får man …": a question of who may do something.
    "far jag": "behorighet",
    "far man": "behorighet",
    "far en": "behorighet",
    "far vi": "behorighet",
    "far alla": "behorighet",
    "far vem": "behorighet",
    "jag som medarbetare": "medarbetarperspektiv",
    "vi som organisation": "organisationsperspektiv",
    "skiljer": "skillnad",
    "skilja": "skillnad",
    "skiljs": "skillnad",
    "skillnader": "skillnad",
    # English
    "happens": "hander",
    "happen": "hander",
    "difference": "skillnad",
    "different": "skillnad",
    "same": "samma",
    "contents": "innehall",
    "content": "innehall",
    "contains": "innehall",
    "contain": "innehall",
    "purpose": "syfte",
    "physically": "geografiskt",
    "physical": "geografiskt",
    "take part": "deltar",
    "participate": "deltar",
    "participating": "deltar",
    "involved": "deltar",
    "members": "deltagare",
    "decided": "beslutat",
    "approved": "godkant",
    "steps": "steg",
    "step": "steg",
    # audit statement
    "audit": "granskning",
    "statement": "yttrande",
    "auditors": "revisorer",
    "indicators": "indikator",
    "indicator": "indikator",
    "follow up": "uppfoljning",
    "followed up": "uppfoljning",
    "financing": "finansiering",
    "funding": "finansiering",
    "funded": "finansiering",
    "time plan": "tidplan",
    "timeline": "tidplan",
    "schedule": "tidplan",
    "tidsplan": "tidplan",
    "mission": "uppdrag",
    "remit": "uppdrag",
    "assignment": "uppdrag",
    "core": "karnan",
    "essence": "karnan",
    "monitor": "folja",
    "monitored": "foljs",
    "monitoring": "uppfoljning",
    "keep track": "folja",
    "keeps track": "folja",
    "measure": "mata",
    "measured": "mata",
    "measures": "mata",
    "adopt": "anta",
    "adopted": "antas",
    "adoption": "antas",
    "abbreviation": "forkortning",
    "acronym": "forkortning",
    "stand for": "forkortning",
    "stands for": "forkortning",
    "hub": "nav",
    "boundary": "gransdragning",
    "boundaries": "gransdragning",
    "demarcation": "gransdragning",
    # Swedish idioms: "(hålla) koll på" is to follow; "hela tiden" (all the time) says
    # nothing about the time plan.
    "koll pa": "folja",
    "koll over": "folja",
    "hela tiden": "",
    "tier": "niva",
    "layer": "niva",
    "vardlager": "vardniva",
    "financed": "finansiering",
    "finance": "finansiering",
    "paid for": "finansiering",
    "points of view": "perspektiv",
    "point of view": "perspektiv",
    "viewpoints": "perspektiv",
    "viewpoint": "perspektiv",
    # GNHH by its full name.
    "gemensamma namnden for hemsjukvard och hjalpmedel": "gnhh",
    "gemensamma namnden for hemsjukvard": "gnhh",
}

_SYNONYM_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in sorted(SYNONYMS, key=len, reverse=True)) + r")\b"
)

# Compound parts that appear in the domain but not always as free words in the entries.
COMPOUND_PARTS: frozenset[str] = frozenset(
    """
    hem sjukvard vard omsorg framgang faktor fard plan mal bild grupp krav skall region
    kommun lakare kontakt rapport indikator utveckling niva styrelse namnd hjalpmedel
    uppfoljning budget primar specialist halsa initiativ ide mall forslag beslut process
    samverkan organisation arbete satt gransdragning fraga strategi nara person mejl
    adress webb sida material
    """.split()
)

_MIN_PART = 3


@lru_cache(maxsize=1)
def _part_stems() -> frozenset[str]:
    """Compound parts plus their stems, so inflected tails ("frag") are recognised."""
    return COMPOUND_PARTS | frozenset(stem(p) for p in COMPOUND_PARTS)


def fold(text: str) -> str:
    """Lower-case and strip diacritics (å→a, ä→a, ö→o, é→e) so spelling variants meet."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_EXTRA_FOLDS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# A question that ends in "hur gör jag/vi/man (då/nu)?" asks for a way to proceed; the
# same words inside a sentence ("hur gör jag vården trygg") do not.
_HOW_TO_END = re.compile(r"\bhur gor (?:jag|vi|man)(?: da| nu| sen| sedan)?$")
HOW_TO = "tillvagagangssatt"
# "Förklara enkelt", "på ett enkelt sätt", "kort och enkelt" say how to answer, not what
# about: left in, "enkelt" would pull every such question to the success factor Enkel.
_HOW_TO_ANSWER = re.compile(
    r"\b(?:pa ett (?:enkelt|latt|kort) satt|med enkla ord|i enkla ord|kort och enkelt"
    r"|enkelt forklarat|in simple terms|simply)\b"
    r"|\benkelt(?= (?:forklara|beskriva))"
)
# "Förklara nära vård enkelt": an "enkelt" a few words after förklara/beskriv/berätta says
# how to answer, not that the question is about the success factor Enkel.
_EXPLAIN_SIMPLY = re.compile(r"\b((?:forklar|beskriv|beratt)\w*(?: \w+){0,4}?) enkelt\b")


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
STEM_EXCEPTIONS: dict[str, str] = {
    "narhet": "narhet",
    "narheten": "narhet",
    # Inflections the stemmer leaves apart ("ny", "nya", "nytt"; "idé", "idén").
    "nya": "ny",
    "nytt": "ny",
    "nye": "ny",
    "iden": "ide",
    "enkla": "enkel",
    "enkelt": "enkel",
    "gemensamma": "gemensam",
    "gemensamt": "gemensam",
    "sammanhallna": "sammanhall",
    "sammanhallet": "sammanhall",
    "sammanhallande": "sammanhall",
    # Snowball keeps the definite "-et" of "syftet" but cuts "syfte" to "syft".
    "syftet": "syft",
}

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
