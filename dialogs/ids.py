"""Explicit ids for dialogs, prompts and state properties.

They are stored in users' saved conversations: renaming one breaks conversations in progress,
so they are spelled out here instead of being taken from class names.
"""

ROOT_DIALOG = "omtanke.root"
PROPOSAL_DIALOG = "omtanke.proposal"
IDEA_OFFER_DIALOG = "omtanke.idea_offer"

DIALOG_STATE_PROPERTY = "omtanke.dialog_state"
