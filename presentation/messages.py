"""A domain.messages.Message worded in the reader's language from the locale files."""

from __future__ import annotations

from collections.abc import Sequence

from domain.messages import Message, Names, Parts, Value
from presentation.texts import DEFAULT_LOCALE, Texts


def say(texts: Texts, message: Message, locale: str = DEFAULT_LOCALE) -> str:
    """The message as a sentence: its key's text with every value worded too."""
    values = {name: _word(texts, value, locale) for name, value in message.values.items()}
    return texts.get(message.key, locale, **values)


def names_text(
    texts: Texts, names: Sequence[str], locale: str = DEFAULT_LOCALE, quoted: bool = False
) -> str:
    """A list in a sentence: "A", "A och B", "A, B och C" (the conjunction from the locale)."""
    items = [texts.get("list.quoted", locale, text=n.strip()) if quoted else n for n in names]
    if len(items) <= 1:
        return "".join(items)
    conjunction = texts.get("list.and", locale)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _word(texts: Texts, value: Value, locale: str) -> str:
    if isinstance(value, Message):
        return say(texts, value, locale)
    if isinstance(value, Names):
        return names_text(texts, value.items, locale, value.quoted)
    if isinstance(value, Parts):
        if not value.items:
            return ""
        words = [say(texts, p, locale) if isinstance(p, Message) else p for p in value.items]
        return value.lead + value.separator.join(words)
    return str(value)
