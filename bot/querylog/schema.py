"""The query-log schema, created and upgraded by numbered migrations.

Each migration runs once, in order, inside a transaction, and is recorded in
``schema_version``; an old database file is upgraded in place, never dropped. Add a new
migration at the end of MIGRATIONS; never edit one that has shipped.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "queries, quiz answers and feedback",
        """
        CREATE TABLE queries (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            frontend TEXT NOT NULL,
            chat_type TEXT,
            user_pseudonym TEXT,
            question TEXT NOT NULL,
            normalised TEXT NOT NULL,
            intent TEXT,
            slots TEXT,
            score REAL,
            answered INTEGER NOT NULL,
            suggestions TEXT,
            latency_ms REAL,
            kb_version TEXT
        );
        CREATE INDEX queries_created_at ON queries(created_at);
        CREATE INDEX queries_user ON queries(user_pseudonym);
        CREATE TABLE quiz_answers (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            user_pseudonym TEXT,
            item_id TEXT NOT NULL,
            topic TEXT,
            correct INTEGER NOT NULL
        );
        CREATE INDEX quiz_answers_user ON quiz_answers(user_pseudonym);
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            user_pseudonym TEXT,
            answer_id TEXT,
            question TEXT,
            helpful INTEGER NOT NULL
        );
        """,
    ),
    (
        2,
        "reason and follow-up flag on queries; gap states; learnt phrasings",
        """
        ALTER TABLE queries ADD COLUMN reason TEXT;
        ALTER TABLE queries ADD COLUMN used_context INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX queries_unanswered ON queries(answered, created_at);
        CREATE TABLE gap_marks (
            normalised TEXT PRIMARY KEY,
            gap_id TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'resolved', 'ignored')),
            marked_at TEXT NOT NULL
        );
        CREATE TABLE phrasing_candidates (
            normalised TEXT NOT NULL,
            intent TEXT NOT NULL,
            example TEXT NOT NULL,
            count INTEGER NOT NULL DEFAULT 1,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            PRIMARY KEY (normalised, intent)
        );
        CREATE INDEX feedback_user ON feedback(user_pseudonym);
        """,
    ),
    (
        3,
        "quiz progress per trainee and item (Leitner box)",
        """
        CREATE TABLE quiz_progress (
            user_pseudonym TEXT NOT NULL,
            item_id TEXT NOT NULL,
            box INTEGER NOT NULL,
            last_seen REAL NOT NULL,
            seen INTEGER NOT NULL,
            correct INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (user_pseudonym, item_id)
        );
        CREATE INDEX quiz_answers_user_time ON quiz_answers(user_pseudonym, created_at);
        """,
    ),
    (
        4,
        "learnt phrasings kept per pick and user, so /forget and retention reach them",
        """
        CREATE TABLE phrasing_picks (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            user_pseudonym TEXT,
            normalised TEXT NOT NULL,
            intent TEXT NOT NULL,
            example TEXT NOT NULL,
            count INTEGER NOT NULL DEFAULT 1,
            first_seen TEXT
        );
        CREATE INDEX phrasing_picks_user ON phrasing_picks(user_pseudonym);
        CREATE INDEX phrasing_picks_key ON phrasing_picks(normalised, intent);
        INSERT INTO phrasing_picks (created_at, user_pseudonym, normalised, intent, example, count, first_seen)
            SELECT last_seen, NULL, normalised, intent, example, count, first_seen FROM phrasing_candidates;
        DROP TABLE phrasing_candidates;
        CREATE VIEW phrasing_candidates AS
            SELECT p.normalised AS normalised, p.intent AS intent,
                (SELECT x.example FROM phrasing_picks x WHERE x.normalised = p.normalised AND x.intent = p.intent
                    ORDER BY x.created_at DESC LIMIT 1) AS example,
                SUM(p.count) AS count, MIN(COALESCE(p.first_seen, p.created_at)) AS first_seen,
                MAX(p.created_at) AS last_seen
            FROM phrasing_picks p GROUP BY p.normalised, p.intent;
        """,
    ),
    # 5 belongs to another branch; numbers are applied by presence, not by order.
    (
        6,
        "quiz rounds and their polls, so a round survives a restart; answers per poll for group boards",
        """
        CREATE TABLE quiz_rounds (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            user_pseudonym TEXT NOT NULL,
            chat_key TEXT NOT NULL,
            group_chat_id INTEGER,
            label TEXT NOT NULL,
            items TEXT NOT NULL,
            step INTEGER NOT NULL DEFAULT 0,
            correct INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'finished', 'stopped', 'replaced')),
            updated_at REAL NOT NULL
        );
        CREATE INDEX quiz_rounds_chat ON quiz_rounds(chat_key, state);
        CREATE INDEX quiz_rounds_user ON quiz_rounds(user_pseudonym);
        CREATE TABLE quiz_polls (
            poll_id TEXT PRIMARY KEY,
            round_id INTEGER NOT NULL,
            step INTEGER NOT NULL,
            item_id TEXT NOT NULL,
            correct_option INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX quiz_polls_round ON quiz_polls(round_id);
        CREATE TABLE quiz_poll_answers (
            poll_id TEXT NOT NULL,
            user_pseudonym TEXT NOT NULL,
            round_id INTEGER NOT NULL,
            correct INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (poll_id, user_pseudonym)
        );
        CREATE INDEX quiz_poll_answers_round ON quiz_poll_answers(round_id);
        CREATE INDEX quiz_poll_answers_user ON quiz_poll_answers(user_pseudonym);
        """,
    ),
    (
        7,
        "daily quiz reminders (opt-in) and each trainee's time zone",
        """
        CREATE TABLE quiz_reminders (
            user_pseudonym TEXT PRIMARY KEY,
            chat_id INTEGER NOT NULL,
            hour INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
            minute INTEGER NOT NULL CHECK (minute BETWEEN 0 AND 59),
            zone TEXT NOT NULL,
            next_at REAL NOT NULL,
            last_sent REAL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX quiz_reminders_next ON quiz_reminders(next_at);
        CREATE TABLE quiz_zones (
            user_pseudonym TEXT PRIMARY KEY,
            zone TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
    ),
    (
        8,
        "questions users asked the maintainers, and the maintainers' answers",
        """
        CREATE TABLE expert_requests (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            user_pseudonym TEXT,
            question TEXT NOT NULL,
            normalised TEXT NOT NULL,
            reason TEXT,
            asker_ref TEXT NOT NULL,
            expert_chat TEXT,
            expert_message_id INTEGER,
            answer TEXT,
            answered_by TEXT,
            answered_at TEXT
        );
        CREATE INDEX expert_requests_user ON expert_requests(user_pseudonym, created_at);
        CREATE INDEX expert_requests_message ON expert_requests(expert_chat, expert_message_id);
        CREATE INDEX expert_requests_normalised ON expert_requests(normalised);
        """,
    ),
    (
        9,
        "digest and alert state, kept across restarts; maintainers' digest choice",
        """
        CREATE TABLE job_runs (
            job TEXT PRIMARY KEY,
            last_run TEXT NOT NULL
        );
        CREATE TABLE gap_alerts (
            normalised TEXT PRIMARY KEY,
            gap_id TEXT NOT NULL,
            askers INTEGER NOT NULL,
            alerted_at TEXT NOT NULL
        );
        CREATE TABLE admin_prefs (
            admin_pseudonym TEXT PRIMARY KEY,
            digest INTEGER NOT NULL DEFAULT 1,
            updated_at TEXT NOT NULL
        );
        """,
    ),
    (
        10,
        "relays counted apart from their text, so /forget cannot reset the daily limit",
        """
        CREATE TABLE relay_quota (
            user_pseudonym TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX relay_quota_user ON relay_quota(user_pseudonym, created_at);
        INSERT INTO relay_quota (user_pseudonym, created_at)
            SELECT user_pseudonym, created_at FROM expert_requests;
        """,
    ),
)
LATEST = max(number for number, _, _ in MIGRATIONS)
# Tables with a user_pseudonym and a created_at: what /forget and retention reach.
# A quiz reminder holds the one raw id the bot keeps (a private chat to send to), so
# /forget, /remind off, a blocked bot and retention all delete it.
USER_TABLES = (
    "queries",
    "quiz_answers",
    "feedback",
    "quiz_progress",
    "phrasing_picks",
    "expert_requests",
    "quiz_rounds",
    "quiz_poll_answers",
    "quiz_reminders",
    "quiz_zones",
)
PRIVATE_MODE = 0o600


class QueryLogUnusable(Exception):
    """The query log's files are in a state SQLite cannot be trusted with; the message says how to fix it."""


def is_corrupt(exc: BaseException) -> bool:
    """True when SQLite says the file is damaged or not a database at all (not merely busy or read-only)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    return getattr(exc, "sqlite_errorname", "") in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or _corrupt_message(exc)


def _corrupt_message(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "file is not a database" in text or "malformed" in text or "corrupt" in text


def create_private(path: Path) -> None:
    """Create the database file 0600 before SQLite does (it would use the umask: 0644).

    SQLite gives the -wal and -shm files the database file's mode, so they are private too.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))


def check_shared_memory(path: Path) -> None:
    """Refuse a -shm file we cannot write: SQLite would map it read-only and can die with SIGBUS."""
    shm = path.with_name(path.name + "-shm")
    if not shm.exists():
        return
    try:
        os.close(os.open(shm, os.O_RDWR))
    except OSError as exc:
        raise QueryLogUnusable(
            f"the query log's shared-memory file {shm} is not writable by this user ({exc.strerror}); "
            "SQLite would map it read-only and could crash: give it to this user (chown) or delete it "
            "while no regenbot process is running"
        ) from None


def move_aside(path: Path) -> Path:
    """Rename a damaged database (and its -wal/-shm) to ``<db>.corrupt-<time>`` for later rescue."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    os.replace(path, target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            os.replace(side, target.with_name(target.name + suffix))
    return target


def check_integrity(conn: sqlite3.Connection) -> None:
    """Raise sqlite3.DatabaseError if a quick check finds damage (it reads every page once)."""
    result = conn.execute("PRAGMA quick_check(1)").fetchone()
    if result is None or result[0] != "ok":
        raise sqlite3.DatabaseError(f"database disk image is malformed ({result[0] if result else 'no answer'})")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def connect(path: Path | str, *, timeout: float = 5.0) -> sqlite3.Connection:
    """A stdlib connection for maintainer reports, with the schema brought up to date."""
    conn = sqlite3.connect(str(path), timeout=timeout)
    conn.row_factory = sqlite3.Row
    migrate(conn)
    return conn


def current_version(conn: sqlite3.Connection) -> int:
    return max(applied_versions(conn), default=0)


def applied_versions(conn: sqlite3.Connection) -> set[int]:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT, applied_at TEXT)"
    )
    return {int(row[0]) for row in conn.execute("SELECT version FROM schema_version")}


Migrations = tuple[tuple[int, str, str], ...]


def migrate(conn: sqlite3.Connection, target: int | None = None, migrations: Migrations = MIGRATIONS) -> list[int]:
    """Apply every migration above the database's version up to ``target``; return those applied.

    ``migrations`` defaults to the query log's; another file (the Telegram inbox) passes its own.
    """
    target = max(number for number, _, _ in migrations) if target is None else target
    # A read-only file keeps its journal mode; the writer retries its writes later.
    with contextlib.suppress(sqlite3.OperationalError):
        conn.execute("PRAGMA journal_mode=WAL")
    applied = []
    # By presence, not by the highest number: branches reserve numbers and land in any
    # order, so a file that has 8 and 9 must still get 6 and 7 when they arrive.
    done = applied_versions(conn)
    for number, description, sql in sorted(migrations, key=lambda m: m[0]):
        if number in done or number > target:
            continue
        with conn:  # one transaction per migration: all of it or none of it
            conn.execute("BEGIN")
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                (number, description, now_iso()),
            )
        applied.append(number)
    return applied


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]
