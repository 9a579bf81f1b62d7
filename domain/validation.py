"""Checks on one field's value; a problem is a code with values, never prose.

The presentation layer turns a problem into a sentence with ``problem.<code>`` from the locale
files, and the field's label with ``proposal.field.<field>``.
"""

from __future__ import annotations

from collections.abc import Mapping
import dataclasses
from dataclasses import dataclass
from typing import Any

from domain.fields import (
    FIELD_BY_ID,
    LIST_MAX_ITEMS,
    LONG_TEXT_MAX,
    REQUIRED_TEXT_FIELD_IDS,
    SHORT_TEXT_MAX,
)
from domain.personnummer import contains_identity_number


@dataclass(frozen=True)
class Problem:
    """Why a value is refused: ``code`` names the text, ``values`` fill it in."""

    code: str
    field: str = ""
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)


# Fields that are not template fields but are checked the same way.
_OTHER_LIMITS = {"success_factors": LONG_TEXT_MAX}


def limit_of(name: str) -> int:
    """The longest text a field takes."""
    spec = FIELD_BY_ID.get(name)
    if spec is not None:
        return spec.limit
    return _OTHER_LIMITS.get(name, SHORT_TEXT_MAX)


def validate_field(name: str, value: Any) -> Problem | None:
    """Check one field's value; None when it is fine."""
    texts: list[str]
    if isinstance(value, str):
        texts = [value]
    elif isinstance(value, list):
        texts = [v for v in value if isinstance(v, str)]
        if len(texts) != len(value):
            return Problem("not_texts", name)
        if len(texts) > LIST_MAX_ITEMS:
            return Problem("too_many", name, {"limit": LIST_MAX_ITEMS})
    elif isinstance(value, Mapping):
        texts = [str(k) for k in value] + [v for v in value.values() if isinstance(v, str)]
    elif value is None:
        texts = []
    else:
        return Problem("not_text", name)
    if any(contains_identity_number(t) for t in texts):
        return Problem("identity_number", name)
    if name in REQUIRED_TEXT_FIELD_IDS and not "".join(texts).strip():
        return Problem("required", name)
    limit = limit_of(name)
    for text in texts:
        if len(text.strip()) > limit:
            if isinstance(value, str):
                return Problem("too_long", name, {"limit": limit, "length": len(text.strip())})
            return Problem("line_too_long", name, {"limit": limit, "start": text.strip()[:40]})
    return None
