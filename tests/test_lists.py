"""Issue 18, defect 4: a typed list never loses an item silently (over HTTP, fake connector).

Target groups, organisations and the målbild's goal properties and success factors: joined by
"och" they are all kept, numbers from the shown list work, one wrong letter is corrected and
said, and every item not understood is named back with nothing stored.
"""

from __future__ import annotations

from domain.proposal import Proposal
from rug.portfolio import canonical_organisations
from tests.builders import card_of
from tests.rug_scenario import ANNA
from tests.service import Service

PERSONAL = f"a:personal-{ANNA['aadObjectId']}"
ELDERLY = "De mest sjuka äldre (multisjuka 80 år och äldre)"
HOME_CARE = "Personer med hemsjukvård eller omfattande vård- och omsorgsbehov"
YOUNG = "Barn och unga med psykisk ohälsa"
# What Anna types to reach each step: step 4 (organisations), 5 (target groups), 6 (målbild).
TO_ORGANISATIONS = ["Jag har en idé", "Trygg hemgång", "Bakgrund.", "Beskrivning."]
TO_TARGET_GROUPS = [*TO_ORGANISATIONS, "Region Halland, Varbergs kommun"]
TO_MALBILD = [*TO_TARGET_GROUPS, "sköra äldre"]


async def walk(service: Service, answers: list[str]) -> None:
    """Anna types each answer in turn."""
    for text in answers:
        assert await service.say(ANNA, text) == 201


async def answer(service: Service, text: str) -> str:
    """Anna types one answer; everything the bot wrote back, joined."""
    before = len(service.connector.texts_to(PERSONAL))
    assert await service.say(ANNA, text) == 201
    return "\n".join(service.connector.texts_to(PERSONAL)[before:])


async def draft(service: Service) -> Proposal:
    """Anna's draft as stored."""
    found = await service.services.records.proposals.draft_of(ANNA["aadObjectId"])
    assert found is not None
    return found.proposal


async def test_two_target_groups_joined_by_och_are_both_kept(service: Service) -> None:
    await walk(service, TO_TARGET_GROUPS)
    reply = await answer(service, "sköra äldre och hemsjukvård")
    assert "✔ Skallkrav 2" in reply and "Steg 6 av 12" in reply
    assert (await draft(service)).target_groups == [ELDERLY, HOME_CARE]
    assert f"»sköra äldre« läste jag som {ELDERLY}." in reply


async def test_a_known_name_with_och_is_not_broken(service: Service) -> None:
    await walk(service, TO_TARGET_GROUPS)
    reply = await answer(service, "sköra äldre och barn och unga med psykisk ohälsa")
    assert "Steg 6 av 12" in reply
    assert (await draft(service)).target_groups == [ELDERLY, YOUNG]


async def test_an_unknown_target_group_is_named_back_and_nothing_is_stored(
    service: Service,
) -> None:
    await walk(service, TO_TARGET_GROUPS)
    reply = await answer(service, "sköra äldre och cyklister")
    assert "Jag förstod inte »cyklister« – den finns inte bland färdplanens målgrupper." in reply
    assert "Inget är sparat än." in reply
    assert "Steg 5 av 12" in reply and "Steg 6 av 12" not in reply
    assert (await draft(service)).target_groups == []


async def test_numbers_from_the_shown_lists_pick_their_items(service: Service) -> None:
    await walk(service, TO_ORGANISATIONS)
    shown = card_of(service.connector.messages()[-1])
    assert shown is not None and "1. Region Halland" in str(shown)
    reply = await answer(service, "1, 3")
    assert "✔ Skallkrav 1" in reply
    assert (await draft(service)).organisations == ["Region Halland", "Varbergs kommun"]
    assert f"1. {ELDERLY}" in str(card_of(service.connector.messages()[-1]))
    reply = await answer(service, "1,2")
    assert "✔ Skallkrav 2" in reply
    assert (await draft(service)).target_groups == [ELDERLY, HOME_CARE]
    malbild_card = str(card_of(service.connector.messages()[-1]))
    assert "1. Personcentrerad" in malbild_card and "7. Trygg" in malbild_card
    reply = await answer(service, "1 och 7")
    assert "✔ Skallkrav 3" in reply
    stored = await draft(service)
    assert stored.goal_properties == ["Personcentrerad"]
    assert list(stored.success_factors) == ["Trygg"]


