"""Quiz rounds, their polls and daily reminders, kept in the query-log database.

A Telegram round lives longer than the process: polls sent before a restart are still
answered after it, and a reminder set last week must fire tomorrow. So rounds, the polls
sent for them and reminder subscriptions are written to SQLite as they change, awaited,
in small transactions: the next poll is sent only once the answer that moved the round
on is on disk, so a restart loses no answer. (Query-log records stay on QueryLog's
background queue; these rows are what the next message depends on.)

Only pseudonyms are stored for people, except the chat id a reminder is sent to, which
the trainee opted into and which /remind off, /forget, a blocked bot and retention delete.
Group chat ids are stored to post the next poll and the board there: a group is not a
person. Display names are never stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from bot.querylog.schema import connect, now_iso

BUSY_TIMEOUT = 5.0


@dataclass(frozen=True)
class RoundRow:
    id: int
    host: str  # pseudonym of the trainee who started it
    chat_key: str  # "u:<pseudonym>" for a private chat, "g:<chat id>" for a group
    group_chat_id: int | None
    label: str
    items: tuple[str, ...]
    position: int
    correct: int
    state: str
    updated_at: float

    @property
    def is_group(self) -> bool:
        return self.group_chat_id is not None

    @property
    def finished(self) -> bool:
        return self.position >= len(self.items)


@dataclass(frozen=True)
class PollRow:
    poll_id: str
    round_id: int
    position: int
    item_id: str
    correct_option: int


@dataclass(frozen=True)
class Standing:
    """One member's line on a board."""

    pseudonym: str
    correct: int
    answered: int
    rounds: int = 1
    first_at: str = ""


@dataclass(frozen=True)
class ReminderRow:
    pseudonym: str
    chat_id: int
    hour: int
    minute: int
    zone: str
    next_at: float
    last_sent: float | None


_ROUND = (
    "SELECT id, user_pseudonym, chat_key, group_chat_id, label, items, step, correct, state, updated_at"
    " FROM quiz_rounds"
)
_REMINDER = "SELECT user_pseudonym, chat_id, hour, minute, zone, next_at, last_sent FROM quiz_reminders"


def _round(row: tuple | None) -> RoundRow | None:
    if row is None:
        return None
    return RoundRow(row[0], row[1], row[2], row[3], row[4], tuple(row[5].split()), row[6], row[7], row[8], row[9])


