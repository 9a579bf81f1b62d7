"""The färdplan's target groups: configuration data the coordinators edit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from knowledge.errors import KnowledgeDataError, read_data_file
from knowledge.language import LANGUAGE
from knowledge.organisations import fold

DEFAULT_TARGET_GROUPS_PATH = Path(__file__).parent / "data" / "target_groups.json"

# Status words (folded) that mark a list as not yet confirmed by the coordinators.
_PROVISIONAL_STATUS = tuple(sorted(LANGUAGE.words["provisional_status"]))
# Whole-text similarity needed for a misspelt name or alias ("barn och ungna") to match.
_MATCH_SCORE = 85.0
# Shorter aliases ("80+") must match the whole text, not just a part of it.
_MIN_CONTAINED = 6


@dataclass(frozen=True)
class TargetGroup:
    """One target group of the färdplan."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetGroupList:
    """The configured target groups; provisional when the list is still to be confirmed."""

    groups: tuple[TargetGroup, ...]
    provisional: bool = False
    note: str = ""
    source: str = ""

    def __iter__(self) -> Iterator[TargetGroup]:
        """Iterate over the groups in file order."""
        return iter(self.groups)

    def __len__(self) -> int:
        """Number of groups."""
        return len(self.groups)

    def names(self) -> list[str]:
        """The groups' display names, in file order."""
        return [g.name for g in self.groups]

    def by_id(self, group_id: str) -> TargetGroup | None:
        """Return the group with exactly this id, or None."""
        return next((g for g in self.groups if g.id == group_id), None)

    def match(self, text: str) -> TargetGroup | None:
        """Find the group meant by id, name or alias; tolerant of case, å/ä/ö and typos."""
        wanted = fold(text)
        if not wanted:
            return None
        best: tuple[float, TargetGroup] | None = None
        for group in self.groups:
            for candidate in (group.id, group.name, *group.aliases):
                folded = fold(candidate)
                if folded == wanted:
                    return group
                score = max(
                    fuzz.ratio(wanted, folded),
                    fuzz.token_sort_ratio(wanted, folded),
                    _contained_score(folded, wanted),
                )
                if score >= _MATCH_SCORE and (best is None or score > best[0]):
                    best = (score, group)
        return best[1] if best else None


def _contained_score(alias: str, wanted: str) -> float:
    """Score an alias found word for word inside longer text ("personer med psykisk ohälsa")."""
    if len(alias) < _MIN_CONTAINED or f" {alias} " not in f" {wanted} ":
        return 0.0
    return _MATCH_SCORE + 10.0 * len(alias) / len(wanted)


def _is_provisional(status: Any) -> bool:
    """True when a status text says the list is still to be confirmed ("att bekräfta")."""
    return isinstance(status, str) and any(word in fold(status) for word in _PROVISIONAL_STATUS)


def _parse_group(path: Path, index: int, item: Any) -> TargetGroup:
    """Validate one {"id","name","aliases"?} entry."""
    label = f"#{index + 1}"
    if not isinstance(item, dict):
        raise KnowledgeDataError(path, label, "group_form")
    if isinstance(item.get("id"), str) and item["id"].strip():
        label = item["id"].strip()
    for key in ("id", "name"):
        value = item.get(key)
        if not isinstance(value, str) or not value.strip():
            raise KnowledgeDataError(path, label, "field_not_text", field=repr(key))
    aliases = item.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise KnowledgeDataError(path, label, "field_not_texts", field="'aliases'")
    return TargetGroup(item["id"].strip(), item["name"].strip(), tuple(a.strip() for a in aliases))


def load_target_groups(path: Path | None = None) -> TargetGroupList:
    """Load the target-group list (plain list or {"status","note","groups"}); never empty."""
    path = path or DEFAULT_TARGET_GROUPS_PATH
    raw = read_data_file(path)
    provisional, note = False, ""
    if isinstance(raw, dict):
        note_value = raw.get("note", "")
        if not isinstance(note_value, str):
            raise KnowledgeDataError(path, "note", "not_text")
        provisional, note = _is_provisional(raw.get("status")), note_value.strip()
        raw = raw.get("groups")
        if not isinstance(raw, list):
            raise KnowledgeDataError(path, "groups", "groups_list")
    elif not isinstance(raw, list):
        raise KnowledgeDataError(path, None, "groups_form")
    groups = tuple(_parse_group(path, i, item) for i, item in enumerate(raw))
    if not groups:
        raise KnowledgeDataError(path, None, "groups_empty")
    seen: set[str] = set()
    for group in groups:
        if group.id in seen:
            raise KnowledgeDataError(path, group.id, "same_id")
        seen.add(group.id)
    return TargetGroupList(groups, provisional=provisional, note=note, source=str(path))
