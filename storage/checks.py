"""Content checks for stored records: each names the store, the record and the field.

Start-up (storage.records.Records.open), the migration of an old data folder and restore run
these over every record, so a record of the wrong shape stops them with a message like
``tables/escalations.json: record '…': field 'handled' is text, expected true/false`` instead
of breaking a later turn for everyone. Values are named by their type, never quoted: a
message goes to a log, and the value may be personal text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage.errors import CorruptStoreError

# Expected JSON types by name, as the messages say them.
TEXT = "text"
BOOLEAN = "true/false"
INTEGER = "an integer"
OBJECT = "an object"
LIST = "a list"
_CHECKS = {
    TEXT: lambda v: isinstance(v, str),
    BOOLEAN: lambda v: isinstance(v, bool),
    INTEGER: lambda v: isinstance(v, int) and not isinstance(v, bool),
    OBJECT: lambda v: isinstance(v, dict),
    LIST: lambda v: isinstance(v, list),
}

ESCALATION_FIELDS = {
    "id": TEXT,
    "at": TEXT,
    "user": TEXT,
    "question": TEXT,
    "locale": TEXT,
    "handled": BOOLEAN,
}
# Added with the coordinators' answering loop (rug.escalations): optional, so records stored
# before it still load; a record without "status" is "open" unless "handled" says otherwise.
ESCALATION_OPTIONAL_FIELDS = {
    "name": TEXT,
    "email": TEXT,
    "aad": TEXT,
    "user_id": TEXT,
    "conversation_id": TEXT,
    "status": TEXT,
    "answer": TEXT,
    "answered_by": TEXT,
    "answered_by_aad": TEXT,
    "answered_at": TEXT,
}
ESCALATION_STATES = ("open", "answered", "handled")
# Escalations stored before they had an id (the old layout) lack only that.
LEGACY_ESCALATION_FIELDS = {k: v for k, v in ESCALATION_FIELDS.items() if k != "id"}
FEEDBACK_FIELDS = {"at": TEXT, "user": TEXT, "topic": TEXT, "helpful": BOOLEAN}
AUDIT_FIELDS = {"at": TEXT, "who": TEXT, "action": TEXT, "subject": TEXT, "details": OBJECT}
DRAFT_FIELDS = {"proposal": OBJECT, "token": TEXT, "revision": INTEGER}
STASH_FIELDS = {"proposal": OBJECT}
REFERENCE_FIELDS = {"reference": OBJECT}
COUNTER_FIELDS = {"value": INTEGER}
LEASE_FIELDS = {"owner": TEXT, "until": TEXT}
CLAIM_FIELDS = {"id": TEXT}
# The RUG channel card a proposal was last posted as (rug.workflow keeps it as rugcard/<id>).
RUG_CARD_FIELDS = {"activity_id": TEXT}
PSEUDONYM_KEY_FIELDS = {"key": TEXT}
# A META record's schema by the first part of its id ("counter/proposal-2026" → counter).
META_FIELDS = {
    "counter": COUNTER_FIELDS,
    "lease": LEASE_FIELDS,
    "submit": CLAIM_FIELDS,
    "admin": PSEUDONYM_KEY_FIELDS,
    "rugcard": RUG_CARD_FIELDS,
}
# One message in the outbox (storage.records.outbox_item builds it with every field).
OUTBOX_FIELDS = {
    "id": TEXT,
    "kind": TEXT,
    "target": TEXT,
    "payload": OBJECT,
    "purpose": OBJECT,
    "created_at": TEXT,
    "attempts": INTEGER,
    "next_at": TEXT,
    "claimed_until": TEXT,
    "claimed_by": TEXT,
    "last_error": TEXT,
    "delivered_at": TEXT,
    "result": TEXT,
}


def type_name(value: Any) -> str:
    """How a message names a JSON value's type."""
    for name, matches in _CHECKS.items():
        if matches(value):
            return name
    if value is None:
        return "null"
    return "a number" if isinstance(value, int | float) else type(value).__name__


def require(value: Any, where: str, fields: Mapping[str, str]) -> dict[str, Any]:
    """`value` is an object with each field of the named type; CorruptStoreError otherwise."""
    if not isinstance(value, dict):
        raise CorruptStoreError(f"{where}: is {type_name(value)}, expected an object")
    for name, expected in fields.items():
        if name not in value:
            raise CorruptStoreError(f"{where}: field {name!r} is missing")
        if not _CHECKS[expected](value[name]):
            raise CorruptStoreError(
                f"{where}: field {name!r} is {type_name(value[name])}, expected {expected}"
            )
    return value


def optional(value: Mapping[str, Any], where: str, fields: Mapping[str, str]) -> None:
    """Fields that may be missing but, when present, have the named type."""
    present = {name: kind for name, kind in fields.items() if name in value}
    require(value, where, present)


def record_where(store_where: str, record_id: str) -> str:
    """`<file or table>: record '<id>'`, the prefix of every record message."""
    return f"{store_where}: record {record_id!r}"


def entry_where(store_where: str, number: int) -> str:
    """`<file or log>: entry <n>` (1-based, the line number in a JSON Lines file)."""
    return f"{store_where}: entry {number}"


def key_where(store_where: str, key: str) -> str:
    """`<folder or store>: key '<key>'`."""
    return f"{store_where}: key {key!r}"
