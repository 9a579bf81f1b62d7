"""The portfolio in numbers (rug.portfolio) and as an offline HTML page (`omtanke report`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.cli import main
from bot.report import render_report
from domain.proposal import Decision, Endorsement, Event, Initiator, Proposal, Status
from presentation.texts import Texts
from rug.portfolio import portfolio
from storage.records import Change, Records
from storage.tiny_backend import TinyBackend

ROOT = Path(__file__).resolve().parent.parent
SHOT = ROOT / "tests" / "browser" / "report_shot.cjs"
ARTIFACTS = ROOT / "tests" / "artifacts" / "report"


def _proposal(n: int, status: str, month: str, orgs: list[str]) -> Proposal:
    submitted = f"2026-{month}-02T09:00:00+00:00"
    proposal = Proposal(
        id=f"OH-2026-{n:04d}",
        title=f"Förslag {n}",
        status=status,
        organisations=orgs,
        target_groups=["De mest sjuka äldre"],
        success_factors={"Trygg": "x"},
        created_at=submitted,
        history=[Event(submitted, "Anna", "submitted")],
    )
    return proposal


def _decided(proposal: Proposal, outcome: str, at: str) -> Proposal:
    proposal.history.append(Event(at, "Rolf", outcome, "motivering"))
    proposal.decision = Decision(outcome, "Rolf", at, "motivering")
    return proposal


def test_the_figures_count_each_proposal_once_and_time_the_decisions() -> None:
    proposals = [
        _decided(
            _proposal(1, Status.APPROVED, "09", ["Region Halland", "Varbergs kommun"]),
            "bifallen",
            "2026-09-12T09:00:00+00:00",
        ),
        _decided(
            _proposal(2, Status.REJECTED, "10", ["Hallands sjukhus", "hemsjukvården i Varberg"]),
            "avslagen",
            "2026-10-06T09:00:00+00:00",
        ),
        _proposal(3, Status.WITH_RUG, "10", ["Region Halland", "Laholms kommun"]),
    ]

    figures = portfolio(proposals)

    assert figures.total == 3
    assert figures.by_status == {"hos_rug": 1, "bifallen": 1, "avslagen": 1}
    assert figures.by_month == {
        "2026-09": {"bifallen": 1},
        "2026-10": {"avslagen": 1, "hos_rug": 1},
    }
    # Hallands sjukhus is Region Halland: one proposal counts once per organisation.
    assert figures.by_organisation == {
        "Region Halland": 3,
        "Varbergs kommun": 2,
        "Laholms kommun": 1,
    }
    assert figures.days_to_decision == [4.0, 10.0]
    assert figures.median_days_to_decision == 7.0


def test_the_page_is_self_contained_with_a_chart_and_a_table_per_count() -> None:
    texts = Texts.load()
    proposals = [
        _proposal(1, Status.AWAITING_ENDORSEMENT, "11", ["Region Halland", "Hylte kommun"])
    ]
    page = render_report(portfolio(proposals), texts)

    assert page.count("<svg") == 4  # by month, organisation, target group, success factor
    assert page.count("<table>") == 4
    assert texts.get("report.chart.by_organisation") in page
    assert "Hylte kommun" in page and "väntar på förankring" in page
    assert texts.get("report.no_decisions") in page
    # Nothing to fetch: no scripts, stylesheets, images or fonts from anywhere (a url() may
    # only point inside the page, as the charts' clip paths do).
    for fetching in ("<script", "<link", "<img", "src=", "@import"):
        assert fetching not in page
    assert re.findall(r"url\((?!#)", page) == []


def test_an_empty_portfolio_says_so_without_charts() -> None:
    texts = Texts.load()
    page = render_report(portfolio([]), texts, "en")
    assert texts.get("report.empty", "en") in page and "<svg" not in page


def test_user_text_is_escaped_in_the_page() -> None:
    proposal = _proposal(1, Status.WITH_RUG, "11", ["Region Halland", "<script>x</script>"])
    page = render_report(portfolio([proposal]), Texts.load())
    assert "<script>" not in page and "&lt;script&gt;" in page


async def _data_folder(data: Path) -> None:
    records = Records(await TinyBackend.open(data))
    try:
        await records.open()
        for n, title in enumerate(("Trygg hemgång", "Hälsosamtal"), start=1):
            proposal = Proposal(
                title=title,
                organisations=["Region Halland", "Varbergs kommun"],
                target_groups=["De mest sjuka äldre"],
                success_factors={"Trygg": "x"},
                initiator=Initiator(name="Anna", aad_object_id=f"aad-{n}"),
            )
            draft = await records.proposals.new_draft(f"aad-{n}", proposal)

            async def submitted(p: Proposal) -> Change:
                p.status = Status.WITH_RUG
                p.rug_endorsement = Endorsement("Rut", "2026-11-02T09:00:00+00:00")
                return Change()

            await records.proposals.submit(f"aad-{n}", draft, submitted)
    finally:
        await records.close()


@pytest.fixture
async def data_dir(tmp_path: Path) -> Path:
    """A data folder with two proposals at RUG."""
    data = tmp_path / "data"
    await _data_folder(data)
    return data


def test_omtanke_report_writes_the_page(
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OMTANKE_DATA_DIR", str(data_dir))
    out = tmp_path / "portfolio.html"

    assert main(["report", "--out", str(out)]) == 0

    page = out.read_text(encoding="utf-8")
    assert "Trygg" in page and page.count("<svg") == 4
    assert capsys.readouterr().out.strip() == Texts.load().get("report.written", path=out, n=2)


def _browser_missing() -> list[str]:
    missing = []
    if not Path("/usr/bin/chromium").exists():
        missing.append("/usr/bin/chromium (apt-get install -y chromium)")
    if not (ROOT / "node_modules" / "playwright-core").exists():
        missing.append(f"node_modules/playwright-core (run `npm ci` in {ROOT})")
    for tool in ("unshare", "ip", "node"):
        if shutil.which(tool) is None:
            missing.append(f"`{tool}`")
    if os.geteuid() != 0:
        missing.append("root, for `unshare -n` (CI runs as root)")
    return missing


@pytest.mark.browser
def test_the_report_opens_offline_in_chromium_at_desktop_and_mobile_width(
    data_dir: Path, tmp_path: Path
) -> None:
    """Headless Chromium, in a namespace with only loopback, shows the four charts, fetches
    nothing, and needs no sideways scrolling at phone width. Screenshots: tests/artifacts/."""
    missing = _browser_missing()
    assert not missing, f"the browser test needs: {', '.join(missing)}"
    report = tmp_path / "portfolio.html"
    env = {**os.environ, "OMTANKE_DATA_DIR": str(data_dir)}
    written = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "omtanke"), "report", "--out", str(report)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert written.returncode == 0, written.stderr
    shot = subprocess.run(
        [
            "unshare",
            "-n",
            "bash",
            "-c",
            'ip link set lo up && exec node "$0" "$1" "$2"',
            str(SHOT),
            str(report),
            str(ARTIFACTS),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert shot.returncode == 0, shot.stderr
    result = json.loads(shot.stdout.strip().splitlines()[-1])
    assert result == {
        "title": Texts.load().get("report.title"),
        "svgs": 4,
        "external": [],
        "overflow": False,
    }
    assert (ARTIFACTS / "report-desktop.png").stat().st_size > 10_000
    assert (ARTIFACTS / "report-mobile.png").stat().st_size > 10_000
