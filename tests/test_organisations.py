"""Tests for understanding how people write the seven organisations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.errors import KnowledgeDataError
from knowledge.organisations import (
    DEFAULT_ORGANISATIONS_PATH,
    MUNICIPALITIES,
    REGION,
    load_organisation_data,
    split_organisations,
    understand_organisation,
    understand_organisations,
)
from presentation.messages import say
from presentation.texts import Texts

TEXTS = Texts.load()


@pytest.mark.parametrize(
    ("text", "organisation", "kind"),
    [
        ("Varbergs kommun", "Varbergs kommun", "kommun"),
        ("Varberg", "Varbergs kommun", "kommun"),
        ("varbergs", "Varbergs kommun", "kommun"),
        ("VARBERGS KOMMUN", "Varbergs kommun", "kommun"),
        ("Laholm kommun", "Laholms kommun", "kommun"),
        ("regionen", REGION, "region"),
        ("RH", REGION, "region"),
        ("Region Halland", REGION, "region"),
        ("Hallands sjukhus", REGION, "region"),
        ("Närsjukvården", REGION, "region"),
        ("Psykiatrin Halland", REGION, "region"),
        ("Ambulanssjukvården", REGION, "region"),
        ("Regionkontoret", REGION, "region"),
        ("vårdcentralen i Laholm", REGION, "region"),
        ("vårdcentralen i Laholms kommun", REGION, "region"),
        ("BUP Halmstad", REGION, "region"),
        ("hemsjukvården i Kungsbacka", "Kungsbacka kommun", "kommun"),
        ("äldreomsorgen i Hylte", "Hylte kommun", "kommun"),
        ("socialförvaltningen Halmstad", "Halmstads kommun", "kommun"),
        ("socialpsykiatrin Varberg", "Varbergs kommun", "kommun"),
        ("Falkenbergs kommun vård och omsorg", "Falkenbergs kommun", "kommun"),
        ("Hyltebruk", "Hylte kommun", "kommun"),
        ("Varbärg", "Varbergs kommun", "kommun"),
        ("Kungsbaka", "Kungsbacka kommun", "kommun"),
        ("Halmstadt", "Halmstads kommun", "kommun"),
        ("Regon Haland", REGION, "region"),
        ("vårdcentarlen i Hylte", REGION, "region"),
        ("äldreomsorgen", None, "kommun"),
        ("Apoteket", None, None),
        ("Halland", None, None),
        ("", None, None),
    ],
)
def test_understand_organisation(text: str, organisation: str | None, kind: str | None) -> None:
    match = understand_organisation(text)
    assert (match.text, match.organisation, match.kind) == (text, organisation, kind)


def test_via_explains_region_units() -> None:
    expected = "tolkat som Region Halland (Hallands sjukhus är en del av regionen)"
    assert say(TEXTS, understand_organisation("Hallands sjukhus").via) == expected


def test_via_explains_vardcentral_decision() -> None:
    via = say(TEXTS, understand_organisation("vårdcentralen i Laholm").via)
    assert via.startswith("tolkat som Region Halland (vårdcentraler drivs av regionen") is True


def test_via_names_the_spelling_that_was_understood() -> None:
    expected = "tolkat som Varbergs kommun (»Varbärg« liknar Varberg)"
    assert say(TEXTS, understand_organisation("Varbärg").via) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Region Halland och Varbergs kommun", ["Region Halland", "Varbergs kommun"]),
        ("Region Halland, Varberg\nHylte", ["Region Halland", "Varberg", "Hylte"]),
        ("Kungsbacka & Varberg / Hylte", ["Kungsbacka", "Varberg", "Hylte"]),
        ("RH samt Laholm; Halmstad", ["RH", "Laholm", "Halmstad"]),
        ("Falkenbergs kommun vård och omsorg", ["Falkenbergs kommun vård och omsorg"]),
        ("Hälso- och sjukvården i Varberg samt RH", ["Hälso- och sjukvården i Varberg", "RH"]),
        ("", []),
    ],
)
def test_split_organisations(text: str, expected: list[str]) -> None:
    assert split_organisations(text) == expected


def test_all_municipalities_expand_to_six() -> None:
    names = [
        m.organisation for m in understand_organisations("Region Halland och samtliga kommuner")
    ]
    assert names == [REGION, *MUNICIPALITIES]


def test_understand_organisations_takes_a_list() -> None:
    matches = understand_organisations(["Hallands sjukhus och socialförvaltningen Halmstad", "RH"])
    assert [m.organisation for m in matches] == [REGION, "Halmstads kommun", REGION]


def test_packaged_data_loads() -> None:
    data = load_organisation_data(DEFAULT_ORGANISATIONS_PATH)
    assert sorted(m.name for m in data.municipalities) == sorted(MUNICIPALITIES)


def test_malformed_data_names_file_and_entry(tmp_path: Path) -> None:
    raw = json.loads(DEFAULT_ORGANISATIONS_PATH.read_text(encoding="utf-8"))
    raw["region_units"][0] = {"words": "Hallands sjukhus", "why": "x"}
    path = tmp_path / "organisations.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(KnowledgeDataError) as info:
        load_organisation_data(path)
    assert (info.value.path, info.value.entry) == (str(path), "region_units[0]")


def test_broken_json_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "organisations.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(KnowledgeDataError) as info:
        load_organisation_data(path)
    assert info.value.path == str(path)
