"""Adaptive Card templates: JSON files bound to data by walking the JSON.

Template language (a small subset of Adaptive Cards Templating):
- ``"${path}"`` as a whole string is replaced by the value at path (which may be a list or object);
- ``"text ${path} text"`` interpolates the value as text;
- an object with ``"$when": "${path}"`` is dropped when the value is falsy;
- an object with ``"$data": "${path}"`` inside a list is repeated once per item of that list,
  and inside it ``${.field}`` refers to the current item (``${.}`` to the item itself).
Paths are dotted; ``t.some.key`` looks up a locale text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

from presentation.texts import DEFAULT_LOCALE, Texts

CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_MISSING = object()


class CardError(ValueError):
    """A card template is missing or refers to data that is not there."""


class CardTemplates:
    """All card templates shipped in presentation/templates/, bound on demand."""

    def __init__(self, templates: dict[str, dict[str, Any]], texts: Texts) -> None:
        self._templates = templates
        self._texts = texts

    @classmethod
    def load(cls, texts: Texts) -> CardTemplates:
        """Read every template packaged with the bot."""
        templates: dict[str, dict[str, Any]] = {}
        folder = resources.files("presentation").joinpath("templates")
        for item in folder.iterdir():
            if not item.name.endswith(".json"):
                continue
            try:
                templates[item.name[:-5]] = json.loads(item.read_text("utf-8"))
            except ValueError as err:
                raise CardError(f"presentation/templates/{item.name}: {err}") from err
        return cls(templates, texts)

    @property
    def names(self) -> list[str]:
        """Names of all templates."""
        return sorted(self._templates)

    def render(
        self, name: str, data: Mapping[str, Any], locale: str = DEFAULT_LOCALE
    ) -> dict[str, Any]:
        """Bind template name with data (and the locale's texts under ``t``)."""
        template = self._templates.get(name)
        if template is None:
            raise CardError(f"no card template {name!r}")
        scope = {"t": _TextScope(self._texts.table(locale)), **data}
        # bind() builds new lists and objects and never changes the template: no copy needed.
        bound = bind(template, scope)
        bound.setdefault("$schema", CARD_SCHEMA)
        bound.setdefault("version", CARD_VERSION)
        return bound


class _TextScope(dict[str, str]):
    """Locale texts addressed by dotted keys such as ``t.welcome.title``."""


def bind(node: Any, scope: Mapping[str, Any], item: Any = _MISSING) -> Any:
    """Return node with every placeholder replaced from scope (and the current item).

    The result is built anew (lists, objects, strings); node itself is never changed."""
    if isinstance(node, str):
        return _bind_string(node, scope, item)
    if isinstance(node, list):
        out: list[Any] = []
        for child in node:
            if isinstance(child, dict) and "$data" in child:
                items = _lookup(_strip(child["$data"]), scope, item)
                template = {k: v for k, v in child.items() if k != "$data"}
                for each in items or []:
                    bound = bind(template, scope, each)
                    if bound is not None:
                        out.append(bound)
                continue
            bound = bind(child, scope, item)
            if bound is not None:
                out.append(bound)
        return out
    if isinstance(node, dict):
        if "$when" in node and not _lookup(_strip(node["$when"]), scope, item):
            return None
        result = {}
        for key, value in node.items():
            if key == "$when":
                continue
            bound = bind(value, scope, item)
            if bound is not None:
                result[key] = bound
        return result
    return node


def _strip(expr: Any) -> str:
    if not isinstance(expr, str) or not expr.startswith("${") or not expr.endswith("}"):
        raise CardError(f"expected a ${{path}} expression, got {expr!r}")
    return expr[2:-1]


def _bind_string(text: str, scope: Mapping[str, Any], item: Any) -> Any:
    if "${" not in text:
        return text
    whole = _PLACEHOLDER.fullmatch(text)
    if whole:
        return _lookup(whole.group(1), scope, item)
    return _PLACEHOLDER.sub(lambda m: _as_text(_lookup(m.group(1), scope, item)), text)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _lookup(path: str, scope: Mapping[str, Any], item: Any) -> Any:
    path = path.strip()
    if path.startswith("."):
        if item is _MISSING:
            raise CardError(f"${{{path}}} used outside a $data repetition")
        value: Any = item
        parts = [p for p in path[1:].split(".") if p]
    else:
        if path.startswith("t."):
            texts = scope["t"]
            key = path[2:]
            if key not in texts:
                raise CardError(f"no text for key {key!r}")
            return texts[key]
        value = scope
        parts = path.split(".")
    for part in parts:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            raise CardError(f"card data has no {path!r}")
    return value
