"""flatten_state and restore_state are jsonpickle's flatten and restore (storage/bot_storage.py):
the same JSON and the same objects for every conversation state a real journey stores, and
jsonpickle itself for what they do not cover."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pytest
from botbuilder.dialogs import DialogInstance, DialogState
from jsonpickle.pickler import Pickler
from jsonpickle.unpickler import Unpickler

from storage import bot_storage
from storage.bot_storage import FastConversationState, flatten_state, restore_state
from tests.rug_scenario import ANNA, dialog_answers, meet_everyone
from tests.service import Service


def same_json(value: Any) -> None:
    """flatten_state(value) and jsonpickle's flatten, compared as JSON text (1 is not True)."""
    expected = json.dumps(Pickler().flatten(value), ensure_ascii=False)
    assert json.dumps(flatten_state(value), ensure_ascii=False) == expected


class Colour(Enum):
    RED = "red"


class WithState:
    def __init__(self) -> None:
        self.a = 1

    def __getstate__(self) -> dict[str, Any]:
        return {"a": 2}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.a = state["a"]


def dialog_state(state: dict[str, Any]) -> DialogState:
    inner = DialogState([DialogInstance("omtanke.proposal", state)])
    return DialogState([DialogInstance("omtanke.root", {"dialogs": inner})])


def test_plain_state_and_everything_handed_to_jsonpickle_flatten_alike() -> None:
    shared = DialogInstance("x", {})
    cases: list[Any] = [
        {"omtanke.dialog_state": dialog_state({"step": "title", "n": 1, "f": 2.5, "ok": True})},
        {"recent": ["msg-1", "msg-2"], "empty": {}, "none": None, "list": [[], [{}]]},
        DialogInstance(None, None),
        {"twice": [shared, shared]},  # a reference (py/id) the second time
        {"tuple": (1, 2), "set": {3}},
        {"when": datetime(2026, 12, 3, 13, 0, tzinfo=UTC), "colour": Colour.RED},
        {1: "non-string key", "py/object": "reserved key"},
        {"function": len},
        {"own": WithState()},
        "text",
        3,
    ]
    for case in cases:
        same_json(case)
        same_restored(Pickler().flatten(case))


def same_restored(flat: Any) -> None:
    """restore_state(flat) and jsonpickle's restore: the same classes, the same attributes."""
    ours, theirs = restore_state(flat), Unpickler(safe=True).restore(flat)
    assert type(ours) is type(theirs)
    assert json.dumps(Pickler().flatten(ours)) == json.dumps(Pickler().flatten(theirs))
    if isinstance(theirs, dict) and isinstance(theirs.get("omtanke.dialog_state"), DialogState):
        ours_stack = ours["omtanke.dialog_state"].dialog_stack
        theirs_stack = theirs["omtanke.dialog_state"].dialog_stack
        assert [type(i) for i in ours_stack] == [type(i) for i in theirs_stack]


def test_restore_builds_dialog_state_objects_and_hands_the_rest_to_jsonpickle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flat = Pickler().flatten({"omtanke.dialog_state": dialog_state({"step": "title"})})
    flatten_state(dialog_state({}))  # the classes flatten_state knows as plain
    with monkeypatch.context() as patch:  # plain state never reaches jsonpickle
        patch.setattr(bot_storage, "Unpickler", None)
        restored = restore_state(flat)
    root = restored["omtanke.dialog_state"].dialog_stack[0]
    assert isinstance(root, DialogInstance) and root.id == "omtanke.root"
    assert root.state["dialogs"].dialog_stack[0].state == {"step": "title"}
    # Unknown to flatten_state, a reference, or a class of its own: jsonpickle's restore.
    shared = DialogInstance("x", {})
    for odd in ({"twice": [shared, shared]}, {"own": WithState()}, {"t": (1, 2)}):
        same_restored(Pickler().flatten(odd))
    twice = restore_state(Pickler().flatten({"twice": [shared, shared]}))["twice"]
    assert twice[0] is twice[1]
    assert restore_state(Pickler().flatten({"own": WithState()}))["own"].a == 2


async def test_every_state_a_journey_stores_flattens_as_jsonpickle_does(service: Service) -> None:
    assert isinstance(service.services.conversation_state, FastConversationState)
    await meet_everyone(service)
    seen = 0
    for text in [*dialog_answers(service), "Vad är nära vård?", "hjälp"]:
        assert await service.say(ANNA, text) == 201
        store = service.services.bot_storage.store
        keys = await store.keys("msteams/conversations/")
        for envelope in (await store.read(keys)).values():
            state = Unpickler(safe=True).restore(envelope["item"])
            same_json(state)
            same_restored(envelope["item"])
            # What was stored is what jsonpickle would have stored.
            assert json.dumps(envelope["item"]) == json.dumps(Pickler().flatten(state))
            seen += 1
    assert seen >= len(dialog_answers(service))
