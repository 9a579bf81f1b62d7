"""The Swedish knowledge base: loading, indexing and answering staff questions."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from knowledge.decision import DecisionModel, load_decision
from knowledge.errors import KnowledgeDataError, read_data_file
from knowledge.malbild import FACTOR_IDS, load_malbild
from knowledge.ranker import OUTSIDE, PAIR, TermRanker, load_ranker
from knowledge.target_groups import DEFAULT_TARGET_GROUPS_PATH, load_target_groups
from knowledge.text import STOPWORDS, normalize, split_compound, stem

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_ENTRIES_PATH = DATA_DIR / "entries.json"

SOURCES = frozenset(
    {
        "Målbild Omtanke Halland",
        "Färdplan för god och nära vård och omsorg i Halland",
        "Yttrande över granskningen av omställningen till nära vård (förslag)",
        "Målgruppslista (konfiguration, ej fastställd)",
    }
)
DECLINE_REASONS = ("empty", "low_confidence", "out_of_scope", "sensitive")
MAX_QUESTION_CHARS = 500
_ID_PATTERN = re.compile(r"^[a-z0-9_]+$")

# The retrieval score is 0.7 lexical + 0.15 fuzzy + 0.15 title coverage, blended with the
# closest single phrasing (_NEAREST_SHARE); whether to answer is decided from it and other
# evidence by the calibrated model in knowledge/decision.py, not by a fixed threshold.
# Field weights: a hit in the title or the curated vocabulary says more than one in prose.
_FIELD_WEIGHTS = {"title": 3.0, "keywords": 2.5, "phrasings": 1.0, "answer": 0.5, "extra": 0.4}
_BM25_K1 = 1.2
_BM25_B = 0.5
_LEXICAL_SHARE = 0.7
_FUZZY_SHARE = 0.15
# The rest of the score is title coverage: the share of the question's weight found in
# an entry's title. Titles are the entries' questions, so between a broad entry and a
# narrow one that both mention a term, the one whose question it is wins.
_TITLE_SHARE = 1.0 - _LEXICAL_SHARE - _FUZZY_SHARE
# The word a question asks about ("vilka *kommuner* är med …", "vad är *målet* …")
# counts this much more than the words around it.
_FOCUS_BOOST = 2.0
_FOCUS_CUES = frozenset("vad vilka vilken vilket vem which what".split())
_FOCUS_REACH = 3
# Staff often say who they are before they ask ("jag jobbar i hemtjänsten i Hylte och …",
# "enhetschef här", "min chef sa att …"). Such a self-description weighs this much; a
# clause that is not the question itself, when another clause asks, weighs _SIDE_WEIGHT.
# An unknown word in them costs correspondingly less.
_CONTEXT_WEIGHT = 0.2
_SIDE_WEIGHT = 0.4
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
    r"|\w+ har$"
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
# Abbreviations as the entries write them: RUG, GNHH, HSU.
_ACRONYM = re.compile(r"\b[A-ZÅÄÖ]{2,6}\b")
# Between two entries this close, the one whose title has the question's focus word wins.
_TIE_MARGIN = 0.03

# Who/when/how/where: a question of the same kind as an entry's title gets this bonus.
_KIND_BONUS = 0.04
# An entry that declares its kind in the data ("kind": "when" for the time plan, whose
# title asks "vad är tidplanen …") is a surer match for a question of that kind.
_DECLARED_KIND_BONUS = 0.1
_QUESTION_KINDS = {
    "vem": "who", "vems": "who", "nar": "when", "when": "when", "hur": "how", "how": "how",
    "varfor": "why", "why": "why", "vart": "where", "where": "where", "var": "where",
}
# An unknown word in the question counts against every entry, but less than a known one
# counts for it: staff wrap real questions in words the KB has never seen.
_UNKNOWN_WEIGHT = 0.45
_ENTRY_KINDS = frozenset(_QUESTION_KINDS.values())
_TYPO_CUTOFF = 84.0
# Share of the score that comes from the closest single title or phrasing.
_NEAREST_SHARE = 0.3
_ASKED_FIELDS = ("title", "phrasings")
# Fuzzy matching runs over titles and keywords; the many phrasings are matched one by one
# through _ASKED_FIELDS, which is cheaper than fuzzy-comparing each of them.
_FUZZY_FIELDS = ("title", "keywords")
_CLAUSE_FACTOR = 0.85

# Questions that must never get KB text, whatever they share with an entry. Patterns run
# on folded, synonym-mapped text. Medicine, patients, HR and IT are "sensitive": the user
# should go to a person; weather, other regions and small talk are "out_of_scope".
# Medicine and patients are matched in the whole text, even in a self-description ("jag
# har feber och …"); the other rules skip the self-description, because "jag jobbar på
# IT-support/1177/receptionen och …" says who asks, not what.
_SAFETY_PATTERNS = (
    # medicine, dosage, symptoms, treatment and diagnosis
    r"\bdos(?:en|er|erna|ering|eringen)?\b",
    r"\b\d+\s?(?:mg|ml|mikrogram|milligram|e)\b",
    r"\b(?:mg|milligram|dosage|dose|overdose)\b",
    r"\b(?:alvedon|panodil|paracetamol|ipren|ibuprofen|treo|morfin|oxikodon|insulin|waran"
    r"|warfarin|kortison|penicillin|antibiotik\w*|tablett\w*"
    # Whole words only: "läkemedelsgenomgång" and "medicinavdelningen" name work, not a dose.
    r"|lakemedel|lakemedlet|lakemedlen|lakemedels?dos\w*|medicin|medicinen|mediciner|medicinerna"
    r"|medicinera\w*)\b",
    # "Bli behandlat" is what RUG does with a proposal: only the noun means care here.
    r"\b(?:behandling\w*|diagnos\w*|symtom\w*|symptom\w*|feber|hosta|smarta|smartan|smartor"
    r"|smartlindring\w*|smartstillande|ont i|blodtryck"
    r"|blodsocker|puls|covid\w*|corona|infektion\w*|lunginflammation|uvi|urinvagsinfektion"
    r"|utslag|kateter\w*|biverkn\w*|vaccin\w*|provsvar|treatment|diagnose|symptoms?|fever"
    r"|medication|medicine|drug|drugs)\b",
    # a specific patient or person, journals and personal identity numbers
    r"\b(?:19|20)?\d{6}\s?[-+]?\s?\d{4}\b",
    r"\bpersonnummer\b",
    r"\bjournal\w*\b",
    # One patient; "många av mina patienter har långt till …" speaks of work in general.
    r"\b(?:min|var|den har|en viss) patient(?:en|ens)?\b",
    r"\bpatient\w* i rum\b",
    r"\brum \d+\b",
)
_SENSITIVE_PATTERNS = (
    # HR and pay
    r"\b(?:lon|lonen|loner|lonerna|lone\w+|tjanar|salary"
    r"|semester\w*|tjanstledig\w*|sjukskriv\w*|foraldraledig\w*|vab|overtid|schema\w*"
    r"|passet|passen|pass|nattpass\w*|kvallspass\w*|vikarie\w*|anstallning\w*|uppsagning\w*"
    r"|vacation|holiday|sick leave)\b",
    r"\bmin chef (?:ar|har)\b",
    r"\b(?:soka|soker|sokte|sok)(?: jag| man| vi)? (?:jobb\w*|tjanst\w*|arbete\w*)\b",
    r"\blediga (?:jobb|tjanster)\b",
    # IT support
    r"\b(?:losenord\w*|password\w*|inlogg\w*|logga in|vpn|datorn?|datorer\w*|skrivare\w*"
    r"|wifi|natverk\w*|cosmic|outlook|krasch\w*|kraschar|it support|it supporten|servicedesk"
    r"|reset|login|log in|printer|computer)\b",
)
_OUT_OF_SCOPE_PATTERNS = (
    r"\b(?:vader|vadret|vaderprognos\w*|regn\w*|sno|snoar|temperatur\w*|grader ute"
    r"|weather|rain|raining|snow|forecast)\b",
    # Other regions and countries: the knowledge is about Halland only.
    r"\b(?:region )?(?:skane|stockholm|uppsala|sormland|ostergotland|jonkoping\w*|kronoberg"
    r"|kalmar|gotland|blekinge|vastra gotaland\w*|vastra gotalandsregionen|vgr|varmland|orebro"
    r"|vastmanland|dalarna|gavleborg|vasternorrland|jamtland|vasterbotten|norrbotten|goteborg"
    r"|gothenburg|malmo|norge|danmark|finland|norway|denmark)s?\b",
    r"\bandra regioner\w*\b",
    # Tasks the assistant does not perform for anyone.
    r"\bkan du (?:skriva|oversatta|boka|ringa|kolla|fixa)\b",
    r"\b(?:skriv|skriva|write|compose)(?: mig| me)? (?:en|ett|a|an) (?:dikt|sang|vers|haiku"
    r"|limerick|saga|novell|berattelse|poem|song|story)\b",
    # Opinions: the assistant reports what the sources say, it holds no views of its own.
    r"\b(?:vad tycker du|tycker du|din asikt|vad anser du|anser du|what do you think"
    r"|do you think|your opinion|rekommenderar (?:du|ni)|what do you recommend)\b",
    # Nor does it report what others think (unions, staff); the region's own view is in
    # its statement, so "vad tycker regionen/regionstyrelsen" is no opinion question.
    r"\bvad tycker (?!region\w*|revisor\w*)\w+",
    r"\b(?:hur manga|antal) (?:invanare|bor|anstallda)\b",
    # Single aids and their rules belong to the aids service, not to this knowledge.
    r"\b(?:rullator\w*|rullstol\w*|horapparat\w*|forskrivning\w*)\b",
    # Small talk and everyday errands.
    r"\b(?:parti|partiet|partier|partierna|majoritet\w*|valet|riksdag\w*|rosta|rostade"
    r"|rostar|rostat|rostning\w*|omrostning\w*|socialdemokrat\w*|moderat\w*|vote|voted)\b",
    r"\b(?:hur mar du|hur ar laget med dig|vem vann|melodifestival\w*|lista mig|lista om mig"
    r"|boka (?:en )?tid|1177)\b",
    r"\b(?:skamt|vits|joke|recept|receptet|recepten|receptbok\w*|laga mat|lagar man"
    r"|kottbullar|kladdkaka|fotboll\w*"
    r"|allsvensk\w*|hockey|football|soccer|sports?|sportresultat\w*|halmstads? bk|hbk|matchen"
    r"|buss\w*|tag(?:et)? till|parkering\w*|parkera|statsminister\w*"
    r"|huvudstad\w*|oversatt\w*|translate|paskafton|julafton|midsommar\w*|konferens\w*"
    r"|boka rum)\b",
)

# Questions on the KB's own topics that ask for a detail the sources do not give: who
# sits in a group, sums of money, fees, counts, how long things take. The KB must not
# guess, so these are declined as "low_confidence" (the coordinators can answer them).
_UNSUPPORTED_PATTERNS = (
    r"\b(?:ordforande\w*|ledamot\w*|ledamoter\w*|sekreterare|sammankallande)\b",
    r"\b(?:vilka|vem|hur manga)(?: personer| som)? (?:sitter|ingar|ar med|deltar) i (?:rug|gnhh"
    r"|utvecklingsgrupp\w*"
    r"|regional utvecklingsgrupp|namnd\w*|gruppen)\b",
    r"\bvem (?:leder|sitter i|ar chef for|skrev|har skrivit|forfattade)\b",
    # Names of the people in a group ("rug medlemmar namn", "names of the RUG members").
    r"\b(?:medlem\w*|deltagare\w*)\b.*\b(?:namn|namnen|names?)\b"
    r"|\b(?:namn|namnen|names?)\b.*\b(?:medlem\w*|deltagare\w*)\b"
    r"|\bheter (?:medlem\w*|deltagar\w*)",
    r"\b\w*direktor\w*\b",
    # Dates of coming meetings, opening hours, figures and rankings are not in the sources.
    r"\b(?:nasta|kommande) (?:mote\w*|mot|sammantrade\w*|traff\w*)\b",
    r"\b(?:oppettid\w*|oppet|stanger|siffror|siffrorna|statistik\w*|bast|samst)\b",
    r"\b(?:app|appen|appar|apparna|app\w*nedladdning)\b",
    r"\bantal(?:et)? (?!skallkrav|krav|framgangsfaktor\w*|faktorer|perspektiv|steg)\w+",
    r"\bhur manga (?:sitter|personer|ledamoter|medlemmar|deltagare|medarbetare|initiativ"
    r"|forslag|ide|ideer"
    r"|beslut|har)\b",
    r"\b(?:hur mycket|vilken summa|hur stor\w*) (?:pengar|budget\w*|summa|anslag\w*|kostar)\b",
    r"\b(?:hur mycket|vad) kostar\b",
    r"\b(?:kronor|miljoner|miljarder|mkr|tkr|msek|sek|kr)\b",
    # Fees and prices, also inside compounds ("hemsjukvårdsavgiften", "hemtjänsttaxan").
    r"\b\w*(?:avgift\w*|taxa|taxan|taxor|taxorna|priset|priser|prislista\w*)\b",
    r"\bhur lang tid (?:\w+ )?(?:\w+ )?(?:tar|ta|drojer|droj\w*)\b",
    r"\bhur stor\w* (?:ar |blir |var )?(?:budget\w*|anslag\w*|summa\w*|kostnad\w*)",
    r"\b(?:kostnad\w*|kostade|procent|procentandel|utbildning|utbildningar|utbildningen|kurs"
    r"|kurser|kursen|webbinar\w*)\b",
    r"\banmala (?:mig|oss|sig)\b",
    r"\bvad blev (?:beslutet|utfallet|resultatet)\b",
    # Results and outcomes so far: the sources plan and describe, they report no results.
    r"\b(?:so far|forra aret|i fjol|last year|utfall\w*|betyg\w*|grade)\b",
    # Which initiatives have been approved or started: the sources name none.
    r"\bvilka (?:initiativ|forslag|ideer|projekt)\w* (?:har|som har|blev)\b",
    r"\bresultat\w* (?:har|hade|av|fran|blev|visade|gav|gett)\b|\b(?:what|which|any) results\b",
    # The same details asked in English (after synonym mapping: "who" → "vem", "members"
    # → "deltagare").
    r"\b(?:who|vem) (?:chairs|leads|heads|sits|is (?:the )?(?:chair|head|leader|member))\b",
    r"\b(?:chair|chairman|chairperson|chairs|deltagare of|member list)\b",
    r"\bhow (?:much|many|long)\b",
    r"\b(?:cost|costs|price|budget size|percent|percentage|training|course|courses)\b",
)

# Function words the re-ranker sees (see _with_cues): question words, modal verbs,
# pronouns that say who acts, and the same in English.
_RANKER_CUES = frozenset(
    "hur vem vad nar var vart varfor vilka vilken vilket kan kunde far maste behover ska "
    "skall bor jag vi man du efter innan fore med utan alla sjalv "
    "how who what when where why which can may must should i we after before".split()
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
_QUESTION_STARTS = frozenset(
    """
    vad vilka vilken vilket varfor nar vem vems var vart hur kan far ar finns ska maste
    behover gar galler stammer hjalp beratta forklara
    what how which who whom whose why when where can could is are does do did should may
    will would tell explain
    """.split()
)


@dataclass(frozen=True)
class Entry:
    """One knowledge entry: a question label, a short answer and where it comes from."""

    id: str
    title: str
    answer: str
    source: str
    related: tuple[str, ...]
    answer_en: str | None = None


@dataclass(frozen=True)
class Answer:
    """The result of asking the knowledge base; declined answers carry a reason.

    `score` is the decision model's confidence (0–1) that the entry answers the question;
    a rule-based decline (empty, sensitive, out of scope, unsupported detail) scores 0.
    """

    answered: bool
    text: str
    topic: str | None
    score: float
    source: str | None
    related: tuple[tuple[str, str], ...]
    reason: str | None = None


@dataclass
class _IndexedEntry:
    """An entry's weighted term frequencies and its strings for fuzzy matching."""

    tf: dict[str, float]
    length: float
    fuzzy_strings: list[str] = field(default_factory=list)
    title_terms: frozenset[str] = frozenset()
    title_kind: str | None = None
    kind_bonus: float = 0.0


