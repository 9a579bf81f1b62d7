"""Tests for the four skallkrav, the RUG list and the check command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.check_command import run_check
from domain.messages import Message
from domain.proposal import Endorsement, Proposal
from knowledge.errors import KnowledgeDataError
from knowledge.malbild import Malbild, load_malbild
from knowledge.rug import PeopleDirectory, Person, load_people
from knowledge.skallkrav import (
    CheckContext,
    check_endorsement,
    check_malbild,
    check_organisations,
    check_proposal,
    check_target_groups,
    recognise_malbild,
)
from knowledge.target_groups import TargetGroup, TargetGroupList, load_target_groups
from presentation.messages import say
from presentation.texts import Texts

TEXTS = Texts.load()
KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
EXAMPLES = KNOWLEDGE / "examples"
EXAMPLE_RUG = KNOWLEDGE / "data" / "rug_members.example.json"

ANNA = Person("Anna Andersson", "anna.andersson@example.org", "aad-anna", "Region Halland")
BERTIL = Person("Bertil Berg", "bertil.berg@example.org", "aad-bertil", "Hylte kommun")
GROUPS = TargetGroupList(
    (
        TargetGroup("mest_sjuka_aldre", "De mest sjuka äldre", ("multisjuka äldre",)),
        TargetGroup("barn_unga", "Barn och unga med psykisk ohälsa"),
    )
)


@pytest.fixture(scope="module")
def malbild() -> Malbild:
    """The packaged målbild."""
    return load_malbild()


@pytest.fixture
def ctx(malbild: Malbild) -> CheckContext:
    """A context with two target groups and two RUG members."""
    return CheckContext(GROUPS, malbild, PeopleDirectory((ANNA, BERTIL)))


def said(message: Message, locale: str = "sv") -> str:
    """A check's message as the person reads it."""
    return say(TEXTS, message, locale)


def complete_proposal() -> Proposal:
    """A proposal that meets all four skallkrav."""
    return Proposal(
        title="Utskrivningsteam",
        organisations=["Region Halland", "Varbergs kommun"],
        target_groups=["De mest sjuka äldre"],
        goal_properties=["Personcentrerad"],
        success_factors={"Trygg": "Trygg hemgång."},
        rug_endorsement=Endorsement("Anna Andersson", "2026-03-01T10:00:00+01:00"),
    )


# Krav 1


@pytest.mark.parametrize(
    ("texts", "met", "recognised"),
    [
        (["Region Halland", "Varbergs kommun"], True, ("Region Halland", "Varbergs kommun")),
        (
            ["vårdcentralen i Laholm", "hemsjukvården i Kungsbacka"],
            True,
            ("Region Halland", "Kungsbacka kommun"),
        ),
        (["Hallands sjukhus och Halmstadt"], True, ("Region Halland", "Halmstads kommun")),
        (["Region Halland", "Närsjukvården"], False, ("Region Halland",)),
        (["vårdcentralen i Laholm"], False, ("Region Halland",)),
        (["Varberg", "Kungsbaka"], False, ("Varbergs kommun", "Kungsbacka kommun")),
        ([], False, ()),
    ],
)
def test_check_organisations(texts: list[str], met: bool, recognised: tuple[str, ...]) -> None:
    item = check_organisations(texts)
    assert (item.number, item.met, item.details.recognised) == (1, met, recognised)


def test_krav1_message_says_what_is_missing() -> None:
    item = check_organisations(["Region Halland"])
    assert said(item.message) == (
        "Ingen kommun är med (nu: Region Halland). Initiativet ska beröra både regionen och "
        "minst en kommun. Lägg till minst en av kommunerna Kungsbacka, Varberg, Falkenberg, "
        "Hylte, Halmstad eller Laholm."
    )


def test_krav1_names_what_was_not_recognised() -> None:
    item = check_organisations(["Varberg", "Apoteket"])
    assert (item.met, item.details.unrecognised, "»Apoteket«" in said(item.message)) == (
        False,
        ("Apoteket",),
        True,
    )