class QuizDB:
    """Rounds, polls and reminders on their own connection to the query-log database."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(self._migrate)
        self._conn = await aiosqlite.connect(self.path, timeout=BUSY_TIMEOUT)
        await self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        # Polls of rounds that /forget or retention removed point nowhere.
        await self._conn.execute("DELETE FROM quiz_polls WHERE round_id NOT IN (SELECT id FROM quiz_rounds)")
        await self._conn.commit()

    def _migrate(self) -> None:
        with contextlib.closing(connect(self.path)):
            pass

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("QuizDB is not open")
        return self._conn

    async def _write(self, sql: str, params: tuple = ()) -> int:
        async with self._lock:
            try:
                cursor = await self.conn.execute(sql, params)
                await self.conn.commit()
            except sqlite3.Error:
                # A failed statement leaves its transaction open, and with it the write
                # lock every other writer (the query log) would wait on.
                await self.conn.rollback()
                raise
            return cursor.rowcount

    async def _one(self, sql: str, params: tuple = ()) -> tuple | None:
        async with self.conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def _all(self, sql: str, params: tuple = ()) -> list[tuple]:
        async with self.conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    # -- rounds and polls -------------------------------------------------------------------

    async def start_round(
        self, host: str, chat_key: str, group_chat_id: int | None, label: str, items: list[str], now: float
    ) -> RoundRow:
        """A new open round for ``chat_key``; an open one there is marked replaced."""
        async with self._lock:
            try:
                await self.conn.execute(
                    "UPDATE quiz_rounds SET state = 'replaced', updated_at = ? WHERE chat_key = ? AND state = 'open'",
                    (now, chat_key),
                )
                cursor = await self.conn.execute(
                    "INSERT INTO quiz_rounds (created_at, user_pseudonym, chat_key, group_chat_id, label, items,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (now_iso(), host, chat_key, group_chat_id, label, " ".join(items), now),
                )
                await self.conn.commit()
            except sqlite3.Error:
                await self.conn.rollback()
                raise
            round_id = cursor.lastrowid
        assert round_id is not None
        return RoundRow(round_id, host, chat_key, group_chat_id, label, tuple(items), 0, 0, "open", now)

    async def round(self, round_id: int) -> RoundRow | None:
        return _round(await self._one(f"{_ROUND} WHERE id = ?", (round_id,)))

    async def open_round(self, chat_key: str) -> RoundRow | None:
        return _round(await self._one(f"{_ROUND} WHERE chat_key = ? AND state = 'open' ORDER BY id DESC", (chat_key,)))

    async def last_round(self, chat_key: str) -> RoundRow | None:
        return _round(await self._one(f"{_ROUND} WHERE chat_key = ? ORDER BY id DESC", (chat_key,)))

    async def advance(self, round_id: int, position: int, correct: int, state: str, now: float) -> None:
        await self._write(
            "UPDATE quiz_rounds SET step = ?, correct = ?, state = ?, updated_at = ? WHERE id = ?",
            (position, correct, state, now, round_id),
        )

    async def add_poll(self, poll_id: str, round_id: int, position: int, item_id: str, correct_option: int) -> None:
        await self._write(
            "INSERT OR REPLACE INTO quiz_polls (poll_id, round_id, step, item_id, correct_option, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (poll_id, round_id, position, item_id, correct_option, now_iso()),
        )

    async def poll(self, poll_id: str) -> PollRow | None:
        row = await self._one(
            "SELECT poll_id, round_id, step, item_id, correct_option FROM quiz_polls WHERE poll_id = ?", (poll_id,)
        )
        return PollRow(*row) if row else None

    async def record_answer(self, poll: PollRow, pseudonym: str, correct: bool) -> bool:
        """Store one member's answer to one poll; False if they had answered it already."""
        try:
            await self._write(
                "INSERT INTO quiz_poll_answers (poll_id, user_pseudonym, round_id, correct, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (poll.poll_id, pseudonym, poll.round_id, int(correct), now_iso()),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    async def answer_correct(self, poll_id: str, pseudonym: str) -> bool | None:
        """Whether the member's stored (first) answer to the poll was right; None if none."""
        row = await self._one(
            "SELECT correct FROM quiz_poll_answers WHERE poll_id = ? AND user_pseudonym = ?", (poll_id, pseudonym)
        )
        return bool(row[0]) if row else None

    async def leaderboard(self, round_id: int) -> list[Standing]:
        rows = await self._all(
            "SELECT user_pseudonym, SUM(correct), COUNT(*), MIN(created_at) FROM quiz_poll_answers"
            " WHERE round_id = ? GROUP BY user_pseudonym",
            (round_id,),
        )
        return rank([Standing(r[0], r[1], r[2], 1, r[3]) for r in rows])

    async def board(self, chat_key: str) -> list[Standing]:
        """Every member's answers over all rounds played in one chat."""
        rows = await self._all(
            "SELECT a.user_pseudonym, SUM(a.correct), COUNT(*), COUNT(DISTINCT a.round_id), MIN(a.created_at)"
            " FROM quiz_poll_answers a JOIN quiz_rounds r ON r.id = a.round_id WHERE r.chat_key = ?"
            " GROUP BY a.user_pseudonym",
            (chat_key,),
        )
        return rank([Standing(*r) for r in rows])

    # -- reminders ----------------------------------------------------------------------------

    async def set_reminder(
        self, pseudonym: str, chat_id: int, hour: int, minute: int, zone: str, next_at: float
    ) -> ReminderRow:
        await self._write(
            "INSERT INTO quiz_reminders (user_pseudonym, chat_id, hour, minute, zone, next_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(user_pseudonym) DO UPDATE SET chat_id = excluded.chat_id,"
            " hour = excluded.hour, minute = excluded.minute, zone = excluded.zone, next_at = excluded.next_at,"
            " created_at = excluded.created_at",
            (pseudonym, chat_id, hour, minute, zone, next_at, now_iso()),
        )
        reminder = await self.reminder(pseudonym)
        assert reminder is not None
        return reminder

    async def reminder(self, pseudonym: str) -> ReminderRow | None:
        row = await self._one(f"{_REMINDER} WHERE user_pseudonym = ?", (pseudonym,))
        return ReminderRow(*row) if row else None

    async def remove_reminder(self, pseudonym: str) -> bool:
        return await self._write("DELETE FROM quiz_reminders WHERE user_pseudonym = ?", (pseudonym,)) > 0

    async def due_reminders(self, now: float, limit: int = 500) -> list[ReminderRow]:
        rows = await self._all(f"{_REMINDER} WHERE next_at <= ? ORDER BY next_at LIMIT ?", (now, limit))
        return [ReminderRow(*r) for r in rows]

    async def reschedule(self, pseudonym: str, next_at: float, sent_at: float | None) -> None:
        await self._write(
            "UPDATE quiz_reminders SET next_at = ?, last_sent = COALESCE(?, last_sent) WHERE user_pseudonym = ?",
            (next_at, sent_at, pseudonym),
        )

    async def touch_reminder(self, pseudonym: str) -> None:
        """The trainee is still quizzing: retention counts a reminder's age from here, so
        only a subscription left unused for the whole retention period is deleted."""
        await self._write("UPDATE quiz_reminders SET created_at = ? WHERE user_pseudonym = ?", (now_iso(), pseudonym))

    async def zone(self, pseudonym: str) -> str | None:
        row = await self._one("SELECT zone FROM quiz_zones WHERE user_pseudonym = ?", (pseudonym,))
        return row[0] if row else None

    async def set_zone(self, pseudonym: str, zone: str) -> None:
        await self._write(
            "INSERT INTO quiz_zones (user_pseudonym, zone, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT(user_pseudonym) DO UPDATE SET zone = excluded.zone, created_at = excluded.created_at",
            (pseudonym, zone, now_iso()),
        )

    async def first_answer_at(self, pseudonym: str) -> str | None:
        """When the trainee first answered a quiz item (ISO time), for "/remind on"."""
        row = await self._one("SELECT MIN(created_at) FROM quiz_answers WHERE user_pseudonym = ?", (pseudonym,))
        return row[0] if row and row[0] else None


def rank(standings: list[Standing]) -> list[Standing]:
    """Most correct first; then fewer wrong answers; then who answered first."""
    return sorted(standings, key=lambda s: (-s.correct, s.answered - s.correct, s.first_at, s.pseudonym))
