"""'omtanke escalations' lists what users passed on to the coordinators, oldest first."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli import main
from storage import layout
from storage.records import Records, escalation_index
from storage.tiny_backend import TinyBackend


async def _escalate(data: Path, *questions: tuple[str, str, str]) -> None:
    """Store questions asked at the given times (ids in the opposite order, so the listing
    must sort by time)."""
    records = Records(await TinyBackend.open(data))
    try:
        for number, (at, user, question) in enumerate(questions):
            record_id = f"id-{len(questions) - number}"
            record = {"id": record_id, "at": at, "user": user, "question": question}
            record |= {"locale": "sv", "handled": False}
            await records.backend.table(layout.ESCALATIONS).put(
                record_id, record, index=escalation_index(record)
            )
    finally:
        await records.close()


def _run(args: list[str], data: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("OMTANKE_DATA_DIR", str(data))
    return main(args)


async def test_escalated_questions_are_listed_for_the_coordinators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    await _escalate(
        data,
        ("2026-11-22T10:00:00+00:00", "aad-anna", "Hur många sitter i RUG?"),
        ("2026-11-22T11:30:00+00:00", "aad-bo", "Vem bestämmer om pengarna?"),
    )

    assert await asyncio.to_thread(_run, ["escalations", "--json"], data, monkeypatch) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["question"], r["user"], r["handled"], r["locale"]) for r in rows] == [
        ("Hur många sitter i RUG?", "aad-anna", False, "sv"),
        ("Vem bestämmer om pengarna?", "aad-bo", False, "sv"),
    ]

    assert await asyncio.to_thread(_run, ["escalations"], data, monkeypatch) == 0
    header, *lines = capsys.readouterr().out.splitlines()
    assert header.split() == ["Ställd", "Status", "Ålder", "Frågeställare", "Fråga"]
    assert [line[55:] for line in lines] == [
        "Hur många sitter i RUG?",
        "Vem bestämmer om pengarna?",
    ]
    assert [line[:16] for line in lines] == ["2026-11-22 10:00", "2026-11-22 11:30"]
    # Records from before the answering loop have no status field: "handled": false is open.
    assert [line.split()[2] for line in lines] == ["öppen", "öppen"]


async def test_escalations_are_read_while_the_service_holds_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    running = Records(await TinyBackend.open(data))
    try:
        await running.escalations.record("aad-anna", "Hur söker man pengar?", "sv")

        assert await asyncio.to_thread(_run, ["escalations"], data, monkeypatch) == 0

        assert "Hur söker man pengar?" in capsys.readouterr().out
    finally:
        await running.close()


def test_no_escalations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["escalations"], tmp_path / "data", monkeypatch) == 0
    assert capsys.readouterr().out == "Inga frågor har skickats vidare.\n"
    assert _run(["escalations", "--json"], tmp_path / "data", monkeypatch) == 0
    assert capsys.readouterr().out == ""


def test_a_damaged_escalation_is_named_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    (data / "tables").mkdir(parents=True)
    document = {"_id": "e1", "_index": {"user": "u"}, "_doc": {"id": "e1", "question": 5}}
    path = data / "tables" / f"{layout.ESCALATIONS}.json"
    path.write_text(json.dumps({"records": {"1": document}}), "utf-8")

    assert _run(["escalations"], data, monkeypatch) == 1

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "record 'e1'" in err