def test_krav1_asks_which_municipality_for_a_service_word() -> None:
    item = check_organisations(["Region Halland", "äldreomsorgen"])
    assert (item.met, "»äldreomsorgen« låter som en kommunal verksamhet" in said(item.message)) == (
        False,
        True,
    )


# Krav 2


def test_check_target_groups_met_and_unknown_named() -> None:
    item = check_target_groups(["multisjuka aldre", "Nyanlända"], GROUPS)
    assert (item.met, said(item.message), item.details.unrecognised) == (
        True,
        "Kopplat till målgruppen De mest sjuka äldre. »Nyanlända« finns inte bland färdplanens "
        "målgrupper.",
        ("Nyanlända",),
    )


def test_check_target_groups_unknown_only_is_unmet() -> None:
    item = check_target_groups(["Turister"], GROUPS)
    assert (item.number, item.met, said(item.message)) == (
        2,
        False,
        "»Turister« finns inte bland färdplanens målgrupper. Initiativet ska kopplas till minst "
        "en av färdplanens målgrupper. Välj en eller flera av: De mest sjuka äldre och Barn och "
        "unga med psykisk ohälsa.",
    )


def test_check_target_groups_empty_is_unmet() -> None:
    assert check_target_groups(["", " "], GROUPS).met is False


def test_provisional_list_is_mentioned() -> None:
    provisional = TargetGroupList(GROUPS.groups, provisional=True)
    item = check_target_groups(["De mest sjuka äldre"], provisional)
    assert (
        said(item.message).endswith(
            "Obs: listan över målgrupper är preliminär och ska bekräftas av samordnarna."
        )
        is True
    )


# Krav 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hälsofrämjande", ["Hälsofrämjande"]),
        ("Hälsofrämjande", ["Hälsofrämjande"]),
        ("halsoframjande", ["Hälsofrämjande"]),
        ("Trygghet", ["Trygg"]),
        ("trygg", ["Trygg"]),
        ("personcentrerat", ["Personcentrerad"]),
        ("personcentrerad vård", ["Personcentrerad"]),
        ("sammanhållen", ["Sammanhållen"]),
        ("nära", ["Nära"]),
        ("Nära vård och omsorg", ["Nära"]),
        ("Enkelhet", ["Enkel"]),
        ("gemensamt", ["Gemensam"]),
        ("Trygg och enkel", ["Trygg", "Enkel"]),
        ("personcenterad", ["Personcentrerad"]),
        ("Snabb", []),
        ("Billig", []),
        ("vara", []),
        ("", []),
    ],
)
def test_recognise_malbild(malbild: Malbild, text: str, expected: list[str]) -> None:
    assert recognise_malbild(text, malbild) == expected


def test_check_malbild_counts_factors_and_goal_properties(malbild: Malbild) -> None:
    item = check_malbild(["nära"], ["Trygghet", "Snabb"], malbild)
    assert (item.met, item.details.recognised, item.details.unrecognised) == (
        True,
        ("Nära", "Trygg"),
        ("Snabb",),
    )


def test_check_malbild_made_up_factors_do_not_count(malbild: Malbild) -> None:
    item = check_malbild([], ["Snabb", "Billig"], malbild)
    assert (item.number, item.met, said(item.message)) == (
        3,
        False,
        "»Snabb« och »Billig« ingår inte i målbilden. Initiativet ska kopplas till minst en del "
        "av målbilden: målet att vården och omsorgen är personcentrerad, sammanhållen och nära, "
        "eller någon av framgångsfaktorerna Hälsofrämjande, Enkel, Gemensam och Trygg.",
    )


# Krav 4


