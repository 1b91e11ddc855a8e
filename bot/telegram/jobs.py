"""The maintainers' weekly digest and gap alerts, run by python-telegram-bot's JobQueue.

One repeating job looks every minute at what is due, with the time from ``Services.clock``
(tests move that clock instead of waiting). What has been sent is kept in the query log
(bot/querylog/digest.py), so a restart neither repeats a digest nor skips one: a digest
whose hour passed while the bot was down goes out when it is back. Admins choose with
/digest on|off; the digest and alerts go to their private chats.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import datetime

from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.querylog import digest
from bot.querylog.gaps import off_topic_test
from bot.querylog.schema import connect
from bot.telegram.services import Services

log = logging.getLogger(__name__)

JOB_NAME = "regenbot-maintainers"
TICK_SECONDS = 60.0


def schedule(application: Application) -> None:
    """Register the repeating job (the JobQueue starts with the application)."""
    if application.job_queue is None:
        log.warning("no JobQueue (install python-telegram-bot[job-queue]): no digest or gap alerts")
        return
    application.job_queue.run_repeating(_tick, interval=TICK_SECONDS, first=5.0, name=JOB_NAME)


async def _tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    await run_due(context.application)


async def run_due(application: Application, now: datetime | None = None) -> dict[str, int]:
    """Send what is due at ``now`` (default: the services' clock); returns how many went out."""
    svc: Services | None = application.bot_data.get("services")
    if svc is None or not svc.opened or not svc.settings.admin_ids:
        return {"digests": 0, "alerts": 0}
    now = now or svc.clock()
    await svc.qlog.flush()
    try:
        plan = await asyncio.to_thread(_plan, svc, now)
    except sqlite3.Error as exc:
        log.warning("maintainers' digest and alerts skipped this time: %s", exc)
        return {"digests": 0, "alerts": 0}
    recipients, digest_text, alerts = plan
    sent = {"digests": 0, "alerts": 0}
    for admin in recipients:
        messages = ([digest_text] if digest_text else []) + [text for _, text in alerts]
        for text in messages:
            try:
                await application.bot.send_message(chat_id=admin, text=text, parse_mode=ParseMode.HTML)
            except TelegramError as exc:  # an admin who never opened a chat with the bot, for one
                log.warning("cannot send the maintainers' digest or an alert to an admin: %s", exc)
                break
            sent["digests" if text is digest_text else "alerts"] += 1
    await asyncio.to_thread(_record, svc, now, digest_text is not None, [gap for gap, _ in alerts])
    if digest_text is not None:
        log.info("maintainers' digest sent to %d admin(s)", sent["digests"])
    return sent


def _plan(svc: Services, now: datetime):
    """What to send and to whom; what was sent is recorded after sending (the first run only
    sets the digest's starting mark here)."""
    settings = svc.settings
    conn = connect(svc.qlog.path)
    try:
        off_topic = off_topic_test(svc.pipeline)
        recipients = sorted(
            admin for admin in settings.admin_ids if digest.digest_enabled(conn, svc.qlog.pseudonymize(admin))
        )
        due = digest.digest_due(conn, now, settings.digest_day, settings.digest_hour)
        text = digest.digest_html(digest.weekly(conn, now, off_topic), now) if due else None
        alerts = [
            (gap, digest.alert_html(gap, settings.alert_askers))
            for gap in digest.alerts_due(conn, settings.alert_askers, off_topic)
        ]
        return recipients, text, alerts
    finally:
        conn.close()


def _record(svc: Services, now: datetime, digest_sent: bool, alerted: list) -> None:
    conn = connect(svc.qlog.path)
    try:
        if digest_sent:
            digest.mark_run(conn, digest.DIGEST, now)
        for gap in alerted:
            digest.mark_alerted(conn, gap, now)
    finally:
        conn.close()
