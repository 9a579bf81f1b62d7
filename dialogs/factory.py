"""Builds the dialog tree once per process."""

from __future__ import annotations

from botbuilder.dialogs import Dialog

from dialogs.ports import DialogServices
from dialogs.proposal_dialog import ProposalDialog
from dialogs.root_dialog import IdeaOfferDialog, RootDialog


def build_root_dialog(services: DialogServices) -> RootDialog:
    """The root dialog with every child dialog it can start."""
    children: list[Dialog] = [ProposalDialog(services), IdeaOfferDialog()]
    return RootDialog(services, children)
