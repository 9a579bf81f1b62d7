"""The learned second opinion on what a message asks for (dialogs.intent_model): it speaks only
where the rules found nothing, it never starts a proposal by itself, and it can be trained."""

from __future__ import annotations

import pytest

from dialogs import intent_model, intents
from dialogs.intent_train import CLASSES, fit_dense
from dialogs.intents import Intent, _by_rules, classify
from presentation.texts import Texts
from tests.rug_scenario import ANNA
from tests.service import Service
from tests.test_front_door import CLIENT, last_card, read, titles

TEXTS = Texts.load()
CHAT = "a:personal-aad-anna"

# Messages of the labelled sets that the data file's words do not recognise.
MODEL_ONLY = [
    ("vidare med utkastet", Intent.CONTINUE),
    ("släng utkastet", Intent.CANCEL),
    ("visa inkorgen för rug", Intent.RUG_CASES),
    ("tack, det var precis det jag behövde veta", Intent.THANKS),
]


@pytest.mark.parametrize(("text", "intent"), MODEL_ONLY)
def test_the_model_recognises_what_the_rules_miss(text: str, intent: Intent) -> None:
    assert _by_rules(text, None).intent == Intent.NONE
    found = classify(text)
    assert (found.intent, found.sure) == (intent, False)


def test_the_model_is_not_asked_inside_a_dialog_or_for_a_question() -> None:
    # Inside a dialog only the dialog's own commands count: the model is not consulted.
    assert classify("släng utkastet", frozenset({Intent.CANCEL})).intent == Intent.NONE
    assert classify("Vad är nära vård?").intent == Intent.NONE
    assert classify("Vilka är framgångsfaktorerna i målbilden?").intent == Intent.NONE


def test_the_packaged_model_knows_every_class_it_is_trained_for() -> None:
    assert intent_model.model().classes == CLASSES
    assert 0.5 <= intent_model.THRESHOLD < 1


def test_training_learns_from_a_handful_of_messages() -> None:
    rows = [
        {"text": text, "label": label}
        for label, texts in {
            "cancel": ["släng det", "släng allt", "kasta det här"],
            "continue": ["vidare nu", "kör vidare", "vidare med det"],
        }.items()
        for text in texts
    ]
    questions = [("Vad är nära vård?", True), ("Vem sitter i RUG?", True)]
    learned = fit_dense(rows, questions)
    assert intent_model.predict("släng", learned)[0] == "cancel"
    assert intent_model.predict("vidare", learned)[0] == "continue"
    assert intent_model.predict("Vad är nära vård?", learned)[0] == "question"


async def test_an_idea_only_the_model_recognises_is_offered_not_started(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whatever the packaged model says, a model-only "idea" asks before starting anything.
    monkeypatch.setattr(intents, "predict", lambda text, learned=None: ("idea", 0.99))
    assert await service.say(ANNA, "skriva ihop en grej till RUG", locale=CLIENT["sv"]) == 201

    offer = last_card(service)
    assert TEXTS.get("idea_offer.question", "sv") in read(offer)
    assert titles(offer) == [TEXTS.get("idea_offer.yes", "sv"), TEXTS.get("idea_offer.no", "sv")]
    assert await service.services.records.proposals.draft_of("aad-anna") is None


async def test_a_model_only_command_gets_its_reply_over_http(service: Service) -> None:
    assert await service.say(ANNA, "släng utkastet", locale=CLIENT["sv"]) == 201
    assert service.connector.texts_to(CHAT)[-1] == TEXTS.get("general.nothing_to_cancel", "sv")
