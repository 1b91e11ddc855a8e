"""Write the query log in the background so that logging never slows or breaks an answer.

``record()`` is synchronous and only appends to an in-memory queue (after redaction and
pseudonymisation, so nothing identifying is held even in memory). A background task
writes batches with aiosqlite. A locked, read-only or full database is retried with
backoff and reported, never raised into the answer path; whatever is still queued at
shutdown and cannot be written is spilled to a JSONL file that the next start imports.

No single input may stop the log: text that SQLite cannot store (lone surrogates from
undecodable bytes) is repaired on the way in, a record that still cannot be written is
set aside with a warning while the rest of its batch is written, and the background
task outlives any error. A damaged database file is moved aside and a fresh one started.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import os
import re
import sqlite3
import tempfile
import time
from collections import deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiosqlite

from bot.config import Settings
from bot.core.normalise import normalise
from bot.pipeline import QueryRecord
from bot.querylog.pseudonym import Pseudonymizer, load_or_create_key
from bot.querylog.redact import redact
from bot.querylog.schema import (
    PRIVATE_MODE,
    USER_TABLES,
    check_integrity,
    check_shared_memory,
    create_private,
    is_corrupt,
    migrate,
    move_aside,
)

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
        "INSERT INTO phrasing_picks (created_at, user_pseudonym, normalised, intent, example) VALUES (?, ?, ?, ?, ?)"
    ),
}
# Where each kind of record keeps its user pseudonym (for /forget of records still queued).
USER_POSITION = {"query": 3, "quiz": 1, "feedback": 1, "progress": 0, "phrasing": 1}
# Errors that belong to one record rather than to the database: retrying the batch would
# fail forever, so the batch is written record by record and the culprit set aside.
_RECORD_ERRORS = (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.DataError, sqlite3.ProgrammingError)
_SURROGATES = re.compile("[\ud800-\udfff]")
_INT64 = 2**63


def _iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts if ts is not None else time.time(), timezone.utc).isoformat(
        timespec="milliseconds"
    )


def clean_text(text: str) -> str:
    """Text SQLite can store: lone surrogates (undecodable input bytes) become U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text)
    return text


