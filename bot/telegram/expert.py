"""Ask the maintainers: a question the review could not answer goes to a people's group.

An "unsure" or "not covered" reply in a private chat carries an "Ask the maintainers"
button when REGENBOT_EXPERT_CHAT_ID is set. Only the user's tap sends anything: the
redacted question and the asker's pseudonym go to that chat; never a name, a username or
a Telegram id. A maintainer answers by replying to the relayed message; the bot sends the
reply to the asker, quoting their question, and keeps it with the question in the log
(so `regenbot gaps` shows it with the gap). Each user can ask a few a day.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from html import escape

from telegram import InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.querylog import expert
from bot.querylog.schema import connect
from bot.telegram.services import Services, services

log = logging.getLogger(__name__)

BUTTON = "Ask the maintainers"
CALLBACK = "x:"  # + the reply's reason
REASONS = ("unsure", "not_covered")
SENT = "Sent to the maintainers — their answer will come here."
LIMIT = f"You can ask the maintainers {expert.PER_DAY} questions a day — please try again tomorrow."
ALREADY = "You already sent this question to the maintainers."
FAILED = "Sorry — the maintainers cannot be reached just now. Please try again later."


def offered(svc: Services, chat_type: str, reason: str) -> bool:
    """Does this reply get the button? Private chats only: the answer comes back there."""
    return svc.settings.expert_chat_id is not None and chat_type == "private" and reason in REASONS


def _with_db(svc: Services, work):
    conn = connect(svc.qlog.path)
    try:
        return work(conn)
    finally:
        conn.close()


async def on_ask_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The user's tap: relay the redacted question, under a pseudonym, to the maintainers' chat."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    message = query.message if isinstance(query.message, Message) else None
    original = message.reply_to_message if message is not None else None
    chat = svc.settings.expert_chat_id
    if chat is None or message is None or original is None or not original.text:
        await query.answer("That button has expired — please ask the question again.")
        return
    if original.from_user is None or original.from_user.id != query.from_user.id:
        await query.answer("Only the person who asked can send this question.")
        return
    pseudonym = svc.qlog.pseudonymize(query.from_user.id)
    question = original.text
    reason = "unsure" if query.data == CALLBACK + "unsure" else "not_covered"

    ref = svc.qlog.pseudonymize.seal(f"{original.chat_id}:{original.message_id}")
    try:
        admitted = await asyncio.to_thread(
            _with_db, svc, lambda conn: expert.admit(conn, pseudonym, question, reason, ref, str(chat))
        )
    except sqlite3.Error as exc:
        log.warning("ask the maintainers: cannot store the request: %s", exc)
        await query.answer(FAILED)
        return
    if isinstance(admitted, str):
        await query.answer(ALREADY if admitted == expert.ALREADY else LIMIT)
        return
    text = (
        f"❓ <b>Question for the maintainers</b> from user <code>{escape((pseudonym or '-')[:10])}</code> "
        f"(the bot said: {'unsure' if reason == 'unsure' else 'not covered'})\n\n"
        f"“{escape(expert.redacted(question))}”\n\n"
        "<i>Reply to this message to answer: the reply goes to the asker, quoting their question.</i>"
    )
    try:
        relayed = await context.bot.send_message(chat_id=chat, text=text, parse_mode=ParseMode.HTML)
    except TelegramError as exc:
        log.warning("ask the maintainers: cannot post to REGENBOT_EXPERT_CHAT_ID: %s", exc)
        await asyncio.to_thread(_with_db, svc, lambda conn: expert.drop(conn, admitted))
        await query.answer(FAILED)
        return
    await asyncio.to_thread(_with_db, svc, lambda conn: expert.relayed(conn, admitted, relayed.message_id))
    await query.answer(SENT)
    # A pop-up vanishes; a message stays in the chat, where the answer will arrive too.
    try:
        await message.reply_text(SENT)
    except TelegramError as exc:
        log.warning("ask the maintainers: cannot confirm to the asker: %s", exc)
    if message.reply_markup is not None:
        rows = [
            row
            for row in message.reply_markup.inline_keyboard
            if not any(str(b.callback_data or "").startswith(CALLBACK) for b in row)
        ]
        await message.edit_reply_markup(reply_markup=InlineKeyboardMarkup(rows) if rows else None)


async def on_maintainer_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply in the maintainers' chat to a relayed question: send it to the asker."""
    message = update.message
    if message is None or message.reply_to_message is None or not message.text:
        return
    svc = services(context)
    relayed = message.reply_to_message
    request = await asyncio.to_thread(
        _with_db, svc, lambda conn: expert.by_relayed_message(conn, str(message.chat_id), relayed.message_id)
    )
    if request is None:
        from bot.telegram.questions import on_text

        await on_text(update, context)  # a reply to another message of the bot: an ordinary question
        return
    where = svc.qlog.pseudonymize.unseal(request.asker_ref)
    if where is None or ":" not in where:
        await message.reply_text("I cannot find the asker any more (the key changed or they used /forget).")
        return
    chat_id, _, message_id = where.partition(":")
    text = (
        f"💬 <b>A maintainer answered your question</b>\n<blockquote>{escape(request.question)}</blockquote>\n"
        f"{escape(message.text)}"
    )
    try:
        await context.bot.send_message(
            chat_id=int(chat_id),
            text=text,
            parse_mode=ParseMode.HTML,
            reply_parameters=ReplyParameters(int(message_id), allow_sending_without_reply=True),
        )
    except TelegramError as exc:
        log.warning("ask the maintainers: cannot deliver an answer: %s", exc)
        await message.reply_text(f"Could not deliver the answer to the asker: {exc}")
        return
    by = svc.qlog.pseudonymize(message.from_user.id if message.from_user else None)
    await asyncio.to_thread(_with_db, svc, lambda conn: expert.answered(conn, request.id, message.text or "", by))
    await message.reply_text(f"✅ Sent to user {(request.user_pseudonym or '-')[:10]}, quoting their question.")
