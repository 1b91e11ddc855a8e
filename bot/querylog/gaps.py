"""Group unanswered questions into content gaps a maintainer can act on.

A gap is a cluster of near-duplicate questions (rapidfuzz token_set_ratio on the
normalised text) that the bot did not answer, answered with low confidence, or whose
answer was marked "not helpful". A gap's id is a hash of its most frequent phrasing, and
a maintainer's verdict (resolved / ignored) is stored per phrasing, so the verdict
sticks to the gap and a gap comes back when a new question joins it after the verdict.

Each gap says its kind, because each calls for a different fix: a question the bot did
not answer at all, one it was unsure about ("did you mean"), an answer marked 👎, or an
answer given with a score just above the threshold. Chatter that uses no word of the
review's domain ("what's the weather") is its own kind, kept apart from near-misses so it
does not bury them. Small talk and "more"/"sources" requests are not gaps at all.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from bot.core import tuning
from bot.core.answers import PARTLY_COVERED
from bot.querylog.schema import now_iso

if TYPE_CHECKING:
    from bot.pipeline import Pipeline

CLUSTER_RATIO = 80.0
# Answered questions this close to the threshold count as low-confidence gaps too.
LOW_CONFIDENCE_MARGIN = 10.0
STATES = ("pending", "resolved", "ignored")
# What went wrong, in the order a gap's kind is chosen when its questions disagree.
KINDS = ("not_answered", "unsure", "not_helpful", "low_score", "off_topic")
KIND_LABELS = {
    "not_answered": "not answered",
    "unsure": "unsure",
    "not_helpful": "👎",
    "low_score": "answered with low score",
    "off_topic": "off-topic",
}
# Replies that are right as they are: small talk, and requests about the last answer.
NOT_CONTENT = ("chat", "more", "sources", "quotes", "nothing_more", "no_previous_answer", "rate_limited")
UNSURE_REASONS = ("unsure", "ambiguous")
# vocabulary.yaml's not_covered topic for everything that is not medicine at all.
UNRELATED_TOPIC = "topics unrelated to the review"
OffTopic = Callable[[str], bool]


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
    kind: str = "not_answered"
    kinds: dict[str, int] = field(default_factory=dict)
    askers: int = 0
    phrasings: list[str] = field(default_factory=list)  # every distinct (redacted) wording
    suggested: list[str] = field(default_factory=list)  # answer ids offered for it, most often first
    answers: list[str] = field(default_factory=list)  # what maintainers replied to its askers

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "kinds": self.kinds,
            "count": self.count,
            "askers": self.askers,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "nearest_intent": self.nearest_intent,
            "nearest_score": round(self.nearest_score, 1),
            "state": self.state + (" (reopened)" if self.reopened else ""),
            "examples": self.examples,
            "suggested": self.suggested,
            "maintainer_answers": self.answers,
        }


@dataclass
class _Row:
    normalised: str
    question: str
    created_at: str
    intent: str | None
    score: float
    kind: str = "not_answered"
    user: str | None = None
    suggestions: tuple[str, ...] = ()


def gap_id(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def off_topic_test(pipeline: Pipeline) -> OffTopic:
    """Does a question use no word of the review's domain (chatter, not a near-miss)?

    Read with the pipeline's own lexicon: no biologic, near term or cue, too few of the
    review's words to point at a section, and nothing named from the list of topics the
    review does not cover except the "unrelated" one. "How to inject botox" names another
    cosmetic treatment: a near-miss worth seeing; "tell me a joke" is chatter.
    """
    from bot.core.normalise import normalise

    matcher = pipeline.matcher
    outside = pipeline.kb.vocabulary.not_covered

    def off_topic(question: str) -> bool:
        translated, _ = matcher.translator.translate(normalise(question))
        ex = matcher.lexicon.extract(translated)
        if any(h.kind in ("bio", "near") for h in ex.hits):
            return False
        if any(outside[n].topic != UNRELATED_TOPIC for n in ex.outside_topics):
            return False
        return not matcher.in_domain(ex)

    return off_topic


def _kind(answered: bool, reason: str | None) -> str:
    if reason == PARTLY_COVERED:  # "the review does not report …", then the nearest part
        return "not_answered"
    if answered:
        return "low_score"
    return "unsure" if reason in UNSURE_REASONS else "not_answered"


def _rows(conn: sqlite3.Connection, since: str | None, off_topic: OffTopic | None = None) -> list[_Row]:
    threshold = tuning.ANSWER_THRESHOLD + LOW_CONFIDENCE_MARGIN
    args: list[object] = [threshold]
    # Rate-limited questions were never matched; small talk and "more" were answered as asked.
    skip = ", ".join(f"'{r}'" for r in NOT_CONTENT)
    where = (
        f"(answered = 0 OR score < ? OR reason = '{PARTLY_COVERED}') AND normalised != ''"
        f" AND COALESCE(reason, '') NOT IN ({skip})"
    )
    if since:
        where += " AND created_at >= ?"
        args.append(since)
    rows = []
    verdicts: dict[str, bool] = {}
    for r in conn.execute(
        "SELECT normalised, question, created_at, intent, score, answered, reason, user_pseudonym, suggestions"
        f" FROM queries WHERE {where}",
        args,
    ):
        kind = _kind(bool(r["answered"]), r["reason"])
        if off_topic is not None and kind != "low_score":
            if r["normalised"] not in verdicts:
                verdicts[r["normalised"]] = off_topic(r["question"])
            if verdicts[r["normalised"]]:
                kind = "off_topic"
        try:
            suggested = tuple(s for s in json.loads(r["suggestions"] or "[]") if isinstance(s, str))
        except ValueError:
            suggested = ()
        rows.append(
            _Row(
                r["normalised"],
                r["question"],
                r["created_at"],
                r["intent"],
                r["score"] or 0.0,
                kind,
                r["user_pseudonym"],
                suggested,
            )
        )
    feedback_where = "helpful = 0" + (" AND created_at >= ?" if since else "")
    for r in conn.execute(
        f"SELECT question, created_at, answer_id, user_pseudonym FROM feedback WHERE {feedback_where}",
        [since] if since else [],
    ):
        question = r["question"] or ""
        answer = r["answer_id"]
        rows.append(
            _Row(
                " ".join(question.lower().split()),
                question,
                r["created_at"],
                answer,
                0.0,
                "not_helpful",
                r["user_pseudonym"],
                (answer,) if answer else (),
            )
        )
    return rows


def find_gaps(
    conn: sqlite3.Connection,
    since: str | None = None,
    *,
    include_closed: bool = False,
    kinds: tuple[str, ...] | None = None,
    min_count: int = 1,
    min_askers: int = 1,
    off_topic: OffTopic | None = None,
) -> list[Gap]:
    """Clusters of unanswered questions, most frequent first.

    ``off_topic`` (see off_topic_test) sorts chatter into its own kind; without it every
    unanswered question counts as a near-miss. ``kinds``, ``min_count`` and ``min_askers``
    filter the clusters after they are formed, so a filter never splits a gap.
    """
    rows = _rows(conn, since, off_topic)
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
    answers = _maintainer_answers(conn)
    gaps = []
    for leader in leaders:
        group = [row for text in members[leader] for row in by_text[text]]
        best = max(group, key=lambda r: r.score)
        counted = Counter(r.kind for r in group)
        phrasings = list(dict.fromkeys(r.question for r in group))
        suggested = Counter(s for r in group for s in r.suggestions)
        gap = Gap(
            id=gap_id(leader),
            count=len(group),
            first_seen=min(r.created_at for r in group),
            last_seen=max(r.created_at for r in group),
            nearest_intent=best.intent,
            nearest_score=best.score,
            examples=phrasings[:5],
            members=members[leader],
            kind=max(KINDS, key=lambda k: (counted.get(k, 0), -KINDS.index(k))),
            kinds={k: counted[k] for k in KINDS if counted.get(k)},
            askers=len({r.user for r in group if r.user}),
            phrasings=phrasings,
            suggested=[s for s, _ in suggested.most_common()],
            answers=[a for text in members[leader] for a in answers.get(text, [])],
        )
        verdicts = [marks[t] for t in members[leader] if t in marks]
        if verdicts:
            state, marked_at = max(verdicts, key=lambda v: v[1])
            if state != "pending" and gap.last_seen > marked_at:
                gap.reopened = True
            else:
                gap.state = state
        if not include_closed and gap.state != "pending":
            continue
        if (kinds and gap.kind not in kinds) or gap.count < min_count or gap.askers < min_askers:
            continue
        gaps.append(gap)
    return sorted(gaps, key=lambda g: (-g.count, g.last_seen))


def _maintainer_answers(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Replies maintainers sent to askers ("Ask the maintainers"), by normalised question."""
    out: dict[str, list[str]] = {}
    try:
        rows = conn.execute("SELECT normalised, answer FROM expert_requests WHERE answer IS NOT NULL ORDER BY id")
    except sqlite3.OperationalError:  # a log older than migration 8, opened read-only
        return out
    for r in rows:
        out.setdefault(r["normalised"], []).append(r["answer"])
    return out


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
