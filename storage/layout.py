"""Names of everything stored: tables, logs and key prefixes, in one place.

A backend maps these names to its own files or containers; records, admin and the bot refer
to data only through these names.
"""

from __future__ import annotations

# Tables (storage.base.RecordStore).
PROPOSALS = "proposals"
ESCALATIONS = "escalations"
OUTBOX = "outbox"
# Small shared records: id counters, leases, the RUG card each proposal was posted as, and
# erase-user's pseudonym key (kept with the data, so a restored backup gives the same names).
META = "meta"
PSEUDONYM_KEY = "admin/pseudonym-key"
TABLES = (PROPOSALS, ESCALATIONS, OUTBOX, META)

# Append-only logs (storage.base.AppendLog).
AUDIT = "audit"
FEEDBACK = "feedback"
LOGS = (AUDIT, FEEDBACK)
AUDIT_FIELDS = ("at", "who", "action", "subject", "details")
# An audit entry's "who" when no one is known: a stored value that old entries carry too.
UNKNOWN_WHO = "okänd"

# Key prefixes in the key-value store (storage.base.KeyValueStore). Bot state (dialog stacks)
# uses the SDK's own keys, which start with the channel id ("msteams/…", "terminal/…").
DRAFT = "draft/"
STASH = "draft-stash/"
PERSON = "person/"
CONVERSATION = "reference/"
CHANNEL = "channel/"
RUG_CHANNEL = CHANNEL + "rug"
COORDINATOR_CHANNEL = CHANNEL + "coordinators"
# Keys that belong to one person (erase-user looks there first).
PERSONAL_PREFIXES = (DRAFT, STASH, PERSON)
