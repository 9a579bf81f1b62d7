"""People lists: RUG (Regional utvecklingsgrupp) members and the Omtanke admins."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from knowledge.errors import KnowledgeDataError, read_data_file
from knowledge.organisations import fold

# A misspelt name ("Ana Andersson") still finds the person; a different person does not.
_NAME_SCORE = 88.0
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class Person:
    """One person on a list: RUG member or admin."""

    name: str
    email: str = ""
    aad_object_id: str = ""
    organisation: str = ""


def _person(path: Path, index: int, item: Any) -> Person:
    """Validate one {"name","email","aad_object_id","organisation"} entry."""
    label = f"#{index + 1}"
    if not isinstance(item, dict):
        raise KnowledgeDataError(path, label, "person_form")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise KnowledgeDataError(path, label, "field_not_text", field="'name'")
    label = name.strip()
    values: dict[str, str] = {}
    for key in ("email", "aad_object_id", "organisation"):
        value = item.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise KnowledgeDataError(path, label, "field_text", field=repr(key))
        values[key] = value.strip()
    if values["email"] and not _EMAIL.fullmatch(values["email"]):
        raise KnowledgeDataError(path, label, "email_form", email=repr(values["email"]))
    return Person(name.strip(), values["email"], values["aad_object_id"], values["organisation"])


def load_people(path: Path) -> tuple[Person, ...]:
    """Load a people list (RUG members or admins); a malformed file raises KnowledgeDataError."""
    raw = read_data_file(path)
    if not isinstance(raw, list):
        raise KnowledgeDataError(path, None, "people_list")
    people = tuple(_person(path, i, item) for i, item in enumerate(raw))
    seen: dict[str, str] = {}
    for person in people:
        for key in (person.email.casefold(), person.aad_object_id.casefold()):
            if key and key in seen:
                raise KnowledgeDataError(
                    path, person.name, "used_by", key=repr(key), name=seen[key]
                )
            if key:
                seen[key] = person.name
    return people


def _name_score(wanted: str, name: str) -> float:
    """Similarity of two folded names, in written or swapped order."""
    return max(fuzz.ratio(wanted, name), fuzz.token_sort_ratio(wanted, name))


@dataclass(frozen=True)
class PeopleDirectory:
    """Looks people up by name (tolerant), e-mail or Entra (AAD) object id."""

    people: tuple[Person, ...]

    @classmethod
    def of(cls, people: Iterable[Person]) -> PeopleDirectory:
        """Build a directory from any iterable of people."""
        return cls(tuple(people))

    def __iter__(self) -> Iterator[Person]:
        """Iterate over the people in file order."""
        return iter(self.people)

    def __len__(self) -> int:
        """Number of people."""
        return len(self.people)

    def __contains__(self, person: object) -> bool:
        """True when this exact person is on the list."""
        return person in self.people

    def by_aad(self, aad_object_id: str) -> Person | None:
        """Return the person with this Entra object id (case-insensitive), or None."""
        wanted = aad_object_id.strip().casefold()
        if not wanted:
            return None
        return next((p for p in self.people if p.aad_object_id.casefold() == wanted), None)

    def by_email(self, email: str) -> Person | None:
        """Return the person with this e-mail address (case-insensitive), or None."""
        wanted = email.strip().casefold()
        if not wanted:
            return None
        return next((p for p in self.people if p.email.casefold() == wanted), None)

    def by_name(self, name: str) -> Person | None:
        """Return the one person whose name matches, allowing typos and swapped order."""
        wanted = fold(name)
        if not wanted:
            return None
        exact = [p for p in self.people if fold(p.name) == wanted]
        if exact:
            return exact[0] if len(exact) == 1 else None
        scored = sorted(
            ((_name_score(wanted, fold(p.name)), p) for p in self.people),
            key=lambda pair: pair[0],
            reverse=True,
        )
        if not scored or scored[0][0] < _NAME_SCORE:
            return None
        # Two people equally close ("Anna Andersson" / "Anna Anderson") is not a match.
        if len(scored) > 1 and scored[1][0] == scored[0][0]:
            return None
        return scored[0][1]

    def find(self, text: str) -> Person | None:
        """Find a person from free text: an e-mail address in it, an object id or a name."""
        email = _EMAIL.search(text)
        if email:
            return self.by_email(email.group(0))
        return self.by_aad(text) or self.by_name(text)
