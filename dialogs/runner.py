"""One turn of the root dialog: continue what is active, else begin the root dialog.

This is the SDK's ``DialogExtensions.run_dialog`` without three things Omtanke does not use,
which together were about 0.4 ms of every turn:
- a ``DialogStateManager`` that loads and saves every memory scope (conversation, user,
  turn, settings …): our dialogs keep what they know in their own instance state, and
  ``OmtankeBot.on_turn`` saves the conversation state once, at the end of the turn;
- the skill protocol (end-of-conversation and reprompt from a parent bot): Omtanke is not a
  skill, and only Teams' own tokens are accepted;
- a "Bot State" trace activity with a snapshot of that memory, built on every turn and then
  dropped by the adapter outside the Bot Framework Emulator.
An exception from a dialog goes up to the adapter's error handler, as with the SDK's runner
when no dialog handles the error event (none of ours does).
"""

from __future__ import annotations

from botbuilder.core import StatePropertyAccessor, TurnContext
from botbuilder.dialogs import Dialog, DialogSet, DialogTurnResult, DialogTurnStatus


async def run_dialog(
    dialog: Dialog, turn_context: TurnContext, accessor: StatePropertyAccessor
) -> DialogTurnResult:
    """Continue the active dialog of the conversation, or begin `dialog` when none is."""
    dialog_set = DialogSet(accessor)
    dialog_set.add(dialog)
    dialog_context = await dialog_set.create_context(turn_context)
    result = await dialog_context.continue_dialog()
    if result.status == DialogTurnStatus.Empty:
        result = await dialog_context.begin_dialog(dialog.id)
    return result
