"""Nothing lost, nothing answered twice: the real `regenbot run` under SIGKILL, SIGTERM and bad input.

Every fault is real: signals to the process, a 401 from the stand-in Bot API, a database
file overwritten with garbage, lone surrogates in a Telegram message. The figures these
tests print are the ones quoted in README.md ("Reliability").
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.botproc import (
    ADMIN,
    REPO,
    bot_env,
    replies_by_question,
    start_bot,
    stop_bot,
    texts_to,
    wait_text,
)
from tests.support.fake_telegram import BOT_USERNAME, FakeTelegram

QUESTIONS = ["prp evidence", "exosome safety", "what after laser?", "compare all three", "secretome mechanism"]


def inbox_of(tmp: Path) -> Path:
    return tmp / "bot.inbox.sqlite3"


def query(db: Path, sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def burst(tg: FakeTelegram, first_chat: int, count: int) -> None:
    for i in range(count):
        tg.send_text(first_chat + i, QUESTIONS[i % len(QUESTIONS)])


def pending_questions(db: Path) -> set[tuple[int, int]]:
    """(chat, message id) of every update the inbox holds as pending."""
    rows = query(db, "SELECT payload FROM inbox WHERE state = 'pending'")
    out = set()
    for (payload,) in rows:
        message = json.loads(payload)["message"]
        out.add((message["chat"]["id"], message["message_id"]))
    return out


# -- 1. SIGKILL mid-burst ----------------------------------------------------------------------


def test_sigkill_mid_burst_loses_nothing_and_answers_nothing_twice(tmp_path):
    """The issue's case: SIGKILL after 250 of 500 burst questions were answered.

    The kill comes while 64 answers are on the wire (the stand-in has received them but
    holds them back, as a slow Telegram would) and the rest wait in the inbox; then the
    held answers are delivered, as Telegram delivers a request whose client died.
    """
    db, inbox = tmp_path / "bot.sqlite3", inbox_of(tmp_path)
    unstored: list[int] = []

    def stored_before_acknowledged(offset: int) -> None:
        """Runs in the stand-in as getUpdates arrives: every id below the offset must be in the inbox."""
        if offset <= 1:
            return
        stored = (
            {row[0] for row in query(inbox, "SELECT update_id FROM inbox WHERE update_id < ?", offset)}
            if inbox.exists()
            else set()
        )
        unstored.extend(sorted(set(range(1, offset)) - stored))

    def quiet() -> bool:
        """Every answer the stand-in has received is marked handled: nothing is half-done."""
        received = len(tg.calls("sendMessage"))
        handled = query(inbox, "SELECT COUNT(*) FROM inbox WHERE state != 'pending'")[0][0]
        return tg.state.held >= 64 and handled == received

    with FakeTelegram() as tg:
        tg.state.on_get_updates = stored_before_acknowledged
        proc = start_bot(tg, tmp_path)
        burst(tg, 60_000, 500)
        tg.wait_for(lambda: len(tg.calls("sendMessage")) >= 250, timeout=60)
        tg.hold("sendMessage")
        tg.wait_for(quiet, timeout=30)
        proc.kill()
        proc.wait(timeout=10)
        tg.release()
        tg.wait_for(lambda: all(c.done_at for c in tg.calls("sendMessage")), timeout=10)
        before = replies_by_question(tg)
        sent_before = len(tg.calls("sendMessage"))
        waiting = pending_questions(inbox)
        proc = start_bot(tg, tmp_path, log_name="bot-restarted.log")
        tg.wait_for(lambda: len(replies_by_question(tg)) >= 500, timeout=60)
        assert stop_bot(proc, signal.SIGTERM) == 0
        after = replies_by_question(tg)
        late = tg.calls("sendMessage")[sent_before:]
    print(
        f"SIGKILL with {len(before)} of 500 answered ({tg.state.held} on the wire): {len(waiting)} pending, "
        f"{len(after)} answered after the restart, {sum(after.values()) - len(after)} answered twice"
    )
    assert len(before) < 500 and len(waiting) == 500 - len(before)
    assert len(after) == 500  # 0 lost
    assert max(after.values()) == 1  # nothing answered twice
    assert unstored == []  # nothing acknowledged before it was stored
    assert len(late) == len(waiting) and all("Late answer" in c.params["text"] for c in late)
    assert query(inbox, "SELECT COUNT(*) FROM inbox WHERE state = 'pending'") == [(0,)]
    assert query(db, "SELECT COUNT(*) FROM queries") >= [(len(waiting),)]


def test_sigkill_at_a_random_moment_of_a_burst_loses_nothing_and_answers_nothing_twice(tmp_path):
    """No stage-managing: the kill lands wherever the burst happens to be.

    The one gap left (see bot.telegram.delivery) is the few microseconds of Python between
    committing 'sending' and the write to the socket; 52 random kills during development
    lost nothing and answered nothing twice.
    """
    with FakeTelegram() as tg:
        proc = start_bot(tg, tmp_path)
        burst(tg, 65_000, 500)
        kill_after = random.randint(100, 400)
        tg.wait_for(lambda: len(tg.calls("sendMessage")) >= kill_after, timeout=60)
        proc.kill()
        proc.wait(timeout=10)
        before = len(replies_by_question(tg))
        proc = start_bot(tg, tmp_path, log_name="bot-restarted.log")
        # Generous: a loaded CI machine is slow, and slow is not lost. A reply lost in the
        # window delivery.py documents shows below as "missing", not as a timeout.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(replies_by_question(tg)) < 500:
            time.sleep(0.05)
        assert stop_bot(proc, signal.SIGTERM) == 0
        after = replies_by_question(tg)
        states = query(inbox_of(tmp_path), "SELECT state, COUNT(*) FROM inbox GROUP BY state")
    print(f"SIGKILL at random after {before} of 500: {len(after)} answered, {sum(after.values()) - len(after)} twice")
    assert len(after) == 500, f"{500 - len(after)} missing after the restart (killed after {before}; inbox {states})"
    assert max(after.values()) == 1


# -- 2. SIGTERM with a backlog -------------------------------------------------------------------


def test_sigterm_with_1500_queued_exits_within_10_s_and_the_rest_waits(tmp_path):
    db, inbox = tmp_path / "bot.sqlite3", inbox_of(tmp_path)
    with FakeTelegram() as tg:
        proc = start_bot(tg, tmp_path, REGENBOT_SEND_RATE="30")  # Telegram's own pace: a real backlog
        burst(tg, 70_000, 1500)
        tg.wait_for(lambda: any(int(c.params.get("offset") or 0) > 1500 for c in tg.calls("getUpdates")), timeout=30)
        tg.wait_for(lambda: len(tg.calls("sendMessage")) >= 30, timeout=30)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        took = time.monotonic() - started
        answered = len(replies_by_question(tg))
        waiting = query(inbox, "SELECT COUNT(*) FROM inbox WHERE state = 'pending'")[0][0]
        proc = start_bot(tg, tmp_path, log_name="bot-restarted.log")
        tg.wait_for(lambda: len(replies_by_question(tg)) >= 1500, timeout=90)
        assert stop_bot(proc, signal.SIGTERM) == 0
        counts = replies_by_question(tg)
    print(f"SIGTERM with {1500 - answered} queued: exit {code} in {took:.2f} s; {waiting} left pending")
    assert code == 0 and took < 10
    assert answered < 1500 and waiting == 1500 - answered  # the rest waits in the inbox, none dropped
    assert len(counts) == 1500 and max(counts.values()) == 1
    assert query(db, "SELECT COUNT(*) FROM queries WHERE frontend = 'telegram'") == [(1500,)]


# -- 3. poison through Telegram --------------------------------------------------------------------


def test_undecodable_text_from_telegram_neither_stops_the_log_nor_the_shutdown(tmp_path):
    texts = ["how does prp work \ud800", "exosome safety \udcff\udcfe", "prp evidence \udfff\ud800"] * 4
    with FakeTelegram() as tg:
        proc = start_bot(tg, tmp_path)
        for i, text in enumerate(texts):
            tg.send_text(81_000 + i, text)
        tg.wait_for(lambda: all(texts_to(tg, 81_000 + i) for i in range(len(texts))), timeout=30)
        tg.send_text(81_100, "compare all three")  # after the poison: still logged
        wait_text(tg, 81_100, "side by side")
        assert stop_bot(proc, signal.SIGTERM) == 0
    log = (tmp_path / "bot.log").read_text()
    rows = query(tmp_path / "bot.sqlite3", "SELECT question FROM queries WHERE frontend = 'telegram'")
    assert len(rows) == len(texts) + 1  # 0 records lost
    assert sum("\ufffd" in q for (q,) in rows) == len(texts)
    assert "Traceback" not in log and "UnicodeEncodeError" not in log


# -- 7, 8. a token Telegram rejects ------------------------------------------------------------


@pytest.mark.parametrize("status", ["401", "404"])
def test_a_token_rejected_at_start_is_one_line_and_exit_2(tmp_path, status):
    with FakeTelegram() as tg:
        tg.inject("getMe", status, times=10)
        proc = subprocess.run(
            [sys.executable, "-m", "bot.cli", "run"],
            cwd=REPO,
            env=bot_env(tg, tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert out.count("\n") == 1 and "rejected" in out and "Traceback" not in out
    assert tg.token not in out and tg.token.split(":")[1] not in out


def test_a_revoked_token_while_polling_ends_the_process_with_one_line(tmp_path):
    with FakeTelegram() as tg:
        proc = start_bot(tg, tmp_path)
        tg.send_text(83_001, "prp evidence")
        wait_text(tg, 83_001, "PRP — Strength of evidence")
        tg.inject("getUpdates", "401", times=100)
        code = proc.wait(timeout=30)  # "at once": the bound only keeps a hung process from hanging the suite
        exited = time.monotonic()
        refused = tg.calls("getUpdates", ok=False)
    log = (tmp_path / "bot.log").read_text()
    print(f"401 on getUpdates: exit {code} {exited - refused[0].done_at:.2f} s later, after {len(refused)} call(s)")
    assert code == 2
    assert [line for line in log.splitlines() if "rejected" in line] == [log.splitlines()[-1]]
    assert "Traceback" not in log and tg.token not in log


# -- 5, 6. damaged and unsafe database files -----------------------------------------------------


def test_a_damaged_database_is_moved_aside_and_maintainer_commands_still_work(tmp_path):
    db = tmp_path / "bot.sqlite3"
    db.write_bytes(b"overwritten by a backup script gone wrong " * 500)
    with FakeTelegram() as tg:
        proc = start_bot(tg, tmp_path)
        tg.send_text(84_001, "prp evidence")
        wait_text(tg, 84_001, "PRP — Strength of evidence")
        tg.send_text(ADMIN, "/stats")
        assert "questions: 1 " in wait_text(tg, ADMIN, "questions:")
        tg.send_text(84_001, "/forget")
        assert "deleted 1 logged record" in wait_text(tg, 84_001, "Done")
        assert stop_bot(proc, signal.SIGTERM) == 0
    log = (tmp_path / "bot.log").read_text()
    assert len(list(tmp_path.glob("bot.sqlite3.corrupt-*"))) == 1
    assert log.count("was damaged") == 1 and "Traceback" not in log
    assert not any("went wrong on my side" in t for t in texts_to(tg, ADMIN) + texts_to(tg, 84_001))


def test_run_refuses_a_read_only_shm_file_with_one_line(tmp_path):
    from bot.querylog.schema import connect
    from tests.test_querylog_faults import unprivileged

    db = tmp_path / "bot.sqlite3"
    connect(db).close()
    shm = db.with_name(db.name + "-shm")
    shm.write_bytes(b"\0" * 32768)
    shm.chmod(0o444)
    with FakeTelegram() as tg:
        proc = subprocess.run(
            [*unprivileged(), sys.executable, "-m", "bot.cli", "run"],
            cwd=REPO,
            env=bot_env(tg, tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2 and out.count("\n") == 1 and "-shm" in out and "Traceback" not in out


# -- 13, 14 and late answers: one bot shared by the quick checks -----------------------------------


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shared")
    with FakeTelegram() as tg:
        proc = start_bot(tg, tmp)
        yield tg, proc, tmp
        if proc.poll() is None:
            stop_bot(proc, signal.SIGTERM)


def pseudonym(tmp: Path, user: int) -> str:
    from bot.querylog.pseudonym import Pseudonymizer

    return Pseudonymizer((tmp / "bot.key").read_bytes().strip())(user)


def test_rate_limited_questions_are_logged_and_the_notice_says_when(shared):
    tg, _, tmp = shared
    user = 90_001
    for i in range(30):
        tg.send_text(user, f"{QUESTIONS[i % len(QUESTIONS)]} {i}")
    me = pseudonym(tmp, user)

    def all_logged() -> bool:
        return query(tmp / "bot.sqlite3", "SELECT COUNT(*) FROM queries WHERE user_pseudonym = ?", me)[0][0] >= 30

    tg.wait_for(all_logged, timeout=30)
    rows = query(tmp / "bot.sqlite3", "SELECT reason, answered FROM queries WHERE user_pseudonym = ?", me)
    limited = [r for r in rows if r[0] == "rate_limited"]
    if limited:  # a refusal is logged before its notice is sent: wait for the notice, not a race
        tg.wait_for(lambda: any("asking faster" in t for t in texts_to(tg, user)), timeout=30)
    notices = [t for t in texts_to(tg, user) if "asking faster" in t]
    answers = [t for t in texts_to(tg, user) if "asking faster" not in t]
    print(f"30 rapid messages: {len(answers)} answered, {len(notices)} notice, {len(limited)} logged as rate-limited")
    assert len(rows) == 30 and len(limited) == 30 - len(answers) and limited
    assert all(answered == 0 for _, answered in limited)
    # One notice per streak of refusals; on a slow machine the bucket refills during the burst
    # (20 a minute, bursts of 8), which lets one more question through and starts a new streak.
    assert 1 <= len(notices) <= max(1, len(answers) - 7)
    assert all(re.search(r"try again in \d+ seconds?\.", n) for n in notices)


def test_a_busy_group_is_told_once_that_answers_will_be_late(shared):
    tg, _, _ = shared
    busy, quiet = -91_000, -91_001
    for i in range(18):
        tg.send_text(91_100 + i, f"@{BOT_USERNAME} {QUESTIONS[i % len(QUESTIONS)]}", chat_id=busy, chat_type="group")
    for i in range(3):
        tg.send_text(91_200 + i, f"@{BOT_USERNAME} prp evidence", chat_id=quiet, chat_type="group")
    tg.wait_for(lambda: len(texts_to(tg, busy)) >= 19 and len(texts_to(tg, quiet)) >= 3, timeout=30)
    sent = texts_to(tg, busy)
    notices = [i for i, t in enumerate(sent) if "Busy here" in t]
    assert len(notices) == 1 and notices[0] < 20  # told once, while a message still goes out at once
    assert "20 messages a minute" in sent[notices[0]]
    assert not any("Busy here" in t for t in texts_to(tg, quiet))


def test_an_answer_to_an_old_question_says_it_is_late(shared):
    tg, _, _ = shared
    tg.send_text(92_001, "prp evidence", date=int(time.time()) - 3600)
    text = wait_text(tg, 92_001, "PRP — Strength of evidence")
    assert text.startswith("⏳ Late answer to your question of ")
    tg.send_text(92_001, "exosome evidence")
    assert "Late answer" not in wait_text(tg, 92_001, "Exosomes — Strength of evidence")


PHI = [
    "Mrs Siti Rahayu, 54, asks: is PRP safe after laser?",
    "patient Budi Santoso 61 yo, email siti.rahayu@example.com, exosomes?",
    "NIK 3201123456789012 BPJS 0001234567890 secretome safety",
]
PHI_FRAGMENTS = [
    "siti",
    "rahayu",
    "budi",
    "santoso",
    "example.com",
    "example com",
    "3201123456789012",
    "0001234567890",
    "61 yo",
    ", 54",
]


def test_personal_data_sent_through_telegram_leaves_no_trace_on_disk(tmp_path):
    with FakeTelegram() as tg:
        proc = start_bot(tg, tmp_path)
        for i, text in enumerate(PHI):
            tg.send_text(93_000 + i, text)
        tg.send_text(93_100, "/gaps siti.rahayu@example.com")  # not an admin: refused and logged
        tg.wait_for(lambda: all(texts_to(tg, 93_000 + i) for i in range(len(PHI))) and texts_to(tg, 93_100))
        assert stop_bot(proc, signal.SIGTERM) == 0
    db = tmp_path / "bot.sqlite3"
    assert query(inbox_of(tmp_path), "SELECT COUNT(*) FROM inbox WHERE payload IS NOT NULL") == [(0,)]
    conn = sqlite3.connect(db)
    dump = "\n".join(conn.iterdump()).lower()
    conn.close()
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("bot."))
    log = (tmp_path / "bot.log").read_text().lower()
    assert "refused maintainer command '/gaps'" in log
    for fragment in PHI_FRAGMENTS:
        assert fragment not in dump, fragment
        assert fragment.encode() not in on_disk.lower(), fragment  # not even in freed pages
        assert fragment not in log, fragment
    for path in tmp_path.iterdir():
        if path.name.startswith(("bot.sqlite3", "bot.inbox")):
            assert oct(path.stat().st_mode & 0o777) == "0o600", path


def test_the_inbox_has_its_own_file_and_numbered_schema(tmp_path):
    from bot.telegram.inbox import Inbox, inbox_path

    path = inbox_path(tmp_path / "regenbot.sqlite3")
    assert path.name == "regenbot.inbox.sqlite3"
    inbox = Inbox(path)
    inbox.open()
    assert inbox.store([(7, "{}"), (8, "{}")]) == {7, 8} and inbox.store([(8, "{}"), (9, "{}")]) == {9}
    inbox.handled(7)
    assert [uid for uid, _ in inbox.pending()] == [8, 9]
    inbox.close()
    conn = sqlite3.connect(path)
    assert [r[0] for r in conn.execute("SELECT version FROM schema_version")] == [1]
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
