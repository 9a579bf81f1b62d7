"""Log lines nobody can forge: control characters in a message are escaped.

User-controlled values are logged with %r already; this formatter is the net under that: a
newline, carriage return, terminal escape or Unicode line separator in the rendered message
becomes its escape (\\n, \\x1b, \\u2028), so one record is always one line. Tracebacks are
formatted as usual, after the message.

The same escapes serve the admin tools, which write user text to a terminal: escape_controls
for text, json_safe for JSON.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

# C0 and C1 controls (\r, \n, ESC, NEL, …), the Unicode line and paragraph separators, the
# bidi embeddings, overrides and isolates, and lone surrogates (which a JSON body can carry
# as "\ud800" and which would make the stream's encoder fail mid-line).
_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# The same but C0: json.dumps escapes those itself inside strings.
_JSON_RAW = re.compile(
    r"[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def escape_controls(text: str) -> str:
    """The text with every control or bidi character written as its escape."""
    return _CONTROL.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)


def json_safe(text: str) -> str:
    """JSON text (from json.dumps) with those characters as \\u escapes: the same value when
    read back, and nothing a terminal obeys (json.dumps writes C1 controls, separators,
    bidi controls and lone surrogates raw when ensure_ascii is off). Inside strings json.dumps
    has escaped every C0 control already; a raw line break or tab is the indentation's."""
    return _JSON_RAW.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


class SafeFormatter(logging.Formatter):
    """A Formatter whose message part never holds a control character."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        """Format with the message escaped; the exception text is added after, unescaped."""
        original = record.message
        record.message = escape_controls(original)
        try:
            return super().formatMessage(record)
        finally:
            record.message = original


def configure_logging(level: int | str, fmt: str, stream: TextIO | None = None) -> None:
    """Log to stream (standard error) at level through SafeFormatter (for basicConfig)."""
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(SafeFormatter(fmt))
    logging.basicConfig(level=level, handlers=[handler], force=True)
