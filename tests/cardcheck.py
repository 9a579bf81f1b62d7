"""Test helper: validates Adaptive Cards with the adaptivecards library's parser in Node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
VALIDATOR = REPO_ROOT / "manifest" / "validate_cards.cjs"
ADAPTIVECARDS = REPO_ROOT / "node_modules" / "adaptivecards" / "dist" / "adaptivecards.js"
# Teams renders Adaptive Cards up to 1.5.
MAX_VERSION = (1, 5)
TIMEOUT_SECONDS = 60


class CardCheckError(RuntimeError):
    """The card validator cannot run (node or node_modules missing, or it crashed)."""


def run_validator(cards: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Run manifest/validate_cards.cjs on the cards and return its raw per-card results."""
    names = [name for name, _ in cards]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"card names must be unique, repeated: {', '.join(duplicates)}")
    node = shutil.which("node")
    if node is None:
        raise CardCheckError("node is not on PATH: install Node.js 20 to validate Adaptive Cards")
    if not ADAPTIVECARDS.is_file():
        raise CardCheckError(
            f"{ADAPTIVECARDS} is missing: run `npm ci` in {REPO_ROOT} to install the card validator"
        )
    payload = json.dumps([{"name": name, "card": card} for name, card in cards])
    completed = subprocess.run(
        [node, str(VALIDATOR)],
        input=payload,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise CardCheckError(
            f"validate_cards.cjs exited {completed.returncode}: {completed.stderr.strip()}"
        )
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    return results


def validate_cards(cards: list[tuple[str, dict[str, Any]]]) -> dict[str, list[str]]:
    """Return the parser's errors for each card by name (an empty list when it is valid)."""
    return {result["name"]: result["errors"] for result in run_validator(cards)}


def card_warnings(cards: list[tuple[str, dict[str, Any]]]) -> dict[str, list[str]]:
    """Return the parser's warnings (hints, unknown properties) for each card by name."""
    return {result["name"]: result["warnings"] for result in run_validator(cards)}


def _parse_version(text: str) -> tuple[int, ...] | None:
    """Parse "1.5" into (1, 5); None when it is not a dotted number."""
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return None


def check_versions(cards: list[tuple[str, dict[str, Any]]]) -> dict[str, list[str]]:
    """Check each top-level card's type, $schema and version (at most 1.5) by name."""
    problems: dict[str, list[str]] = {}
    for name, card in cards:
        found: list[str] = []
        if card.get("type") != "AdaptiveCard":
            found.append(f"type is {card.get('type')!r}, must be 'AdaptiveCard'")
        if not card.get("$schema"):
            found.append("$schema is missing")
        version = card.get("version")
        parsed = _parse_version(version) if isinstance(version, str) else None
        if parsed is None:
            found.append(f"version {version!r} is not a version like '1.5'")
        elif parsed > MAX_VERSION:
            found.append(f"version {version} is above 1.5, the highest Teams renders")
        problems[name] = found
    return problems
