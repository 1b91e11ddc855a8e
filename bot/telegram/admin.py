"""Maintainers' commands in Telegram: /gaps and /stats, for REGENBOT_ADMIN_IDS only.

Anyone else gets a polite refusal, and the attempt is logged (with a pseudonym, never the
raw id). A long gap list arrives as a CSV document rather than a wall of text.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import sqlite3
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import TypeVar

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.querylog.gaps import find_gaps
from bot.querylog.reports import stats
from bot.querylog.schema import connect, is_corrupt
from bot.telegram.services import services

log = logging.getLogger(__name__)
T = TypeVar("T")
REFUSAL = "Sorry — that command is for the bot's maintainers."
MAX_INLINE_GAPS = 10


async def _allowed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    svc = services(context)
    user = update.effective_user
    if user is not None and svc.is_admin(user.id):
        return True
    # Only the command word: its arguments are free text and may hold anything.
    command = ((update.message.text or "").split() or [""])[0].split("@")[0][:32] if update.message else ""
    log.warning("refused maintainer command %r from user %s", command, svc.qlog.pseudonymize(user.id if user else None))
    if update.message:
        await update.message.reply_text(REFUSAL)
    return False


def _read_sync(db_path: Path, report: Callable[[sqlite3.Connection], T]) -> T:
    conn = connect(db_path)
    try:
        return report(conn)
    finally:
        conn.close()


class ReportFailed(Exception):
    """The query log could not be read; the message is what the maintainer is told."""


async def _report(context: ContextTypes.DEFAULT_TYPE, report: Callable[[sqlite3.Connection], T]) -> T:
    """Flush what is queued, then run a read-only report off the event loop."""
    svc = services(context)
    await svc.qlog.flush()
    try:
        return await asyncio.to_thread(_read_sync, svc.qlog.path, report)
    except sqlite3.Error as exc:
        log.warning("maintainer report failed: %s", exc)
        if is_corrupt(exc):
            raise ReportFailed(
                "The query log file is damaged: the bot moves it aside and starts a fresh one at its next "
                "write or restart (see its log)."
            ) from None
        raise ReportFailed(f"The query log cannot be read just now ({exc}); try again in a minute.") from None


async def on_gaps(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await _allowed(update, context) or update.message is None:
        return
    try:
        gaps = await _report(context, find_gaps)
    except ReportFailed as exc:
        await update.message.reply_text(str(exc))
        return
    if not gaps:
        await update.message.reply_text("No open content gaps. 🎉")
        return
    if len(gaps) > MAX_INLINE_GAPS:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["id", "count", "first_seen", "last_seen", "nearest_intent", "nearest_score", "examples"])
        for g in gaps:
            writer.writerow(
                [
                    g.id,
                    g.count,
                    g.first_seen,
                    g.last_seen,
                    g.nearest_intent,
                    round(g.nearest_score, 1),
                    " | ".join(g.examples),
                ]
            )
        await update.message.reply_document(
            InputFile(io.BytesIO(buffer.getvalue().encode()), filename="regenbot-gaps.csv"),
            caption=f"{len(gaps)} open content gaps (most frequent first). Resolve with `regenbot gaps resolve ID`.",
        )
        return
    lines = [f"<b>{len(gaps)} open content gap(s)</b>"]
    for g in gaps:
        lines.append(
            f"<code>{g.id}</code> ×{g.count} — nearest {escape(g.nearest_intent or '-')} "
            f"({g.nearest_score:.0f})\n  “{escape(g.examples[0][:150])}”"
        )
    await update.message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML)


async def on_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await _allowed(update, context) or update.message is None:
        return
    try:
        data = await _report(context, stats)
    except ReportFailed as exc:
        await update.message.reply_text(str(exc))
        return
    top = ", ".join(f"{escape(i['intent'] or '-')} {i['count']}" for i in data["top_intents"][:5]) or "none yet"
    q, f = data["quiz"], data["feedback"]
    text = (
        f"<b>Usage</b>\nquestions: {data['questions']} from {data['users']} user(s), "
        f"answered {data['answer_rate']:.0%}\n"
        f"top intents: {top}\n"
        f"quiz: {q['answers']} answers, {q['accuracy']:.0%} correct\n"
        f"feedback: 👍 {f['helpful']} / 👎 {f['not_helpful']}"
    )
    await update.message.reply_text(text, parse_mode=ParseMode.HTML)
