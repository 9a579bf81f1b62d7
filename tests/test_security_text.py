"""Issue 16's text holes, over the real HTTP endpoint and command line: personnummer however
written (item 4), forged log lines (item 5), erase-user and other people's words (item 7) and
what the admin tools write (item 9)."""

from __future__ import annotations

import pytest

from tests.rug_scenario import ANNA, RUT
from tests.service import Service

# ----- 4. personnummer however written -----------------------------------------------------------

# 19900101-1239 passes the Luhn check; 900161-1236 is a samordningsnummer (day 01 + 60).
DISGUISED = {
    "narrow no-break space": "900101\u202f1239",
    "HTML no-break space": "900101&nbsp;1239",
    "HTML non-breaking hyphen": "900101&#8209;1239",
    "left-to-right mark": "9001\u200e01-1239",
    "behind a lookalike": "05 05 900101 1239",
    "samordningsnummer, HTML line break": "900161<br>1236",
}
REFUSAL = "verkar innehålla ett personnummer"


def _stored(service: Service) -> bytes:
    data = service.settings.data_dir
    return b"".join(p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file())


@pytest.mark.parametrize("written", DISGUISED.values(), ids=DISGUISED.keys())
async def test_a_disguised_personnummer_is_refused_in_every_field(
    service: Service, written: str
) -> None:
    assert await service.say(ANNA, "Jag har en idé") == 201
    # Each text carries a marker: if any of it were stored, the marker would be.
    escalate = {"action": "escalate", "question": "x" * 498 + " MARK-ESC " + written}
    decide = {"action": "decide", "proposal": "OH-2026-0001", "outcome": "bifallen",
              "motivation": f"MARK-DEC {written}"}  # fmt: skip
    statuses = [
        await service.say(ANNA, f"MARK-TITLE {written}"),  # a dialog field, typed
        await service.click(ANNA, {"action": "step", "step": "title", "text": written}),
        await service.click(ANNA, escalate),  # 500 characters in only after the check
        await service.click(ANNA, {"action": "step", f"MARK-KEY {written}": "x"}),
        await service.click(RUT, decide),
    ]

    assert statuses == [201] * 5
    anna = service.connector.texts_to("a:personal-aad-anna")
    assert all(REFUSAL in text for text in anna[-4:]), anna[-4:]
    assert REFUSAL in service.connector.texts_to("a:personal-aad-rut")[-1]
    stored = _stored(service)
    assert b"MARK-" not in stored
    assert await service.services.records.escalations.all() == []
    draft = await service.services.records.proposals.draft_of("aad-anna")
    assert draft is not None and draft.proposal.title == ""


async def test_a_date_range_in_a_dialog_field_is_not_taken_for_a_personnummer(
    service: Service,
) -> None:
    assert await service.say(ANNA, "Jag har en idé") == 201

    # Read as 2026-01-05 + "–2026" before: a valid date and a Luhn digit that fits.
    assert await service.say(ANNA, "Pilot 2026-01-05–2026-04-05") == 201

    assert REFUSAL not in service.connector.texts_to("a:personal-aad-anna")[-1]
    draft = await service.services.records.proposals.draft_of("aad-anna")
    assert draft is not None and draft.proposal.title == "Pilot 2026-01-05–2026-04-05"
