"""Logging for a running bot: the token never printed, a flood of one line never written.

The token is part of every Bot API URL, so it turns up in exception messages and
tracebacks (python-telegram-bot's own "The token `...` was rejected"), not only in
messages; it is therefore removed from the fully formatted record, traceback included.
A fault that repeats (an exhausted file-descriptor table, a database that stays locked)
must not write hundreds of thousands of identical lines: each message template is let
through a few times a minute, then counted and summarised.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import quote

REDACTED = "<token>"


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes every spelling of the secrets from the whole text."""

    def __init__(self, secrets: list[str], fmt: str | None = None) -> None:
        super().__init__(fmt)
        spellings = {s for secret in secrets if secret for s in (secret, quote(secret, safe=""), quote(secret))}
        self._spellings = sorted(spellings, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        for spelling in self._spellings:
            text = text.replace(spelling, REDACTED)
        return text


class RepeatFilter(logging.Filter):
    """Lets each (logger, level, template) through ``burst`` times per ``period`` seconds."""

    def __init__(self, burst: int = 5, period: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst = burst
        self.period = period
        self._clock = clock
        self._windows: dict[tuple[str, int, str], tuple[float, int, int]] = {}  # start, passed, suppressed

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        start, passed, suppressed = self._windows.get(key, (now, 0, 0))
        if now - start >= self.period:
            if suppressed:
                record.msg = f"{record.msg} [{suppressed} more like this in the last {now - start:.0f} s not shown]"
            start, passed, suppressed = now, 0, 0
        if passed >= self.burst:
            self._windows[key] = (start, passed, suppressed + 1)
            return False
        self._windows[key] = (start, passed + 1, suppressed)
        if len(self._windows) > 10_000:  # templates are few; this only guards against a bug
            self._windows.clear()
        return True


def configure_logging(token: str, level: int = logging.INFO) -> None:
    """Root logging for `regenbot run`: redacted, rate-limited, one line per event."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    formatter = RedactingFormatter([token], "%(asctime)s %(levelname)s %(name)s: %(message)s")
    repeats = RepeatFilter()
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
        handler.addFilter(repeats)
