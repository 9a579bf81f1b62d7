"""Typed errors for the knowledge package."""

from __future__ import annotations

from pathlib import Path


class KnowledgeDataError(Exception):
    """A knowledge data file is unreadable or malformed; names the file and the entry."""

    def __init__(self, path: Path | str, entry: str | None, problem: str) -> None:
        self.path = str(path)
        self.entry = entry
        self.problem = problem
        where = f"{self.path}, post {entry!r}" if entry is not None else self.path
        super().__init__(f"{where}: {problem}")
