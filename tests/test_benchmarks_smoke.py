"""The benchmark harness still runs end to end (tiny counts; no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = (
    "== 1. Turn latency",
    "== 2. Storage scale",
    "== 3. Load",
    "== 4. Start-up",
    "== 5. Azure backend",
    "== Targets ==",
)


@pytest.mark.slow
def test_quick_benchmark_run_completes_and_prints_every_section() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    missing = [section for section in SECTIONS if section not in result.stdout]
    assert missing == [], result.stdout[-3000:]
    assert "Traceback" not in result.stdout