@pytest.mark.parametrize(
    ("endorsement", "met"),
    [
        (Endorsement("Anna Andersson", "t"), True),
        (Endorsement("anna andersson", "t"), True),
        (Endorsement("Ana Andersson", "t"), True),
        (Endorsement("Andersson Anna", "t"), True),
        (Endorsement("", "t", email="BERTIL.BERG@example.org"), True),
        (Endorsement("B. Berg", "t", aad_object_id="aad-bertil"), True),
        (Endorsement("Anna Andersson", "t", aad_object_id="aad-someone-else"), False),
        (Endorsement("Kalle Karlsson", "t"), False),
        (Endorsement("", "t"), False),
        (None, False),
    ],
)
def test_check_endorsement(endorsement: Endorsement | None, met: bool) -> None:
    item = check_endorsement(endorsement, PeopleDirectory((ANNA, BERTIL)))
    assert (item.number, item.met) == (4, met)


def test_endorsement_by_non_member_is_named() -> None:
    item = check_endorsement(Endorsement("Kalle Karlsson", "t"), PeopleDirectory((ANNA,)))
    expected = "»Kalle Karlsson« finns inte på listan över deltagare i RUG."
    assert said(item.message).startswith(expected)


def test_endorsement_met_message() -> None:
    item = check_endorsement(Endorsement("Anna Andersson", "t"), PeopleDirectory((ANNA,)))
    assert said(item.message) == "Godkänt av Anna Andersson (deltagare i RUG, Region Halland)."
    assert said(item.message, "en") == "Endorsed by Anna Andersson (RUG member, Region Halland)."


def test_a_message_in_english_lists_and_quotes_the_english_way() -> None:
    item = check_target_groups(["Turister", "Cyklister"], GROUPS)
    assert said(item.message, "en") == (
        "The färdplan's target groups do not include “Turister” and “Cyklister”. The initiative "
        "must be linked to at least one of them. Choose one or more of: De mest sjuka äldre and "
        "Barn och unga med psykisk ohälsa."
    )


@pytest.mark.parametrize("rug", [None, PeopleDirectory(())])
def test_missing_rug_list_is_unmet_and_said(rug: PeopleDirectory | None) -> None:
    item = check_endorsement(Endorsement("Anna Andersson", "t"), rug)
    assert (item.met, said(item.message)) == (
        False,
        "Kravet kan inte kontrolleras eftersom listan över deltagare i RUG saknas. "
        "Be samordnarna för Omtanke Halland att lägga in listan.",
    )


# The whole check


def test_check_proposal_complete(ctx: CheckContext) -> None:
    result = check_proposal(complete_proposal(), ctx)
    assert (result.complete, result.unmet, [i.number for i in result.items]) == (
        True,
        [],
        [1, 2, 3, 4],
    )
    assert [m.organisation for m in result.understood_organisations] == [
        "Region Halland",
        "Varbergs kommun",
    ]


def test_check_proposal_lists_every_unmet_krav(ctx: CheckContext) -> None:
    result = check_proposal(Proposal(title="Tom"), ctx)
    assert (result.complete, result.unmet) == (False, [1, 2, 3, 4])


def test_check_proposal_without_rug_list(malbild: Malbild) -> None:
    result = check_proposal(complete_proposal(), CheckContext(GROUPS, malbild, None))
    assert (result.complete, result.unmet) == (False, [4])


# People lists


def test_load_people_and_find(tmp_path: Path) -> None:
    path = tmp_path / "rug.json"
    path.write_text(json.dumps([ANNA.__dict__, BERTIL.__dict__]), encoding="utf-8")
    people = PeopleDirectory(load_people(path))
    assert (
        people.find("anna andersson"),
        people.find("Bertil Berg <bertil.berg@example.org>"),
        people.find("aad-anna"),
        people.by_aad("AAD-BERTIL"),
        people.find("Cecilia Ceder"),
        people.find("okand@example.org"),
    ) == (ANNA, BERTIL, ANNA, BERTIL, None, None)


