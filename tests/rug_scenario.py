"""The people and steps of the RUG scenarios over HTTP, shared by the workflow, fault and
data-admin tests: Anna proposes, Rut and Rolf sit in RUG, Ada is an admin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.delivery import RetryPolicy
from bot.settings import Settings
from domain.proposal import Initiator, Proposal
from tests.builders import card_actions, card_of, card_texts, user
from tests.service import Service

ANNA = user("aad-anna", "Anna Andersson")
RUT = user("aad-rut", "Rut Rugsson")
ROLF = user("aad-rolf", "Rolf Rugman")
ADA = user("aad-ada", "Ada Admin")
CHANNEL = "19:rug@thread.tacv2"
FAST = RetryPolicy(base=0.05, cap=0.2, poll=0.2)


def write_people(path: Path, people: list[tuple[dict[str, Any], str]]) -> Path:
    """A coordinators' people list (RUG members or admins) of (Teams user, organisation)."""
    path.write_text(
        json.dumps(
            [
                {"name": p["name"], "aad_object_id": p["aadObjectId"], "organisation": org}
                for p, org in people
            ]
        ),
        encoding="utf-8",
    )
    return path


def rug_settings(folder: Path) -> Settings:
    """Rut and Rolf in RUG, Ada an admin, a data folder of its own in folder."""
    rug = write_people(folder / "rug.json", [(RUT, "Region Halland"), (ROLF, "Varbergs kommun")])
    admins = write_people(folder / "admins.json", [(ADA, "Region Halland")])
    return Settings(data_dir=folder / "data", port=0, rug_members_path=rug, admins_path=admins)


async def outbox_drained(service: Service) -> bool:
    """Whether every queued delivery has gone out."""
    return not await service.services.records.outbox.pending()


async def meet_everyone(service: Service) -> None:
    """Anna and Rut have a personal chat with the bot; Rolf registers the RUG channel."""
    assert await service.say(ANNA, "hjälp") == 201
    assert await service.say(RUT, "hjälp") == 201
    assert (
        await service.say(
            ROLF,
            "registrera RUG-kanal",
            conversation_id=f"{CHANNEL};messageid=111",
            conversation_type="channel",
        )
        == 201
    )


def complete_proposal(service: Service, title: str, contact: str = "Rut Rugsson") -> Proposal:
    """A proposal that meets skallkrav 1–3."""
    return Proposal(
        title=title,
        background="Äldre skrivs ut utan samordnad planering.",
        description="Ett gemensamt utskrivningsteam.",
        organisations=["Region Halland", "Varbergs kommun"],
        target_groups=[service.services.target_groups.groups[0].name],
        goal_properties=["Personcentrerad"],
        success_factors={"Trygg": "Samma sjuksköterska före och efter."},
        expected_effects="Färre återinskrivningar.",
        follow_up="Vi mäter återinskrivningar.",
        initiator=Initiator(
            name="Anna Andersson", organisation="Varbergs kommun", aad_object_id="aad-anna"
        ),
        rug_contact=contact,
    )


async def submit_directly(service: Service, proposal: Proposal) -> Proposal:
    """Submit through the workflow and deliver its messages, as the dialog does."""
    services = service.services
    draft = await services.records.proposals.new_draft("aad-anna", proposal)
    submitted, _created, deliver = await services.workflow.submit("aad-anna", draft)
    await services.deliver_now(deliver)
    return submitted


def dialog_answers(service: Service) -> list[str]:
    """What Anna types, from "Jag har en idé" to the RUG contact (the last answer)."""
    group = service.services.target_groups.groups[0].name
    return [
        "Jag har en idé",
        "Trygg hemgång",
        "Äldre skrivs ut utan samordnad planering.",
        "Ett gemensamt utskrivningsteam.",
        "Region Halland, Varbergs kommun",
        group,
        "Trygg",
        "Samma sjuksköterska före och efter.",
        "Färre återinskrivningar.",
        "Vi mäter återinskrivningar.",
        "hoppa över",
        "hoppa över",
        "Varbergs kommun, hemsjukvården",
        "Rut Rugsson",
    ]


async def fill_in_the_dialog(service: Service) -> dict[str, Any]:
    """Anna answers every step over HTTP; returns the summary card's submit data."""
    for text in dialog_answers(service):
        assert await service.say(ANNA, text) == 201
    summary = card_of(service.connector.messages()[-1])
    submit = [a["data"] for a in card_actions(summary) if a["data"]["action"] == "submit"]
    assert submit, card_texts(summary)
    return submit[0]
