"""Promises about the repository that no import contract can check.

Which package may import which (and that botbuilder stays in bot/, dialogs/ and one storage
module) is the import-linter contract in pyproject.toml, run by `make lint`.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "dialogs", "rug", "knowledge", "storage", "presentation", "domain", "manifest")


def test_nothing_reads_the_shared_folder_at_run_time() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for folder in (*PACKAGES, "tests", "benchmarks")
        if (ROOT / folder).exists()
        for path in (ROOT / folder).rglob("*.py")
        if path != Path(__file__).resolve() and "shared/" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
