"""Adapter from a KeyValueStore to the SDK's Storage; the only storage module using botbuilder."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from botbuilder.core import ConversationState, Storage, TurnContext
from botbuilder.core.bot_state import CachedBotState
from jsonpickle import errors, handlers, tags, util
from jsonpickle.pickler import Pickler
from jsonpickle.unpickler import Unpickler

from storage.base import KeyValueStore, Versioned
from storage.errors import CorruptStoreError, ETagConflictError

# Modules whose classes may be rebuilt from stored state; anything else could run code on load.
DEFAULT_ALLOWED_MODULES: tuple[str, ...] = (
    "botbuilder.",
    "botframework.",
    "datetime.",
    "decimal.",
    "uuid.",
    "collections.",
    "bot.",
    "dialogs.",
    "storage.",
    "knowledge.",
)
_CLASS_TAGS = (tags.OBJECT, tags.TYPE, tags.FUNCTION, tags.MODULE)
_LOCK_STRIPES = 256
# Rounds of read-check-write for one key before giving up under constant contention.
_WRITE_ATTEMPTS = 20
# Versions kept between a turn's read and its write (bounded: most are used at once).
_SEEN_KEYS = 4096
ENVELOPE_ETAG = "e_tag"
ENVELOPE_ITEM = "item"


def _item_etag(item: object) -> Any:
    """Read an item's eTag the way MemoryStorage does (dict key or attribute)."""
    if isinstance(item, dict):
        return item.get("e_tag", None)
    return getattr(item, "e_tag", None)


