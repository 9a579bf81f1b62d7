"""The conversations: dialogs, prompts and replies on the Bot Framework SDK."""

from dialogs.deferred_imports import defer_date_time_recognizers

# Before any module here imports botbuilder.dialogs (see dialogs.deferred_imports).
defer_date_time_recognizers()
