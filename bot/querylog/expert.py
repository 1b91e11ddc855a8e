"""Questions users chose to send to the maintainers, and the maintainers' answers.

Written at once (not through the batched writer): the row must exist before a
maintainer can reply to it. What is stored is what the maintainers may see: the
redacted question and the asker's pseudonym. The way back to the asker (chat and
message id) is sealed with the pseudonym key, so the database alone does not hold a
Telegram id; /forget and retention reach these rows like every other user table.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bot.core.normalise import normalise
from bot.querylog.redact import redact
from bot.querylog.schema import now_iso
from bot.querylog.writer import MAX_QUESTION_CHARS, clean_text

# "A user can ask at most a few a day": enough for real questions, too few to flood a group.
PER_DAY = 3
ALREADY = "already"
LIMIT = "limit"


@dataclass(frozen=True)
class Request:
    id: int
    user_pseudonym: str | None
    question: str
    reason: str | None
    asker_ref: str
    answer: str | None


def redacted(text: str) -> str:
    return redact(clean_text(text[:MAX_QUESTION_CHARS]))


def asked_today(conn: sqlite3.Connection, pseudonym: str | None, now: datetime | None = None) -> int:
    """Relays in the last day, counted in relay_quota: a pseudonym and a time, no text, so
    /forget (which deletes the requests themselves) does not reset the limit; rows older
    than the window are pruned as they are counted."""
    since = ((now or datetime.now(timezone.utc)) - timedelta(days=1)).isoformat(timespec="milliseconds")
    conn.execute("DELETE FROM relay_quota WHERE created_at < ?", (since,))
    row = conn.execute(
        "SELECT COUNT(*) FROM relay_quota WHERE user_pseudonym IS ? AND created_at >= ?", (pseudonym, since)
    ).fetchone()
    return int(row[0])


def already_asked(conn: sqlite3.Connection, pseudonym: str | None, question: str) -> bool:
    """The same person sent the same (redacted) question before: one tap is enough."""
    text = redacted(question)
    row = conn.execute(
        "SELECT 1 FROM expert_requests WHERE user_pseudonym IS ? AND question = ? LIMIT 1", (pseudonym, text)
    ).fetchone()
    return row is not None


def admit(
    conn: sqlite3.Connection, pseudonym: str | None, question: str, reason: str | None, asker_ref: str, chat: str
) -> int | str:
    """Store a request unless it repeats one or the asker used their few today.

    Returns the new request's id, or the reason (ALREADY / LIMIT) it was not stored. One
    write transaction from the check to the insert: two quick taps cannot both pass.
    """
    text = redacted(question)
    conn.isolation_level = None  # explicit transactions below
    conn.execute("BEGIN IMMEDIATE")
    try:
        if already_asked(conn, pseudonym, question):
            conn.execute("ROLLBACK")
            return ALREADY
        if asked_today(conn, pseudonym) >= PER_DAY:
            conn.execute("ROLLBACK")
            return LIMIT
        created = now_iso()
        cur = conn.execute(
            "INSERT INTO expert_requests (created_at, user_pseudonym, question, normalised, reason, asker_ref,"
            " expert_chat) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (created, pseudonym, text, normalise(text).text, reason, asker_ref, chat),
        )
        conn.execute("INSERT INTO relay_quota (user_pseudonym, created_at) VALUES (?, ?)", (pseudonym, created))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return int(cur.lastrowid or 0)


def relayed(conn: sqlite3.Connection, request_id: int, message_id: int) -> None:
    with conn:
        conn.execute("UPDATE expert_requests SET expert_message_id = ? WHERE id = ?", (message_id, request_id))


def drop(conn: sqlite3.Connection, request_id: int) -> None:
    """A request that could not be relayed does not count against the asker's daily few."""
    with conn:
        row = conn.execute(
            "SELECT user_pseudonym, created_at FROM expert_requests WHERE id = ?", (request_id,)
        ).fetchone()
        conn.execute("DELETE FROM expert_requests WHERE id = ?", (request_id,))
        if row is not None:
            conn.execute(
                "DELETE FROM relay_quota WHERE rowid IN (SELECT rowid FROM relay_quota WHERE user_pseudonym IS ?"
                " AND created_at = ? LIMIT 1)",
                row,
            )


def by_relayed_message(conn: sqlite3.Connection, chat: str, message_id: int) -> Request | None:
    row = conn.execute(
        "SELECT id, user_pseudonym, question, reason, asker_ref, answer FROM expert_requests"
        " WHERE expert_chat = ? AND expert_message_id = ?",
        (chat, message_id),
    ).fetchone()
    return Request(*row) if row else None


def answered(conn: sqlite3.Connection, request_id: int, answer: str, by: str | None) -> None:
    """Keep the maintainers' answer with the question (and so with its gap); the latest reply wins."""
    with conn:
        conn.execute(
            "UPDATE expert_requests SET answer = ?, answered_by = ?, answered_at = ? WHERE id = ?",
            (redacted(answer), by, now_iso(), request_id),
        )
