"""Structured model of Målbild Omtanke Halland, loaded from knowledge/data/malbild.json."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.errors import KnowledgeDataError, read_data_object

DEFAULT_MALBILD_PATH = Path(__file__).parent / "data" / "malbild.json"
GOAL_PROPERTY_IDS = ("personcentrerad", "sammanhallen", "nara")
FACTOR_IDS = ("halsoframjande", "enkel", "gemensam", "trygg")


@dataclass(frozen=True)
class GoalProperty:
    """One property of the goal: personcentrerad, sammanhållen or nära."""

    id: str
    name: str


@dataclass(frozen=True)
class SuccessFactor:
    """One success factor with its headline and the three perspectives' statements."""

    id: str
    name: str
    headline: str
    individual: tuple[str, ...]
    employee: tuple[str, ...]
    organisation: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True)
class Malbild:
    """The target image: the promise, the goal properties and the four success factors.

    ``perspective_headings`` are the slides' headings of a factor's perspectives ("Jag som
    medarbetare gör vård och omsorg {name}"); ``variants`` and ``filler`` are how the
    skallkrav check recognises a parameter in what people write (folded words).
    """

    promise: str
    goal_properties: tuple[GoalProperty, ...]
    factors: tuple[SuccessFactor, ...]
    perspective_headings: tuple[str, ...] = ()
    variants: tuple[tuple[str, tuple[str, ...]], ...] = ()
    filler: frozenset[str] = frozenset()

    def variants_of(self, id: str) -> tuple[str, ...]:
        """Other ways people write the goal property or success factor with this id."""
        return next((words for key, words in self.variants if key == id), ())

    def factor(self, id: str) -> SuccessFactor:
        """Return the success factor with this id; KeyError if unknown."""
        for factor in self.factors:
            if factor.id == id:
                return factor
        raise KeyError(id)

    def goal_property(self, id: str) -> GoalProperty:
        """Return the goal property with this id; KeyError if unknown."""
        for prop in self.goal_properties:
            if prop.id == id:
                return prop
        raise KeyError(id)


def _text(path: Path, entry: str, obj: dict[str, Any], key: str) -> str:
    """Return a required non-empty string field or raise naming file and entry."""
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeDataError(path, entry, "field_not_text", field=repr(key))
    return value.strip()


def _texts(path: Path, entry: str, obj: dict[str, Any], key: str) -> tuple[str, ...]:
    """Return a required non-empty list of strings or raise naming file and entry."""
    value = obj.get(key)
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise KnowledgeDataError(path, entry, "field_not_texts", field=repr(key))
    return tuple(v.strip() for v in value)


def load_malbild(path: Path | None = None) -> Malbild:
    """Load and validate the målbild; a malformed file raises KnowledgeDataError."""
    path = path or DEFAULT_MALBILD_PATH
    raw = read_data_object(path)
    promise = _text(path, "promise", raw, "promise")

    raw_props = raw.get("goal_properties")
    if not isinstance(raw_props, list):
        raise KnowledgeDataError(path, "goal_properties", "not_list")
    props: list[GoalProperty] = []
    for i, item in enumerate(raw_props):
        label = item.get("id", f"goal_properties[{i}]") if isinstance(item, dict) else f"#{i}"
        if not isinstance(item, dict):
            raise KnowledgeDataError(path, str(label), "not_object")
        props.append(GoalProperty(_text(path, str(label), item, "id"),
                                  _text(path, str(label), item, "name")))

    raw_factors = raw.get("factors")
    if not isinstance(raw_factors, list):
        raise KnowledgeDataError(path, "factors", "not_list")
    factors: list[SuccessFactor] = []
    for i, item in enumerate(raw_factors):
        if not isinstance(item, dict):
            raise KnowledgeDataError(path, f"factors[{i}]", "not_object")
        label = str(item.get("id") or f"factors[{i}]")
        note = item.get("note")
        if note is not None and not isinstance(note, str):
            raise KnowledgeDataError(path, label, "field_text", field="'note'")
        factors.append(
            SuccessFactor(
                id=_text(path, label, item, "id"),
                name=_text(path, label, item, "name"),
                headline=_text(path, label, item, "headline"),
                individual=_texts(path, label, item, "individual"),
                employee=_texts(path, label, item, "employee"),
                organisation=_texts(path, label, item, "organisation"),
                note=note,
            )
        )

    # The rest of the product refers to these ids, so a renamed or missing one is an error.
    for expected, found, what in (
        (GOAL_PROPERTY_IDS, tuple(p.id for p in props), "goal_properties"),
        (FACTOR_IDS, tuple(f.id for f in factors), "factors"),
    ):
        if sorted(expected) != sorted(found):
            raise KnowledgeDataError(
                path, what, "ids", expected=", ".join(expected), found=", ".join(found)
            )
    headings = _texts(path, "perspective_headings", raw, "perspective_headings")
    recognition = raw.get("recognition")
    if not isinstance(recognition, dict):
        raise KnowledgeDataError(path, "recognition", "not_object")
    raw_variants = recognition.get("variants")
    if not isinstance(raw_variants, dict):
        raise KnowledgeDataError(path, "recognition", "field_not_texts", field="'variants'")
    known = {*GOAL_PROPERTY_IDS, *FACTOR_IDS}
    variants = []
    for key in raw_variants:
        if key not in known:
            raise KnowledgeDataError(path, f"recognition.variants.{key}", "unknown_id")
        variants.append((key, _texts(path, f"recognition.variants.{key}", raw_variants, key)))
    filler = frozenset(_texts(path, "recognition", recognition, "filler"))
    return Malbild(
        promise=promise,
        goal_properties=tuple(props),
        factors=tuple(factors),
        perspective_headings=headings,
        variants=tuple(variants),
        filler=filler,
    )