class KeyValueBotStorage(Storage):
    """botbuilder Storage over a KeyValueStore, with exactly MemoryStorage's eTag rules."""

    def __init__(
        self,
        store: KeyValueStore,
        *,
        allowed_modules: Iterable[str] = DEFAULT_ALLOWED_MODULES,
    ) -> None:
        """Wrap `store`; `allowed_modules` are prefixes of classes that may be restored."""
        super().__init__()
        self.store = store
        self._allowed = tuple(allowed_modules)
        # Check-then-write per key must not interleave; stripes bound memory for many keys.
        self._locks = [asyncio.Lock() for _ in range(_LOCK_STRIPES)]
        # Key → the version last read from the store, for the write that follows the read.
        self._seen: OrderedDict[str, Versioned | None] = OrderedDict()

    def _lock_for(self, key: str) -> asyncio.Lock:
        """The lock stripe guarding `key`."""
        digest = hashlib.blake2b(key.encode("utf-8"), digest_size=4).digest()
        return self._locks[int.from_bytes(digest, "big") % _LOCK_STRIPES]

    def _check_classes(self, flat: Any, key: str, action: str) -> None:
        """Refuse classes outside the allow-list and py/repr (it evaluates code)."""
        stack = [flat]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if tags.REPR in node:
                    raise self._refusal(key, action, "a py/repr value")
                for tag in _CLASS_TAGS:
                    name = node.get(tag)
                    if isinstance(name, str) and not name.replace("/", ".").startswith(
                        self._allowed
                    ):
                        raise self._refusal(key, action, f"class {name}")
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)

    @staticmethod
    def _refusal(key: str, action: str, what: str) -> Exception:
        """Error for a value outside the allow-list: TypeError on write, corruption on read."""
        if action == "write":
            return TypeError(f"cannot store {key!r}: {what} is not allowed in bot state")
        return CorruptStoreError(f"stored item {key!r} contains {what}, which is not allowed")

    def _flatten(self, key: str, item: object) -> dict[str, Any]:
        """Turn an item into JSON the way the SDK's persistent stores do (jsonpickle)."""
        # SDK finding: state holds live DialogState/Activity objects; Blob/Cosmos stores jsonpickle.
        flat = flatten_state(item)
        self._check_classes(flat, key, "write")
        return {ENVELOPE_ETAG: _item_etag(item), ENVELOPE_ITEM: flat}

    def _restore(self, key: str, envelope: dict[str, Any]) -> object:
        """Rebuild the stored object; a missing class is reported, not turned into a dict."""
        flat = envelope.get(ENVELOPE_ITEM)
        self._check_classes(flat, key, "read")
        try:
            return restore_state(flat)
        # ClassNotFoundError derives from BaseException, not Exception.
        except (Exception, errors.ClassNotFoundError) as error:
            raise CorruptStoreError(f"stored item {key!r} cannot be restored: {error}") from error

    async def read(self, keys: list[str]) -> dict[str, object]:
        """Return the stored items found for `keys` (an empty or None list gives {})."""
        if not keys:
            return {}
        keys = list(keys)
        if len(keys) != 1:
            envelopes = await self.store.read(keys)
            return {key: self._restore(key, envelope) for key, envelope in envelopes.items()}
        # One key (a turn's conversation state): read with its store eTag, so the write at
        # the end of the turn can go straight to a conditional write (one request, not two).
        key = keys[0]
        found = await self.store.read_versioned(key)
        if found is None:
            self._remember(key, None)
            return {}
        self._remember(key, found)
        return {key: self._restore(key, found.document)}

    def _remember(self, key: str, found: Versioned | None) -> None:
        self._seen[key] = found
        self._seen.move_to_end(key)
        while len(self._seen) > _SEEN_KEYS:
            self._seen.popitem(last=False)

    async def write(self, changes: Mapping[str, object]) -> None:
        """Write items in order; a stale eTag raises ETagConflictError (a KeyError)."""
        if changes is None:
            raise ValueError("Changes are required when writing")
        if not changes:
            return
        for key, change in changes.items():
            new_etag = _item_etag(change)
            if new_etag == "":
                raise ValueError("KeyValueBotStorage.write(): etag missing")
            async with self._lock_for(key):
                await self._write_one(key, change, new_etag)

    async def _write_one(self, key: str, change: object, new_etag: Any) -> None:
        """Check the item's eTag and store it in one conditional write of the store.

        The store's own eTag makes check-and-write atomic across processes (several instances
        on one Azure account): if anyone wrote the key in between, it is read and checked again.
        """
        # What this process read last (if anything): if nobody wrote since, no second read.
        seen = key in self._seen
        for _ in range(_WRITE_ATTEMPTS):
            stored = self._seen.pop(key, None) if seen else await self.store.read_versioned(key)
            seen = False
            old_etag = stored.document.get(ENVELOPE_ETAG) if stored is not None else None
            if (
                old_etag is not None
                and new_etag is not None
                and new_etag != "*"
                and new_etag != old_etag
            ):
                raise ETagConflictError(
                    f"Etag conflict.\nOriginal: {new_etag}\r\nCurrent: {old_etag}"
                )
            item = change
            # MemoryStorage rule: an item stored without an eTag never gets one.
            if old_etag:
                # Random, not MemoryStorage's counter: a counter restarts with the process
                # and a stale eTag from before a restart could match again.
                item = _with_etag(change, uuid.uuid4().hex)
            try:
                await self.store.write_if(
                    key, self._flatten(key, item), stored.etag if stored is not None else None
                )
            except ETagConflictError:
                continue
            # The next write must read again: its new store eTag is not kept here.
            return
        raise ETagConflictError(f"{key!r} is written by others all the time; giving up")

    async def delete(self, keys: Iterable[str]) -> None:
        """Remove the keys; unknown keys are fine (BotState passes a set)."""
        keys = list(keys)
        for key in keys:
            self._seen.pop(key, None)
        await self.store.delete(keys)

    async def close(self) -> None:
        """Close the underlying store."""
        await self.store.close()


def _with_etag(item: object, etag: str) -> object:
    """Copy of `item` carrying a new eTag; the caller's object is left as it was."""
    if isinstance(item, dict):
        return {**item, "e_tag": etag}
    stamped = copy.copy(item)
    stamped.e_tag = etag  # type: ignore[attr-defined]
    return stamped


# ----- jsonpickle's flatten, fast for plain state ---------------------------------------------


class _NotPlain(Exception):
    """A value flatten_state leaves to jsonpickle (a repeated object, a tuple, a handler…)."""


_PRIMITIVES = (str, int, float, bool, type(None))
_PLAIN_CLASSES: dict[type, str | None] = {}  # class → its jsonpickle name, None: not plain


def flatten_state(item: object) -> Any:
    """Exactly ``jsonpickle.Pickler().flatten(item)``, without its generic machinery.

    Conversation state is dicts, lists, strings, numbers and a few plain objects (the SDK's
    DialogState and DialogInstance): those are flattened directly, in jsonpickle's order and
    format. Anything else in the item – an object met twice (jsonpickle writes a reference),
    a tuple, a set, a class with its own pickling, a non-string or reserved key – hands the
    whole item to jsonpickle. The SDK flattens every state up to three times a turn to see
    whether it changed (FastConversationState uses this for that too).
    """
    try:
        return _flatten_plain(item, set())
    except _NotPlain:
        return Pickler().flatten(item)


