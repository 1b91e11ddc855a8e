"""Per-conversation follow-up memory that stays bounded however many people talk.

Each conversation keeps only its last Frame (biologics + aspect). Entries expire after
being idle for ``ttl`` seconds and the least recently used go first once ``capacity``
is reached, so memory is O(capacity), not O(users ever seen).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from bot.core.matcher import Frame

DEFAULT_TTL = 30 * 60.0
DEFAULT_CAPACITY = 5000


class ContextStore:
    def __init__(
        self, ttl: float = DEFAULT_TTL, capacity: int = DEFAULT_CAPACITY, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if capacity < 1 or ttl <= 0:
            raise ValueError("capacity must be >= 1 and ttl > 0")
        self.ttl = ttl
        self.capacity = capacity
        self._clock = clock
        self._frames: OrderedDict[Hashable, tuple[float, Frame]] = OrderedDict()

    def get(self, key: Hashable) -> Frame | None:
        item = self._frames.get(key)
        if item is None:
            return None
        stamp, frame = item
        if self._clock() - stamp > self.ttl:
            del self._frames[key]
            return None
        return frame

    def put(self, key: Hashable, frame: Frame | None) -> None:
        if frame is None:
            return
        self._frames[key] = (self._clock(), frame)
        self._frames.move_to_end(key)
        self._evict()

    def forget(self, key: Hashable) -> None:
        self._frames.pop(key, None)

    def _evict(self) -> None:
        now = self._clock()
        while self._frames:
            key, (stamp, _) = next(iter(self._frames.items()))
            if len(self._frames) > self.capacity or now - stamp > self.ttl:
                del self._frames[key]
            else:
                break

    def __len__(self) -> int:
        return len(self._frames)