def _clean(params: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(clean_text(p) if isinstance(p, str) else p for p in params)


def _repair(value: Any) -> Any:
    """The nearest value SQLite accepts, for a record that failed as it was."""
    if value is None or isinstance(value, (str, bytes)):
        return clean_text(value) if isinstance(value, str) else value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return clean_text(str(value))


def _is_database_error(exc: BaseException) -> bool:
    """A fault of the database (locked, read-only, full, damaged), not of the record being written."""
    return isinstance(exc, sqlite3.Error) and not isinstance(exc, _RECORD_ERRORS)


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
        self._claimed: list[Path] = []  # spill files whose records are now in the queue
        self.written = 0
        self.failures = 0
        self.set_aside = 0
        self.spilled = 0
        self.lost = 0
        self.last_error: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> QueryLog:
        """The log every front end uses: REGENBOT_DB, the pseudonym key, the retention period."""
        key = settings.key or load_or_create_key(settings.key_file)
        return cls(settings.db_path, Pseudonymizer(key), retention_days=settings.retention_days, **kwargs)

    # -- the answer path: synchronous and cheap ----------------------------------------

    def record(self, entry: QueryRecord) -> None:
        # The normalised text is derived here from the redacted question, never taken from
        # the caller: normalising first turns "siti@example.com" into words no pattern finds.
        question = redact(clean_text(entry.question[:MAX_QUESTION_CHARS]))
        self._put(
            "query",
            (
                _iso(entry.created),
                entry.frontend,
                entry.chat_type,
                self.pseudonymize(entry.user),
                question,
                normalise(question).text,
                entry.intent,
                json.dumps(entry.slots, sort_keys=True, default=str),
                entry.score,
                int(entry.answered),
                json.dumps(list(entry.suggestions), default=str),
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
            (
                _iso(),
                self.pseudonymize(user),
                answer_id,
                redact(clean_text(question[:MAX_QUESTION_CHARS])),
                int(helpful),
            ),
        )

    def record_phrasing(self, normalised: str, intent: str, example: str, user: str | int | None = None) -> None:
        """A user picked `intent` from "did you mean" after asking `example`.

        ``normalised`` is ignored: it is derived again from the redacted example, so that
        nothing the redaction would have removed survives in it.
        """
        example = redact(clean_text(example[:MAX_QUESTION_CHARS]))
        self._put("phrasing", (_iso(), self.pseudonymize(user), normalise(example).text, intent, example))

    def _put(self, kind: str, params: tuple[Any, ...]) -> None:
        self._queue.append((kind, _clean(params)))
        if self._wake is not None and len(self._queue) >= self.batch_size:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._queue)

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        """Start writing. Raises QueryLogUnusable when the files are unsafe to touch at all."""
        check_shared_memory(self.path)
        self._wake = asyncio.Event()
        if await self._try_connect():
            await self.flush()  # restored spill records go to the database before anything else
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
            self._spill(final=True)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def _try_connect(self) -> bool:
        try:
            await asyncio.to_thread(self._prepare_file)
            conn = await aiosqlite.connect(str(self.path), timeout=self.busy_timeout)
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            self._conn = conn
        except (OSError, sqlite3.Error) as exc:
            self._report(f"cannot open the database: {exc}")
            return False
        self._import_spills()
        return True

    def _prepare_file(self) -> None:
        """Create (0600), check and migrate the file; a damaged one is moved aside first."""
        create_private(self.path)
        try:
            self._check_and_migrate()
        except sqlite3.DatabaseError as exc:
            if not is_corrupt(exc):
                raise
            self._move_aside(exc)
            create_private(self.path)
            self._check_and_migrate()

    def _check_and_migrate(self) -> None:
        with contextlib.closing(sqlite3.connect(str(self.path), timeout=5)) as conn:
            check_integrity(conn)
            migrate(conn)

    def _move_aside(self, exc: BaseException) -> None:
        try:
            target = move_aside(self.path)
        except FileNotFoundError:
            return  # another process moved it first
        log.warning(
            "query log: %s was damaged (%s); moved it to %s and started a fresh one", self.path, exc, target.name
        )

    async def _recover_if_corrupt(self, exc: BaseException) -> bool:
        """Move a database that turned out damaged aside; the queue is kept for the fresh one."""
        if not is_corrupt(exc):
            return False
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None
        await asyncio.to_thread(self._move_aside, exc)
        return True

    # -- background writing ----------------------------------------------------------------

    async def _run(self) -> None:
        backoff = self.interval
        while not self._closing:
            assert self._wake is not None
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            self._wake.clear()
            try:
                ok = await self.flush()
                if ok and time.monotonic() - self._last_purge > 6 * 3600:
                    await self.purge()
                if len(self._queue) > self.max_pending:
                    self._spill()
            except Exception as exc:  # the writer must outlive anything, or every later record is lost
                log.exception("query log: unexpected error in the writer (will retry): %s", exc)
                ok = False
            backoff = self.interval if ok else min(self.max_backoff, backoff * 2)

    async def flush(self) -> bool:
        """Write what is queued now; False (and everything kept) if the database refused."""
        async with self._lock:  # one transaction at a time on the shared connection
            return await self._flush_locked()

    async def _flush_locked(self) -> bool:
        if self._conn is None and not await self._try_connect():
            return False
        while self._queue:
            batch = [self._queue[i] for i in range(min(self.batch_size, len(self._queue)))]
            try:
                await self._write(batch)
            except Exception as exc:
                await self._rollback()
                if _is_database_error(exc):
                    if not await self._recover_if_corrupt(exc):
                        self._report(str(exc))
                    return False
                if not await self._write_singly(batch):
                    return False
                continue
            for _ in batch:
                self._queue.popleft()
            self._wrote(len(batch))
        self._release_claimed()
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

    async def _rollback(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.rollback()

    async def _write_singly(self, batch: list[tuple[str, tuple[Any, ...]]]) -> bool:
        """A batch with a bad record: write each on its own, repair or set aside the bad one."""
        for kind, params in batch:
            attempts = (params, tuple(_repair(p) for p in params))
            error: BaseException | None = None
            for attempt in attempts:
                try:
                    await self._write([(kind, attempt)])
                except Exception as exc:
                    await self._rollback()
                    if _is_database_error(exc):
                        if not await self._recover_if_corrupt(exc):
                            self._report(str(exc))
                        return False
                    error = exc
                    continue
                error = None
                break
            self._queue.popleft()
            if error is None:
                self._wrote(1)
            else:
                self._set_aside(kind, params, error)
        return True

    def _wrote(self, count: int) -> None:
        self.written += count
        if self.last_error is not None:
            log.info("query log: writing again after: %s", self.last_error)
            self.last_error = None

    def _set_aside(self, kind: str, params: tuple[Any, ...], error: BaseException) -> None:
        self.set_aside += 1
        line = (json.dumps([kind, [_repair(p) for p in params]], default=str) + "\n").encode()
        where = self._append_anywhere(self._side_files(".rejected.jsonl"), line)
        log.warning(
            "query log: set aside a %s record that cannot be written (%s: %s)%s",
            kind,
            type(error).__name__,
            error,
            f"; kept in {where}" if where else "; it could not be kept anywhere",
        )

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
            total += await self._delete_everywhere("created_at < ?", cutoff)
        except sqlite3.Error as exc:
            await self._rollback()
            if not await self._recover_if_corrupt(exc):
                self._report(f"purge failed: {exc}")
        return total

    async def _delete_everywhere(self, condition: str, value: object) -> int:
        """Delete the matching rows of every table that holds users' data, in one commit."""
        assert self._conn is not None
        total = 0
        for table in USER_TABLES:
            cur = await self._conn.execute(f"DELETE FROM {table} WHERE {condition}", (value,))
            total += cur.rowcount
        await self._conn.commit()
        return total

    async def forget(self, user: str | int) -> int:
        """Delete every row logged for ``user`` (queued ones too); return how many went.

        Raises sqlite3.Error when the database refuses (busy, read-only): the caller must
        say so rather than claim the rows are gone.
        """
        async with self._lock:
            return await self._forget_locked(user)

    async def _forget_locked(self, user: str | int) -> int:
        pseudonym = self.pseudonymize(user)
        before = len(self._queue)
        self._queue = deque(item for item in self._queue if not _belongs(item, pseudonym))
        total = before - len(self._queue)
        if self._conn is None and not await self._try_connect():
            raise sqlite3.OperationalError(self.last_error or "the query log is unavailable")
        assert self._conn is not None
        try:
            total += await self._delete_everywhere("user_pseudonym = ?", pseudonym)
        except sqlite3.Error as exc:
            await self._rollback()
            if await self._recover_if_corrupt(exc):
                return total  # the damaged file, with the user's rows, is no longer the log
            raise
        return total

    # -- spill file: the last resort that keeps records across a failed shutdown -------------

    def _side_files(self, suffix: str) -> tuple[Path, Path]:
        """Beside the database first; the temp directory when that place cannot take it."""
        tag = hashlib.sha1(str(self.path.resolve()).encode()).hexdigest()[:10]
        return (
            self.path.with_name(self.path.name + suffix),
            Path(tempfile.gettempdir()) / f"regenbot-{tag}{suffix}",
        )

    def spill_candidates(self) -> tuple[Path, Path]:
        """Every place a spill can be written, in the order tried; the next start reads them all."""
        return self._side_files(".spill.jsonl")

    def spill_path(self) -> Path:
        """Where a spill would go now (the first candidate whose directory is writable)."""
        for candidate in self.spill_candidates():
            if os.access(candidate.parent, os.W_OK) and (not candidate.exists() or os.access(candidate, os.W_OK)):
                return candidate
        return self.spill_candidates()[-1]

    def _spill(self, *, final: bool = False) -> None:
        records = list(self._queue)
        data = "".join(json.dumps([kind, list(params)]) + "\n" for kind, params in records).encode()
        where = self._append_anywhere(self.spill_candidates(), data)
        if where is not None:
            for _ in records:
                self._queue.popleft()
            self.spilled += len(records)
            self._release_claimed()
            log.warning(
                "query log: database unavailable; %d record(s) kept in %s until the next start", len(records), where
            )
            return
        tried = ", ".join(str(p) for p in self.spill_candidates())
        if not final:
            log.error("query log: cannot spill %d record(s) to %s; keeping them in memory", len(records), tried)
            return
        self.lost += len(records)
        self._queue.clear()
        log.error(
            "query log: %d record(s) lost: the database and every spill place (%s) refused them", len(records), tried
        )

    def _append_anywhere(self, candidates: tuple[Path, ...], data: bytes) -> Path | None:
        for candidate in candidates:
            error = _append(candidate, data)
            if error is None:
                return candidate
            log.warning("query log: cannot write %s: %s", candidate, error)
        return None

    def _import_spills(self) -> None:
        restored: list[tuple[str, tuple[Any, ...]]] = []
        for spill in self.spill_candidates():
            leftovers = sorted(spill.parent.glob(spill.name + ".importing-*")) if spill.parent.is_dir() else []
            for path in [spill, *leftovers]:
                claimed = self._claim(path)
                if claimed is None:
                    continue
                try:
                    raw = claimed.read_bytes()
                except OSError as exc:
                    log.error("query log: cannot read %s: %s", claimed, exc)
                    continue
                good, bad = _parse_spill(raw)
                restored.extend(good)
                self._claimed.append(claimed)
                log.info(
                    "query log: restored %d record(s) from %s%s",
                    len(good),
                    path,
                    f"; skipped {bad} unreadable line(s)" if bad else "",
                )
        self._queue.extendleft(reversed(restored))

    def _claim(self, path: Path) -> Path | None:
        """Rename a spill to ours before reading it, so two processes never import it both."""
        if not path.is_file():
            return None  # missing, or not a regular file (a device, a directory)
        marker = ".importing-"
        base, _, owner = path.name.partition(marker)
        if owner:
            pid = owner.split("-")[0]
            if not pid.isdigit() or _alive(int(pid)):
                return None  # a live process (maybe this one) holds these records in memory
            # else: left by a process that died while importing; take it over the same way
        claimed = path.with_name(f"{base}{marker}{os.getpid()}-{id(self):x}")
        try:
            os.replace(path, claimed)
        except OSError:
            return None
        return claimed

    def _release_claimed(self) -> None:
        """The restored records are in the database or a new spill: their old files can go."""
        if self._queue and not self._closing:
            return
        for path in self._claimed:
            with contextlib.suppress(OSError):
                path.unlink()
        self._claimed.clear()


def _append(path: Path, data: bytes) -> OSError | None:
    """Append all of ``data`` and sync it, or leave the file as it was and return the error."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_MODE)
    except OSError as exc:
        return exc
    size = 0
    try:
        size = os.fstat(fd).st_size
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        return None
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
        return exc
    finally:
        os.close(fd)


def _parse_spill(raw: bytes) -> tuple[list[tuple[str, tuple[Any, ...]]], int]:
    """Records from a spill file; a torn or damaged line is counted and skipped, not fatal."""
    good: list[tuple[str, tuple[Any, ...]]] = []
    bad = 0
    for line in raw.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            kind, params = json.loads(line)
            if kind not in SQL or not isinstance(params, list):
                raise ValueError(f"unknown record kind {kind!r}")
        except (ValueError, TypeError, RecursionError):
            bad += 1
            continue
        good.append((kind, _clean(tuple(params))))
    return good, bad


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _belongs(item: tuple[str, tuple[Any, ...]], pseudonym: str | None) -> bool:
    kind, params = item
    position = USER_POSITION.get(kind)
    return position is not None and params[position] == pseudonym