def test_two_equally_close_names_are_no_match() -> None:
    people = PeopleDirectory(
        (Person("Anna Andersson", "a@example.org"), Person("Anna Anderssen", "b@example.org"))
    )
    assert people.by_name("Anna Anderssan") is None


def test_example_rug_file_loads() -> None:
    names = [p.name for p in load_people(EXAMPLE_RUG)]
    assert names == ["Exempel Exempelsson", "Testa Testdotter", "Påhittad Persson"]


@pytest.mark.parametrize(
    ("content", "entry"),
    [
        ({"name": "A"}, None),
        ([{"email": "a@example.org"}], "#1"),
        ([{"name": "A", "email": 5}], "A"),
        ([{"name": "A", "email": "inte-en-adress"}], "A"),
        ([{"name": "A", "aad_object_id": "x"}, {"name": "B", "aad_object_id": "X"}], "B"),
    ],
)
def test_malformed_people_file(tmp_path: Path, content: object, entry: str | None) -> None:
    path = tmp_path / "rug.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(KnowledgeDataError) as info:
        load_people(path)
    assert (info.value.path, info.value.entry) == (str(path), entry)


# Example proposals and the check command

EXPECTED_UNMET = {
    "complete_basic.json": [],
    "complete_tricky_organisations.json": [],
    "complete_free_spelling.json": [],
    "complete_all_municipalities.json": [],
    "fails_krav1_only_region.json": [1],
    "fails_krav1_no_region.json": [1],
    "fails_krav2_unknown_target_group.json": [2],
    "fails_krav3_made_up_factors.json": [3],
    "fails_krav4_not_rug_member.json": [4],
    "fails_krav4_no_endorsement.json": [4],
    "draft_only_title.json": [1, 2, 3, 4],
}


@pytest.fixture(scope="module")
def example_ctx(malbild: Malbild) -> CheckContext:
    """The packaged target groups and the example RUG list."""
    return CheckContext(load_target_groups(), malbild, PeopleDirectory(load_people(EXAMPLE_RUG)))


def test_every_example_is_listed() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.json")) == sorted(EXPECTED_UNMET)


@pytest.mark.parametrize(("name", "unmet"), sorted(EXPECTED_UNMET.items()))
def test_example_json_output(example_ctx: CheckContext, name: str, unmet: list[int]) -> None:
    code, output = run_check(EXAMPLES / name, True, example_ctx)
    payload = json.loads(output)
    assert (code, payload["complete"], payload["unmet"], len(payload["messages"])) == (
        0 if not unmet else 1,
        not unmet,
        unmet,
        4,
    )
    assert "\n" not in output


def test_readable_output(example_ctx: CheckContext) -> None:
    code, output = run_check(EXAMPLES / "fails_krav4_no_endorsement.json", False, example_ctx)
    lines = output.splitlines()
    assert (code, lines[0], lines[2], lines[-1]) == (
        1,
        "Skallkraven för »Gemensam jourlinje för hemsjukvården« (fails_krav4_no_endorsement.json)",
        "✔ Krav 1: Berör både regionen och kommunerna",
        "3 av 4 skallkrav är uppfyllda. Förslaget kan skickas till RUG när krav 4 är åtgärdat.",
    )
    assert "✖ Krav 4: Godkänt av minst en deltagare i RUG" in lines


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "finns inte"),
        ("{inte json", "är inte giltig JSON (rad 1, kolumn 2"),
        ("[1, 2]", "ska innehålla ett JSON-objekt"),
        ('{"organisations": "Region Halland"}', "Fältet »organisations« har fel form"),
    ],
)
def test_bad_file_exits_2(
    tmp_path: Path, ctx: CheckContext, content: str | None, expected: str
) -> None:
    path = tmp_path / "forslag.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, output = run_check(path, False, ctx)
    json_code, json_output = run_check(path, True, ctx)
    assert (code, expected in output, json_code, json.loads(json_output) == {"error": output}) == (
        2,
        True,
        2,
        True,
    )
