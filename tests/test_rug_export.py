"""`omtanke export` in each format, with the counts table."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from docx import Document

from bot.cli import main
from domain.fields import FIELDS
from domain.proposal import Decision, Initiator, Proposal, Status
from knowledge.target_groups import load_target_groups
from presentation.texts import Texts
from storage.records import Change, Records
from storage.tiny_backend import TinyBackend
from tests.commands import run_omtanke


async def _submitted(proposal: Proposal) -> Change:
    proposal.status = Status.AWAITING_ENDORSEMENT
    return Change()


async def _portfolio(data_dir: Path) -> None:
    """Two submitted proposals, one of them granted."""
    records = Records(await TinyBackend.open(data_dir))
    try:
        await records.open()
        repo = records.proposals
        group = load_target_groups().groups[0].name
        for title, orgs in (
            ("Trygg hemgång", ["Region Halland", "Varbergs kommun"]),
            ("Hälsosamtal", ["vårdcentralen i Laholm", "hemsjukvården i Varberg"]),
        ):
            proposal = Proposal(
                title=title,
                organisations=orgs,
                target_groups=[group],
                success_factors={"Trygg": "x", "Enkel": "y"},
                initiator=Initiator(name="Anna", aad_object_id="aad-anna"),
            )
            draft = await repo.new_draft("aad-anna", proposal)
            await repo.submit("aad-anna", draft, _submitted)
        first = (await repo.all())[0]
        first.status = Status.APPROVED
        first.decision = Decision("bifallen", "Rolf Rugman", "2026-11-22T10:00:00+00:00", "Bra")
        await repo.save(first, "aad-rolf", "decided")
    finally:
        await records.close()


@pytest.fixture
async def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder with a small portfolio; the command line reads it."""
    data = tmp_path / "data"
    await _portfolio(data)
    monkeypatch.setenv("OMTANKE_DATA_DIR", str(data))
    return data


def test_the_word_document_follows_the_template_order(data_dir: Path, tmp_path: Path) -> None:
    """Each proposal's sections in the Word export come in the template's order (FIELDS)."""
    out = tmp_path / "portfolio.docx"
    assert main(["export", "--format", "docx", "--out", str(out)]) == 0
    texts = Texts.load()
    labels = [texts.get(f"proposal.field.{f.id}") for f in FIELDS[1:]]
    paragraphs = Document(str(out)).paragraphs
    headings = [p.text for p in paragraphs if p.style is not None and p.style.name == "Heading 2"]
    assert [h for h in headings if h in labels] == labels * 2


def test_the_word_document_says_who_decided_and_the_skallkrav(
    data_dir: Path, tmp_path: Path
) -> None:
    """A title and date, the counts, and per proposal its record and the four skallkrav."""
    out = tmp_path / "portfolio.docx"
    assert main(["export", "--format", "docx", "--out", str(out)]) == 0
    texts = Texts.load()
    paragraphs = [p.text for p in Document(str(out)).paragraphs]
    assert paragraphs[0] == texts.get("rug.doc.title")
    assert paragraphs[1].endswith(": 2 förslag.")
    assert "Region Halland: 2" in paragraphs
    assert paragraphs.count(texts.get("proposal.summary.checklist")) == 2
    assert sum(p.startswith("✔ 1. Berör både regionen och kommunerna") for p in paragraphs) == 2
    assert sum(p.startswith("✖ 4. ") for p in paragraphs) == 2
    assert paragraphs.count(texts.get("rug.doc.not_endorsed")) == 2


def test_export_csv_to_stdout_with_table_on_stderr(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CSV rows with status and decision; organisations canonical; the table counts them."""
    assert main(["export", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["title"], r["status"], r["decision"]) for r in rows] == [
        ("Trygg hemgång", "bifallen", "bifallen"),
        ("Hälsosamtal", "vantar_pa_forankring", ""),
    ]
    assert rows[1]["organisations"] == "Region Halland; Varbergs kommun"
    assert "Förslag totalt: 2" in err
    lines = err.splitlines()
    assert any(line.split() == ["Organisation", "Region", "Halland", "2"] for line in lines)
    assert any(line.split() == ["Framgångsfaktor", "Trygg", "2"] for line in lines)


def test_export_json_to_a_file(data_dir: Path, tmp_path: Path) -> None:
    """JSON in the export format, with the decision, written to --out."""
    out = tmp_path / "export.json"
    assert main(["export", "--format", "json", "--out", str(out)]) == 0
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert [p["decision"]["by"] if p["decision"] else None for p in exported["proposals"]] == [
        "Rolf Rugman",
        None,
    ]
    counts = exported["counts"]
    assert counts["total"] == 2
    assert counts["by_status"] == {"vantar_pa_forankring": 1, "bifallen": 1}
    assert counts["by_organisation"] == {"Region Halland": 2, "Varbergs kommun": 2}
    assert counts["by_success_factor"] == {"Enkel": 2, "Trygg": 2}


def test_export_csv_to_a_file_writes_the_counts_beside_it(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "export.csv"
    assert main(["export", "--format", "csv", "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "export-counts.csv").read_text())))
    assert {"what": "Organisation", "name": "Region Halland", "count": "2"} in rows
    assert {"what": "Status", "name": "bifallen", "count": "1"} in rows


def test_export_docx_through_the_installed_command(data_dir: Path, tmp_path: Path) -> None:
    """`omtanke export --format docx` writes a Word file with every proposal's title."""
    out = tmp_path / "portfolio.docx"
    result = run_omtanke(["export", "--format", "docx", "--out", str(out)], data_dir)
    assert result.returncode == 0, result.stderr
    assert "Förslag totalt: 2" in result.stdout
    paragraphs = [p.text for p in Document(str(out)).paragraphs]
    assert any(p.endswith("Trygg hemgång") for p in paragraphs)
    assert any(p.endswith("Hälsosamtal") for p in paragraphs)
    assert any(p.startswith("Beslut: bifallen av Rolf Rugman") for p in paragraphs)


def test_export_of_an_empty_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OMTANKE_DATA_DIR", str(tmp_path / "nothing"))
    assert main(["export", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["proposals"] == [] and "Förslag totalt: 0" in err
    assert not (tmp_path / "nothing").exists()  # reading never creates the folder


def test_export_names_a_damaged_record_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A proposal with "status": 5 is reported, not a traceback (issue 16 item 8)."""
    data = tmp_path / "data"
    (data / "tables").mkdir(parents=True)
    document = {"_id": "OH-2026-0001", "_index": {}, "_doc": {"id": "OH-2026-0001", "status": 5}}
    (data / "tables" / "proposals.json").write_text(json.dumps({"records": {"1": document}}))
    monkeypatch.setenv("OMTANKE_DATA_DIR", str(data))

    assert main(["export"]) == 1

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Kunde inte läsa datamappen" in err
    assert str(data / "tables" / "proposals.json") in err and "'status'" in err
