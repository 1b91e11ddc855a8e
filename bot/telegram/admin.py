"""Maintainers' commands in Telegram: /gaps (with Teach… buttons), /stats, /digest, for
REGENBOT_ADMIN_IDS only.

Anyone else gets a polite refusal, and the attempt is logged (with a pseudonym, never the
raw id). Commands that show users' questions (/gaps, /reload) answer only in a private
chat: an admin typing /gaps in a group must not show that group what others asked. A long
gap list arrives as a CSV document rather than a wall of text.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sqlite3
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.ext import ContextTypes

from bot.querylog import digest
from bot.querylog.csvsafe import SafeWriter
from bot.querylog.gaps import Gap, find_gaps, mark_gap, off_topic_test
from bot.querylog.reports import outcome, quiet_answer, stats
from bot.querylog.schema import connect, is_corrupt
from bot.telegram.replies import callback
from bot.telegram.services import Services, services

log = logging.getLogger(__name__)
T = TypeVar("T")
REFUSAL = "Sorry — that command is for the bot's maintainers."
PRIVATE_ONLY = "That command shows users' questions, so it works only in a private chat with me."
MAX_INLINE_GAPS = 10
MAX_TEACH_CHOICES = 8
CONTENT_KINDS = digest.CONTENT_KINDS


async def allowed(update: Update, context: ContextTypes.DEFAULT_TYPE, *, private: bool = False) -> bool:
    """Is this an admin (and, with ``private``, in a private chat)? Tells them why not."""
    svc = services(context)
    user = update.effective_user
    if user is not None and svc.is_admin(user.id):
        chat = update.effective_chat
        if private and (chat is None or chat.type != ChatType.PRIVATE):
            log.info("maintainer command outside a private chat refused (admin %s)", svc.qlog.pseudonymize(user.id))
            if update.callback_query is not None:
                await update.callback_query.answer(PRIVATE_ONLY)
            elif update.message:
                await update.message.reply_text(PRIVATE_ONLY)
            return False
        return True
    # Only the command word: its arguments are free text and may hold anything.
    command = ((update.message.text or "").split() or [""])[0].split("@")[0][:32] if update.message else ""
    log.warning("refused maintainer command %r from user %s", command, svc.qlog.pseudonymize(user.id if user else None))
    if update.callback_query is not None:
        await update.callback_query.answer(REFUSAL)
    elif update.message:
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
    if not await allowed(update, context, private=True) or update.message is None:
        return
    svc = services(context)
    off_topic = off_topic_test(svc.pipeline)
    try:
        everything = await _report(context, lambda conn: find_gaps(conn, off_topic=off_topic))
    except ReportFailed as exc:
        await update.message.reply_text(str(exc))
        return
    gaps = [g for g in everything if g.kind in CONTENT_KINDS]
    chatter = sum(g.count for g in everything if g.kind not in CONTENT_KINDS)
    aside = f"\n({chatter} off-topic question(s) not listed.)" if chatter else ""
    if not gaps:
        await update.message.reply_text("No open content gaps. 🎉" + aside)
        return
    buttons = _teach_buttons(gaps[:MAX_INLINE_GAPS])
    if len(gaps) > MAX_INLINE_GAPS:
        buffer = io.StringIO()
        writer = SafeWriter(buffer)
        writer.writerow(
            ["id", "kind", "count", "askers", "first_seen", "last_seen", "nearest_intent", "nearest_score", "examples"]
        )
        for g in gaps:
            writer.writerow(
                [
                    g.id,
                    g.kind,
                    g.count,
                    g.askers,
                    g.first_seen,
                    g.last_seen,
                    g.nearest_intent,
                    round(g.nearest_score, 1),
                    " | ".join(g.examples),
                ]
            )
        await update.message.reply_document(
            InputFile(io.BytesIO(buffer.getvalue().encode()), filename="regenbot-gaps.csv"),
            caption=f"{len(gaps)} open content gaps (most frequent first); Teach… buttons for the first "
            f"{MAX_INLINE_GAPS}.{aside}",
            reply_markup=buttons,
        )
        return
    lines = [f"<b>{len(gaps)} open content gap(s)</b>"]
    for g in gaps:
        lines.append(
            f"<code>{g.id}</code> ×{g.count}, {g.askers} asker(s), {escape(g.kind_label)} — nearest "
            f"{escape(g.nearest_intent or '-')} ({g.nearest_score:.0f})\n  “{escape(g.examples[0][:150])}”"
        )
    await update.message.reply_text("\n".join(lines) + escape(aside), parse_mode=ParseMode.HTML, reply_markup=buttons)


def _teach_buttons(gaps: list[Gap]) -> InlineKeyboardMarkup | None:
    rows = [
        [InlineKeyboardButton(f"Teach… {g.id} “{g.examples[0][:30]}”", callback_data=data)]
        for g in gaps
        if (data := callback("g", g.id))
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def _choices(svc: Services, gap: Gap) -> list[str]:
    """The answers a gap is nearest to: offered to its askers, or what its wordings get now."""
    from bot.teaching import teachable

    kb = svc.pipeline.kb
    found = list(gap.suggested)
    for phrase in gap.phrasings[:5]:
        answer = quiet_answer(svc.pipeline, phrase)
        found += [outcome(answer)] if answer.answered else []
        found += [s.answer_id for s in answer.suggestions]
    if gap.nearest_intent:
        from bot.teaching import intent_answer_id

        found.append(intent_answer_id(gap.nearest_intent, kb) or "")
    ids = [a.split(".")[0] for a in found if a]
    # An overview has no example phrasings of its own: offer that biologic's sections instead.
    ids += [f"{a.split('-')[0]}-{aspect}" for a in ids if a.endswith("-overview") for aspect in kb.aspects]
    return [a for a in dict.fromkeys(ids) if teachable(a, kb)][:MAX_TEACH_CHOICES]


async def on_gap_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """g:GAP offers the gap's nearest answers; g:GAP:ANSWER teaches all its phrasings and reloads;
    g:GAP:- marks it ignored."""
    query = update.callback_query
    if query is None or not await allowed(update, context, private=True):
        return
    svc = services(context)
    _, _, rest = (query.data or "").partition(":")
    gap_ref, _, answer = rest.partition(":")
    try:
        gaps = await _report(context, lambda conn: [g for g in find_gaps(conn, include_closed=True) if g.id == gap_ref])
    except ReportFailed as exc:
        await query.answer(str(exc)[:200])
        return
    message = query.message if isinstance(query.message, Message) else None
    if not gaps or message is None:
        await query.answer("That gap is gone (answered, or its questions were deleted).")
        return
    gap = gaps[0]
    if not answer:
        await query.answer()
        choices = await asyncio.to_thread(_choices, svc, gap)
        rows = [[InlineKeyboardButton(a, callback_data=d)] for a in choices if (d := callback("g", f"{gap.id}:{a}"))]
        rows.append([InlineKeyboardButton("Ignore this gap", callback_data=f"g:{gap.id}:-")])
        examples = "\n".join(f"• “{escape(p[:120])}”" for p in gap.phrasings[:5])
        await message.reply_text(
            f"<b>Teach gap <code>{gap.id}</code></b> ({gap.count} question(s), {escape(gap.kind_label)})\n{examples}"
            "\n\nWhich answer should these get? Every phrasing of the gap is taught, checked, and the bot reloads."
            + ("" if choices else "\nNo teachable answer is near: use `regenbot teach` with an answer id."),
            parse_mode=ParseMode.HTML,
            reply_markup=InlineKeyboardMarkup(rows),
        )
        return
    if answer == "-":
        await asyncio.to_thread(_read_sync, svc.qlog.path, lambda conn: mark_gap(conn, gap.id, "ignored"))
        await query.answer("Gap ignored.")
        await message.reply_text(f"Gap {gap.id} marked ignored; it comes back if a new question joins it.")
        return
    await query.answer("Teaching…")
    await message.reply_text(await teach_gap(svc, gap, answer, query.from_user.id))


async def teach_gap(svc: Services, gap: Gap, answer: str, admin: int) -> str:
    """Teach every phrasing of ``gap`` for ``answer``, mark it resolved, reload: one step."""
    from bot.core.loader import KnowledgeError
    from bot.teaching import TeachError, teach
    from bot.telegram.reload import reload_knowledge

    if svc.knowledge_dir is None:
        return "This bot was started without a knowledge directory; teach with `regenbot teach` instead."
    try:
        lesson = await asyncio.to_thread(
            teach, svc.knowledge_dir, gap.phrasings, answer, by=svc.qlog.pseudonymize(admin), source=f"gap {gap.id}"
        )
    except (TeachError, KnowledgeError, OSError) as exc:
        return f"Not taught: {exc}"
    lines = [f"• not taught: “{p[:100]}”: {why}" for p, why in lesson.skipped]
    if lesson.problems:
        return "\n".join(
            [
                "Refused: the knowledge base would not pass `regenbot kb check`; nothing was written.",
                *lesson.problems[:5],
            ]
        )
    if not lesson.changed:
        return "\n".join(["Nothing new to teach.", *lines])
    await asyncio.to_thread(_read_sync, svc.qlog.path, lambda conn: mark_gap(conn, gap.id, "resolved"))
    reloaded = await reload_knowledge(svc)
    return "\n".join(
        [
            f"Taught {len(lesson.taught)} phrasing(s) of gap {gap.id} for {answer}; gap marked resolved.",
            *lines,
            reloaded.text(),
        ]
    )


async def on_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await allowed(update, context) or update.message is None:
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


async def on_digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/digest on|off: this admin's weekly digest and gap alerts (kept across restarts)."""
    message = update.message
    if message is None or update.effective_user is None or not await allowed(update, context):
        return
    svc = services(context)
    choice = (context.args or [""])[0].lower()
    admin = svc.qlog.pseudonymize(update.effective_user.id)
    if choice not in ("on", "off"):
        enabled = await asyncio.to_thread(_read_sync, svc.qlog.path, lambda conn: digest.digest_enabled(conn, admin))
        await message.reply_text(
            f"Your weekly digest and gap alerts are {'on' if enabled else 'off'}. Use /digest on or /digest off."
        )
        return
    await asyncio.to_thread(_read_sync, svc.qlog.path, lambda conn: digest.set_digest(conn, admin, choice == "on"))
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    when = f"{days[svc.settings.digest_day]}s at {svc.settings.digest_hour:02d}:00 UTC"
    await message.reply_text(
        f"Weekly digest ({when}) and gap alerts turned on for you."
        if choice == "on"
        else "Weekly digest and gap alerts turned off for you. /digest on brings them back."
    )
