"""Log lines nobody can forge: control characters in a message are escaped.

User-controlled values are logged with %r already; this formatter is the net under that: a
newline, carriage return, terminal escape or Unicode line separator in the rendered message
becomes its escape (\\n, \\x1b, \\u2028), so one record is always one line. Tracebacks are
formatted as usual, after the message.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """The text with every control or bidi character written as its escape."""
    return _CONTROL.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)


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


def configure_logging(level: int | str, fmt: str, stream: TextIO = sys.stderr) -> None:
    """Log to stream at level through SafeFormatter (replacing logging.basicConfig)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter(fmt))
    logging.basicConfig(level=level, handlers=[handler], force=True)
