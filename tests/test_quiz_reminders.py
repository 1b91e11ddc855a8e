"""Daily reminders (issue 14 point 3): parsing /remind, and when a reminder next falls."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.core.reminders import Request, Schedule, due_text, parse_request, parse_time, parse_zone


def ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07:30", (7, 30)),
        ("7:30", (7, 30)),
        ("7.30", (7, 30)),
        ("19h30", (19, 30)),
        ("7am", (7, 0)),
        ("7:30pm", (19, 30)),
        ("12am", (0, 0)),
        ("12pm", (12, 0)),
        ("7", None),
        ("24:00", None),
        ("7:60", None),
        ("13pm", None),
        ("noon", None),
    ],
)
def test_times(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Asia/Jakarta", "Asia/Jakarta"),
        ("asia/makassar", "Asia/Makassar"),
        ("WITA", "Asia/Makassar"),
        ("UTC", "UTC"),
        ("gmt", "UTC"),
        ("+7", "+07:00"),
        ("UTC+07:00", "+07:00"),
        ("GMT-3", "-03:00"),
        ("+0530", "+05:30"),
        ("+00:00", "UTC"),
        ("+15", None),
        ("Mars/Olympus", None),
    ],
)
def test_zones(text, expected):
    assert parse_zone(text) == expected


def test_requests():
    assert parse_request([]) == Request("status")
    assert parse_request(["off"]) == Request("off")
    assert parse_request(["on"]) == Request("first_use")
    assert parse_request(["07:30"]) == Request("set", 7, 30, None)
    assert parse_request(["7:30", "pm", "Asia/Jakarta"]) == Request("set", 19, 30, "Asia/Jakarta")
    assert parse_request(["08:00", "UTC+8"]) == Request("set", 8, 0, "+08:00")
    for bad in (["tomorrow"], ["8"], ["08:00", "Atlantis"]):
        message = parse_request(bad)
        assert isinstance(message, str) and "/remind 07:30 Asia/Jakarta" in message and "/remind off" in message


def test_next_reminder_is_the_next_local_time():
    jakarta = Schedule(7, 30, "Asia/Jakarta")  # UTC+7, no daylight saving
    before = ts("2026-03-02T07:29:00+07:00")
    assert jakarta.next_after(before) == ts("2026-03-02T07:30:00+07:00")
    assert jakarta.next_after(ts("2026-03-02T07:30:00+07:00")) == ts("2026-03-03T07:30:00+07:00")
    offset = Schedule(20, 0, "-03:00")
    assert offset.next_after(ts("2026-03-02T23:00:00+00:00")) == ts("2026-03-03T20:00:00-03:00")


def test_daylight_saving_keeps_the_wall_clock_time():
    berlin = Schedule(8, 0, "Europe/Berlin")
    winter = berlin.next_after(ts("2026-03-27T12:00:00+01:00"))  # clocks go forward on 29 March
    summer = berlin.next_after(winter)
    assert datetime.fromtimestamp(winter, timezone.utc).hour == 7  # 08:00 CET
    assert datetime.fromtimestamp(summer, timezone.utc).hour == 6  # 08:00 CEST, the next day
    assert summer - winter == 23 * 3600


def test_one_message_a_day_even_after_a_change_of_time():
    schedule = Schedule(18, 0, "UTC")
    sent_this_morning = ts("2026-03-02T08:00:00+00:00")
    # Moved from 08:00 to 18:00 after today's reminder: the next one is tomorrow at 18:00.
    assert schedule.next_after(ts("2026-03-02T09:00:00+00:00"), not_on=sent_this_morning) == ts(
        "2026-03-03T18:00:00+00:00"
    )


def test_reminder_text_names_the_command():
    assert due_text(4) == "4 items due — /quiz"
    assert due_text(1) == "1 item due — /quiz"


class FakeBot:
    """Records what would be sent; a chat in ``blocked`` answers 403, one in ``down`` a network error."""

    def __init__(self, blocked=(), down=()) -> None:
        self.sent: list[tuple[int, str]] = []
        self.blocked, self.down = set(blocked), set(down)

    async def send_message(self, chat_id: int, text: str, **_: object) -> None:
        from telegram.error import Forbidden, NetworkError

        if chat_id in self.blocked:
            raise Forbidden("Forbidden: bot was blocked by the user")
        if chat_id in self.down:
            raise NetworkError("connection reset")
        self.sent.append((chat_id, text))


async def test_sweep_sends_only_when_due_once_a_day_and_drops_blocked_trainees(tmp_path, kb):
    from bot.querylog.rounds import QuizDB
    from bot.quizzing import QuizService
    from bot.telegram.reminders import SweepResult, sweep_once
    from tests.test_quiz_progress import MemoryStore

    now = ts("2026-03-02T08:00:10+00:00")
    db = QuizDB(tmp_path / "q.sqlite3")
    await db.open()
    service = QuizService(kb, MemoryStore(), clock=lambda: now)  # type: ignore[arg-type]
    item = kb.quiz.items[0]
    for user in (1, 3, 4, 5):
        await service.record(user, item, False, now - 3600)  # box 1: due
    await service.record(2, item, True, now - 3600)  # box 2: due tomorrow
    at_eight = Schedule(8, 0, "UTC")
    for user in (1, 2, 3, 4, 5):
        await db.set_reminder(f"p{user}", user, 8, 0, "UTC", at_eight.next_after(now - 86400))
    await db.reschedule("p4", ts("2026-03-02T04:00:00+00:00"), None)  # 4 h late: the bot was down
    bot = FakeBot(blocked={3}, down={5})
    result = await sweep_once(bot, db, service, now)  # type: ignore[arg-type]
    assert bot.sent == [(1, "1 item due — /quiz\n(Daily at 08:00 UTC; /remind off stops these.)")]
    assert (result.sent, result.nothing_due, result.unsubscribed, result.too_late, result.failed) == (1, 1, 1, 1, 1)
    assert await db.reminder("p3") is None  # blocked the bot: unsubscribed, chat id deleted
    tomorrow = ts("2026-03-03T08:00:00+00:00")
    assert (await db.reminder("p1")).next_at == tomorrow and (await db.reminder("p1")).last_sent == now
    assert (await db.reminder("p2")).next_at == tomorrow and (await db.reminder("p4")).next_at == tomorrow
    assert (await db.reminder("p5")).next_at < now  # a network error: tried again at the next sweep
    bot.down.clear()
    await sweep_once(bot, db, service, now + 60)  # type: ignore[arg-type]
    assert [chat for chat, _ in bot.sent] == [1, 5]
    later = await sweep_once(bot, db, service, now + 3600)  # type: ignore[arg-type]
    assert later == SweepResult()  # one a day: nothing more today
    await db.close()


async def test_forget_and_retention_reach_reminders_and_rounds(tmp_path):
    """The reminder's chat id is the one raw id kept: /forget deletes it with the rest."""
    from bot.querylog.pseudonym import Pseudonymizer
    from bot.querylog.rounds import QuizDB
    from bot.querylog.writer import QueryLog

    qlog = QueryLog(tmp_path / "q.sqlite3", Pseudonymizer(b"k" * 32))
    await qlog.open()
    db = QuizDB(qlog.path)
    await db.open()
    me = qlog.pseudonymize(42)
    await db.set_reminder(me, 42, 8, 0, "UTC", 1.0)
    await db.set_zone(me, "Asia/Jakarta")
    round_ = await db.start_round(me, f"u:{me}", None, "gaps", ["x01", "x02", "x03"], 0.0)
    await db.add_poll("p1", round_.id, 0, "x01", 1)
    assert await db.record_answer(await db.poll("p1"), me, True)
    assert not await db.record_answer(await db.poll("p1"), me, False)  # the first answer counts
    assert await qlog.forget(42) >= 4
    assert await db.reminder(me) is None and await db.zone(me) is None and await db.round(round_.id) is None
    await db.close()
    await qlog.close()
    reopened = QuizDB(qlog.path)
    await reopened.open()  # polls of forgotten rounds are dropped
    assert await reopened.poll("p1") is None
    await reopened.close()
