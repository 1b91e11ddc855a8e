"""Maintainers' views of the log: stats, learnt phrasings, replay and export.

Plain SQL over the same file the bot writes; nothing here runs in the answer path.
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

from bot.pipeline import Pipeline
from bot.querylog.csvsafe import SafeWriter

_SINCE = re.compile(r"^(\d{1,5})([hdw])$")


def since_to_iso(since: str | None) -> str | None:
    """'7d' / '12h' / '2w' -> an ISO timestamp that many hours/days/weeks ago."""
    if not since:
        return None
    m = _SINCE.match(since.strip())
    if not m:
        raise ValueError(f"--since takes a number and h, d or w (e.g. 7d, 12h, 2w), got {since!r}")
    amount, unit = int(m.group(1)), m.group(2)
    delta = {"h": timedelta(hours=amount), "d": timedelta(days=amount), "w": timedelta(weeks=amount)}[unit]
    return (datetime.now(timezone.utc) - delta).isoformat(timespec="milliseconds")


def stats(conn: sqlite3.Connection, since: str | None = None) -> dict[str, Any]:
    where, args = ("WHERE created_at >= ?", [since]) if since else ("", [])
    limited = conn.execute(
        f"SELECT COUNT(*) FROM queries {where}{' AND' if where else 'WHERE'} reason = 'rate_limited'", args
    ).fetchone()[0]
    total, answered = conn.execute(f"SELECT COUNT(*), COALESCE(SUM(answered), 0) FROM queries {where}", args).fetchone()
    total -= limited  # refused for pace, not for content: kept out of the answer rate
    per_day = conn.execute(
        f"SELECT substr(created_at, 1, 10) AS day, COUNT(*), SUM(answered) FROM queries {where}"
        " GROUP BY day ORDER BY day DESC LIMIT 14",
        args,
    ).fetchall()
    intents = conn.execute(
        f"SELECT intent, COUNT(*) AS n FROM queries {where}{' AND' if where else 'WHERE'} answered = 1"
        " GROUP BY intent ORDER BY n DESC LIMIT 10",
        args,
    ).fetchall()
    frontends = conn.execute(f"SELECT frontend, COUNT(*) FROM queries {where} GROUP BY frontend", args).fetchall()
    quiz_total, quiz_correct, quiz_users = conn.execute(
        f"SELECT COUNT(*), COALESCE(SUM(correct), 0), COUNT(DISTINCT user_pseudonym) FROM quiz_answers {where}", args
    ).fetchone()
    helpful, not_helpful = conn.execute(
        f"SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0) FROM feedback {where}", args
    ).fetchone()
    users = conn.execute(f"SELECT COUNT(DISTINCT user_pseudonym) FROM queries {where}", args).fetchone()[0]
    return {
        "questions": total,
        "rate_limited": limited,
        "answered": answered,
        "answer_rate": round(answered / total, 3) if total else 0.0,
        "users": users,
        "per_day": [{"day": d, "questions": n, "answered": a} for d, n, a in per_day],
        "top_intents": [{"intent": i, "count": n} for i, n in intents],
        "frontends": {f: n for f, n in frontends},
        "quiz": {
            "answers": quiz_total,
            "correct": quiz_correct,
            "users": quiz_users,
            "accuracy": round(quiz_correct / quiz_total, 3) if quiz_total else 0.0,
        },
        "feedback": {"helpful": helpful, "not_helpful": not_helpful},
    }


def phrasing_candidates(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT intent, example, normalised, count, first_seen, last_seen FROM phrasing_candidates"
        " ORDER BY count DESC, last_seen DESC"
    ).fetchall()
    return [dict(r) for r in rows]


@dataclass
class ReplayReport:
    total: int = 0
    closed: list[tuple[str, str]] = field(default_factory=list)  # (question, new intent)
    changed: list[tuple[str, str, str]] = field(default_factory=list)  # (question, old, new)
    regressed: list[tuple[str, str]] = field(default_factory=list)  # (question, old intent)
    still_failing: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0  # commands, button picks, follow-ups, small talk: not questions to re-ask alone


# "[prp-safety]" is how a button pick or deep link is logged: an id, not a question.
_PICK = re.compile(r"^\[[A-Za-z0-9_.~-]+\]$")
# Replies that depend on the conversation or are small talk: nothing to compare alone.
_NOT_REPLAYED = ("chat", "more", "sources", "quotes", "nothing_more", "no_previous_answer", "rate_limited")


def replayable(question: str, reason: str | None, used_context: bool) -> bool:
    """Is this logged row a question that means the same on its own, today?"""
    text = question.strip()
    return bool(
        text
        and not used_context
        and not text.startswith("/")
        and not _PICK.match(text)
        and (reason or "") not in _NOT_REPLAYED
    )


def _distinct_questions(conn: sqlite3.Connection, since: str | None) -> tuple[list[sqlite3.Row], int]:
    where, args = (
        ("WHERE created_at >= ? AND frontend != 'replay'", [since]) if since else ("WHERE frontend != 'replay'", [])
    )
    rows = conn.execute(
        f"SELECT question, intent, answered, used_context, reason FROM queries {where} ORDER BY id DESC", args
    ).fetchall()
    seen: set[str] = set()
    out, skipped = [], 0
    for row in rows:
        question = row["question"]
        if question in seen:
            continue
        seen.add(question)
        if not replayable(question, row["reason"], bool(row["used_context"])):
            skipped += 1
            continue
        out.append(row)
    return out, skipped


def replay(conn: sqlite3.Connection, pipeline: Pipeline, since: str | None = None) -> ReplayReport:
    """Re-ask every distinct logged question against the current knowledge base."""
    rows, skipped = _distinct_questions(conn, since)
    report = ReplayReport(skipped=skipped)
    for row in rows:
        question = row["question"]
        report.total += 1
        answer = quiet_answer(pipeline, question)
        now_answered, now_intent = answer.answered, answer.intent
        was_answered, was_intent = bool(row["answered"]), row["intent"]
        if now_answered and not was_answered:
            report.closed.append((question, now_intent or ""))
        elif was_answered and not now_answered:
            report.regressed.append((question, was_intent or ""))
        elif not now_answered:
            report.still_failing.append(question)
        elif now_intent != was_intent:
            report.changed.append((question, was_intent or "", now_intent or ""))
        else:
            report.unchanged += 1
    return report


def quiet_answer(pipeline: Pipeline, question: str):
    """What ``pipeline`` answers to ``question`` alone, with nothing logged or remembered."""
    from bot.core.normalise import normalise

    match = pipeline.matcher.match(normalise(question))
    return pipeline.composer.compose(match)


def outcome(answer) -> str:
    """One word for a reply: its answer id when answered, else its reason."""
    if answer.answered and answer.answer_id:
        return answer.answer_id.split(".")[0]
    return answer.reason


def differences(
    conn: sqlite3.Connection, before: Pipeline, after: Pipeline, since: str | None = None
) -> tuple[int, list[tuple[str, str, str]]]:
    """Logged questions that ``after`` answers differently from ``before``: (question, before, after)."""
    rows, _ = _distinct_questions(conn, since)
    changed = []
    for row in rows:
        old, new = outcome(quiet_answer(before, row["question"])), outcome(quiet_answer(after, row["question"]))
        if old != new:
            changed.append((row["question"], old, new))
    return len(rows), changed


EXPORT_COLUMNS = (
    "id",
    "created_at",
    "frontend",
    "chat_type",
    "user_pseudonym",
    "question",
    "normalised",
    "intent",
    "slots",
    "score",
    "answered",
    "reason",
    "suggestions",
    "latency_ms",
    "kb_version",
    "used_context",
)


def export_csv(conn: sqlite3.Connection, target: Path, since: str | None = None) -> int:
    where, args = ("WHERE created_at >= ?", [since]) if since else ("", [])
    rows = conn.execute(f"SELECT {', '.join(EXPORT_COLUMNS)} FROM queries {where} ORDER BY id", args)
    count = 0
    with _private_text_file(target) as fh:
        writer = SafeWriter(fh)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow(list(row))
            count += 1
    return count


def _private_text_file(target: Path) -> IO[str]:
    """Open ``target`` for writing, readable by its owner only: an export is a copy of the log."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if stat.S_ISREG(os.fstat(fd).st_mode):
        os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
    return os.fdopen(fd, "w", newline="", encoding="utf-8")


def suggestion_id(normalised: str, intent: str) -> str:
    """A short stable id for a learnt phrasing, so a maintainer can accept it by name."""
    import hashlib

    return hashlib.sha1(f"{normalised}\t{intent}".encode()).hexdigest()[:8]
