"""The layout's promise: botbuilder stays in bot/, dialogs/ and one storage module."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDK_IMPORT = re.compile(r"^\s*(from|import)\s+(botbuilder|botframework)\b", re.MULTILINE)
PLAIN_PACKAGES = ("knowledge", "storage", "manifest")
ADAPTER_MODULE = ROOT / "storage" / "bot_storage.py"


def test_botbuilder_is_imported_only_where_the_layout_allows() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in PLAIN_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path != ADAPTER_MODULE and SDK_IMPORT.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_nothing_reads_the_shared_folder_at_run_time() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("bot", "dialogs", "knowledge", "storage", "manifest", "tests", "benchmarks")
        if (ROOT / folder).exists()
        for path in (ROOT / folder).rglob("*.py")
        if path != Path(__file__).resolve() and "shared/" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
