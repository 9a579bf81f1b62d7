"""Typed errors for the knowledge package."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class KnowledgeDataError(Exception):
    """A knowledge data file is unreadable or malformed; names the file and the entry."""

    def __init__(self, path: Path | str, entry: str | None, problem: str) -> None:
        self.path = str(path)
        self.entry = entry
        self.problem = problem
        where = f"{self.path}, post {entry!r}" if entry is not None else self.path
        super().__init__(f"{where}: {problem}")


def read_data_file(path: Path) -> Any:
    """Read a JSON data file, turning I/O and syntax errors into KnowledgeDataError."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KnowledgeDataError(path, None, f"kan inte läsas ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise KnowledgeDataError(path, None, f"ogiltig JSON ({exc})") from exc


def read_data_object(path: Path, problem: str = "ska vara ett JSON-objekt") -> dict[str, Any]:
    """Read a JSON data file that must hold one object; else KnowledgeDataError (problem)."""
    raw = read_data_file(path)
    if not isinstance(raw, dict):
        raise KnowledgeDataError(path, None, problem)
    return raw


def data_number(path: Path, where: str, value: object) -> float:
    """A number field of a data file (not a bool); else KnowledgeDataError naming it."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise KnowledgeDataError(path, where, "ska vara ett tal")
    return float(value)
