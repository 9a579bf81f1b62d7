"""Reading the knowledge data files: entries, decline policy, re-ranker and decision model.

Every reader takes its path; the packaged files are named once, in PACKAGED. A missing,
unreadable or malformed file raises KnowledgeDataError naming the file and the entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.messages import Value
from knowledge.clauses import ENTRY_KINDS
from knowledge.decision import FEATURES, DecisionModel
from knowledge.errors import KnowledgeDataError, data_number, read_data_file, read_data_object
from knowledge.malbild import DEFAULT_MALBILD_PATH, FACTOR_IDS, load_malbild
from knowledge.model import DECLINE_REASONS, Entry
from knowledge.policy import REASONS, SCOPES, DeclinePolicy, Rule
from knowledge.ranker import TermRanker
from knowledge.target_groups import DEFAULT_TARGET_GROUPS_PATH, load_target_groups

DATA_DIR = Path(__file__).parent / "data"
_ID_PATTERN = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class KnowledgePaths:
    """Where each knowledge data file is read from."""

    entries: Path
    decline_policy: Path
    ranker: Path
    decision: Path
    malbild: Path
    target_groups: Path


# The packaged data files: the only place their paths are written down.
PACKAGED = KnowledgePaths(
    entries=DATA_DIR / "entries.json",
    decline_policy=DATA_DIR / "decline_policy.json",
    ranker=DATA_DIR / "ranker.json",
    decision=DATA_DIR / "decision.json",
    malbild=DEFAULT_MALBILD_PATH,
    target_groups=DEFAULT_TARGET_GROUPS_PATH,
)


@dataclass(frozen=True)
class KnowledgeData:
    """The entries, the texts to index per entry, and the decline texts per language."""

    entries: tuple[Entry, ...]
    index_texts: dict[str, dict[str, list[str]]]
    declines: dict[str, dict[str, str]]
    sources: frozenset[str]


def _fail(path: Path, entry: str | None, code: str, **values: Value) -> KnowledgeDataError:
    """Build the typed error for a malformed entry."""
    return KnowledgeDataError(path, entry, code, **values)


def _str_field(path: Path, entry_id: str, raw: Mapping[str, Any], key: str) -> str:
    """Return a required non-empty string field."""
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, entry_id, "field_not_text", field=repr(key))
    return value.strip()


def _optional_text(path: Path, entry_id: str, raw: Mapping[str, Any], key: str) -> str | None:
    """Return an optional non-empty string field (missing means None)."""
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, entry_id, "field_text", field=repr(key))
    return value.strip()


def _str_list(path: Path, entry_id: str, raw: Mapping[str, Any], key: str) -> list[str]:
    """Return an optional list of strings (missing means empty)."""
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, entry_id, "field_not_texts", field=repr(key))
    return [v.strip() for v in value if v.strip()]


# ----- entries -----------------------------------------------------------------------


def read_entries(
    path: Path,
    target_groups: Sequence[tuple[str, str]] | None = None,
    paths: KnowledgePaths = PACKAGED,
) -> KnowledgeData:
    """Read and validate an entries file, adding the target-group entry.

    The file is an object with "entries" (and "sources", "declines", "target_group_entry")
    or, handy in tests, a bare list of entries that borrows the rest from paths.entries.
    Without target_groups, the list in paths.target_groups (if it exists) is used.
    """
    raw = read_data_file(path)
    if isinstance(raw, list):
        raw_entries: Any = raw
        meta: dict[str, Any] = {}
    elif isinstance(raw, dict):
        raw_entries = raw.get("entries")
        meta = raw
    else:
        raise _fail(path, None, "entries_form")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise _fail(path, None, "entries_empty")

    # Sources, decline texts and the target-group template are data; a bare list borrows
    # them from the packaged file.
    if any(key not in meta for key in ("sources", "declines", "target_group_entry")):
        packaged = read_data_file(paths.entries)
        meta = {**packaged, **meta}
    sources = _parse_sources(path, meta.get("sources"))
    declines = _parse_declines(path, meta.get("declines"))

    entries: list[Entry] = []
    index_texts: dict[str, dict[str, list[str]]] = {}
    for i, item in enumerate(raw_entries):
        entry, texts = _parse_entry(path, i, item, sources)
        if entry.id in index_texts:
            raise _fail(path, entry.id, "duplicate_id")
        entries.append(entry)
        index_texts[entry.id] = texts

    groups = _target_groups(paths.target_groups, target_groups)
    tg_entry, tg_texts = _target_group_entry(path, meta.get("target_group_entry"), *groups)
    if tg_entry.id not in index_texts:
        entries.append(tg_entry)
        index_texts[tg_entry.id] = tg_texts

    ids = set(index_texts)
    for entry in entries:
        missing = [r for r in entry.related if r not in ids]
        if missing:
            raise _fail(path, entry.id, "related_unknown", ids=str(missing))

    # The success-factor entries answer with a summary; indexing every statement lets
    # questions phrased in the målbild's own words still find them.
    malbild = load_malbild(paths.malbild)
    for factor_id in FACTOR_IDS:
        if factor_id in index_texts:
            factor = malbild.factor(factor_id)
            # The slides' perspective headings ("Jag som medarbetare gör vård och omsorg
            # trygg …") tie a perspective question to the factor it names.
            name = factor.name.lower()
            index_texts[factor_id].setdefault("extra", []).extend(
                [factor.headline, *factor.individual, *factor.employee, *factor.organisation,
                 *(heading.format(name=name) for heading in malbild.perspective_headings)]
            )
    return KnowledgeData(tuple(entries), index_texts, declines, sources)


def _parse_sources(path: Path, raw: Any) -> frozenset[str]:
    """The source documents an entry may name: a list of unique, non-empty texts."""
    if (not isinstance(raw, list) or not raw
            or not all(isinstance(s, str) and s.strip() for s in raw)
            or len(set(raw)) != len(raw)):
        raise _fail(path, "sources", "sources_form")
    return frozenset(s.strip() for s in raw)


def _parse_declines(path: Path, raw: Any) -> dict[str, dict[str, str]]:
    """Validate the decline texts: one text per reason, Swedish and English."""
    if not isinstance(raw, dict):
        raise _fail(path, "declines", "missing_or_not_object")
    out: dict[str, dict[str, str]] = {}
    for lang in ("sv", "en"):
        texts = raw.get(lang)
        if not isinstance(texts, dict):
            raise _fail(path, "declines", "language_missing", language=repr(lang))
        out[lang] = {r: _str_field(path, f"declines.{lang}", texts, r)
                     for r in DECLINE_REASONS}
    return out


def _parse_entry(
    path: Path, index: int, item: Any, sources: frozenset[str]
) -> tuple[Entry, dict[str, list[str]]]:
    """Validate one raw entry and return it with the texts to index."""
    if not isinstance(item, dict):
        raise _fail(path, f"#{index}", "entry_not_object")
    label = str(item.get("id") or f"#{index}")
    entry_id = _str_field(path, label, item, "id")
    if not _ID_PATTERN.match(entry_id):
        raise _fail(path, entry_id, "id_form")
    source = _str_field(path, entry_id, item, "source")
    if source not in sources:
        raise _fail(path, entry_id, "unknown_source", source=repr(source))
    related = _str_list(path, entry_id, item, "related")
    entry = Entry(
        id=entry_id,
        title=_str_field(path, entry_id, item, "title"),
        answer=_str_field(path, entry_id, item, "answer"),
        source=source,
        related=tuple(related),
        answer_en=_optional_text(path, entry_id, item, "answer_en"),
        title_en=_optional_text(path, entry_id, item, "title_en"),
    )
    texts = {
        "title": [entry.title],
        "keywords": _str_list(path, entry_id, item, "keywords"),
        # The English title is one more way to ask for the entry.
        "phrasings": [*_str_list(path, entry_id, item, "phrasings"),
                      *([entry.title_en] if entry.title_en else [])],
        "answer": [entry.answer],
    }
    # An entry whose title asks "vad är tidplanen …" answers a "när …" question: the
    # optional "kind" says so (who, when, how, why, where), else the title's first word.
    kind = item.get("kind")
    if kind is not None:
        if kind not in ENTRY_KINDS:
            raise _fail(
                path, entry_id, "field_one_of", field="'kind'", allowed=str(sorted(ENTRY_KINDS))
            )
        texts["kind"] = [kind]
    return entry, texts


def _target_groups(
    packaged: Path, given: Sequence[tuple[str, str]] | None
) -> tuple[list[tuple[str, str, tuple[str, ...]]], bool]:
    """(id, name, aliases) of the target groups, and whether the list is unconfirmed."""
    if given is not None:
        return [(gid, name, ()) for gid, name in given], True
    if not packaged.exists():
        return [], True
    groups = load_target_groups(packaged)
    return [(g.id, g.name, g.aliases) for g in groups.groups], groups.provisional


def _target_group_entry(
    path: Path, template: Any, groups: list[tuple[str, str, tuple[str, ...]]],
    unconfirmed: bool,
) -> tuple[Entry, dict[str, list[str]]]:
    """Build the entry that lists the configured target groups."""
    if not isinstance(template, dict):
        raise _fail(path, "target_group_entry", "missing_or_not_object")
    tid = "target_group_entry"
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
        title_en=_optional_text(path, tid, template, "title_en"),
    )
    aliases = [a for _, _, als in groups for a in als]
    texts = {
        "title": [entry.title],
        "keywords": _str_list(path, tid, template, "keywords"),
        "phrasings": [*_str_list(path, tid, template, "phrasings"),
                      *([entry.title_en] if entry.title_en else [])],
        "answer": [entry.answer],
        "extra": [*names, *aliases],
    }
    return entry, texts


# ----- decline policy ----------------------------------------------------------------


def read_decline_policy(path: Path) -> DeclinePolicy:
    """Read the decline rules; a malformed rule raises KnowledgeDataError naming it."""
    raw = read_data_object(path, "rules_form")
    raw_rules = raw.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise _fail(path, "rules", "missing_or_empty")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, item in enumerate(raw_rules):
        if not isinstance(item, dict):
            raise _fail(path, f"rules[{i}]", "rule_not_object")
        rule_id = _str_field(path, f"rules[{i}]", item, "id")
        if rule_id in seen:
            raise _fail(path, rule_id, "duplicate_id")
        seen.add(rule_id)
        reason = item.get("reason")
        if reason not in REASONS:
            raise _fail(
                path, rule_id, "field_one_of", field="'reason'", allowed=str(list(REASONS))
            )
        scope = item.get("scope")
        if scope not in SCOPES:
            raise _fail(
                path, rule_id, "field_one_of", field="'scope'", allowed=str(list(SCOPES))
            )
        patterns = _str_list(path, rule_id, item, "patterns")
        if not patterns:
            raise _fail(path, rule_id, "field_missing_or_empty", field="'patterns'")
        compiled: list[re.Pattern[str]] = []
        for n, pattern in enumerate(patterns):
            try:
                compiled.append(re.compile(pattern))
            except re.error as exc:
                raise _fail(path, rule_id, "bad_pattern", number=n, error=str(exc)) from exc
        rules.append(Rule(rule_id, str(reason), str(scope), _str_field(path, rule_id, item, "why"),
                          tuple(compiled)))
    return DeclinePolicy(rules)


# ----- decision model and re-ranker --------------------------------------------------


def read_decision(path: Path) -> DecisionModel:
    """Read the decision model; a malformed file raises KnowledgeDataError naming it."""
    raw = read_data_object(path, "decision_form")
    weights = raw.get("weights")
    if not isinstance(weights, dict) or set(weights) != set(FEATURES):
        raise KnowledgeDataError(path, "weights", "exact_keys", keys=str(list(FEATURES)))
    numbers = {name: data_number(path, f"weights.{name}", weights[name]) for name in FEATURES}
    bias = data_number(path, "bias", raw.get("bias"))
    threshold = raw.get("threshold")
    if not isinstance(threshold, (int, float)) or not 0.0 < float(threshold) < 1.0:
        raise KnowledgeDataError(path, "threshold", "not_share")
    suggest = raw.get("suggest", threshold)
    if (not isinstance(suggest, (int, float)) or isinstance(suggest, bool)
            or not 0.0 < float(suggest) <= float(threshold)):
        raise KnowledgeDataError(path, "suggest", "suggest_range")
    return DecisionModel(numbers, bias, float(threshold), float(suggest))


def read_ranker(path: Path) -> TermRanker:
    """Read the re-ranker; a malformed file raises KnowledgeDataError naming the field."""
    raw = read_data_object(path, "ranker_form")
    classes = raw.get("classes")
    if (not isinstance(classes, list) or not classes
            or not all(isinstance(c, str) and c for c in classes)
            or len(set(classes)) != len(classes)):
        raise KnowledgeDataError(path, "classes", "classes_form")
    bias = raw.get("bias")
    if not isinstance(bias, list) or len(bias) != len(classes):
        raise KnowledgeDataError(path, "bias", "bias_form")
    share = data_number(path, "share", raw.get("share"))
    if not 0.0 <= share <= 1.0:
        raise KnowledgeDataError(path, "share", "not_share")
    raw_weights = raw.get("weights")
    if not isinstance(raw_weights, dict):
        raise KnowledgeDataError(path, "weights", "weights_form")
    # About 100,000 weights: the common case is checked in one pass per term, and only a
    # term that fails it is walked again to name the bad field.
    index_of = {str(i): i for i in range(len(classes))}
    weights: dict[str, dict[int, float]] = {}
    for term, row in raw_weights.items():
        if not isinstance(row, dict):
            raise KnowledgeDataError(path, f"weights.{term}", "not_object")
        parsed = {index_of[key]: float(value) for key, value in row.items()
                  if key in index_of and type(value) in (int, float)}
        if len(parsed) != len(row):
            for key, value in row.items():
                if key not in index_of:
                    raise KnowledgeDataError(
                        path, f"weights.{term}", "unknown_index", index=repr(key)
                    )
                data_number(path, f"weights.{term}.{key}", value)
        weights[term] = parsed
    return TermRanker(
        tuple(classes),
        tuple(data_number(path, f"bias[{i}]", b) for i, b in enumerate(bias)),
        weights,
        share,
    )