@dataclass(frozen=True)
class _Scored:
    """Every entry's score for one question, and what the question itself looked like."""

    by_entry: dict[str, tuple[float, bool]]
    nearest: dict[str, float]
    unknown_share: float
    content: int
    kind: str | None
    learned: dict[str, float]


@dataclass(frozen=True)
class _Ranked:
    """The best entry for a question, its score and the evidence the decision weighs."""

    entry_id: str
    score: float
    features: dict[str, float]


def _fail(path: Path, entry: str | None, problem: str) -> KnowledgeDataError:
    """Build the typed error for a malformed entry."""
    return KnowledgeDataError(path, entry, problem)


def _str_field(path: Path, entry_id: str, raw: Mapping[str, Any], key: str) -> str:
    """Return a required non-empty string field."""
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, entry_id, f"fältet {key!r} saknas eller är inte en text")
    return value.strip()


def _str_list(path: Path, entry_id: str, raw: Mapping[str, Any], key: str) -> list[str]:
    """Return an optional list of strings (missing means empty)."""
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, entry_id, f"fältet {key!r} ska vara en lista med texter")
    return [v.strip() for v in value if v.strip()]


def looks_like_question(text: str) -> bool:
    """Whether free text reads as a question (ends with '?' or starts with a question word)."""
    stripped = text.strip()
    if not stripped:
        return False
    if stripped.endswith("?"):
        return True
    words = normalize(stripped[:MAX_QUESTION_CHARS]).split()
    return bool(words) and words[0] in _QUESTION_STARTS


