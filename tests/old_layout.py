"""A data folder as the previous release left it (tables as TinyDB files in its root), for
the migration, snapshot and admin tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from storage.kv import ShardedTinyStore

SHARDS = 4
ANNA = "aad-anna"
BO = "aad-bo"
# The previous release kept erase-user's secret in a file beside the data.
OLD_KEY = "5f" * 32


def old_proposal(
    pid: str, owner: str, status: str, title: str, token: str, day: int = 1
) -> dict[str, Any]:
    """A proposal as the old proposals.json stored it: the export format plus draft_token."""
    return {
        "id": pid,
        "status": status,
        "title": title,
        "background": "Bakgrund",
        "description": "Beskrivning",
        "organisations": ["Region Halland", "Varbergs kommun"],
        "target_groups": ["De mest sjuka äldre"],
        "goal_properties": ["personcentrerad"],
        "success_factors": {"Trygg": "Samma kontaktperson"},
        "expected_effects": "Färre återinläggningar",
        "follow_up": "Varje kvartal",
        "resources": "",
        "time_plan": "",
        "initiator": {
            "name": "Anna Andersson" if owner == ANNA else "Bo Berg",
            "email": "",
            "organisation": "Varbergs kommun",
            "aad_object_id": owner,
        },
        "rug_endorsement": None,
        "rug_contact": "",
        "decision": None,
        "history": [{"at": "2025-03-01T10:00:00+00:00", "who": owner, "action": "submitted"}],
        "created_at": f"2025-03-{day:02d}T10:00:00+00:00",
        "updated_at": f"2025-03-{day:02d}T11:00:00+00:00",
        "draft_token": token,
    }


def write_tinydb(path: Path, table: str, records: list[dict[str, Any]]) -> None:
    """Write a TinyDB file as the old RecordTable did: {table: {doc_id: record}}."""
    content = {table: {str(n): record for n, record in enumerate(records, start=1)}}
    path.write_text(json.dumps(content, ensure_ascii=False), "utf-8")


async def write_old_folder(data: Path) -> None:
    """A data folder as the previous release left it."""
    data.mkdir(parents=True)  # noqa: ASYNC240 - test set-up
    proposals = [
        old_proposal("OH-2025-0007", ANNA, "hos_rug", "Trygg hemgång", "token-a", 5),
        old_proposal("OH-2025-0003", BO, "komplettering_begard", "Hälsosamtal", "token-b", 3),
        old_proposal(
            "OH-2026-0002", ANNA, "vantar_pa_forankring", "Mobil hemsjukvård", "token-c", 9
        ),
    ]
    write_tinydb(data / "proposals.json", "proposals", proposals)
    write_tinydb(
        data / "drafts.json",
        "drafts",
        [{"person": ANNA, "token": "token-d", "created_at": "2026-01-01T10:00:00+00:00"}],
    )
    write_tinydb(
        data / "feedback.json",
        "feedback",
        [
            {"at": "2025-03-01T10:00:00+00:00", "user": ANNA, "topic": "rug", "helpful": True},
            {"at": "2025-03-02T10:00:00+00:00", "user": BO, "topic": "nara", "helpful": False},
        ],
    )
    write_tinydb(
        data / "escalations.json",
        "escalations",
        [
            {
                "at": "2025-03-01T10:00:00+00:00",
                "user": ANNA,
                "question": "Hur söker man pengar?",
                "locale": "sv",
                "handled": False,
            },
            {
                "at": "2025-02-01T09:00:00+00:00",
                "user": BO,
                "question": "Vem sitter i RUG?",
                "locale": "sv",
                "handled": True,
            },
        ],
    )
    item = {
        "id": "a" * 32,
        "kind": "person",
        "target": ANNA,
        "payload": {"activity": {"type": "message", "text": "Hej"}},
        "purpose": {"kind": "notice", "proposal": "OH-2025-0007"},
        "created_at": "2025-03-01T10:00:00.000+00:00",
        "attempts": 1,
        "next_at": "2025-03-01T10:05:00.000+00:00",
        "last_error": "NotYetDeliverable: no reference",
        "delivered_at": "",
        "result": "",
    }
    sent = {**item, "id": "b" * 32, "kind": "channel", "target": "rug", "attempts": 1}
    sent.update(delivered_at="2025-03-01T10:00:01+00:00", result="activity-1", last_error="")
    write_tinydb(data / "outbox.json", "outbox", [item, sent])
    store = ShardedTinyStore(data / "state", shards=SHARDS)
    draft = old_proposal("", ANNA, "utkast", "Ett utkast", "")
    del draft["draft_token"]
    await store.write(
        {
            f"draft/{ANNA}": {"proposal": draft, "token": "token-d", "revision": 3},
            f"complement-stash/{BO}": {"proposal": {**draft, "title": "Bos egna idé"}},
            "complement/OH-2025-0003": {
                "fields": ["background"],
                "motivation": "Mer om bakgrunden",
                "by": "Rolf Rugman",
                "at": "2025-03-03T10:00:00+00:00",
            },
            "rugcard/OH-2025-0007": {"activity_id": "card-7", "at": "2025-03-01T10:00:01+00:00"},
            f"person/{ANNA}": {"conversation_id": "a:personal-anna", "reference": {"x": 1}},
        }
    )
    await store.close()
    audit: dict[str, Any] = {"at": "2025-03-01T10:00:00.000+00:00", "who": ANNA}
    audit |= {"action": "submitted", "subject": "OH-2025-0007", "details": {}}
    (data / "audit.jsonl").write_text(json.dumps(audit) + "\n", "utf-8")
    (data / ".pseudonym-key").write_text(OLD_KEY, "ascii")
