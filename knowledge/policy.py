"""The decline policy: questions that must never get knowledge text, as data.

The rules live in data/decline_policy.json (knowledge.loader reads and validates them).
Each rule has a reason and a scope. "sensitive" (medicine, a patient, HR, IT: the user
should go to a person) beats "out_of_scope" (not about nära vård in Halland). An
"unsupported_detail" (who sits in a group, sums of money, how long things take) is a
question on the knowledge's own topics that asks for something the sources do not give:
it declines as low_confidence unless the chosen entry's own text names that word.

Scope "whole" runs on the whole folded message, so "jag har feber och …" is caught even in
a self-description; scope "question" runs on the message without the asker's
self-description, because "jag jobbar på IT-support och …" says who asks, not what.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

REASONS = ("sensitive", "out_of_scope", "unsupported_detail")
SCOPES = ("whole", "question")


@dataclass(frozen=True)
class Rule:
    """One rule of the policy: an id, why it exists, and its compiled patterns."""

    id: str
    reason: str
    scope: str
    why: str
    patterns: tuple[re.Pattern[str], ...]


class DeclinePolicy:
    """The rules in file order, grouped by what they decide and where they look."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        # The groups are what answering walks: built once, each in file order.
        self._buckets = {
            (reason, scope): [p for r in self.rules if (r.reason, r.scope) == (reason, scope)
                              for p in r.patterns]
            for reason in REASONS for scope in SCOPES
        }

    def _bucket(self, reason: str, scope: str) -> list[re.Pattern[str]]:
        return self._buckets[(reason, scope)]

    def whole_reason(self, whole: str) -> str | None:
        """"sensitive" when a whole-message rule says so, else None (checked first)."""
        if any(p.search(whole) for p in self._bucket("sensitive", "whole")):
            return "sensitive"
        return None

    def question_reason(self, whole: str, question: str) -> str | None:
        """The decline reason of the remaining rules, sensitive before out of scope."""
        if any(p.search(question) for p in self._bucket("sensitive", "question")):
            return "sensitive"
        if any(p.search(whole) for p in self._bucket("out_of_scope", "whole")):
            return "out_of_scope"
        if any(p.search(question) for p in self._bucket("out_of_scope", "question")):
            return "out_of_scope"
        return None

    def details(self, whole: str, question: str) -> list[str]:
        """The unsupported details the message asks for (the matched text of each rule)."""
        found: list[str] = []
        for scope, text in (("whole", whole), ("question", question)):
            found.extend(m.group(0) for p in self._bucket("unsupported_detail", scope)
                         if (m := p.search(text)))
        return found