def _question_kind(normalized_words: Sequence[str]) -> str | None:
    """Who/when/how/why/where from the first question word ("var" only as first word).

    A question that opens with "vad"/"vilka"/"what" asks for a thing, even when a "när"
    follows ("vad händer när RUG har beslutat?").
    """
    for i, word in enumerate(normalized_words[:6]):
        if word in _FOCUS_CUES and word not in _QUESTION_KINDS:
            return None
        kind = _QUESTION_KINDS.get(word)
        if kind is not None and (word != "var" or i == 0):
            return kind
    return None


def weighted_words(text: str) -> list[tuple[str, float]]:
    """The question's normalized words, each with how much it says about the topic."""
    return [word for clause in weighted_clauses(text) for word in clause]


def weighted_clauses(text: str) -> list[list[tuple[str, float]]]:
    """The question's clauses, each a list of normalized words with their weights.

    The text is cut into clauses at punctuation. A leading self-description ("jag
    jobbar i hemtjänsten i Hylte", "som ledamot i HSU", "enhetschef här") weighs
    _CONTEXT_WEIGHT. When some clause asks (a question word first, or a "?") and has
    content words, the clauses that do not ask weigh _SIDE_WEIGHT. Otherwise (the asking
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
        asks = "?" in delimiter or (bool(rest) and rest[0] in _QUESTION_STARTS)
        clauses.append((words, prefix, asks))
    if len(clauses) == 1 and clauses[0][1] == 0:
        return [[(w, 1.0) for w in clauses[0][0]]]
    asking_has_content = any(
        asks and any(w not in STOPWORDS and len(w) > 1 for w in words[prefix:])
        for words, prefix, asks in clauses
    )
    out: list[list[tuple[str, float]]] = []
    for words, prefix, asks in clauses:
        side = _SIDE_WEIGHT if asking_has_content and not asks else 1.0
        out.append([(w, _CONTEXT_WEIGHT if j < prefix else side) for j, w in enumerate(words)])
    return out


def _with_cues(
    terms: Mapping[str, float], weighted: Sequence[tuple[str, float]]
) -> dict[str, float]:
    """The terms plus the question's cue words, as "?kan", "?hur" (the re-ranker's input).

    Retrieval drops function words, but some tell close entries apart: "*kan* jag lämna
    ett förslag" asks who may propose, "*hur* lämnar jag" how to submit. Cue tokens cannot
    clash with stems, which never start with "?".
    """
    out = dict(terms)
    for word, weight in weighted:
        if word in _RANKER_CUES and weight > _CONTEXT_WEIGHT:
            token = f"?{word}"
            out[token] = max(out.get(token, 0.0), weight)
    kept = [(w if w in STOPWORDS else stem(w), c) for w, c in weighted if c > _CONTEXT_WEIGHT]
    for (a, ca), (b, cb) in itertools.pairwise(kept):
        token = f"{a}{PAIR}{b}"
        out[token] = max(out.get(token, 0.0), min(ca, cb))
    return out


def _is_english(normalized_words: Sequence[str]) -> bool:
    """Guess whether the question is English from its function words."""
    en = sum(1 for w in normalized_words if w in _ENGLISH_WORDS)
    sv = sum(1 for w in normalized_words if w in _SWEDISH_WORDS)
    return en > sv


class KnowledgeBase:
    """Entries plus an index built once at load; answering is pure and synchronous."""

    def __init__(
        self,
        entries: Sequence[Entry],
        index_texts: Mapping[str, Mapping[str, Sequence[str]]],
        declines: Mapping[str, Mapping[str, str]],
        decision: DecisionModel | None = None,
        ranker: TermRanker | None = None,
    ) -> None:
        """Index the entries; index_texts maps entry id → field → texts to index."""
        self._decision = decision or load_decision()
        self._ranker = ranker if ranker is not None else load_ranker()
        self._entries = tuple(entries)
        self._by_id = {e.id: e for e in self._entries}
        self._declines = {lang: dict(texts) for lang, texts in declines.items()}
        self._safety = [re.compile(p) for p in _SAFETY_PATTERNS]
        self._sensitive = [re.compile(p) for p in _SENSITIVE_PATTERNS]
        self._out_of_scope = [re.compile(p) for p in _OUT_OF_SCOPE_PATTERNS]
        self._unsupported = [re.compile(p) for p in _UNSUPPORTED_PATTERNS]
        self._typo_cache: dict[str, str | None] = {}
        self._joined_cache: dict[str, list[str] | None] = {}
        self._build_index(index_texts)

    # ----- loading -------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        entries_path: Path | None = None,
        target_groups: Sequence[tuple[str, str]] | None = None,
        decision: DecisionModel | None = None,
        ranker: TermRanker | None = None,
    ) -> KnowledgeBase:
        """Load entries (and the target-group entry) from JSON; malformed → KnowledgeDataError."""
        path = entries_path or DEFAULT_ENTRIES_PATH
        raw = read_data_file(path)
        if isinstance(raw, list):
            raw_entries: Any = raw
            meta: dict[str, Any] = {}
        elif isinstance(raw, dict):
            raw_entries = raw.get("entries")
            meta = raw
        else:
            raise _fail(path, None, "ska vara en lista med poster eller ett objekt med 'entries'")
        if not isinstance(raw_entries, list) or not raw_entries:
            raise _fail(path, None, "'entries' saknas eller är tom")

        # Decline texts and the target-group template are user-facing text, so they live
        # in data; a bare list (handy in tests) borrows them from the packaged file.
        if "declines" not in meta or "target_group_entry" not in meta:
            packaged = read_data_file(DEFAULT_ENTRIES_PATH)
            meta = {**packaged, **meta}
        declines = cls._parse_declines(path, meta.get("declines"))

        entries: list[Entry] = []
        index_texts: dict[str, dict[str, list[str]]] = {}
        for i, item in enumerate(raw_entries):
            entry, texts = cls._parse_entry(path, i, item)
            if entry.id in index_texts:
                raise _fail(path, entry.id, "id:t förekommer mer än en gång")
            entries.append(entry)
            index_texts[entry.id] = texts

        tg_entry, tg_texts = cls._target_group_entry(path, meta.get("target_group_entry"),
                                                     target_groups)
        if tg_entry.id not in index_texts:
            entries.append(tg_entry)
            index_texts[tg_entry.id] = tg_texts

        ids = set(index_texts)
        for entry in entries:
            missing = [r for r in entry.related if r not in ids]
            if missing:
                raise _fail(path, entry.id, f"'related' pekar på okända poster: {missing}")

        # The success-factor entries answer with a summary; indexing every statement lets
        # questions phrased in the målbild's own words still find them.
        malbild = load_malbild()
        for factor_id in FACTOR_IDS:
            if factor_id in index_texts:
                factor = malbild.factor(factor_id)
                # The slides' perspective headings ("Jag som medarbetare gör vård och omsorg
                # trygg …") tie a perspective question to the factor it names.
                name = factor.name.lower()
                index_texts[factor_id].setdefault("extra", []).extend(
                    [factor.headline, *factor.individual, *factor.employee, *factor.organisation,
                     f"Jag som medarbetare gör vård och omsorg {name}",
                     f"Vi som organisation gör vård och omsorg {name}"]
                )
        return cls(entries, index_texts, declines, decision, ranker)

    @staticmethod
    def _parse_declines(path: Path, raw: Any) -> dict[str, dict[str, str]]:
        """Validate the decline texts: one text per reason, Swedish and English."""
        if not isinstance(raw, dict):
            raise _fail(path, "declines", "saknas eller är inte ett objekt")
        out: dict[str, dict[str, str]] = {}
        for lang in ("sv", "en"):
            texts = raw.get(lang)
            if not isinstance(texts, dict):
                raise _fail(path, "declines", f"språket {lang!r} saknas")
            out[lang] = {r: _str_field(path, f"declines.{lang}", texts, r)
                         for r in DECLINE_REASONS}
        return out

    @staticmethod
    def _parse_entry(path: Path, index: int, item: Any) -> tuple[Entry, dict[str, list[str]]]:
        """Validate one raw entry and return it with the texts to index."""
        if not isinstance(item, dict):
            raise _fail(path, f"#{index}", "posten ska vara ett objekt")
        label = str(item.get("id") or f"#{index}")
        entry_id = _str_field(path, label, item, "id")
        if not _ID_PATTERN.match(entry_id):
            raise _fail(path, entry_id, "id får bara innehålla a–z, 0–9 och _")
        source = _str_field(path, entry_id, item, "source")
        if source not in SOURCES:
            raise _fail(path, entry_id, f"okänd källa {source!r}")
        answer_en = item.get("answer_en")
        if answer_en is not None and (not isinstance(answer_en, str) or not answer_en.strip()):
            raise _fail(path, entry_id, "fältet 'answer_en' ska vara en text")
        related = _str_list(path, entry_id, item, "related")
        entry = Entry(
            id=entry_id,
            title=_str_field(path, entry_id, item, "title"),
            answer=_str_field(path, entry_id, item, "answer"),
            source=source,
            related=tuple(related),
            answer_en=answer_en.strip() if isinstance(answer_en, str) else None,
        )
        texts = {
            "title": [entry.title],
            "keywords": _str_list(path, entry_id, item, "keywords"),
            "phrasings": _str_list(path, entry_id, item, "phrasings"),
            "answer": [entry.answer],
        }
        # An entry whose title asks "vad är tidplanen …" answers a "när …" question: the
        # optional "kind" says so (who, when, how, why, where), else the title's first word.
        kind = item.get("kind")
        if kind is not None:
            if kind not in _ENTRY_KINDS:
                raise _fail(path, entry_id, f"fältet 'kind' ska vara en av {sorted(_ENTRY_KINDS)}")
            texts["kind"] = [kind]
        return entry, texts

    @staticmethod
    def _target_group_entry(
        path: Path, template: Any, target_groups: Sequence[tuple[str, str]] | None
    ) -> tuple[Entry, dict[str, list[str]]]:
        """Build the entry that lists the configured target groups."""
        if not isinstance(template, dict):
            raise _fail(path, "target_group_entry", "saknas eller är inte ett objekt")
        tid = "target_group_entry"
        groups: list[tuple[str, str, tuple[str, ...]]]
        unconfirmed = True
        if target_groups is None:
            if DEFAULT_TARGET_GROUPS_PATH.exists():
                packaged = load_target_groups(DEFAULT_TARGET_GROUPS_PATH)
                groups = [(g.id, g.name, g.aliases) for g in packaged.groups]
                unconfirmed = packaged.provisional
            else:
                groups = []
        else:
            groups = [(gid, name, ()) for gid, name in target_groups]
        names = [name for _, name, _ in groups]
        if names:
            intro = _str_field(path, tid, template, "intro_unconfirmed" if unconfirmed else "intro")
            bullets = "\n".join(f"• {n}" for n in names)
            answer = f"{intro}\n{bullets}\n{_str_field(path, tid, template, 'outro')}"
            answer_en: str | None = (
                f"{_str_field(path, tid, template, 'intro_en')}\n{bullets}\n"
                f"{_str_field(path, tid, template, 'outro_en')}"
            )
        else:
            answer = _str_field(path, tid, template, "empty")
            answer_en = None
        entry = Entry(
            id=_str_field(path, tid, template, "id"),
            title=_str_field(path, tid, template, "title"),
            answer=answer,
            source=_str_field(path, tid, template, "source"),
            related=tuple(_str_list(path, tid, template, "related")),
            answer_en=answer_en,
        )
        aliases = [a for _, _, als in groups for a in als]
        texts = {
            "title": [entry.title],
            "keywords": _str_list(path, tid, template, "keywords"),
            "phrasings": _str_list(path, tid, template, "phrasings"),
            "answer": [entry.answer],
            "extra": [*names, *aliases],
        }
        return entry, texts

    # ----- index ---------------------------------------------------------------------

    def _build_index(self, index_texts: Mapping[str, Mapping[str, Sequence[str]]]) -> None:
        """Build weighted term frequencies, document frequencies and fuzzy strings."""
        base_vocab: set[str] = set()
        surface: set[str] = set()
        acronyms: set[str] = set()
        for fields in index_texts.values():
            for field_name, texts in fields.items():
                if field_name == "kind":
                    continue
                for text in texts:
                    base_vocab.update(self._raw_stems(text))
                    surface.update(w for w in normalize(text).split()
                                   if w not in STOPWORDS and len(w) > 2)
                    acronyms.update(normalize(found) for found in _ACRONYM.findall(text))
        self._vocab_base = frozenset(base_vocab)
        self._surface = frozenset(surface)
        self._acronyms = frozenset(acronyms)

        self._docs: dict[str, _IndexedEntry] = {}
        for entry_id, fields in index_texts.items():
            tf: dict[str, float] = {}
            fuzzy_strings: list[str] = []
            for field_name, texts in fields.items():
                if field_name == "kind":
                    continue
                weight = _FIELD_WEIGHTS.get(field_name, 1.0)
                for text in texts:
                    for term in self._expand(self._raw_stems(text)):
                        tf[term] = tf.get(term, 0.0) + weight
                    if field_name in _FUZZY_FIELDS:
                        fuzzy_strings.append(self._fuzzy_form(text))
            titles = fields.get("title", ())
            title_terms = frozenset(t for text in titles for t in self._raw_stems(text))
            kinds = fields.get("kind", ())
            declared = bool(kinds)
            title_kind = kinds[0] if kinds else (
                _question_kind(normalize(titles[0]).split()[:1]) if titles else None
            )
            self._docs[entry_id] = _IndexedEntry(
                tf, sum(tf.values()), fuzzy_strings, title_terms, title_kind,
                _DECLARED_KIND_BONUS if declared else _KIND_BONUS,
            )

        df: Counter[str] = Counter()
        for doc in self._docs.values():
            df.update(doc.tf.keys())
        n = len(self._docs)
        self._idf = {t: math.log(1.0 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self._unknown_idf = math.log(1.0 + (n - 0.5) / 1.5) * _UNKNOWN_WEIGHT
        self._avg_len = sum(d.length for d in self._docs.values()) / max(n, 1)
        self._vocab_list = sorted(self._idf)
        self._surface_list = sorted(self._surface)
        self._postings: dict[str, list[tuple[str, float, float, bool]]] = {}
        for entry_id, doc in self._docs.items():
            norm = _BM25_K1 * (1.0 - _BM25_B + _BM25_B * doc.length / self._avg_len)
            for t, freq in doc.tf.items():
                self._postings.setdefault(t, []).append(
                    (entry_id, freq, norm, t in doc.title_terms)
                )
        # Every title and phrasing is also a question of its own: a staff question close to
        # one of them is a surer match than one that shares words with the entry as a whole.
        self._training_texts = [
            (text, entry_id)
            for entry_id, fields in index_texts.items()
            for field_name in ("title", "phrasings", "keywords")
            for text in fields.get(field_name, ())
        ]
        self._asked: list[tuple[str, frozenset[str], float]] = []
        self._asked_postings: dict[str, list[int]] = {}
        for entry_id, fields in index_texts.items():
            for field_name in _ASKED_FIELDS:
                for text in fields.get(field_name, ()):
                    stems = frozenset(self._raw_stems(text))
                    mass = sum(self._idf[t] for t in stems)
                    if not mass:
                        continue
                    for t in stems:
                        self._asked_postings.setdefault(t, []).append(len(self._asked))
                    self._asked.append((entry_id, stems, mass))
        # Flattened choices let one rapidfuzz call score every entry's strings at once.
        self._fuzzy_choices: list[str] = []
        self._fuzzy_owner: list[str] = []
        for entry_id, doc in self._docs.items():
            for s in doc.fuzzy_strings:
                self._fuzzy_choices.append(s)
                self._fuzzy_owner.append(entry_id)

    @staticmethod
    def _raw_stems(text: str) -> list[str]:
        """Stems of the content words of text (no compound parts)."""
        return [stem(w) for w in normalize(text).split() if w not in STOPWORDS and len(w) > 1]

    def _expand(self, stems: Iterable[str]) -> list[str]:
        """Add compound parts to stems, using the KB's own vocabulary to validate splits."""
        out: list[str] = []
        for s in stems:
            out.append(s)
            out.extend(p for p in split_compound(s, self._vocab_base) if p != s)
        return out

    @staticmethod
    def _fuzzy_form(text: str) -> str:
        """Folded text without stop words, for rapidfuzz comparison."""
        return " ".join(w for w in normalize(text).split() if w not in STOPWORDS)

    def _correct_known(self, term: str) -> str | None:
        """The term itself when indexed, else its typo correction (or None)."""
        return term if term in self._idf else self._correct(term)

    def _correct(self, term: str) -> str | None:
        """Map an unknown stem to the nearest vocabulary stem (typos), or None."""
        if term in self._typo_cache:
            return self._typo_cache[term]
        found: str | None = None
        if len(term) >= 4:
            match = process.extractOne(
                term, self._vocab_list, scorer=fuzz.ratio, score_cutoff=_TYPO_CUTOFF
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
            if swapped != term and swapped in self._acronyms:
                return swapped
        for i, letter in enumerate(term):
            doubled = term[: i + 1] + letter + term[i + 1 :]
            if doubled in self._idf:
                return doubled
        return None

    def _correct_word(self, word: str) -> str | None:
        """The stem of the KB word closest to an unknown word, for typos in short stems.

        A typo can shorten the stem below what _correct trusts ("skikar" → "skik", "lämar"
        → "lam"); the whole word still carries enough letters to find "skickar", "lämnar".
        """
        if len(word) < 5:
            return None
        key = f"word:{word}"
        if key not in self._typo_cache:
            match = process.extractOne(
                word, self._surface_list, scorer=fuzz.ratio, score_cutoff=_TYPO_CUTOFF
            )
            found = stem(match[0]) if match is not None else None
            self._typo_cache[key] = found if found in self._idf else None
        return self._typo_cache[key]

    # ----- answering -----------------------------------------------------------------

    @property
    def entries(self) -> tuple[Entry, ...]:
        """All entries, including the one built from the target-group list."""
        return self._entries

    def entry(self, entry_id: str) -> Entry:
        """Return the entry with this id; KeyError if unknown."""
        return self._by_id[entry_id]

    def answer(self, question: str, locale: str = "sv") -> Answer:
        """Answer a staff question from the KB, or decline politely with a reason."""
        lang, outcome = self._assess(question, locale)
        if isinstance(outcome, str):
            return self._decline(outcome, lang, 0.0)
        entry_id, features = outcome
        confidence = self._decision.confidence(features)
        if confidence < self._decision.threshold:
            return self._decline("low_confidence", lang, confidence)
        return self._answer_with(self._by_id[entry_id], lang, confidence)

    def evidence(self, question: str) -> tuple[str, dict[str, float]] | None:
        """The best entry and the evidence the decision weighs; None if a rule declines first.

        For calibration (knowledge.calibrate): the same path as answer(), without deciding.
        """
        _, outcome = self._assess(question, "sv")
        return None if isinstance(outcome, str) else outcome

    def _assess(
        self, question: str, locale: str
    ) -> tuple[str, str | tuple[str, dict[str, float]]]:
        """The answer language, and a decline reason or the best entry with its evidence."""
        text = (question or "")[:MAX_QUESTION_CHARS]
        normalized = normalize(text)
        words = normalized.split()
        lang = "en" if locale.lower().startswith("en") or _is_english(words) else "sv"
        if not words:
            return lang, "empty"
        if any(p.search(f" {normalized} ") for p in self._safety):
            return lang, "sensitive"
        clauses = weighted_clauses(text)
        weighted = self._split_joined([word for clause in clauses for word in clause])
        # "Som ledamot i HSU vill jag veta …" asks about the statement, not about members:
        # the other rules look at the question without the speaker's self-description.
        core = f" {' '.join(w for w, weight in weighted if weight > _CONTEXT_WEIGHT)} "
        if any(p.search(core) for p in self._sensitive):
            return lang, "sensitive"
        if any(p.search(core) for p in self._out_of_scope):
            return lang, "out_of_scope"
        details = [m.group(0) for p in self._unsupported if (m := p.search(core))]
        ranked = self._rank_question(clauses, weighted)
        if ranked is None or not all(self._mentions(ranked.entry_id, d) for d in details):
            return lang, "low_confidence"
        return lang, (ranked.entry_id, {**ranked.features, "english": float(lang == "en")})

    def _mentions(self, entry_id: str, detail: str) -> bool:
        """Whether an asked-for detail is one word that the entry's own text has.

        "Öppettider" is a detail the sources do not give, except where they do: the entry
        on nearness names opening hours, so a question about them is no unsupported detail.
        A detail of several words ("hur många förslag", "vilka sitter i") is a question
        form the sources cannot answer, whatever words the entry shares with it.
        """
        tf = self._docs[entry_id].tf
        return len(detail.split()) == 1 and all(s in tf for s in self._raw_stems(detail))

    def _rank_question(
        self, clauses: Sequence[Sequence[tuple[str, float]]],
        weighted: Sequence[tuple[str, float]],
    ) -> _Ranked | None:
        """The best entry for the whole question or, discounted, for one of its clauses.

        A long question with context ("Jag är ny i hemtjänsten och alla pratar om nära
        vård. Vad betyder det?") may name its topic in one clause: that clause alone,
        without the self-description, is scored too, discounted by _CLAUSE_FACTOR.
        """
        ranked = self._rank(weighted)
        clause_won = 0.0
        if len(clauses) > 1:
            for clause in clauses:
                own = self._split_joined([(w, 1.0) for w, c in clause if c > _CONTEXT_WEIGHT])
                if sum(1 for w, _ in own if w not in STOPWORDS and len(w) > 1) < 2:
                    continue
                candidate = self._rank(own)
                if candidate is None:
                    continue
                discounted = candidate.score * _CLAUSE_FACTOR
                if ranked is None or discounted > ranked.score:
                    ranked = _Ranked(candidate.entry_id, discounted,
                                     {**candidate.features, "score": discounted})
                    clause_won = 1.0
        if ranked is None:
            return None
        return _Ranked(ranked.entry_id, ranked.score, {**ranked.features, "clause": clause_won})

    def answer_topic(self, entry_id: str, locale: str = "sv") -> Answer | None:
        """The answer of one entry, for a related-question button; None if the id is unknown."""
        entry = self._by_id.get(entry_id)
        if entry is None:
            return None
        return self._answer_with(entry, "en" if locale.lower().startswith("en") else "sv", 1.0)

    def _answer_with(self, entry: Entry, lang: str, score: float) -> Answer:
        """The answer of an entry in a language, with its related questions."""
        body = entry.answer_en if lang == "en" and entry.answer_en else entry.answer
        related = tuple((r, self._by_id[r].title) for r in entry.related[:3])
        return Answer(True, body, entry.id, round(score, 3), entry.source, related)

    def _rank(self, weighted: Sequence[tuple[str, float]]) -> _Ranked | None:
        """Score every entry for the question; return the best entry with its evidence.

        Entries within _TIE_MARGIN of the best are close calls: one whose title asks for
        the word the question asks for wins ("vilket *mål* har regionen …" → the entry
        "Vilka mål har regionen …", not the budget entry that mentions "mål och budget").
        """
        result = self._scores(weighted)
        if result is None:
            return None
        scored = result.by_entry
        best_id = max(scored, key=lambda e: scored[e][0])
        best = scored[best_id][0]
        if not scored[best_id][1]:
            close = [e for e, (score, focus_in_title) in scored.items()
                     if focus_in_title and best - score <= _TIE_MARGIN]
            if close:
                best_id = max(close, key=lambda e: scored[e][0])
        score = scored[best_id][0]
        runner_up = max((v[0] for e, v in scored.items() if e != best_id), default=0.0)
        kind_mismatch = result.kind is not None and result.kind != self._docs[best_id].title_kind
        return _Ranked(best_id, score, {
            "score": score,
            "margin": score - runner_up,
            "nearest": result.nearest.get(best_id, 0.0),
            "unknown": result.unknown_share,
            "words": math.log1p(result.content),
            "kind_mismatch": 1.0 if kind_mismatch else 0.0,
            **self._learned_evidence(best_id, result),
        })

    def _learned_evidence(self, entry_id: str, result: _Scored) -> dict[str, float]:
        """The re-ranker's probabilities for the entry and for "outside the knowledge".

        An entry added after training is no class of the ranker, which then counts that
        entry's questions as "outside": for it, that is no evidence. In its place stands
        how closely the question matches one of the entry's own phrasings, which is what
        the ranker would have learned from them.
        """
        if entry_id in result.learned or not result.learned:
            return {"learned": result.learned.get(entry_id, 0.0),
                    "outside": result.learned.get(OUTSIDE, 0.0)}
        return {"learned": result.nearest.get(entry_id, 0.0), "outside": 0.0}

    def _split_joined(self, weighted: list[tuple[str, float]]) -> list[tuple[str, float]]:
        """Split words typed without a space ("naravard", "vadär") into known words."""
        out: list[tuple[str, float]] = []
        for word, weight in weighted:
            parts = self._joined_parts(word)
            out.extend((p, weight) for p in parts or [word])
        return out

    def _joined_parts(self, word: str) -> list[str] | None:
        """Known words that word is made of, synonym-mapped; None if it is no such join."""
        if word in self._joined_cache:
            return self._joined_cache[word]
        found: list[str] | None = None
        if len(word) >= 5 and word not in STOPWORDS and word not in self._surface:
            if stem(word) not in self._idf:
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
        return len(part) >= 3 and part in self._surface

    @staticmethod
    def _focus(words: Sequence[str]) -> str | None:
        """The first content word right after a question word: what the question asks for."""
        for i, word in enumerate(words):
            if word not in _FOCUS_CUES:
                continue
            for follower in words[i + 1 : i + 1 + _FOCUS_REACH]:
                if follower not in STOPWORDS and len(follower) > 1:
                    return follower
            return None
        return None

    def _scores(self, weighted: Sequence[tuple[str, float]]) -> _Scored | None:
        """(score, focus word in title) of every entry sharing a term with the question.

        The score combines lexical (BM25 over weighted fields), fuzzy and title coverage;
        each word counts with its clause weight (see weighted_words).
        """
        words = [w for w, _ in weighted]
        content = [(w, c) for w, c in weighted if w not in STOPWORDS and len(w) > 1]
        if not content:
            return None
        focus_word = self._focus(words)
        kind = _question_kind(words)
        focus = self._correct_known(stem(focus_word)) if focus_word else None
        term_weight, unknown_weight = self._term_weights(content)
        if not term_weight:
            return None
        weight = {
            t: self._idf[t] * c * (_FOCUS_BOOST if t == focus else 1.0)
            for t, c in term_weight.items()
        }
        max_total = sum(weight.values()) + unknown_weight

        # Walk the postings of the question's terms, not every entry: the same sums, in the
        # same order, for the entries that share a term.
        totals: dict[str, float] = {}
        in_title: dict[str, float] = {}
        for t, w_t in weight.items():
            for entry_id, tf, norm, titled in self._postings.get(t, ()):
                totals[entry_id] = (
                    totals.get(entry_id, 0.0)
                    + w_t * tf * (_BM25_K1 + 1.0) / (tf + norm) / (_BM25_K1 + 1.0)
                )
                if titled:
                    in_title[entry_id] = in_title.get(entry_id, 0.0) + w_t
        lexical = {e: total / max_total for e, total in totals.items() if total}
        title = {e: in_title.get(e, 0.0) / max_total for e in lexical}
        if not lexical:
            return None

        query = " ".join(w for w, c in content if c > _CONTEXT_WEIGHT) or " ".join(
            w for w, _ in content
        )
        fuzzy: dict[str, float] = {}
        for _, ratio, idx in process.extract(
            query, self._fuzzy_choices, scorer=fuzz.token_set_ratio, limit=None, score_cutoff=50
        ):
            owner = self._fuzzy_owner[idx]
            fuzzy[owner] = max(fuzzy.get(owner, 0.0), ratio / 100.0)

        nearest = self._nearest_asked(weight, max_total)
        learned = self._ranker.probabilities(_with_cues(term_weight, weighted))
        out: dict[str, tuple[float, bool]] = {}
        for entry_id, lex in lexical.items():
            doc = self._docs[entry_id]
            same_kind = kind is not None and kind == doc.title_kind
            score = (
                _LEXICAL_SHARE * lex + _FUZZY_SHARE * fuzzy.get(entry_id, 0.0)
                + _TITLE_SHARE * title[entry_id] + (doc.kind_bonus if same_kind else 0.0)
            )
            score = (1.0 - _NEAREST_SHARE) * score + _NEAREST_SHARE * nearest.get(entry_id, 0.0)
            score += self._ranker.share * learned.get(entry_id, 0.0)
            out[entry_id] = (score, focus is not None and focus in doc.title_terms)
        return _Scored(out, nearest, unknown_weight / max_total, len(content), kind, learned)

    def _term_weights(
        self, content: Sequence[tuple[str, float]]
    ) -> tuple[dict[str, float], float]:
        """Indexed terms of the content words with their clause weights, and unknown weight.

        Only unknown compounds are split: a known one already matches as a whole, and its
        parts ("mal" in "malbild") would pull towards unrelated entries.
        """
        term_weight: dict[str, float] = {}
        unknown_weight = 0.0
        for w, c in content:
            s = stem(w)
            if s not in self._idf and self._correct(s) is None:
                s = self._correct_word(w) or s
            candidates = [s] if s in self._idf else self._expand([s])
            for part in candidates:
                known = part if part in self._idf else self._correct(part)
                if known is not None:
                    term_weight[known] = max(term_weight.get(known, 0.0), c)
                else:
                    unknown_weight += self._unknown_idf * c
        return term_weight, unknown_weight

    def training_texts(self) -> list[tuple[str, str]]:
        """(text, entry id) of every title, phrasing and keyword: the ranker's own examples."""
        return list(self._training_texts)

    def question_terms(self, question: str) -> dict[str, float]:
        """The indexed terms of a question with their clause weights (the ranker's input)."""
        weighted = self._split_joined(
            [w for clause in weighted_clauses(question[:MAX_QUESTION_CHARS]) for w in clause]
        )
        terms = self._term_weights(
            [(w, c) for w, c in weighted if w not in STOPWORDS and len(w) > 1]
        )[0]
        return _with_cues(terms, weighted)

    def _nearest_asked(self, weight: Mapping[str, float], total: float) -> dict[str, float]:
        """Per entry, how closely the question matches its closest title or phrasing.

        Recall is the share of the question's weight the phrasing covers, precision the
        share of the phrasing's weight the question covers; their harmonic mean scores.
        """
        shared: dict[int, tuple[float, float]] = {}
        for t, w_t in weight.items():
            for i in self._asked_postings.get(t, ()):
                got_w, got_idf = shared.get(i, (0.0, 0.0))
                shared[i] = (got_w + w_t, got_idf + self._idf[t])
        best: dict[str, float] = {}
        for i, (got_w, got_idf) in shared.items():
            owner, _, mass = self._asked[i]
            recall = got_w / total
            precision = got_idf / mass
            f1 = 2.0 * recall * precision / (recall + precision)
            if f1 > best.get(owner, 0.0):
                best[owner] = f1
        return best

    def _decline(self, reason: str, lang: str, score: float) -> Answer:
        """A polite decline that offers to pass the question on to the coordinators."""
        return Answer(
            answered=False,
            text=self._declines[lang][reason],
            topic=None,
            score=round(score, 3),
            source=None,
            related=(),
            reason=reason,
        )

