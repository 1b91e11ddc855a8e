"""The reliability pieces on their own: log redaction and pacing, group pacing, the inbox."""

from __future__ import annotations

import logging
import os
import sqlite3

import pytest

from bot.telegram.inbox import Inbox, inbox_path
from bot.telegram.logs import RedactingFormatter, RepeatFilter
from bot.telegram.ratelimit import GroupPacer, UserRateLimiter

TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijkl"


def record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("x", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_the_token_is_removed_from_messages_arguments_and_tracebacks():
    formatter = RedactingFormatter([TOKEN], "%(message)s")
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    except RuntimeError as exc:
        text = formatter.format(record("GET https://api.telegram.org/bot%s/getMe failed", TOKEN, exc=exc))
    assert TOKEN not in text and "Traceback" in text and text.count("<token>") == 2
    quoted = formatter.format(record("url bot123456789%3AAAFakeTokenForTestsOnly_abcdefghijkl/getMe"))
    assert "AAFakeToken" not in quoted


def test_a_repeated_line_is_let_through_a_few_times_then_summarised():
    now = [0.0]
    repeats = RepeatFilter(burst=5, period=60, clock=lambda: now[0])
    passed = [repeats.filter(record("accept failed: %s", "Too many open files")) for _ in range(30_000)]
    assert sum(passed) == 5
    assert repeats.filter(record("another message")) is True
    now[0] += 61
    summary = record("accept failed: %s", "Too many open files")
    assert repeats.filter(summary) and "29995 more like this" in summary.getMessage()


def test_group_pacer_warns_once_per_busy_spell_while_a_message_still_goes_out_at_once():
    now = [0.0]
    pacer = GroupPacer(per_minute=20, clock=lambda: now[0])
    warnings = [pacer.note(-1) for _ in range(40)]
    assert warnings.index(True) == 14 and warnings.count(True) == 1  # the 15th message: room for the notice
    assert pacer.note(-2) is False  # other groups are unaffected
    now[0] += 61  # a quiet minute ends the spell
    assert [pacer.note(-1) for _ in range(15)].count(True) == 1


def test_retry_after_says_when_the_next_question_is_allowed():
    now = [0.0]
    limiter = UserRateLimiter(rate=20, per=60, burst=8, clock=lambda: now[0])
    for _ in range(8):
        assert limiter.allow(1)[0]
    assert limiter.allow(1) == (False, True)
    assert limiter.retry_after(1) == 3  # one question per 3 s
    now[0] += 3
    assert limiter.allow(1)[0]


def test_inbox_stores_once_marks_and_recovers(tmp_path):
    inbox = Inbox(inbox_path(tmp_path / "log.sqlite3"))
    inbox.open()
    assert inbox.store([(1, "a"), (2, "b"), (3, "c"), (4, "d")]) == {1, 2, 3, 4}
    assert inbox.store([(4, "d"), (5, "e")]) == {5}  # 4 is a redelivery
    inbox.handled(1)
    inbox.sending(2)  # written to the socket when the process died: may have arrived
    inbox.sending(3)
    inbox.not_sent(3)  # Telegram answered 429: it did not take it
    inbox.close()
    again = Inbox(inbox_path(tmp_path / "log.sqlite3"))
    again.open()
    assert again.pending() == [(3, "c"), (4, "d"), (5, "e")]
    conn = sqlite3.connect(inbox_path(tmp_path / "log.sqlite3"))
    assert conn.execute("SELECT payload FROM inbox WHERE update_id IN (1, 2)").fetchall() == [(None,), (None,)]


def test_an_unusable_inbox_falls_back_to_memory_with_one_warning(tmp_path, caplog):
    path = inbox_path(tmp_path / "log.sqlite3")
    inbox = Inbox(path)
    inbox.open()
    os.chmod(path, 0o400)
    conn = sqlite3.connect(path)
    conn.execute("BEGIN EXCLUSIVE")  # another process holds it: as good as read-only
    with caplog.at_level(logging.WARNING, logger="bot.telegram.inbox"):
        assert inbox.store([(1, "a")]) is None
        assert inbox.store([(2, "b")]) is None
        inbox.handled(1)
    conn.rollback()
    conn.close()
    assert len([r for r in caplog.records if "from memory" in r.getMessage()]) == 1
    assert not inbox.durable


def test_a_damaged_inbox_is_moved_aside(tmp_path, caplog):
    path = inbox_path(tmp_path / "log.sqlite3")
    path.write_bytes(b"garbage " * 1000)
    with caplog.at_level(logging.WARNING, logger="bot.telegram.inbox"):
        inbox = Inbox(path)
        inbox.open()
    assert inbox.durable and inbox.store([(1, "a")]) == {1}
    assert len(list(tmp_path.glob("log.inbox.sqlite3.corrupt-*"))) == 1
    assert any("damaged" in r.getMessage() for r in caplog.records)


async def test_redelivered_updates_are_handled_once_even_without_the_inbox(tmp_path):
    from telegram import Update

    from bot.telegram.delivery import InboxProcessor

    inbox = Inbox(tmp_path / "missing-dir" / "inbox.sqlite3")  # never opened: not durable
    processor = InboxProcessor(4, inbox)
    updates = [Update(update_id=i) for i in (1, 2, 3)]
    assert [u.update_id for u in await processor.admit(updates)] == [1, 2, 3]
    assert [u.update_id for u in await processor.admit([*updates, Update(update_id=4)])] == [4]


@pytest.mark.parametrize("name", ["regenbot.sqlite3", "log.db", "plain"])
def test_inbox_path_sits_beside_the_database(tmp_path, name):
    path = inbox_path(tmp_path / name)
    assert path.parent == tmp_path and ".inbox" in path.name and path.name != name
