"""User-facing texts, Swedish first, loaded from the locale files in presentation/locales/."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

DEFAULT_LOCALE = "sv"
LOCALES = ("sv", "en")


class TextsError(ValueError):
    """A locale file is missing, malformed or lacks a key; the message names it."""


def locale_of(raw: str | None) -> str:
    """Map a Teams client locale such as 'en-US' or 'sv-SE' to one we have; Swedish by default."""
    if raw and raw.lower().startswith("en"):
        return "en"
    return DEFAULT_LOCALE


class Texts:
    """Looks up a text by key and locale, falling back to Swedish."""

    def __init__(self, tables: dict[str, dict[str, str]]) -> None:
        self._tables = tables

    @classmethod
    def load(cls) -> Texts:
        """Read every locale file packaged with the bot."""
        tables: dict[str, dict[str, str]] = {}
        for locale in LOCALES:
            name = f"{locale}.json"
            try:
                raw = resources.files("presentation").joinpath("locales", name).read_text("utf-8")
                data = json.loads(raw)
            except (OSError, ValueError) as err:
                raise TextsError(f"presentation/locales/{name}: {err}") from err
            if not isinstance(data, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in data.items()
            ):
                raise TextsError(f"presentation/locales/{name}: must be an object of text keys to strings")
            tables[locale] = data
        return cls(tables)

    def keys(self, locale: str = DEFAULT_LOCALE) -> set[str]:
        """All keys a locale defines."""
        return set(self._tables.get(locale, {}))

    def get(self, key: str, locale: str = DEFAULT_LOCALE, **values: Any) -> str:
        """The text for key in locale (Swedish if the locale lacks it), formatted with values."""
        table = self._tables.get(locale) or self._tables[DEFAULT_LOCALE]
        template = table.get(key) or self._tables[DEFAULT_LOCALE].get(key)
        if template is None:
            raise TextsError(f"no text for key {key!r}")
        return template.format(**values) if values else template

    def table(self, locale: str = DEFAULT_LOCALE) -> dict[str, str]:
        """Every text of a locale, Swedish filling the gaps; used when binding cards."""
        merged = dict(self._tables[DEFAULT_LOCALE])
        merged.update(self._tables.get(locale, {}))
        return merged
