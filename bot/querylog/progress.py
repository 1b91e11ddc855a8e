"""Trainees' quiz progress: read once per trainee, written through the query log's queue.

Scheduling needs read-after-write within a session, so each trainee's Leitner state is
cached in memory (bounded LRU) after the first read; writes go through QueryLog's
batched, fault-tolerant queue like every other record, so a slow or locked database
never stalls a quiz.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from bot.core.quiz import Progress
from bot.querylog.schema import connect
from bot.querylog.writer import QueryLog

MAX_HISTORY = 500


@dataclass
class Trainee:
    progress: dict[str, Progress] = field(default_factory=dict)
    history: list[tuple[str, bool]] = field(default_factory=list)  # (item id, correct), oldest first


class ProgressStore:
    def __init__(self, qlog: QueryLog, capacity: int = 5000) -> None:
        self.qlog = qlog
        self.capacity = capacity
        self._cache: OrderedDict[str, Trainee] = OrderedDict()

    async def load(self, user: str | int) -> Trainee:
        pseudonym = self.qlog.pseudonymize(user) or ""
        if pseudonym in self._cache:
            self._cache.move_to_end(pseudonym)
            return self._cache[pseudonym]
        trainee = await asyncio.to_thread(self._read, pseudonym)
        self._cache[pseudonym] = trainee
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        return trainee

    def _read(self, pseudonym: str) -> Trainee:
        trainee = Trainee()
        if not self.qlog.path.exists():
            return trainee
        with contextlib.suppress(sqlite3.Error), contextlib.closing(connect(self.qlog.path)) as conn:
            for row in conn.execute(
                "SELECT item_id, box, last_seen, seen, correct FROM quiz_progress WHERE user_pseudonym = ?",
                (pseudonym,),
            ):
                trainee.progress[row[0]] = Progress(row[1], row[2], row[3], row[4])
            rows = conn.execute(
                "SELECT item_id, correct FROM quiz_answers WHERE user_pseudonym = ? ORDER BY id DESC LIMIT ?",
                (pseudonym, MAX_HISTORY),
            ).fetchall()
            trainee.history = [(r[0], bool(r[1])) for r in reversed(rows)]
        return trainee

    async def record(
        self, user: str | int, item_id: str, topic: str, correct: bool, now: float | None = None
    ) -> Progress:
        now = time.time() if now is None else now
        trainee = await self.load(user)
        state = trainee.progress.get(item_id, Progress()).after(correct, now)
        trainee.progress[item_id] = state
        trainee.history.append((item_id, correct))
        del trainee.history[:-MAX_HISTORY]
        self.qlog.record_quiz(user, item_id, topic, correct)
        self.qlog.record_progress(user, item_id, state.box, state.last_seen, state.seen, state.correct)
        return state

    def forget(self, user: str | int) -> None:
        self._cache.pop(self.qlog.pseudonymize(user) or "", None)
