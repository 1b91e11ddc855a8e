"""Per-user rate limit, so one user cannot monopolise the bot; and a group's pace.

A token bucket per user (``rate`` questions per ``per`` seconds, bursts up to
``burst``), kept in a bounded LRU so memory does not grow with the number of users.

Telegram lets a bot send 20 messages a minute to one group; python-telegram-bot's rate
limiter holds the rest back, so in a busy group answers arrive minutes late.
``GroupPacer`` notices a group nearing that pace while a message still goes out at once,
so the group can be told, once per busy spell, that answers will be slow.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

GROUP_MESSAGES_PER_MINUTE = 20  # Telegram's limit per group; AIORateLimiter's default too


class UserRateLimiter:
    def __init__(
        self,
        rate: float = 20,
        per: float = 60.0,
        burst: int = 8,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.refill = rate / per
        self.burst = burst
        self.capacity = capacity
        self._clock = clock
        self._buckets: OrderedDict[int, tuple[float, float, bool]] = OrderedDict()  # tokens, stamp, warned

    def allow(self, user_id: int) -> tuple[bool, bool]:
        """(allowed, should_warn): warn once per run of refusals, not on every message."""
        now = self._clock()
        tokens, stamp, warned = self._buckets.pop(user_id, (float(self.burst), now, False))
        tokens = min(float(self.burst), tokens + (now - stamp) * self.refill)
        if tokens >= 1.0:
            self._buckets[user_id] = (tokens - 1.0, now, False)
            allowed, warn = True, False
        else:
            self._buckets[user_id] = (tokens, now, True)
            allowed, warn = False, not warned
        while len(self._buckets) > self.capacity:
            self._buckets.popitem(last=False)
        return allowed, warn

    def retry_after(self, user_id: int) -> int:
        """Whole seconds until ``user_id`` may ask again (at least 1)."""
        now = self._clock()
        tokens, stamp, _ = self._buckets.get(user_id, (float(self.burst), now, False))
        tokens = min(float(self.burst), tokens + (now - stamp) * self.refill)
        return max(1, math.ceil((1.0 - tokens) / self.refill)) if tokens < 1.0 else 1

    def __len__(self) -> int:
        return len(self._buckets)


class GroupPacer:
    """Counts messages sent to each group in the last minute; says when to warn it."""

    def __init__(
        self,
        per_minute: int = GROUP_MESSAGES_PER_MINUTE,
        warn_at: int | None = None,
        capacity: int = 5000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        # Warn while there is still room for the warning itself to go out without waiting.
        self.warn_at = warn_at if warn_at is not None else max(1, per_minute - 5)
        self.capacity = capacity
        self._clock = clock
        self._groups: OrderedDict[int, tuple[deque[float], bool]] = OrderedDict()  # sends, warned this spell

    def note(self, chat_id: int, messages: int = 1) -> bool:
        """Record ``messages`` about to go to ``chat_id``; True when the group should be told once."""
        now = self._clock()
        sent, warned = self._groups.pop(chat_id, (deque(), False))
        while sent and now - sent[0] >= 60.0:
            sent.popleft()
        if not sent:
            warned = False  # a quiet minute ends the busy spell
        sent.extend([now] * messages)
        warn = not warned and len(sent) >= self.warn_at
        self._groups[chat_id] = (sent, warned or warn)
        while len(self._groups) > self.capacity:
            self._groups.popitem(last=False)
        return warn
