"""The proposal template's fields, declared once, in the order of the common template (mallen).

Everything that walks the fields – the proposal dialog's steps, the summary card, RUG's case
card, the e-mail, the Word export, komplettering – reads this list. Adding a free-text field to
the template is one entry here plus its texts in the locale files (``proposal.field.<id>`` and
``proposal.step.<id>.question|example|help``): the proposal keeps free text by field id, the
dialog's step kinds, cards and exports are generic.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

TITLE_MAX = 150
LONG_TEXT_MAX = 2000
SHORT_TEXT_MAX = 200
LIST_MAX_ITEMS = 20


class Kind(StrEnum):
    """How a field is asked, stored and shown; the dialog has one step kind for each."""

    TEXT = "text"
    ORGANISATIONS = "organisations"
    TARGET_GROUPS = "target_groups"
    MALBILD = "malbild"
    INITIATOR_ORG = "initiator_org"
    RUG_CONTACT = "rug_contact"


@dataclass(frozen=True)
class Field:
    """One field of the template.

    ``attributes`` are the proposal's attributes that hold the answer (copied back when a
    complemented draft is resubmitted); ``complementable`` says whether RUG may ask the
    initiator to complement it.
    """

    id: str
    kind: Kind
    attributes: tuple[str, ...]
    required: bool = True
    limit: int = LONG_TEXT_MAX
    multiline: bool = True
    complementable: bool = True


def _text(id_: str, **options: object) -> Field:
    return Field(id_, Kind.TEXT, (f"texts.{id_}",), **options)  # type: ignore[arg-type]


FIELDS: tuple[Field, ...] = (
    _text("title", limit=TITLE_MAX, multiline=False),
    _text("background"),
    _text("description"),
    Field("organisations", Kind.ORGANISATIONS, ("organisations",)),
    Field("target_groups", Kind.TARGET_GROUPS, ("target_groups",)),
    Field("malbild", Kind.MALBILD, ("goal_properties", "success_factors")),
    _text("expected_effects"),
    _text("follow_up"),
    _text("resources", required=False),
    _text("time_plan", required=False),
    Field(
        "initiator_org",
        Kind.INITIATOR_ORG,
        ("initiator.organisation",),
        limit=SHORT_TEXT_MAX,
        multiline=False,
    ),
    # The RUG contact is the initiator's, not RUG's to ask for, and is optional: without one,
    # the endorsement request goes to the RUG channel.
    Field("rug_contact", Kind.RUG_CONTACT, ("rug_contact",), required=False, complementable=False),
)
FIELD_BY_ID: dict[str, Field] = {f.id: f for f in FIELDS}
# The free-text fields, in order: the proposal keeps them in ``Proposal.texts`` by these ids.
TEXT_FIELD_IDS: tuple[str, ...] = tuple(f.id for f in FIELDS if f.kind == Kind.TEXT)
REQUIRED_TEXT_FIELD_IDS: tuple[str, ...] = tuple(
    f.id for f in FIELDS if f.kind == Kind.TEXT and f.required
)
COMPLEMENTABLE_FIELD_IDS: tuple[str, ...] = tuple(f.id for f in FIELDS if f.complementable)


def get_value(proposal: object, attribute: str) -> object:
    """The value at a field attribute path ("texts.title", "initiator.organisation")."""
    head, _, tail = attribute.partition(".")
    value = getattr(proposal, head)
    if not tail:
        return value
    return value.get(tail, "") if isinstance(value, dict) else getattr(value, tail)


def set_value(proposal: object, attribute: str, value: object) -> None:
    """Store a value at a field attribute path."""
    head, _, tail = attribute.partition(".")
    if not tail:
        setattr(proposal, head, value)
        return
    holder = getattr(proposal, head)
    if isinstance(holder, dict):
        holder[tail] = value
    else:
        setattr(holder, tail, value)
