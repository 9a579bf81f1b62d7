"""Activities to and from JSON without msrest's generic model machinery on the hot path.

msrest's ``Serializer.body`` spends about 1.4 ms on one reply with an Adaptive Card: it walks
the model once to "deserialize" it into models, validates it, then walks it again, looking
up every value's type through several layers of generic dispatch. Our replies are plain:
strings, a few booleans, models, lists of models and JSON cards. ``FastSerializer.body``
serialises exactly those cases directly, to the same dict msrest would produce, and hands
everything else (a dict where a model is declared, an unusual value type, a model with
validation rules, flattened keys or XML) back to msrest unchanged. tests/test_wire.py checks
that both give the same JSON for every kind of activity the bot sends.

``model_from_json`` is the same for incoming JSON (``Model.deserialize``): about 0.25 ms of
an incoming activity and its channel data in msrest, a few microseconds here. Clean JSON
(every value of its declared type) is read directly; anything else goes to msrest, which
either copes the same way or raises the same error.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar

from botbuilder.schema import Activity
from msrest import Serializer
from msrest.serialization import Deserializer, Model, full_restapi_key_transformer

M = TypeVar("M", bound=Model)


class _Fallback(Exception):
    """A value the fast path does not cover: msrest handles the whole model instead."""


# One model class's attributes as (attribute, JSON key, declared type); None: msrest only.
_Plan = tuple[tuple[str, str, str], ...]
_PLANS: dict[type, _Plan | None] = {}
_PLAIN = (str, int, float, bool)


def _is_exactly(kind: type, declared: str) -> bool:
    """The value's type is the declared basic one itself (msrest would convert any other)."""
    return kind in _PLAIN and kind.__name__ == declared


def _plan_of(cls: type) -> _Plan:
    try:
        plan = _PLANS[cls]
    except KeyError:
        plan = _PLANS[cls] = _make_plan(cls)
    if plan is None:
        raise _Fallback
    return plan


def _make_plan(cls: type) -> _Plan | None:
    if getattr(cls, "_validation", None) or cls.is_xml_model():  # type: ignore[attr-defined]
        return None
    rows = []
    for attr, desc in cls._attribute_map.items():  # type: ignore[attr-defined]
        key, declared = desc.get("key"), desc.get("type")
        if not isinstance(declared, str) or not key or "." in key or "\\" in key:
            return None
        rows.append((attr, key, declared))
    return tuple(rows)


class FastSerializer(Serializer):
    """msrest's Serializer with a direct path for plain activity bodies."""

    def body(self, data: Any, data_type: str, **kwargs: Any) -> Any:
        """The same JSON as msrest's body(); msrest itself for anything unusual."""
        if not kwargs and isinstance(data, Model) and data_type in self.dependencies:
            try:
                return self._model(data)
            except _Fallback:
                pass
        return super().body(data, data_type, **kwargs)

    def _model(self, obj: Model) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for attr, key, declared in _plan_of(type(obj)):
            try:
                value = getattr(obj, attr)
            except AttributeError:
                raise _Fallback from None
            if value is not None:
                out[key] = self._value(value, declared)
        return out

    def _value(self, value: Any, declared: str) -> Any:
        kind = type(value)
        if declared == "str":
            if kind is str:
                return value
            if isinstance(value, Enum):
                return value.value
            raise _Fallback
        if declared in ("bool", "int", "float"):
            if _is_exactly(kind, declared):
                return value
            raise _Fallback
        if declared == "object":
            return self._object(value)
        if declared == "iso-8601":
            return Serializer.serialize_iso(value)
        if declared.startswith("[") and declared.endswith("]"):
            if kind is not list:
                raise _Fallback
            inner = declared[1:-1]
            return [None if item is None else self._value(item, inner) for item in value]
        target = self.dependencies.get(declared)
        if isinstance(target, type) and issubclass(target, Model) and isinstance(value, Model):
            return self._model(value)
        raise _Fallback

    def _object(self, value: Any) -> Any:
        kind = type(value)
        if value is None or kind in _PLAIN:
            return value
        if kind is dict:
            out = {}
            for key, item in value.items():
                if type(key) is not str:
                    raise _Fallback
                out[key] = self._object(item)
            return out
        if kind is list:
            return [self._object(item) for item in value]
        if isinstance(value, Model):
            return self._model(value)
        raise _Fallback


_SERIALIZERS: dict[type, FastSerializer] = {}


