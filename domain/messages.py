"""What to tell a person, as a locale key and its values, never as prose.

The layers below the presentation (the skallkrav, how an organisation was understood, a data
file's error) say what they found as a ``Message``; presentation.messages words it in the
reader's language from the locale files. A value is a plain text or number, ``Names`` (a list
joined the locale's way: "A, B och C"), a nested ``Message``, or ``Parts`` (several of them
in a row).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Union

Value = Union[str, int, float, "Names", "Message", "Parts"]


@dataclass(frozen=True)
class Names:
    """Names or words to list in a sentence; ``quoted`` marks a person's own words."""

    items: tuple[str, ...]
    quoted: bool = False

    @classmethod
    def of(cls, items: Iterable[str], quoted: bool = False) -> Names:
        """Names from any iterable."""
        return cls(tuple(items), quoted)


@dataclass(frozen=True)
class Message:
    """A text to show: the locale key and the values that fill it in."""

    key: str
    values: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class Parts:
    """Texts shown in a row: each after ``separator``, all after ``lead`` (nothing if empty).

    Further sentences after a message are ``Parts(..., lead=" ")``; reasons inside brackets
    are ``Parts(..., separator="; ")``.
    """

    items: tuple[Message | str, ...]
    separator: str = " "
    lead: str = ""
