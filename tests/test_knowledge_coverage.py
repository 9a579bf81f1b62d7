"""The coverage audit: every statement of the seed documents is carried by some answer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from knowledge.coverage import Statement, audit, main, read_seeds, split_statements
from knowledge.kb import KnowledgeBase
from knowledge.model import Entry


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


def _texts(text: str) -> list[str]:
    return [s.text for s in split_statements("doc.txt", text)]


def test_bullets_wrapped_lines_and_headings_become_statements() -> None:
    text = (
        " Rubrik\n\n"
        "● Första punkten är \nlång.\n\n"
        "● Andra punkten lanserades av kommunerna och \n\nregionen\n\n"
        "Region Halland  │Halland – Bästa livsplatsen 2\n"
    )
    assert _texts(text) == [
        "Rubrik",
        "Första punkten är lång.",
        "Andra punkten lanserades av kommunerna och regionen",
        "Region Halland  │Halland – Bästa livsplatsen 2",
    ]


def test_prose_is_cut_into_sentences_and_repeats_are_dropped() -> None:
    text = "Det är bl a bra. Det är viktigt.\n\nDet är viktigt.\n"
    assert _texts(text) == ["Det är bl a bra.", "Det är viktigt."]


def test_a_word_or_address_broken_by_the_extraction_is_joined() -> None:
    text = "Mejla till omtankehalland@regionhallan\nd.se\n\nHÄLSO-\nFRÄMJANDE\n"
    assert _texts(text) == ["Mejla till omtankehalland@regionhalland.se", "HÄLSOFRÄMJANDE"]


def test_the_seeds_are_fully_covered(kb: KnowledgeBase) -> None:
    result = audit(read_seeds(), kb.entries)
    assert [f.statement.text for f in result.uncovered] == []
    assert result.without_english == ()
    # 207 statements: 198 carried by an answer, 9 excluded (5 page footers, 2 layout
    # fragments, and the 2 contact lines of individual officials).
    assert (len(result.findings), len(result.covered), len(result.excluded)) == (207, 198, 9)
    personal = [f for f in result.excluded if f.excluded and f.excluded.startswith("personal")]
    assert len(personal) == 2
    assert all("@regionhalland.se" in f.statement.text for f in personal)


def test_dates_and_the_shared_mailbox_must_be_in_the_answer(kb: KnowledgeBase) -> None:
    dated = Statement("doc.txt", 1, "Beslut om att avge yttrande 12 feb RS")
    plan = kb.entry("tidplan_yttrande")
    assert audit([dated], [plan]).covered
    undated = replace(plan, answer=plan.answer.replace("12 feb", "13 feb"))
    assert audit([dated], [undated]).uncovered
    mailbox = Statement("doc.txt", 1, "Skicka till omtankehalland@regionhalland.se")
    assert audit([mailbox], [Entry("x", "X?", "Skicka till oss.", "s", ())]).uncovered


def test_an_answer_that_loses_a_fact_is_reported(kb: KnowledgeBase) -> None:
    statements = read_seeds()
    entries = [
        replace(e, answer=e.answer.replace("friskfaktorer", "hälsa")) if e.id == "halsoframjande"
        else e
        for e in kb.entries
    ]
    uncovered = [f.statement.text for f in audit(statements, entries).uncovered]
    assert uncovered == ["När jag informerar individen om friskfaktorer."]


def test_the_command_exits_zero_and_prints_the_totals(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "ej täckta:    0" in out
    assert "påståenden:   207" in out
