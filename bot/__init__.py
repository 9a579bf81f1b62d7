"""The service around the dialogs: HTTP app, adapter, delivery and the `omtanke` command."""

from dialogs.deferred_imports import defer_date_time_recognizers

# Before any module here imports botbuilder.dialogs (see dialogs.deferred_imports).
defer_date_time_recognizers()
