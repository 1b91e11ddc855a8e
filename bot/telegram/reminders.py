"""/remind: one message a day when quiz items are due, sent by python-telegram-bot's JobQueue.

Subscriptions live in SQLite (bot.querylog.rounds), not in the JobQueue: one repeating
job (every REGENBOT_REMINDER_SWEEP seconds, default 60) sends whatever reminders have
fallen due by the quiz clock. So reminders survive restarts without pickling jobs, a
reminder missed while the bot was down is sent when it comes back (up to GRACE late, then
skipped rather than sent at night), and tests move the clock instead of waiting.

A reminder is sent only when items are due, at most once a local day. Sends go through
the bot's AIORateLimiter (30 messages a second overall, retries after flood control), one
at a time; a trainee who blocked the bot is unsubscribed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from html import escape

from telegram import Bot, Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, ContextTypes

from bot.core.reminders import GRACE, USAGE, Schedule, due_text, parse_request, zone_info
from bot.querylog.rounds import QuizDB, ReminderRow
from bot.quizzing import QuizService
from bot.telegram.services import Services, services

log = logging.getLogger(__name__)

JOB_NAME = "quiz-reminders"


def _when(moment: float, zone: str) -> str:
    local = datetime.fromtimestamp(moment, zone_info(zone))
    return f"{local.strftime('%a')} {local.day} {local.strftime('%b')}, {local.strftime('%H:%M')}"


async def on_remind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/remind HH:MM [zone], /remind on, /remind off, /remind (what is set)."""
    message, user = update.message, update.effective_user
    if message is None or user is None:
        return
    if message.chat.type != ChatType.PRIVATE:
        await message.reply_text("Reminders are personal: send me /remind 07:30 in a private chat.")
        return
    svc: Services = services(context)
    db, quiz = svc.quiz_state.store, svc.quiz
    pseudonym = svc.qlog.pseudonymize(user.id) or ""
    request = parse_request(context.args or [])
    if isinstance(request, str):
        await message.reply_text(escape(request, quote=False))
        return
    now = quiz.now()
    if request.action == "off":
        removed = await db.remove_reminder(pseudonym)
        await message.reply_text(
            "Reminders are off. /remind 07:30 turns them on again."
            if removed
            else "You had no reminder set. /remind 07:30 sets one."
        )
        return
    current = await db.reminder(pseudonym)
    if request.action == "status":
        if current is None:
            await message.reply_text(escape("No reminder is set. " + USAGE, quote=False))
        else:
            schedule = Schedule(current.hour, current.minute, current.zone)
            await message.reply_text(
                escape(
                    f"Daily reminder at {schedule.label} when items are due (next check "
                    f"{_when(current.next_at, current.zone)}). /remind off stops it.",
                    quote=False,
                )
            )
        return
    remembered = await db.zone(pseudonym)
    zone = request.zone or remembered or "UTC"
    if request.zone and request.zone != remembered:
        await db.set_zone(pseudonym, request.zone)
    hour, minute = request.hour, request.minute
    if request.action == "first_use":
        first = await db.first_answer_at(pseudonym)
        moment = datetime.fromisoformat(first).timestamp() if first else now
        local = datetime.fromtimestamp(moment, zone_info(zone))
        hour, minute = local.hour, local.minute
    schedule = Schedule(hour, minute, zone)
    next_at = schedule.next_after(now, not_on=current.last_sent if current else None)
    await db.set_reminder(pseudonym, message.chat_id, hour, minute, zone, next_at)
    text = (
        f"Daily reminder set for {schedule.label}: one message when quiz items are due, none when nothing "
        f"is. Next check {_when(next_at, zone)}. /remind off stops it."
    )
    if zone == "UTC" and request.zone is None:
        text += " Times are UTC; add your zone, e.g. /remind 07:30 Asia/Jakarta or /remind 07:30 +07:00."
    await message.reply_text(escape(text, quote=False))


@dataclass
class SweepResult:
    sent: int = 0
    nothing_due: int = 0
    too_late: int = 0
    unsubscribed: int = 0
    failed: int = 0


async def sweep_once(bot: Bot, db: QuizDB, quiz: QuizService, now: float) -> SweepResult:
    """Send every reminder that has fallen due by ``now``; reschedule each for its next day."""
    result = SweepResult()
    for reminder in await db.due_reminders(now):
        schedule = Schedule(reminder.hour, reminder.minute, reminder.zone)
        if now - reminder.next_at > GRACE:
            result.too_late += 1
            await db.reschedule(reminder.pseudonym, schedule.next_after(now, not_on=reminder.last_sent), None)
            continue
        due = await quiz.due(reminder.chat_id, now)
        if due == 0:
            result.nothing_due += 1
            await db.reschedule(reminder.pseudonym, schedule.next_after(now, not_on=reminder.last_sent), None)
            continue
        if await _send(bot, db, reminder, schedule, due, result):
            await db.reschedule(reminder.pseudonym, schedule.next_after(now, not_on=now), now)
    return result


async def _send(bot: Bot, db: QuizDB, reminder: ReminderRow, schedule: Schedule, due: int, result: SweepResult) -> bool:
    text = f"{due_text(due)}\n(Daily at {schedule.label}; /remind off stops these.)"
    try:
        await bot.send_message(reminder.chat_id, escape(text, quote=False))
    except Forbidden:
        result.unsubscribed += 1
        await db.remove_reminder(reminder.pseudonym)  # blocked the bot: stop, and forget the chat id
        return False
    except TelegramError as exc:
        result.failed += 1  # kept due: the next sweep tries again
        log.warning("quiz reminder not sent (will retry): %s", exc)
        return False
    result.sent += 1
    return True


async def sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The JobQueue callback."""
    svc: Services = context.application.bot_data["services"]
    if svc.quiz_state.db is None:
        return
    result = await sweep_once(context.bot, svc.quiz_state.store, svc.quiz, svc.quiz.now())
    if result.sent or result.unsubscribed or result.failed:
        log.info("quiz reminders: %s", result)


def schedule_sweep(application: Application) -> None:
    """Start the reminder job; called from post_init, so every start re-creates it."""
    if application.job_queue is None:
        raise RuntimeError(
            'reminders need python-telegram-bot\'s JobQueue: pip install "python-telegram-bot[job-queue]"'
        )
    # APScheduler logs two INFO lines per run: thousands a day for a job that mostly finds nothing.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    settings = application.bot_data["setup"][0]
    interval = settings.reminder_sweep
    application.job_queue.run_repeating(sweep, interval=interval, first=min(interval, 1.0), name=JOB_NAME)
