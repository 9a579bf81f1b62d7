"""The SDK's date-time recognizers load on first use, not at start-up (dialogs.deferred_imports).

Each check runs in a fresh interpreter: the test process has long imported the SDK.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str) -> str:
    """Run code in a new interpreter at the repository root; return what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_service_starts_without_the_date_time_recognizers() -> None:
    out = run_python(
        """
        import sys
        from bot.app import create_app
        from bot.settings import Settings
        import botbuilder.dialogs

        create_app(Settings())
        loaded = sorted(m for m in sys.modules if m.startswith("recognizers_date_time."))
        print(type(sys.modules["recognizers_date_time"]).__name__, loaded)
        """
    )
    assert out == "DeferredModule []"


def test_the_first_date_time_prompt_recognises_a_date() -> None:
    # A DateTimePrompt run through the SDK's TestAdapter, after the stand-in was installed.
    out = run_python(
        """
        import asyncio, sys
        import bot.app  # installs the stand-in, then imports botbuilder.dialogs
        from botbuilder.core import ConversationState, MemoryStorage, TurnContext
        from botbuilder.core.adapters import TestAdapter
        from botbuilder.dialogs import DialogSet, DialogTurnStatus
        from botbuilder.dialogs.prompts import DateTimePrompt, PromptOptions
        from botbuilder.schema import Activity, ActivityTypes

        assert type(sys.modules["recognizers_date_time"]).__name__ == "DeferredModule"
        state = ConversationState(MemoryStorage())
        dialogs = DialogSet(state.create_property("dialog_state"))
        dialogs.add(DateTimePrompt("when", default_locale="en-us"))
        found = []

        async def logic(turn: TurnContext) -> None:
            dc = await dialogs.create_context(turn)
            result = await dc.continue_dialog()
            if result.status == DialogTurnStatus.Empty:
                await dc.prompt("when", PromptOptions(
                    prompt=Activity(type=ActivityTypes.message, text="When?")))
            elif result.status == DialogTurnStatus.Complete:
                found.append(result.result[0].timex)
                await turn.send_activity("ok")
            await state.save_changes(turn)

        async def main() -> None:
            adapter = TestAdapter(logic)
            step = await adapter.send("hi")
            step = await step.assert_reply("When?")
            step = await step.send("5th of May 2025")
            await step.assert_reply("ok")

        asyncio.run(main())
        real = sys.modules["recognizers_date_time"]
        print(found, type(real).__name__, hasattr(real, "DateTimeRecognizer"))
        """
    )
    assert out == "['2025-05-05'] module True"


def test_another_name_loads_the_real_package() -> None:
    out = run_python(
        """
        import sys
        import dialogs  # installs the stand-in
        import recognizers_date_time

        stand_in = recognizers_date_time
        recognizer = stand_in.DateTimeRecognizer  # not on the stand-in: the real package loads
        real = sys.modules["recognizers_date_time"]
        print(type(stand_in).__name__, type(real).__name__, recognizer is real.DateTimeRecognizer)
        """
    )
    assert out == "DeferredModule module True"
