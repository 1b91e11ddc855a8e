"""The query log: privacy, migrations, faults with nothing lost, gaps, replay."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.loader import load_knowledge
from bot.pipeline import Pipeline
from bot.querylog.gaps import find_gaps, mark_gap
from bot.querylog.pseudonym import Pseudonymizer, load_or_create_key
from bot.querylog.redact import redact
from bot.querylog.reports import replay
from bot.querylog.schema import LATEST, MIGRATIONS, connect, current_version, migrate
from bot.querylog.writer import QueryLog

KEY = b"k" * 64


@pytest.mark.parametrize(
    ("text", "placeholder", "secret"),
    [
        ("patient jane.doe+1@example.co.id asked", "[email]", "jane.doe"),
        ("call +62 812-3456-7890 tomorrow", "[phone]", "3456"),
        ("phone (021) 555 1234", "[phone]", "555 1234"),
        ("DOB 12/03/1961 PRP?", "[date]", "1961"),
        ("seen 2024-03-12 after laser", "[date]", "2024-03-12"),
        ("born 3 March 1961", "[date]", "1961"),
        ("MRN 004512378 exosomes", "[id]", "004512378"),
    ],
)
def test_redaction_of_each_pattern(text, placeholder, secret):
    out = redact(text)
    assert placeholder in out and secret not in out


def test_redaction_keeps_the_question_readable():
    assert redact("PRP vs exosomes for collagen I/III?") == "PRP vs exosomes for collagen I/III?"
    assert redact("ref 12 and miR-146a") == "ref 12 and miR-146a"


def test_pseudonyms_are_stable_keyed_and_not_reversible():
    p = Pseudonymizer(KEY)
    assert p(123456789) == p("123456789") and p(1) != p(2)
    assert Pseudonymizer(b"x" * 64)(123456789) != p(123456789)
    assert "123456789" not in p(123456789)


def test_key_file_is_created_once_with_mode_0600(tmp_path):
    path = tmp_path / "cfg" / "pseudonym.key"
    key = load_or_create_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_key(path) == key and len(key) >= 32


def ask_some(pipeline: Pipeline, user: int = 987654321) -> None:
    for q in ["how does PRP work", "PRP for lips", "email me at dr.who@example.com about PRP for lips"]:
        pipeline.ask(q, user=user, frontend="telegram", chat_type="private")


async def test_records_are_written_redacted_and_pseudonymous(tmp_path, kb):
    db = tmp_path / "log.db"
    qlog = QueryLog(db, Pseudonymizer(KEY), interval=0.01)
    await qlog.open()
    ask_some(Pipeline(kb, sink=qlog))
    await qlog.close()
    raw = db.read_bytes() + (db.with_name("log.db-wal").read_bytes() if db.with_name("log.db-wal").exists() else b"")
    assert b"987654321" not in raw and b"dr.who" not in raw and KEY not in raw
    conn = connect(db)
    rows = conn.execute("SELECT * FROM queries ORDER BY id").fetchall()
    assert len(rows) == 3
    assert {r["user_pseudonym"] for r in rows} == {Pseudonymizer(KEY)(987654321)}
    assert rows[0]["intent"] == "prp.mechanism" and rows[0]["answered"] == 1 and rows[0]["kb_version"]
    assert rows[1]["answered"] == 0 and rows[1]["intent"] == "prp.overview"  # nearest intent kept for gaps
    assert "[email]" in rows[2]["question"]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_record_never_blocks_even_without_a_database(tmp_path, kb):
    qlog = QueryLog(tmp_path / "missing-dir" / "x" / "log.db", Pseudonymizer(KEY))
    pipeline = Pipeline(kb, sink=qlog)  # not even opened
    ask_some(pipeline)
    assert qlog.pending == 3


def test_old_database_is_upgraded_in_place(tmp_path):
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    assert migrate(conn, target=1) == [1]
    conn.execute(
        "INSERT INTO queries (created_at, frontend, question, normalised, answered) VALUES "
        "('2026-01-01T00:00:00.000+00:00', 'telegram', 'old question', 'old question', 0)"
    )
    conn.commit()
    conn.close()
    upgraded = connect(db)
    assert current_version(upgraded) == LATEST
    row = upgraded.execute("SELECT question, reason, used_context FROM queries").fetchone()
    assert tuple(row) == ("old question", None, 0)
    versions = [r[0] for r in upgraded.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == [number for number, _, _ in MIGRATIONS]
    assert migrate(upgraded) == []  # applied once


class FaultyLog(QueryLog):
    """A QueryLog whose connections can be made read-only or tiny, as real faults would."""

    fault: str | None = None

    async def _try_connect(self) -> bool:
        ok = await super()._try_connect()
        if ok and self.fault == "readonly":
            await self._conn.execute("PRAGMA query_only = 1")
        return ok

    async def heal(self) -> None:
        self.fault = None
        if self._conn is not None:
            await self._conn.execute("PRAGMA query_only = 0")
            await self._conn.execute("PRAGMA max_page_count = 1000000")


def count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT COUNT(*) FROM queries").fetchone()[0]
    finally:
        conn.close()


async def test_locked_database_is_retried_and_nothing_lost(tmp_path, kb):
    db = tmp_path / "log.db"
    qlog = QueryLog(db, Pseudonymizer(KEY), interval=0.01, busy_timeout=0.05, max_backoff=0.05)
    await qlog.open()
    blocker = sqlite3.connect(db, timeout=0.05)
    blocker.execute("BEGIN EXCLUSIVE")
    ask_some(Pipeline(kb, sink=qlog))
    await asyncio.sleep(0.3)
    assert qlog.pending == 3 and qlog.failures > 0 and "locked" in (qlog.last_error or "")
    blocker.rollback()
    blocker.close()
    for _ in range(100):
        if qlog.pending == 0:
            break
        await asyncio.sleep(0.02)
    await qlog.close()
    assert count(db) == 3 and qlog.last_error is None


async def test_database_read_only_at_start_keeps_answers_and_records(tmp_path, kb):
    db = tmp_path / "log.db"
    connect(db).close()
    qlog = FaultyLog(db, Pseudonymizer(KEY), interval=0.01, max_backoff=0.05)
    qlog.fault = "readonly"
    await qlog.open()
    pipeline = Pipeline(kb, sink=qlog)
    reply = pipeline.ask("how does PRP work", user=1)
    assert reply.answer.answered  # the answer does not wait for, or fail with, the log
    ask_some(pipeline)
    await asyncio.sleep(0.2)
    assert qlog.pending == 4 and "readonly" in (qlog.last_error or "").replace(" ", "")
    await qlog.heal()
    assert await qlog.flush()
    await qlog.close()
    assert count(db) == 4


async def test_full_database_is_retried(tmp_path, kb):
    db = tmp_path / "log.db"
    qlog = FaultyLog(db, Pseudonymizer(KEY), interval=0.01, max_backoff=0.05)
    await qlog.open()
    pages = (await (await qlog._conn.execute("PRAGMA page_count")).fetchone())[0]
    await qlog._conn.execute(f"PRAGMA max_page_count = {pages}")
    pipeline = Pipeline(kb, sink=qlog)
    for i in range(300):
        pipeline.ask("exosome evidence " + "x" * 1500, user=i)
    await asyncio.sleep(0.2)
    assert qlog.pending == 300 and "full" in (qlog.last_error or "")
    await qlog.heal()
    await qlog.close()
    assert count(db) == 300


async def test_unwritable_at_shutdown_spills_and_next_start_restores(tmp_path, kb):
    db = tmp_path / "log.db"
    connect(db).close()
    qlog = FaultyLog(db, Pseudonymizer(KEY), interval=0.01, max_backoff=0.05)
    qlog.fault = "readonly"
    await qlog.open()
    ask_some(Pipeline(kb, sink=qlog))
    await qlog.close(timeout=0.3)
    spill = qlog.spill_path()
    assert spill.exists() and count(db) == 0
    again = QueryLog(db, Pseudonymizer(KEY), interval=0.01)
    await again.open()
    await again.close()
    assert count(db) == 3 and not spill.exists()


async def test_forget_deletes_everything_for_the_user(tmp_path, kb):
    db = tmp_path / "log.db"
    qlog = QueryLog(db, Pseudonymizer(KEY), interval=0.01)
    await qlog.open()
    pipeline = Pipeline(kb, sink=qlog)
    ask_some(pipeline, user=1)
    ask_some(pipeline, user=2)
    qlog.record_quiz(1, "q1", "prp", True)
    qlog.record_feedback(1, "prp-safety", "is prp safe", False)
    await qlog.flush()
    pipeline.ask("exosome safety", user=1)  # still queued when /forget arrives
    assert await qlog.forget(1) == 6
    await qlog.close()
    conn = connect(db)
    assert conn.execute("SELECT COUNT(*) FROM queries").fetchone()[0] == 3
    assert conn.execute("SELECT COUNT(*) FROM quiz_answers").fetchone()[0] == 0


async def test_retention_purges_old_rows(tmp_path):
    db = tmp_path / "log.db"
    conn = connect(db)
    conn.executemany(
        "INSERT INTO queries (created_at, frontend, question, normalised, answered) VALUES (?, 'ask', 'q', 'q', 1)",
        [("2020-01-01T00:00:00.000+00:00",), ("2999-01-01T00:00:00.000+00:00",)],
    )
    conn.commit()
    qlog = QueryLog(db, Pseudonymizer(KEY), retention_days=180)
    await qlog.open()
    assert await qlog.purge() == 1
    await qlog.close()
    assert count(db) == 1


def log_questions(db: Path, kb, questions: list[str]) -> None:
    async def run() -> None:
        qlog = QueryLog(db, Pseudonymizer(KEY), interval=0.01)
        await qlog.open()
        pipeline = Pipeline(kb, sink=qlog)
        for i, q in enumerate(questions):
            pipeline.ask(q, user=i, conversation=i)
        await qlog.close()

    asyncio.run(run())


def test_gaps_cluster_near_duplicates_and_states_stick(tmp_path, kb):
    db = tmp_path / "log.db"
    log_questions(
        db,
        kb,
        [
            "PRP for hair loss",
            "prp for hair loss?",
            "PRP hair loss",
            "hair loss PRP please",
            "botox dosing",
            "how does PRP work",
        ],
    )
    conn = connect(db)
    gaps = find_gaps(conn)
    assert [g.count for g in gaps] == [4, 1]
    top = gaps[0]
    assert "hair" in top.examples[0].lower() and top.first_seen <= top.last_seen
    assert mark_gap(conn, top.id[:5], "resolved").state == "resolved"
    assert [g.count for g in find_gaps(conn)] == [1]
    assert len(find_gaps(conn, include_closed=True)) == 2
    log_questions(db, kb, ["PRP for hair loss!!"])  # a new question joins the resolved gap
    reopened = find_gaps(connect(db))
    assert reopened[0].count == 5 and reopened[0].reopened


def test_replay_before_and_after_a_knowledge_edit(tmp_path, kb, kb_copy):
    db = tmp_path / "log.db"
    log_questions(db, kb, ["exosomes vibe check", "how does PRP work", "botox dosing"])
    before = replay(connect(db), Pipeline(kb))
    assert before.total == 3 and len(before.still_failing) == 2 and not before.closed
    text = (kb_copy / "aspects.yaml").read_text()
    taught = text.replace("      - evidence\n", "      - evidence\n      - vibe check\n", 1)
    (kb_copy / "aspects.yaml").write_text(taught)
    after = replay(connect(db), Pipeline(load_knowledge(kb_copy)))
    assert after.closed == [("exosomes vibe check", "exosomes.evidence")]
    assert after.still_failing == ["botox dosing"] and after.unchanged == 1 and not after.regressed


def test_maintainer_commands_end_to_end(tmp_path, kb, capsys, isolated_environment):
    db = Path(os.environ["REGENBOT_DB"])
    log_questions(db, kb, ["PRP for hair loss", "prp for hair loss?", "how does PRP work"])
    assert main(["gaps"]) == 0
    out = capsys.readouterr().out
    assert "x2" in out and "hair loss" in out
    assert main(["gaps", "--format", "json", "--since", "7d"]) == 0
    gaps = json.loads(capsys.readouterr().out)
    assert gaps[0]["count"] == 2
    assert main(["gaps", "ignore", gaps[0]["id"]]) == 0
    capsys.readouterr()
    assert main(["gaps"]) == 0 and "no open content gaps" in capsys.readouterr().out
    assert main(["gaps", "resolve", "zzzz"]) == 2
    assert main(["gaps", "--since", "yesterday"]) == 2
    assert "--since takes" in capsys.readouterr().err
    assert main(["stats"]) == 0
    assert "questions: 3" in capsys.readouterr().out
    target = tmp_path / "out.csv"
    assert main(["export", "--csv", str(target)]) == 0
    assert target.read_text().count("\n") == 4
    assert main(["replay"]) == 0
    assert "still not answered: 2" in capsys.readouterr().out


def test_reports_on_a_missing_database_say_so(capsys):
    assert main(["stats"]) == 2
    assert "no query log yet" in capsys.readouterr().err


def test_ask_logs_through_the_same_database(capsys):
    assert main(["ask", "--json", "exosome evidence"]) == 0
    capsys.readouterr()
    conn = connect(os.environ["REGENBOT_DB"])
    row = conn.execute("SELECT frontend, intent, user_pseudonym FROM queries").fetchone()
    assert row["frontend"] == "ask" and row["intent"] == "exosomes.evidence" and row["user_pseudonym"]


async def test_concurrent_flushes_share_the_connection_safely(tmp_path, kb):
    db = tmp_path / "log.db"
    qlog = QueryLog(db, Pseudonymizer(KEY), interval=0.001, batch_size=50)
    await qlog.open()
    pipeline = Pipeline(kb, sink=qlog)
    for i in range(2000):
        pipeline.ask("exosome evidence", user=i, conversation=i)
    results = await asyncio.gather(*(qlog.flush() for _ in range(5)), qlog.forget(3))
    await qlog.close()
    assert all(results[:5]) and qlog.failures == 0
    assert count(db) == 1999


async def test_forget_does_not_reset_the_daily_relay_limit(tmp_path):
    """/forget deletes the relayed questions; the count of relays (no text) stays for the day."""
    from bot.querylog import expert
    from bot.querylog.pseudonym import Pseudonymizer

    pseudonymize = Pseudonymizer(b"k" * 64)
    db = tmp_path / "log.db"
    qlog = QueryLog(db, pseudonymize, interval=0.01)
    await qlog.open()
    conn = connect(db)
    me = pseudonymize(42)
    for n in range(expert.PER_DAY):
        assert isinstance(expert.admit(conn, me, f"question {n} about PRP kits", "unsure", "sealed", "-1"), int)
    assert expert.admit(conn, me, "one more about PRP kits", "unsure", "sealed", "-1") == expert.LIMIT
    assert await qlog.forget(42) >= expert.PER_DAY
    assert conn.execute("SELECT COUNT(*) FROM expert_requests").fetchone()[0] == 0
    assert expert.admit(conn, me, "after forgetting, about PRP kits", "unsure", "sealed", "-1") == expert.LIMIT
    assert expert.admit(conn, pseudonymize(7), "someone else about PRP kits", "unsure", "sealed", "-1") != expert.LIMIT
    await qlog.close()
    conn.close()
