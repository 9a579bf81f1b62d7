"""'omtanke escalations' lists what users passed on to the coordinators."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.builders import BotHarness


async def test_escalated_questions_are_listed_for_the_coordinators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    harness = await BotHarness.open(data)
    try:
        await harness.submit({"action": "escalate", "question": "Hur många sitter i RUG?"})
    finally:
        await harness.close()
    monkeypatch.setenv("OMTANKE_DATA_DIR", str(data))
    assert main(["escalations", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["question"], r["user"], r["handled"]) for r in rows] == [
        ("Hur många sitter i RUG?", "aad-anna", False)
    ]
    assert main(["escalations"]) == 0
    assert "Hur många sitter i RUG?" in capsys.readouterr().out
