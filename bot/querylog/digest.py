"""The maintainers' weekly digest and gap alerts: what to send, when, and what was sent.

Pure functions over the query log and a given time, so they are tested with any clock.
Their state (when the digest last went out, which questions already alerted, who turned
the digest off) lives in the same SQLite file, so a restart neither repeats nor skips
them: a digest whose hour passed while the bot was down goes out at the next start.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html import escape

from bot.querylog.gaps import KIND_LABELS, Gap, OffTopic, find_gaps

DIGEST = "digest"
# Near-misses a maintainer can fix: what the digest and the alerts count.
CONTENT_KINDS = ("not_answered", "unsure", "not_helpful", "low_score")
WEEK = timedelta(days=7)
MAX_LISTED = 5


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def last_slot(now: datetime, weekday: int, hour: int) -> datetime:
    """The latest digest time (weekday, hour UTC) at or before ``now``."""
    now = now.astimezone(timezone.utc)
    slot = now.replace(hour=hour, minute=0, second=0, microsecond=0) - timedelta(days=(now.weekday() - weekday) % 7)
    return slot if slot <= now else slot - WEEK


def last_run(conn: sqlite3.Connection, job: str) -> str | None:
    row = conn.execute("SELECT last_run FROM job_runs WHERE job = ?", (job,)).fetchone()
    return row[0] if row else None


def mark_run(conn: sqlite3.Connection, job: str, moment: datetime) -> None:
    with conn:
        conn.execute(
            "INSERT INTO job_runs (job, last_run) VALUES (?, ?)"
            " ON CONFLICT(job) DO UPDATE SET last_run = excluded.last_run",
            (job, _iso(moment)),
        )


def digest_due(conn: sqlite3.Connection, now: datetime, weekday: int, hour: int) -> bool:
    """Has a digest time passed since the last digest? The very first start only sets the mark."""
    previous = last_run(conn, DIGEST)
    if previous is None:
        mark_run(conn, DIGEST, now)
        return False
    return previous < _iso(last_slot(now, weekday, hour))


@dataclass
class Digest:
    questions: int
    answered: int
    new_gaps: list[Gap]
    growing: list[tuple[Gap, int]]  # (gap, how many more than the week before)
    not_helpful: list[tuple[str, int]]  # (answer id, 👎 this week)

    @property
    def answer_rate(self) -> float:
        return self.answered / self.questions if self.questions else 0.0


def weekly(conn: sqlite3.Connection, now: datetime, off_topic: OffTopic | None = None) -> Digest:
    """The last seven days: questions, answer rate, new and growing gaps, 👎 answers."""
    start, before = _iso(now - WEEK), _iso(now - 2 * WEEK)
    total, answered = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(answered), 0) FROM queries WHERE created_at >= ? AND created_at <= ?"
        " AND COALESCE(reason, '') != 'rate_limited'",
        (start, _iso(now)),
    ).fetchone()
    this_week = find_gaps(conn, start, kinds=CONTENT_KINDS, off_topic=off_topic)
    earlier = {g.id: g for g in find_gaps(conn, before, include_closed=True, kinds=CONTENT_KINDS, off_topic=off_topic)}
    new, growing = [], []
    for gap in this_week:
        if gap.first_seen >= start and (gap.id not in earlier or earlier[gap.id].first_seen >= start):
            new.append(gap)
            continue
        previous_week = earlier[gap.id].count - gap.count if gap.id in earlier else 0
        if gap.count > previous_week:
            growing.append((gap, gap.count - previous_week))
    votes = Counter(
        r[0]
        for r in conn.execute(
            "SELECT answer_id FROM feedback WHERE helpful = 0 AND created_at >= ? AND created_at <= ?",
            (start, _iso(now)),
        )
    )
    return Digest(total, answered, new, growing, votes.most_common(MAX_LISTED))


def digest_html(digest: Digest, now: datetime) -> str:
    lines = [
        f"<b>regenbot — week to {now:%d %b %Y}</b>",
        f"Questions: {digest.questions}, answered {digest.answer_rate:.0%}",
    ]

    def gap_line(gap: Gap, extra: str = "") -> str:
        return (
            f"• <code>{gap.id}</code> ×{gap.count}{extra}, {gap.askers} asker(s), {KIND_LABELS[gap.kind]}: "
            f"“{escape(gap.examples[0][:120])}”"
        )

    lines.append(f"\n<b>New gaps</b> ({len(digest.new_gaps)})")
    lines += [gap_line(g) for g in digest.new_gaps[:MAX_LISTED]] or ["none"]
    if len(digest.new_gaps) > MAX_LISTED:
        lines.append(f"… and {len(digest.new_gaps) - MAX_LISTED} more")
    lines.append(f"\n<b>Growing gaps</b> ({len(digest.growing)})")
    lines += [gap_line(g, f" (+{more})") for g, more in digest.growing[:MAX_LISTED]] or ["none"]
    lines.append("\n<b>👎 answers</b>")
    lines += [f"• {escape(answer or '-')} ×{n}" for answer, n in digest.not_helpful] or ["none"]
    lines.append("\n/gaps lists them with Teach… buttons; /digest off stops this message.")
    return "\n".join(lines)


def alerts_due(conn: sqlite3.Connection, askers: int, off_topic: OffTopic | None = None) -> list[Gap]:
    """Open gaps asked by at least ``askers`` people that have not alerted yet."""
    alerted = {r[0] for r in conn.execute("SELECT normalised FROM gap_alerts")}
    return [
        gap
        for gap in find_gaps(conn, kinds=CONTENT_KINDS, min_askers=askers, off_topic=off_topic)
        if not alerted & set(gap.members)
    ]


def mark_alerted(conn: sqlite3.Connection, gap: Gap, now: datetime) -> None:
    with conn:
        conn.executemany(
            "INSERT OR IGNORE INTO gap_alerts (normalised, gap_id, askers, alerted_at) VALUES (?, ?, ?, ?)",
            [(text, gap.id, gap.askers, _iso(now)) for text in gap.members],
        )


def alert_html(gap: Gap, threshold: int) -> str:
    examples = "\n".join(f"• “{escape(e[:120])}”" for e in gap.examples[:3])
    return (
        f"🔔 <b>A gap reached {gap.askers} askers</b> (alert at {threshold}): <code>{gap.id}</code> ×{gap.count}, "
        f"{KIND_LABELS[gap.kind]}\n{examples}\n\n/gaps to teach it."
    )


def digest_enabled(conn: sqlite3.Connection, admin: str | None) -> bool:
    row = conn.execute("SELECT digest FROM admin_prefs WHERE admin_pseudonym IS ?", (admin,)).fetchone()
    return bool(row[0]) if row else True


def set_digest(conn: sqlite3.Connection, admin: str | None, enabled: bool) -> None:
    with conn:
        conn.execute(
            "INSERT INTO admin_prefs (admin_pseudonym, digest, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT(admin_pseudonym) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at",
            (admin, int(enabled), _iso(datetime.now(timezone.utc))),
        )
