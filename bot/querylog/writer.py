"""Write the query log in the background so that logging never slows or breaks an answer.

``record()`` is synchronous and only appends to an in-memory queue (after redaction and
pseudonymisation, so nothing identifying is held even in memory). A background task
writes batches with aiosqlite. A locked, read-only or full database is retried with
backoff and reported, never raised into the answer path; whatever is still queued at
shutdown and cannot be written is spilled to a JSONL file that the next start imports.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import tempfile
import time
from collections import deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiosqlite

from bot.config import Settings
from bot.pipeline import QueryRecord
from bot.querylog.pseudonym import Pseudonymizer, load_or_create_key
from bot.querylog.redact import redact
from bot.querylog.schema import USER_TABLES, migrate

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
SQL = {
    "query": (
        "INSERT INTO queries (created_at, frontend, chat_type, user_pseudonym, question, normalised, intent, slots,"
        " score, answered, suggestions, latency_ms, kb_version, reason, used_context)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ),
    "quiz": "INSERT INTO quiz_answers (created_at, user_pseudonym, item_id, topic, correct) VALUES (?, ?, ?, ?, ?)",
    "feedback": (
        "INSERT INTO feedback (created_at, user_pseudonym, answer_id, question, helpful) VALUES (?, ?, ?, ?, ?)"
    ),
    "progress": (
        "INSERT INTO quiz_progress (user_pseudonym, item_id, box, last_seen, seen, correct, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(user_pseudonym, item_id) DO UPDATE SET box = excluded.box,"
        " last_seen = excluded.last_seen, seen = excluded.seen, correct = excluded.correct,"
        " created_at = excluded.created_at"
    ),
    "phrasing": (
        "INSERT INTO phrasing_candidates (normalised, intent, example, count, first_seen, last_seen)"
        " VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT(normalised, intent)"
        " DO UPDATE SET count = count + 1, last_seen = excluded.last_seen"
    ),
}


def _iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts if ts is not None else time.time(), timezone.utc).isoformat(
        timespec="milliseconds"
    )


class QueryLog:
    """The pipeline's sink: non-blocking record(), batched background writes."""

    def __init__(
        self,
        path: Path | str,
        pseudonymize: Pseudonymizer,
        *,
        retention_days: int = 180,
        batch_size: int = 500,
        interval: float = 0.2,
        busy_timeout: float = 0.2,
        max_backoff: float = 5.0,
        max_pending: int = 200_000,
    ) -> None:
        self.path = Path(path)
        self.pseudonymize = pseudonymize
        self.retention_days = retention_days
        self.batch_size = batch_size
        self.interval = interval
        self.busy_timeout = busy_timeout
        self.max_backoff = max_backoff
        self.max_pending = max_pending
        self._queue: deque[tuple[str, tuple[Any, ...]]] = deque()
        self._conn: aiosqlite.Connection | None = None
        self._task: asyncio.Task | None = None
        self._wake: asyncio.Event | None = None
        self._closing = False
        self._lock = asyncio.Lock()
        self._last_purge = 0.0
        self.written = 0
        self.failures = 0
        self.last_error: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> QueryLog:
        """The log every front end uses: REGENBOT_DB, the pseudonym key, the retention period."""
        key = settings.key or load_or_create_key(settings.key_file)
        return cls(settings.db_path, Pseudonymizer(key), retention_days=settings.retention_days, **kwargs)

    # -- the answer path: synchronous and cheap ----------------------------------------

    def record(self, entry: QueryRecord) -> None:
        question = redact(entry.question[:MAX_QUESTION_CHARS])
        self._put(
            "query",
            (
                _iso(entry.created),
                entry.frontend,
                entry.chat_type,
                self.pseudonymize(entry.user),
                question,
                redact(entry.normalised[:MAX_QUESTION_CHARS]),
                entry.intent,
                json.dumps(entry.slots, sort_keys=True),
                entry.score,
                int(entry.answered),
                json.dumps(list(entry.suggestions)),
                round(entry.latency_ms, 3),
                entry.kb_version,
                entry.reason,
                int(entry.used_context),
            ),
        )

    def record_quiz(self, user: str | int | None, item_id: str, topic: str, correct: bool) -> None:
        self._put("quiz", (_iso(), self.pseudonymize(user), item_id, topic, int(correct)))

    def record_progress(
        self, user: str | int | None, item_id: str, box: int, last_seen: float, seen: int, correct: int
    ) -> None:
        self._put("progress", (self.pseudonymize(user), item_id, box, last_seen, seen, correct, _iso()))

    def record_feedback(self, user: str | int | None, answer_id: str, question: str, helpful: bool) -> None:
        self._put(
            "feedback",
            (_iso(), self.pseudonymize(user), answer_id, redact(question[:MAX_QUESTION_CHARS]), int(helpful)),
        )

    def record_phrasing(self, normalised: str, intent: str, example: str) -> None:
        """A user picked `intent` from "did you mean" after asking `example`."""
        now = _iso()
        self._put("phrasing", (redact(normalised), intent, redact(example[:MAX_QUESTION_CHARS]), now, now))

    def _put(self, kind: str, params: tuple[Any, ...]) -> None:
        self._queue.append((kind, params))
        if self._wake is not None and len(self._queue) >= self.batch_size:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._queue)

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        self._wake = asyncio.Event()
        await self._try_connect()
        self._task = asyncio.create_task(self._run(), name="querylog-writer")

    async def close(self, timeout: float = 5.0) -> None:
        """Flush everything; whatever cannot be written within ``timeout`` is spilled to disk."""
        self._closing = True
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        deadline = time.monotonic() + timeout
        while self._queue and time.monotonic() < deadline:
            if await self.flush():
                break
            await asyncio.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        if self._queue:
            self._spill()
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _try_connect(self) -> bool:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(self._migrate)
            conn = await aiosqlite.connect(str(self.path), timeout=self.busy_timeout)
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            self._conn = conn
        except (OSError, sqlite3.Error) as exc:
            self._report(f"cannot open {self.path}: {exc}")
            return False
        self._import_spill()
        return True

    def _migrate(self) -> None:
        with contextlib.closing(sqlite3.connect(str(self.path), timeout=5)) as conn:
            migrate(conn)

    # -- background writing ----------------------------------------------------------------

    async def _run(self) -> None:
        backoff = self.interval
        while not self._closing:
            assert self._wake is not None
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            self._wake.clear()
            ok = await self.flush()
            if ok and time.monotonic() - self._last_purge > 6 * 3600:
                await self.purge()
            backoff = self.interval if ok else min(self.max_backoff, backoff * 2)
            if len(self._queue) > self.max_pending:
                self._spill()

    async def flush(self) -> bool:
        """Write what is queued now; False (and everything kept) if the database refused."""
        async with self._lock:  # one transaction at a time on the shared connection
            return await self._flush_locked()

    async def _flush_locked(self) -> bool:
        if self._conn is None and not await self._try_connect():
            return False
        assert self._conn is not None
        while self._queue:
            batch = [self._queue[i] for i in range(min(self.batch_size, len(self._queue)))]
            try:
                await self._write(batch)
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    await self._conn.rollback()
                self._report(str(exc))
                return False
            for _ in batch:
                self._queue.popleft()
            self.written += len(batch)
            if self.last_error is not None:
                log.info("query log: writing again after: %s", self.last_error)
                self.last_error = None
        return True

    async def _write(self, batch: list[tuple[str, tuple[Any, ...]]]) -> None:
        assert self._conn is not None
        grouped: dict[str, list[tuple[Any, ...]]] = {}
        for kind, params in batch:
            grouped.setdefault(kind, []).append(params)
        await self._conn.execute("BEGIN IMMEDIATE")
        for kind, rows in grouped.items():
            await self._conn.executemany(SQL[kind], rows)
        await self._conn.commit()

    def _report(self, error: str) -> None:
        self.failures += 1
        if error != self.last_error:
            log.warning("query log: cannot write (%d record(s) kept, will retry): %s", len(self._queue), error)
        self.last_error = error

    # -- maintenance -------------------------------------------------------------------------

    async def purge(self) -> int:
        """Delete rows older than the retention period; return how many went."""
        async with self._lock:
            return await self._purge_locked()

    async def _purge_locked(self) -> int:
        self._last_purge = time.monotonic()
        if self._conn is None:
            return 0
        cutoff = _iso(time.time() - self.retention_days * 86400)
        total = 0
        try:
            for table in USER_TABLES:
                cur = await self._conn.execute(f"DELETE FROM {table} WHERE created_at < ?", (cutoff,))
                total += cur.rowcount
            await self._conn.commit()
        except sqlite3.Error as exc:
            self._report(f"purge failed: {exc}")
        return total

    async def forget(self, user: str | int) -> int:
        """Delete every row logged for ``user`` (queued ones too); return how many went."""
        async with self._lock:
            return await self._forget_locked(user)

    async def _forget_locked(self, user: str | int) -> int:
        pseudonym = self.pseudonymize(user)
        before = len(self._queue)
        self._queue = deque(item for item in self._queue if not _belongs(item, pseudonym))
        total = before - len(self._queue)
        if self._conn is None and not await self._try_connect():
            return total
        assert self._conn is not None
        for table in USER_TABLES:
            cur = await self._conn.execute(f"DELETE FROM {table} WHERE user_pseudonym = ?", (pseudonym,))
            total += cur.rowcount
        await self._conn.commit()
        return total

    # -- spill file: the last resort that keeps records across a failed shutdown -------------

    def spill_path(self) -> Path:
        candidate = self.path.with_name(self.path.name + ".spill.jsonl")
        if os.access(candidate.parent, os.W_OK) and (not candidate.exists() or os.access(candidate, os.W_OK)):
            return candidate
        tag = hashlib.sha1(str(self.path.resolve()).encode()).hexdigest()[:10]
        return Path(tempfile.gettempdir()) / f"regenbot-spill-{tag}.jsonl"

    def _spill(self) -> None:
        target = self.spill_path()
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                while self._queue:
                    kind, params = self._queue[0]
                    fh.write(json.dumps([kind, list(params)]) + "\n")
                    self._queue.popleft()
            log.warning("query log: database unavailable; records kept in %s until the next start", target)
        except OSError as exc:
            log.error("query log: cannot spill %d record(s) to %s: %s", len(self._queue), target, exc)

    def _import_spill(self) -> None:
        candidates = {self.path.with_name(self.path.name + ".spill.jsonl"), self.spill_path()}
        for path in candidates:
            if not path.exists():
                continue
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
                restored = [(kind, tuple(params)) for kind, params in (json.loads(line) for line in lines if line)]
                self._queue.extendleft(reversed(restored))
                path.unlink()
                log.info("query log: restored %d record(s) from %s", len(restored), path)
            except (OSError, ValueError) as exc:
                log.error("query log: cannot restore %s: %s", path, exc)


def _belongs(item: tuple[str, tuple[Any, ...]], pseudonym: str | None) -> bool:
    kind, params = item
    position = {"query": 3, "quiz": 1, "feedback": 1, "progress": 0}.get(kind)
    return position is not None and params[position] == pseudonym
