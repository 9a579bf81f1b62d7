"""`omtanke chat`: the same bot in the terminal, cards as text, buttons pressed by number."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from botbuilder.schema import ChannelAccount

from bot.card_text import CardInput, RenderedCard, format_card, render_card
from bot.chat import ChatSession, current_value_text, input_value, run_chat
from bot.services import Services, open_services
from bot.settings import Settings
from knowledge.kb import KnowledgeBase
from presentation.texts import Texts
from tests.commands import run_omtanke

WELCOME_BUTTONS = "  [1] Jag har en idé   [2] Vad är nära vård?   [3] Mina förslag   [4] Hjälp"
SOURCE_LINE = "Källa: Färdplan för god och nära vård och omsorg i Halland"


@pytest.fixture
async def services(tmp_path: Path, knowledge: KnowledgeBase) -> AsyncIterator[Services]:
    """Real services on a fresh data folder."""
    opened = await open_services(Settings(data_dir=tmp_path / "data"), kb=knowledge)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def written() -> list[str]:
    """Everything the terminal would print."""
    return []


@pytest.fixture
def session(services: Services, written: list[str]) -> ChatSession:
    """A terminal session for Anna, printing into `written`."""
    anna = ChannelAccount(id="terminal-anna", name="Anna Andersson", aad_object_id="aad-anna")
    return ChatSession(services, written.append, anna)


def scripted(lines: list[str]) -> tuple[list[str], object]:
    """A `read` that answers prompts from lines, then ends like Ctrl-D; and the prompts seen."""
    prompts: list[str] = []
    feed: Iterator[str] = iter(lines)

    def read(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    return prompts, read


async def test_start_shows_the_welcome_card_as_text_with_numbered_buttons(
    session: ChatSession, written: list[str]
) -> None:
    """The welcome card becomes lines of text; its buttons are numbered in order."""
    await session.start()

    assert len(written) == 1
    lines = written[0].splitlines()
    assert lines[0] == "HEJ ANNA! JAG ÄR OMTANKE."
    assert lines[-1] == WELCOME_BUTTONS
    assert [b.data for b in session.last_card.buttons] == [  # type: ignore[union-attr]
        {"action": "start_proposal"},
        {"action": "ask", "text": "Vad är nära vård?"},
        {"action": "my_proposals"},
        {"action": "help"},
    ]


async def test_find_button_by_number_or_title(session: ChatSession) -> None:
    """A typed number or button title picks that button; anything else is ordinary text."""
    await session.start()

    found = [session.find_button(typed) for typed in ("3", " mina FÖRSLAG ", "5", "0", "hej")]

    assert [b.data if b else None for b in found] == [
        {"action": "my_proposals"},
        {"action": "my_proposals"},
        None,
        None,
        None,
    ]


async def test_typed_question_gets_the_answer_with_its_source(
    session: ChatSession, written: list[str]
) -> None:
    """A question typed in the terminal is answered like in Teams, source included."""
    await session.say("vad är nära vård?")

    lines = written[-1].splitlines()
    assert "personcentrerat" in lines[0]
    assert lines[1] == SOURCE_LINE


async def test_text_reply_is_prefixed_with_the_bot_name(
    session: ChatSession, written: list[str]
) -> None:
    """A plain text reply reads as the bot speaking."""
    await session.say("mina förslag")

    assert written == ["Omtanke: Du har inga förslag ännu. Skriv ”Jag har en idé” för att börja."]


async def test_run_chat_presses_a_button_by_number_and_says_goodbye(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, knowledge: KnowledgeBase
) -> None:
    """The interactive loop: welcome, '2' presses 'Vad är nära vård?', '/quit' ends it."""
    monkeypatch.setenv("OMTANKE_CHAT_NAME", "Bertil")
    written: list[str] = []
    prompts, read = scripted(["2", "", "/quit", "never read"])

    code = await run_chat(
        Settings(data_dir=tmp_path / "data"), read, written.append, knowledge  # type: ignore[arg-type]
    )

    assert code == 0
    assert written[1].splitlines()[0] == "HEJ BERTIL! JAG ÄR OMTANKE."
    assert written[2].splitlines()[1] == SOURCE_LINE
    assert written[-1] == "Hej då!"
    assert prompts == ["\ndu> "] * 3


async def test_run_chat_ends_on_end_of_input(tmp_path: Path, knowledge: KnowledgeBase) -> None:
    """Ctrl-D (end of input) ends the chat politely, with exit code 0."""
    written: list[str] = []
    _prompts, read = scripted([])

    code = await run_chat(
        Settings(data_dir=tmp_path / "data"), read, written.append, knowledge  # type: ignore[arg-type]
    )

    assert (code, written[-1]) == (0, "Hej då!")


# --- card inputs ---------------------------------------------------------------------------

FORM = {
    "type": "AdaptiveCard",
    "body": [
        {"type": "TextBlock", "text": "Steg 2 av 9", "size": "Small"},
        {"type": "Input.Text", "id": "text", "label": "Rubrik", "placeholder": "Skriv här"},
        {
            "type": "Input.ChoiceSet",
            "id": "organisations",
            "label": "Organisationer",
            "isMultiSelect": True,
            "choices": [
                {"title": "Region Halland", "value": "region_halland"},
                {"title": "Varbergs kommun", "value": "varberg"},
                {"title": "Hylte kommun", "value": "hylte"},
            ],
        },
        {
            "type": "Input.ChoiceSet",
            "id": "choice",
            "label": "Vad vill du göra?",
            "choices": [
                {"title": "Fortsätt", "value": "continue"},
                {"title": "Börja om", "value": "restart"},
            ],
        },
        {"type": "Input.Toggle", "id": "agree", "title": "Jag har läst", "valueOn": "ja"},
    ],
    "actions": [
        {"type": "Action.Submit", "title": "Nästa", "data": {"action": "step", "step": "title"}},
        {
            "type": "Action.Submit",
            "title": "Avbryt",
            "data": {"action": "nav", "nav": "cancel"},
            "associatedInputs": "none",
        },
        {"type": "Action.OpenUrl", "title": "Mallen", "url": "https://example.org/mall"},
    ],
}


def inputs_by_id() -> dict[str, CardInput]:
    """The form's inputs as the terminal sees them."""
    return {item.id: item for item in render_card(FORM).inputs}


