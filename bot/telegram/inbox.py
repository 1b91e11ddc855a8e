"""The durable inbox: an update is on disk before Telegram hears that we have it.

Telegram forgets an update once it is acknowledged: in long polling by asking for the
next offset, in webhook mode by answering 200. python-telegram-bot acknowledges what it
has merely fetched, so a crash lost every question fetched but not yet answered. Here
each update is committed to the inbox before the acknowledgement, marked 'sending' just
before its first reply is written to the socket (from then on, handling it again could
answer twice) and 'handled' when its handler returns. At the next start whatever is still
pending is handled, as a late answer.

The inbox is its own SQLite file beside the query log (``<db stem>.inbox<suffix>``), and
only the bot's event loop writes it. That is deliberate: the query log may be locked by
a maintainer or busy with a purge, and its writer's transactions span several event-loop
steps; sharing its file made an inbox commit wait for them (milliseconds under load,
seconds when a maintainer holds a lock), which is both a stall and a window in which a
crash answers twice. Alone, a commit takes microseconds and can run in the loop itself.
WAL with synchronous=NORMAL survives a killed process (not a power cut) without an
fsync per update.

The inbox must never stop the bot: if its file refuses (read-only, full, damaged),
updates are handled from memory, as before, with one warning per outage. The raw update
(text, names, ids) stays only while pending: handling it overwrites the payload
(secure_delete, so it does not linger in free pages) and handled rows, ids only, kept to
recognise a redelivery, are purged after two days.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from bot.querylog.schema import (
    check_integrity,
    check_shared_memory,
    create_private,
    is_corrupt,
    migrate,
    move_aside,
)

log = logging.getLogger(__name__)

MIGRATIONS = (
    (
        1,
        "updates stored before they are acknowledged, until handled",
        """
        CREATE TABLE inbox (
            update_id INTEGER PRIMARY KEY,
            received_at TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'handled')),
            payload TEXT,
            handled_at TEXT
        );
        CREATE INDEX inbox_state ON inbox(state, handled_at);
        """,
    ),
)
KEEP_HANDLED_SECONDS = 2 * 24 * 3600  # Telegram redelivers unacknowledged updates for a day
RETRY_AFTER_FAILURE = 5.0
BUSY_TIMEOUT = 0.1  # only another bot process on the same file could hold a lock


def inbox_path(db_path: Path) -> Path:
    """The inbox file that goes with a query-log database: regenbot.sqlite3 -> regenbot.inbox.sqlite3."""
    return db_path.with_name(f"{db_path.stem}.inbox{db_path.suffix}")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Inbox:
    def __init__(self, path: Path | str, *, busy_timeout: float = BUSY_TIMEOUT) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._conn: sqlite3.Connection | None = None
        self._retry_at = 0.0
        self._last_purge = 0.0
        self.last_error: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def open(self) -> None:
        """Create, check and migrate the file (a damaged one is moved aside). Raises QueryLogUnusable."""
        check_shared_memory(self.path)
        try:
            self._prepare()
        except sqlite3.DatabaseError as exc:
            if not is_corrupt(exc):
                self._failed(exc)
                return
            target = move_aside(self.path)
            log.warning(
                "inbox: %s was damaged (%s); moved it to %s, updates it held are lost", self.path, exc, target.name
            )
            self._prepare()
        self._connect()

    def _prepare(self) -> None:
        create_private(self.path)
        with contextlib.closing(sqlite3.connect(str(self.path), timeout=5)) as conn:
            check_integrity(conn)
            migrate(conn, migrations=MIGRATIONS)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    def _connect(self) -> sqlite3.Connection | None:
        if self._conn is not None:
            return self._conn
        if time.monotonic() < self._retry_at:
            return None
        try:
            if not self.path.exists():
                raise sqlite3.OperationalError(f"{self.path.name} does not exist")
            conn = sqlite3.connect(str(self.path), timeout=self.busy_timeout, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("SELECT 1 FROM inbox LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            self._failed(exc)
            return None
        self._conn = conn
        if self.last_error is not None:
            log.info("inbox: storing updates durably again after: %s", self.last_error)
            self.last_error = None
        return conn

    def _failed(self, exc: BaseException) -> None:
        """Fall back to memory for a while; say so once per outage."""
        if self.last_error is None:
            log.warning("inbox: cannot store updates (%s); handling them from memory, a crash would lose them", exc)
        self.last_error = str(exc)
        self._retry_at = time.monotonic() + RETRY_AFTER_FAILURE
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    @property
    def durable(self) -> bool:
        return self._conn is not None

    # -- the three moments of an update ------------------------------------------------------

    def store(self, entries: Iterable[tuple[int, str]]) -> set[int] | None:
        """Commit ``(update_id, payload)`` pairs; the ids seen for the first time, or None if not stored.

        An id already in the table is a redelivery (we stopped before acknowledging it):
        it is either handled already or pending and about to be handled.
        """
        conn = self._connect()
        if conn is None:
            return None
        now = _now()
        fresh: set[int] = set()
        try:
            conn.execute("BEGIN IMMEDIATE")
            for update_id, payload in entries:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO inbox (update_id, received_at, state, payload) VALUES (?, ?, 'pending', ?)",
                    (update_id, now, payload),
                )
                if cur.rowcount:
                    fresh.add(update_id)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            self._failed(exc)
            return None
        if time.monotonic() - self._last_purge > 3600:
            self.purge()
        return fresh

    def sending(self, update_id: int) -> None:
        """A reply is about to be written to the socket: from now on, never handle the update again."""
        self._set(update_id, "UPDATE inbox SET state = 'sending' WHERE update_id = ? AND state = 'pending'")

    def not_sent(self, update_id: int) -> None:
        """Telegram refused or never got the reply (429, 5xx, a failed write): pending again."""
        self._set(update_id, "UPDATE inbox SET state = 'pending' WHERE update_id = ? AND state = 'sending'")

    def _set(self, update_id: int, sql: str) -> None:
        conn = self._connect()
        if conn is None:
            return
        try:
            conn.execute(sql, (update_id,))
        except sqlite3.Error as exc:
            self._failed(exc)

    def handled(self, update_id: int) -> None:
        """The update is answered (or needs no answer): never handle it again, forget its content."""
        conn = self._connect()
        if conn is None:
            return
        try:
            conn.execute(
                "UPDATE inbox SET state = 'handled', payload = NULL, handled_at = ? WHERE update_id = ?",
                (_now(), update_id),
            )
        except sqlite3.Error as exc:
            self._failed(exc)

    def pending(self) -> list[tuple[int, str]]:
        """Updates stored by an earlier run and never handled, oldest first.

        One that was 'sending' when that run died may have reached Telegram: it counts as handled.
        """
        conn = self._connect()
        if conn is None:
            return []
        try:
            conn.execute(
                "UPDATE inbox SET state = 'handled', payload = NULL, handled_at = ? WHERE state = 'sending'", (_now(),)
            )
            rows = conn.execute(
                "SELECT update_id, payload FROM inbox WHERE state = 'pending' ORDER BY update_id"
            ).fetchall()
        except sqlite3.Error as exc:
            self._failed(exc)
            return []
        return [(int(uid), payload or "") for uid, payload in rows]

    def purge(self) -> int:
        """Drop handled rows old enough that Telegram cannot deliver them again."""
        self._last_purge = time.monotonic()
        conn = self._connect()
        if conn is None:
            return 0
        cutoff = datetime.fromtimestamp(time.time() - KEEP_HANDLED_SECONDS, timezone.utc).isoformat(
            timespec="milliseconds"
        )
        try:
            return conn.execute("DELETE FROM inbox WHERE state = 'handled' AND handled_at < ?", (cutoff,)).rowcount
        except sqlite3.Error as exc:
            self._failed(exc)
            return 0
