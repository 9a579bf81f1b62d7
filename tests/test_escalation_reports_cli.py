"""The coordinators' commands on a data folder: escalations --open and --knowledge-draft, gaps."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from storage import layout
from storage.records import Records, escalation_index
from storage.tiny_backend import TinyBackend

FUNDING = "Hur söker man pengar för ett initiativ?"
FUNDING_2 = "Vem betalar för ett initiativ?"
OFF_TOPIC = "Vad blir vädret i helgen?"


def _run(args: list[str], data: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("OMTANKE_DATA_DIR", str(data))
    return main(args)


async def _store(data: Path, *, feedback: tuple[tuple[str, bool], ...] = ()) -> dict[str, str]:
    """An open question, an answered one, one handled before the loop existed (no status),
    and the given votes. Returns the ids by question."""
    records = Records(await TinyBackend.open(data))
    ids: dict[str, str] = {}
    try:
        log = records.escalations
        asker: dict[str, Any] = {"name": "Anna Andersson", "aad": "aad-anna", "status": "open"}
        open_one = await log.record("aad-anna", FUNDING_2, "sv", **asker)
        answered = await log.record("aad-bo", FUNDING, "sv", **{**asker, "name": "Bo Berg"})
        found = await log.get(str(answered["id"]))
        assert found is not None
        await log.update(
            {
                **answered,
                "status": "answered",
                "handled": True,
                "answer": "Skicka in förslaget till RUG; pengar söks efter bifall.",
                "answered_by": "Cora Samordnare",
                "answered_by_aad": "aad-cora",
                "answered_at": "2026-11-23T09:00:00+00:00",
            },
            found.etag,
        )
        # The old shape: no name, no status, handled by hand in the file.
        legacy = {"id": "2026-11-01T08:00:00.000+00:00-00000001", "at": "2026-11-01T08:00:00+00:00"}
        legacy |= {"user": "aad-old", "question": OFF_TOPIC, "locale": "sv", "handled": True}
        await records.backend.table(layout.ESCALATIONS).put(
            legacy["id"], legacy, index=escalation_index(legacy)
        )
        for topic, helpful in feedback:
            await records.feedback.record("aad-anna", topic, helpful)
        ids = {FUNDING_2: str(open_one["id"]), FUNDING: str(answered["id"])}
        ids[OFF_TOPIC] = legacy["id"]
    finally:
        await records.close()
    return ids


async def test_open_shows_only_the_unanswered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    ids = await _store(data)

    assert await asyncio.to_thread(_run, ["escalations"], data, monkeypatch) == 0
    _header, *lines = capsys.readouterr().out.splitlines()
    statuses = [line.split()[2] for line in lines if not line.startswith(" ")]
    assert statuses == ["klar", "öppen", "besvarad"]
    assert lines[-1].strip().startswith("svar från Cora Samordnare (2026-11-23 09:00)")

    assert await asyncio.to_thread(_run, ["escalations", "--open"], data, monkeypatch) == 0
    _header, *lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert "öppen" in lines[0] and "Anna Andersson" in lines[0] and lines[0].endswith(FUNDING_2)

    args = ["escalations", "--open", "--json"]
    assert await asyncio.to_thread(_run, args, data, monkeypatch) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["status"], r["name"]) for r in rows] == [
        (ids[FUNDING_2], "open", "Anna Andersson")
    ]


async def test_knowledge_draft_holds_answered_questions_for_review(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    ids = await _store(data)
    out = tmp_path / "utkast.json"

    args = ["escalations", "--knowledge-draft", str(out)]
    assert await asyncio.to_thread(_run, args, data, monkeypatch) == 0

    assert capsys.readouterr().out.startswith(f"1 utkast skrivna till {out}.")
    document = json.loads(out.read_text("utf-8"))
    assert document["draft"] is True and "Inget här är granskat" in document["note"]
    [entry] = document["entries"]
    assert entry["draft"] is True
    assert (entry["title"], entry["phrasings"]) == (FUNDING, [FUNDING])
    assert entry["answer"] == "Skicka in förslaget till RUG; pengar söks efter bifall."
    assert entry["source"] == (
        "Svar från Cora Samordnare, samordnare för Omtanke Halland, 2026-11-23"
    )
    # The knowledge base's own ranking names the entry the phrasing most likely belongs to.
    assert entry["nearest_entry"] == "finansiering"
    assert entry["escalation"] == ids[FUNDING]


async def test_gaps_count_thumbs_down_and_escalations_by_nearest_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    votes = [("nara_vard", False), ("nara_vard", False), ("nara_vard", True), ("rug", False)]
    await _store(data, feedback=(*votes, ("not_an_entry", False)))

    assert await asyncio.to_thread(_run, ["gaps", "--json"], data, monkeypatch) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [
        (r["entry"], r["thumbs_down"], r["thumbs_up"], r["escalated"], r["total"]) for r in rows
    ] == [
        ("nara_vard", 2, 1, 0, 2),
        ("finansiering", 0, 0, 2, 2),
        ("rug", 1, 0, 0, 1),
        (None, 0, 0, 1, 1),
    ]
    assert sorted(rows[1]["questions"]) == sorted([FUNDING, FUNDING_2])
    assert rows[3]["questions"] == [OFF_TOPIC]

    assert await asyncio.to_thread(_run, ["gaps"], data, monkeypatch) == 0
    header, *lines = capsys.readouterr().out.splitlines()
    assert header.split() == ["Närmaste", "post", "👎", "Vidare", "Totalt"]
    tables = [line for line in lines if not line.startswith(" ")]
    assert [line.split()[0] for line in tables] == ["nara_vard", "finansiering", "rug", "(ingen"]
    assert tables[0].split()[-3:] == ["2", "0", "2"]
    assert f"    – {OFF_TOPIC}" in lines


def test_no_gaps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["gaps"], tmp_path / "data", monkeypatch) == 0
    assert capsys.readouterr().out == "Inga 👎 och inga frågor som skickats vidare.\n"


@pytest.mark.parametrize(
    ("extra", "said"),
    [({"status": "maybe"}, "'status' is not a known state"), ({"name": 7}, "'name' is")],
)
async def test_a_new_field_of_the_wrong_shape_is_named_at_start_up(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: dict[str, Any],
    said: str,
) -> None:
    """The new fields are optional, but when present they are checked like the old ones."""
    data = tmp_path / "data"
    records = Records(await TinyBackend.open(data))
    try:
        record = {"id": "e1", "at": "2026-11-01T08:00:00+00:00", "user": "u", "question": "?"}
        record |= {"locale": "sv", "handled": False, **extra}
        table = records.backend.table(layout.ESCALATIONS)
        await table.put("e1", record, index=escalation_index(record))
    finally:
        await records.close()

    assert await asyncio.to_thread(_run, ["escalations"], data, monkeypatch) == 1

    err = capsys.readouterr().err
    assert "record 'e1'" in err and said in err
