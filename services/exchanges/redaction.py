"""Keeping credentials out of log lines and error details.

ccxt logs every request and response at DEBUG (method, URL with its signed query string,
headers with the API key, body) and puts URLs in its exception messages. Every ccxt client
the platform builds logs through `CCXT_LOGGER`, whose filter rewrites each record with
`Redactor.scrub`: the credential values of the clients in use become `***`, and URL query
strings `?…`. Anything the platform logs about an exchange failure goes through `scrub` too.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable

__all__ = ["CCXT_LOGGER", "REDACTED", "Redactor", "RedactingFilter", "redactor"]

REDACTED = "***"
CCXT_LOGGER = "services.exchanges.ccxt"
MIN_SECRET_LENGTH = 4
"""Shorter values (a `uid` of "7") are not searched for: they would redact half of every line."""
_QUERY = re.compile(r"(https?://[^\s?#'\"]*)\?[^\s#'\"]*")


class Redactor:
    """The secret values currently in use, and `scrub(text)` to take them out of text.

    Values are counted: two accounts may share a key, and closing one must not unlist it.
    Thread-safe (log records may come from worker threads).
    """

    def __init__(self) -> None:
        self._values: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, values: Iterable[str]) -> None:
        with self._lock:
            self._values.update(value for value in values if len(value) >= MIN_SECRET_LENGTH)
            self._pattern = None

    def discard(self, values: Iterable[str]) -> None:
        with self._lock:
            self._values.subtract(value for value in values if len(value) >= MIN_SECRET_LENGTH)
            self._values = +self._values
            self._pattern = None

    def scrub(self, text: str) -> str:
        """`text` without URL query strings and without any registered secret value."""
        text = _QUERY.sub(r"\1?…", text)
        with self._lock:
            if self._pattern is None and self._values:
                # Longest first, so a secret containing another is replaced whole.
                alternatives = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(value) for value in alternatives))
            pattern = self._pattern
        return pattern.sub(REDACTED, text) if pattern is not None else text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message through a `Redactor` (and drops its exception text,
    which would be formatted unscrubbed)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep only its template
            message = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            message += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = self.redactor.scrub(message), None
        return True


redactor = Redactor()
"""The process's registry of credential values in use (ccxt clients register theirs)."""

_ccxt_logger = logging.getLogger(CCXT_LOGGER)
_ccxt_logger.addFilter(RedactingFilter(redactor))