async def test_a_number_outside_the_list_is_named_back(service: Service) -> None:
    await walk(service, TO_TARGET_GROUPS)
    reply = await answer(service, "1 och 9")
    assert "Jag förstod inte »9« – listan har nummer 1–5." in reply
    assert (await draft(service)).target_groups == []


async def test_one_wrong_letter_is_corrected_and_the_correction_shown(service: Service) -> None:
    await walk(service, TO_MALBILD)
    reply = await answer(service, "sammanhallen, gemensam och tryg")
    assert "»tryg« läste jag som Trygg (jag rättade stavningen)." in reply
    assert "»sammanhallen« läste jag som Sammanhållen." in reply
    assert "✔ Skallkrav 3" in reply
    stored = await draft(service)
    assert stored.goal_properties == ["Sammanhållen"]
    assert list(stored.success_factors) == ["Gemensam", "Trygg"]


async def test_an_unknown_malbild_word_beside_known_ones_is_named_back(service: Service) -> None:
    await walk(service, TO_MALBILD)
    reply = await answer(service, "Trygg och billig")
    assert "Jag förstod inte »billig« – den finns inte i målbilden." in reply
    assert (await draft(service)).success_factors == {}


async def test_an_organisation_outside_the_seven_is_named_back(service: Service) -> None:
    await walk(service, TO_ORGANISATIONS)
    reply = await answer(service, "Region Halland, Göteborgs stad och Varbergs kommun")
    assert (
        "Jag förstod inte »Göteborgs stad« – den finns inte bland de sju organisationerna" in reply
    )
    assert "vill du skriva den som övrig part? Skriv då »övrig part: Göteborgs stad«." in reply
    assert "Steg 4 av 12" in reply and "Steg 5 av 12" not in reply
    assert (await draft(service)).organisations == []


async def test_a_vardcentral_and_another_organisation_are_two_items(service: Service) -> None:
    await walk(service, TO_ORGANISATIONS)
    reply = await answer(service, "vårdcentralen i Getinge och Göteborgs stad")
    assert "Jag förstod inte »Göteborgs stad«" in reply
    assert (await draft(service)).organisations == []
    reply = await answer(service, "vårdcentralen i Getinge och Varbergs kommun")
    assert "✔ Skallkrav 1" in reply
    assert (await draft(service)).organisations == ["vårdcentralen i Getinge", "Varbergs kommun"]


async def test_a_party_outside_omtanke_is_kept_but_does_not_count(service: Service) -> None:
    await walk(service, TO_ORGANISATIONS)
    reply = await answer(service, "Region Halland och övrig part: Göteborgs stad")
    assert "övrig part: Göteborgs stad → övrig part utanför Omtanke Halland" in reply
    assert "✖ Skallkrav 1" in reply and "Steg 4 av 12" in reply
    reply = await answer(service, "Region Halland, övrig part: Göteborgs stad och Varbergs kommun")
    assert "✔ Skallkrav 1" in reply
    assert "Göteborgs stad" not in reply.split("✔ Skallkrav 1")[1].split("\n")[0]
    assert (await draft(service)).organisations == [
        "Region Halland",
        "övrig part: Göteborgs stad",
        "Varbergs kommun",
    ]


async def test_a_misspelt_group_beside_a_known_one_is_read_and_said(service: Service) -> None:
    await walk(service, TO_TARGET_GROUPS)
    reply = await answer(service, "sköra äldre och hemsjukvrd")
    assert f"»hemsjukvrd« läste jag som {HOME_CARE}." in reply
    assert (await draft(service)).target_groups == [ELDERLY, HOME_CARE]


def test_an_other_party_is_not_counted_among_the_portfolios_organisations() -> None:
    proposal = Proposal(organisations=["Region Halland", "övrig part: Göteborgs stad"])
    assert canonical_organisations(proposal) == ["Region Halland"]