def _flatten_plain(value: Any, seen: set[int]) -> Any:
    kind = type(value)
    if kind in _PRIMITIVES:
        return value
    if id(value) in seen:
        raise _NotPlain
    seen.add(id(value))
    if kind is dict:
        return _flatten_pairs(value, {}, seen)
    if kind is list:
        return [_flatten_plain(v, seen) for v in value]
    name = _plain_class_name(kind, value)
    return _flatten_pairs(value.__dict__, {tags.OBJECT: name}, seen)


def _flatten_pairs(pairs: dict[Any, Any], data: dict[str, Any], seen: set[int]) -> dict[str, Any]:
    for key, value in pairs.items():
        if type(key) is not str or key in tags.RESERVED or util.is_function(value):
            raise _NotPlain
        data[key] = _flatten_plain(value, seen)
    return data


def _plain_class_name(kind: type, value: Any) -> str:
    """The class's jsonpickle name if jsonpickle flattens it as py/object + its __dict__."""
    if kind not in _PLAIN_CLASSES:
        _PLAIN_CLASSES[kind] = _name_if_plain(kind, value)
    name = _PLAIN_CLASSES[kind]
    if name is None:
        raise _NotPlain
    return name


def _name_if_plain(kind: type, value: Any) -> str | None:
    name = util.importable_name(kind)
    plain = (
        util.is_object(value)
        and handlers.get(kind, handlers.get(name)) is None
        and util.has_reduce(value) == (False, False)
        and getattr(kind, "__getstate__", None) is getattr(object, "__getstate__", None)
        and not any(
            util.has_method(value, m)
            for m in ("__getnewargs__", "__getnewargs_ex__", "__getinitargs__")
        )
        and hasattr(value, "__dict__")
        and not hasattr(value, "_jsonpickle_exclude")
        and not util.is_module(value)
        and not util.is_dictionary_subclass(value)
        and not util.is_sequence_subclass(value)
        and not util.is_iterator(value)
    )
    return name if plain else None


def restore_state(flat: Any) -> Any:
    """jsonpickle's restore (safe, a missing class is an error) of what flatten_state writes.

    Dicts, lists, primitives and py/object dicts of the plain classes flatten_state writes
    directly (the class made with __new__, its attributes set in stored order, as jsonpickle
    does); anything else – a reference, a tuple, a class with its own pickling, an unknown
    class – hands the whole item to jsonpickle.
    """
    try:
        return _restore_plain(flat)
    except _NotPlain:
        return Unpickler(safe=True, on_missing="error").restore(flat)


def _restore_plain(value: Any) -> Any:
    kind = type(value)
    if kind in _PRIMITIVES:
        return value
    if kind is list:
        return [_restore_plain(v) for v in value]
    if kind is not dict:
        raise _NotPlain
    name = value.get(tags.OBJECT)
    if name is None:
        restored: dict[str, Any] = {}
        for key, item in value.items():
            if key in tags.RESERVED:
                raise _NotPlain
            restored[key] = _restore_plain(item)
        return restored
    cls: Any = _plain_class_named(name)
    instance = cls.__new__(cls)
    for key, item in value.items():
        if key == tags.OBJECT:
            continue
        if key in tags.RESERVED or key.startswith("__"):
            raise _NotPlain
        setattr(instance, key, _restore_plain(item))
    return instance


def _plain_class_named(name: Any) -> type:
    """The class flatten_state flattened under `name` in this process, or _NotPlain."""
    for kind, plain_name in _PLAIN_CLASSES.items():
        if plain_name == name:
            return kind
    raise _NotPlain


class _FastCachedState(CachedBotState):
    """The SDK's cached turn state, hashed with flatten_state instead of jsonpickle."""

    def compute_hash(self, obj: object) -> str:
        return str(flatten_state(obj))


class FastConversationState(ConversationState):
    """ConversationState whose change check flattens the state with flatten_state.

    ``load`` is the SDK's, with the faster cached state; ``save_changes`` (the SDK's) calls
    the cached state's own compute_hash, so it uses the faster one too.
    """

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        """Read the state and cache it for the turn, as BotState.load does."""
        cached_state = self.get_cached_state(turn_context)
        storage_key = self.get_storage_key(turn_context)
        if force or not cached_state or not cached_state.state:
            items = await self._storage.read([storage_key])
            turn_context.turn_state[self._context_service_key] = _FastCachedState(
                items.get(storage_key)
            )