def test_render_card_lists_inputs_and_buttons() -> None:
    """A form card shows its text, its fields with numbered choices, and its buttons."""
    rendered = render_card(FORM)

    assert format_card(rendered, Texts.load()).splitlines() == [
        "Steg 2 av 9",
        "  [fält] Rubrik",
        "  [fält] Organisationer",
        "      1. Region Halland",
        "      2. Varbergs kommun",
        "      3. Hylte kommun",
        "  [fält] Vad vill du göra?",
        "      1. Fortsätt",
        "      2. Börja om",
        "  [fält] Jag har läst",
        "  [1] Nästa   [2] Avbryt   [3] Mallen",
    ]
    assert [(b.kind, b.uses_inputs) for b in rendered.buttons] == [
        ("Action.Submit", True),
        ("Action.Submit", False),
        ("Action.OpenUrl", True),
    ]
    assert rendered.buttons[2].url == "https://example.org/mall"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("ja", "ja"), ("J", "ja"), ("yes", "ja"), ("1", "ja"), ("nej", "false"), ("", "false")],
)
def test_toggle_value(typed: str, expected: str) -> None:
    """A toggle is on for yes-like answers (giving its valueOn), off for anything else."""
    assert input_value(inputs_by_id()["agree"], typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1, 3", "region_halland,hylte"),
        ("varbergs kommun; 1", "varberg,region_halland"),
        ("hylte", "hylte"),
        ("2", "varberg"),
        ("Kungsbacka kommun", "Kungsbacka kommun"),
        ("", ""),
    ],
)
def test_multi_choice_value_by_numbers_and_titles(typed: str, expected: str) -> None:
    """Several choices by number or title, comma- or semicolon-separated, as Teams joins them."""
    assert input_value(inputs_by_id()["organisations"], typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("2", "restart"), ("fortsätt", "continue"), ("continue", "continue"), ("1, 2", "continue")],
)
def test_single_choice_value_takes_one(typed: str, expected: str) -> None:
    """A single choice takes the first one named."""
    assert input_value(inputs_by_id()["choice"], typed) == expected


PREFILLED = {
    "type": "AdaptiveCard",
    "body": [
        {"type": "Input.Text", "id": "text", "label": "Rubrik", "value": "Trygg hemgång"},
        {
            "type": "Input.ChoiceSet",
            "id": "organisations",
            "label": "Organisationer",
            "isMultiSelect": True,
            "value": "region_halland,hylte",
            "choices": [
                {"title": "Region Halland", "value": "region_halland"},
                {"title": "Hylte kommun", "value": "hylte"},
            ],
        },
    ],
}


def test_untouched_prefilled_input_keeps_its_value() -> None:
    """Pressing Enter on a prefilled field sends what the card held, as Teams does."""
    text, orgs = render_card(PREFILLED).inputs

    assert [input_value(text, ""), input_value(orgs, " ")] == [
        "Trygg hemgång",
        "region_halland,hylte",
    ]
    assert [input_value(text, "Ny rubrik"), input_value(orgs, "2")] == ["Ny rubrik", "hylte"]
    assert [current_value_text(text), current_value_text(orgs)] == [
        "Trygg hemgång",
        "Region Halland, Hylte kommun",
    ]


def test_text_input_value_is_the_trimmed_text() -> None:
    """A text field gets what was typed, without surrounding spaces."""
    assert input_value(inputs_by_id()["text"], "  Trygg hemgång  ") == "Trygg hemgång"


# --- the real command ----------------------------------------------------------------------


def test_omtanke_chat_subprocess_answers_and_says_goodbye(tmp_path: Path) -> None:
    """`omtanke chat` with typed lines on stdin answers the question and ends on /quit."""
    done = run_omtanke(
        ["chat"], tmp_path / "data", stdin="vad är nära vård?\n/quit\n", OMTANKE_CHAT_NAME="Anna"
    )

    assert done.returncode == 0, done.stderr
    assert "HEJ ANNA! JAG ÄR OMTANKE." in done.stdout
    assert SOURCE_LINE in done.stdout
    assert done.stdout.rstrip().endswith("Hej då!")
    assert "Traceback" not in done.stderr


def test_choices_the_card_numbers_keep_their_own_numbers() -> None:
    factors = CardInput(
        "success_factors",
        "Input.ChoiceSet",
        "Framgångsfaktorer",
        choices=[("4. Hälsofrämjande", "Hälsofrämjande"), ("7. Trygg", "Trygg")],
        multi=True,
    )
    assert input_value(factors, "7") == "Trygg"
    shown = format_card(RenderedCard([], [factors], []), Texts.load()).splitlines()
    assert shown[1:] == ["      4. Hälsofrämjande", "      7. Trygg"]
