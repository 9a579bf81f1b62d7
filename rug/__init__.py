"""The RUG process: endorsement, forwarding, decisions and komplettering, over the domain's
transitions and the storage interfaces; the cards and documents RUG reads. No botbuilder."""
