"""Typed errors for the knowledge package."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from domain.messages import Message, Value


class KnowledgeDataError(Exception):
    """A knowledge data file is unreadable or malformed; names the file and the entry.

    What is wrong is a code with values: ``message`` is it as a locale key
    (``data_error.<code>``) for the coordinators who keep the file; the exception's own text,
    for logs, is the file, the entry, the code and the values.
    """

    def __init__(self, path: Path | str, entry: str | None, code: str, **values: Value) -> None:
        self.path = str(path)
        self.entry = entry
        self.code = code
        self.values = values
        where = f"{self.path}, entry {entry!r}" if entry is not None else self.path
        detail = "".join(f" {name}={value}" for name, value in values.items())
        super().__init__(f"{where}: {code}{detail}")

    @property
    def message(self) -> Message:
        """The file, the entry and the problem, to show to a person."""
        problem = Message(f"data_error.{self.code}", self.values)
        if self.entry is None:
            return Message("data_error.in_file", {"path": self.path, "problem": problem})
        values: dict[str, Value] = {"path": self.path, "entry": repr(self.entry)}
        return Message("data_error.in_entry", {**values, "problem": problem})


def read_data_file(path: Path) -> Any:
    """Read a JSON data file, turning I/O and syntax errors into KnowledgeDataError."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KnowledgeDataError(path, None, "unreadable", error=str(exc)) from exc
    except json.JSONDecodeError as exc:
        raise KnowledgeDataError(path, None, "not_json", error=str(exc)) from exc


def read_data_object(path: Path, code: str = "not_json_object") -> dict[str, Any]:
    """Read a JSON data file that must hold one object; else KnowledgeDataError (code)."""
    raw = read_data_file(path)
    if not isinstance(raw, dict):
        raise KnowledgeDataError(path, None, code)
    return raw


def data_number(path: Path, where: str, value: object) -> float:
    """A number field of a data file (not a bool); else KnowledgeDataError naming it."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise KnowledgeDataError(path, where, "not_number")
    return float(value)
