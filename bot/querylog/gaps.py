"""Group unanswered questions into content gaps a maintainer can act on.

A gap is a cluster of near-duplicate questions (rapidfuzz token_set_ratio on the
normalised text) that the bot did not answer, answered with low confidence, or whose
answer was marked "not helpful". A gap's id is a hash of its most frequent phrasing, and
a maintainer's verdict (resolved / ignored) is stored per phrasing, so the verdict
sticks to the gap and a gap comes back when a new question joins it after the verdict.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.core import tuning
from bot.querylog.schema import now_iso

CLUSTER_RATIO = 80.0
# Answered questions this close to the threshold count as low-confidence gaps too.
LOW_CONFIDENCE_MARGIN = 10.0
STATES = ("pending", "resolved", "ignored")


@dataclass
class Gap:
    id: str
    count: int
    first_seen: str
    last_seen: str
    nearest_intent: str | None
    nearest_score: float
    examples: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    state: str = "pending"
    reopened: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "count": self.count,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "nearest_intent": self.nearest_intent,
            "nearest_score": round(self.nearest_score, 1),
            "state": self.state + (" (reopened)" if self.reopened else ""),
            "examples": self.examples,
        }


@dataclass
class _Row:
    normalised: str
    question: str
    created_at: str
    intent: str | None
    score: float


def gap_id(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def _rows(conn: sqlite3.Connection, since: str | None) -> list[_Row]:
    threshold = tuning.ANSWER_THRESHOLD + LOW_CONFIDENCE_MARGIN
    args: list[object] = [threshold]
    # Rate-limited questions were never matched: they say nothing about the content.
    where = "(answered = 0 OR score < ?) AND normalised != '' AND COALESCE(reason, '') != 'rate_limited'"
    if since:
        where += " AND created_at >= ?"
        args.append(since)
    rows = [
        _Row(r["normalised"], r["question"], r["created_at"], r["intent"], r["score"] or 0.0)
        for r in conn.execute(
            f"SELECT normalised, question, created_at, intent, score FROM queries WHERE {where}", args
        )
    ]
    feedback_where = "helpful = 0" + (" AND created_at >= ?" if since else "")
    for r in conn.execute(
        f"SELECT question, created_at, answer_id FROM feedback WHERE {feedback_where}", [since] if since else []
    ):
        question = r["question"] or ""
        rows.append(_Row(" ".join(question.lower().split()), question, r["created_at"], r["answer_id"], 0.0))
    return rows


def find_gaps(conn: sqlite3.Connection, since: str | None = None, *, include_closed: bool = False) -> list[Gap]:
    """Clusters of unanswered questions, most frequent first."""
    rows = _rows(conn, since)
    by_text: dict[str, list[_Row]] = {}
    for row in rows:
        by_text.setdefault(row.normalised, []).append(row)
    # Leader clustering: the most frequent phrasing founds a cluster; the rest join the
    # first leader they are close to.
    order = sorted(by_text, key=lambda t: (-len(by_text[t]), min(r.created_at for r in by_text[t])))
    leaders: list[str] = []
    members: dict[str, list[str]] = {}
    for text in order:
        found = (
            process.extractOne(text, leaders, scorer=fuzz.token_set_ratio, score_cutoff=CLUSTER_RATIO)
            if leaders
            else None
        )
        if found:
            members[found[0]].append(text)
        else:
            leaders.append(text)
            members[text] = [text]
    marks = {
        r["normalised"]: (r["state"], r["marked_at"])
        for r in conn.execute("SELECT normalised, state, marked_at FROM gap_marks")
    }
    gaps = []
    for leader in leaders:
        group = [row for text in members[leader] for row in by_text[text]]
        best = max(group, key=lambda r: r.score)
        gap = Gap(
            id=gap_id(leader),
            count=len(group),
            first_seen=min(r.created_at for r in group),
            last_seen=max(r.created_at for r in group),
            nearest_intent=best.intent,
            nearest_score=best.score,
            examples=list(dict.fromkeys(r.question for r in group))[:5],
            members=members[leader],
        )
        verdicts = [marks[t] for t in members[leader] if t in marks]
        if verdicts:
            state, marked_at = max(verdicts, key=lambda v: v[1])
            if state != "pending" and gap.last_seen > marked_at:
                gap.reopened = True
            else:
                gap.state = state
        if include_closed or gap.state == "pending":
            gaps.append(gap)
    return sorted(gaps, key=lambda g: (-g.count, g.last_seen))


def mark_gap(conn: sqlite3.Connection, gap: str, state: str) -> Gap | None:
    """Set a gap's state by id (or unique id prefix); None when no such gap exists."""
    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}")
    matches = [g for g in find_gaps(conn, include_closed=True) if g.id.startswith(gap)]
    if len(matches) != 1:
        return None
    target = matches[0]
    now = now_iso()
    with conn:
        conn.executemany(
            "INSERT INTO gap_marks (normalised, gap_id, state, marked_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(normalised) DO UPDATE SET gap_id = excluded.gap_id, state = excluded.state,"
            " marked_at = excluded.marked_at",
            [(text, target.id, state, now) for text in target.members],
        )
    target.state = state
    target.reopened = False
    return target
