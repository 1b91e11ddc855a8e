"""Per-conversation follow-up memory that stays bounded however many people talk.

Each conversation keeps only its last Frame (biologics + aspect). Entries expire after
being idle for ``ttl`` seconds and the least recently used go first once ``capacity``
is reached, so memory is O(capacity), not O(users ever seen).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from bot.core.matching import Frame, Match

# "compare them" compares the biologics of the last few turns.
RECENT_BIOLOGICS = 3

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

    def prune(self, revise: Callable[[Frame], Frame | None]) -> int:
        """Replace every frame by ``revise(frame)`` (None drops it); return how many were dropped.

        Used when the knowledge base is reloaded: a conversation keeps its follow-up
        context where the biologics, aspects and answer ids it holds still exist.
        """
        dropped = 0
        for key, (stamp, frame) in list(self._frames.items()):
            revised = revise(frame)
            if revised is None:
                del self._frames[key]
                dropped += 1
            elif revised is not frame:
                self._frames[key] = (stamp, revised)
        return dropped


def next_frame(
    previous: Frame | None,
    match: Match,
    answer_id: str | None,
    suggestions: tuple[str, ...],
    answered: bool,
    question: str,
) -> Frame | None:
    """What the conversation remembers after this turn.

    An answer about biologics replaces the follow-up frame; anything else keeps it, so a
    stray "what's the weather" does not make "and is it safe?" lose its subject.
    Suggestions on offer are remembered with the question that produced them, so "2"
    can pick one and the original wording is learnt.
    """
    base = previous or Frame()
    biologics, aspect = base.biologics, base.aspect
    recent = base.recent
    subject: tuple[str, ...] = ()
    if answered and match.slots.biologics:
        subject, aspect = match.slots.biologics, match.slots.aspect
    elif match.reason == "not_covered" and match.extraction is not None:
        # "PRP for hair loss?" is not covered, but PRP stays the subject: "what about fine
        # lines then" asks about PRP.
        subject = tuple(dict.fromkeys(h.value for h in match.extraction.of("bio")))
        aspect = None if subject else aspect
    if subject:
        biologics = subject
        merged = [b for b in recent if b not in biologics] + list(biologics)
        recent = tuple(merged[-RECENT_BIOLOGICS:])
    new = Frame(
        biologics=biologics,
        aspect=aspect,
        recent=recent,
        answer_id=answer_id if answered and answer_id else base.answer_id,
        suggestions=suggestions,
        asked=question if suggestions else "",
    )
    return None if new == Frame() else new

