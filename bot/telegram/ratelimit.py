"""Per-user rate limit, so one user cannot monopolise the bot.

A token bucket per user (``rate`` questions per ``per`` seconds, bursts up to
``burst``), kept in a bounded LRU so memory does not grow with the number of users.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


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

    def __len__(self) -> int:
        return len(self._buckets)