def model_to_json(model: Model) -> Any:
    """``model.serialize()``: the model as JSON, by FastSerializer (msrest for anything odd)."""
    serializer = _SERIALIZERS.get(type(model))
    if serializer is None:
        serializer = _SERIALIZERS[type(model)] = FastSerializer(type(model)._infer_class_models())
    try:
        return serializer._model(model)
    except _Fallback:
        return model.serialize()


def use_fast_serializer(client: Any) -> None:
    """Give a connector client (and its operation groups) the fast serializer."""
    original = client._serialize
    if original.key_transformer is not full_restapi_key_transformer:
        return  # the fast path writes msrest's default keys only
    fast = FastSerializer(original.dependencies)
    fast.client_side_validation = original.client_side_validation
    client._serialize = fast
    for name in ("conversations", "attachments"):
        operations = getattr(client, name, None)
        if operations is not None and getattr(operations, "_serialize", None) is original:
            operations._serialize = fast


# ----- incoming ---------------------------------------------------------------------------

_DEPENDENCIES: dict[type, dict[str, Any]] = {}
_KNOWN_KEYS: dict[type, frozenset[str]] = {}


def model_from_json(cls: type[M], data: Any) -> M:
    """``cls.deserialize(data)``, read directly when the JSON is plain (msrest otherwise)."""
    try:
        return _read_model(cls, data)
    except (_Fallback, TypeError):  # TypeError: a model whose __init__ differs from its map
        return cls.deserialize(data)


def _read_model(cls: type[M], data: Any) -> M:
    if type(data) is not dict:
        raise _Fallback
    dependencies = _DEPENDENCIES.get(cls)
    if dependencies is None:
        dependencies = _DEPENDENCIES[cls] = cls._infer_class_models()
    plan = _plan_of(cls)
    kwargs = {}
    for attr, key, declared in plan:
        raw = data.get(key)
        kwargs[attr] = None if raw is None else _read_value(raw, declared, dependencies)
    model = cls(**kwargs)
    known = _KNOWN_KEYS.get(cls)
    if known is None:
        known = _KNOWN_KEYS[cls] = frozenset(key for _, key, _ in plan)
    if not known.issuperset(data):
        # As msrest does: keys the model does not declare are kept beside it.
        model.additional_properties = {k: data[k] for k in data.keys() - known}
    return model


def _read_value(raw: Any, declared: str, dependencies: dict[str, Any]) -> Any:
    kind = type(raw)
    if declared == "str":
        if kind is str:
            return raw
        raise _Fallback
    if declared in ("bool", "int", "float"):
        if _is_exactly(kind, declared):
            return raw
        raise _Fallback
    if declared == "object":
        return _json_copy(raw)
    if declared == "iso-8601":
        if kind is not str:
            raise _Fallback
        try:
            return Deserializer.deserialize_iso(raw)
        except Exception:  # msrest raises its own error for it
            raise _Fallback from None
    if declared.startswith("[") and declared.endswith("]"):
        if kind is not list:
            raise _Fallback
        inner = declared[1:-1]
        return [None if item is None else _read_value(item, inner, dependencies) for item in raw]
    target = dependencies.get(declared)
    if isinstance(target, type) and issubclass(target, Model):
        return _read_model(target, raw)
    raise _Fallback


def _json_copy(raw: Any) -> Any:
    """msrest's copy of a JSON value declared as "object"."""
    kind = type(raw)
    if raw is None or kind in _PLAIN:
        return raw
    if kind is dict:
        return {key: _json_copy(value) for key, value in raw.items()}
    if kind is list:
        return [_json_copy(value) for value in raw]
    raise _Fallback


# ----- sent --------------------------------------------------------------------------------


class OutgoingActivity(Activity):
    """An activity the SDK can copy cheaply before it sends it.

    TurnContext.send_activities deep-copies every activity it sends (a card reply is a few
    hundred objects: ~1 ms), then only assigns addressing fields (conversation, from,
    recipient, ids, locale, input hint) on the copy. A copy of the activity's own fields
    keeps the caller's activity unchanged at a fraction of the cost; the card inside is
    shared, and nothing in the send path changes it.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> OutgoingActivity:
        return outgoing(self)


def outgoing(activity: Activity) -> OutgoingActivity:
    """The same activity (its fields copied, their values shared) as an OutgoingActivity."""
    sent = OutgoingActivity.__new__(OutgoingActivity)
    sent.__dict__.update(activity.__dict__)
    return sent


def activity_to_send(data: Any) -> OutgoingActivity:
    """An activity built as JSON (presentation.activities, the outbox), ready to send."""
    return outgoing(model_from_json(Activity, data))
