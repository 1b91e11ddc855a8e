"""Questions in, cited answers out: text messages, "did you mean" buttons, feedback.

In private chats every text is a question. In groups the bot answers only when
addressed (a mention, a reply to one of its messages, or /ask), so it does not answer
every message in the room. Edited messages are not answered again.
"""

from __future__ import annotations

import logging
import math
import re

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.pipeline import QueryRecord, Reply
from bot.telegram import expert
from bot.telegram.replies import VOTED, send_reply, voted
from bot.telegram.services import Services, services

log = logging.getLogger(__name__)

NON_TEXT_HINT = (
    "I read text questions only — try “how does PRP work”, “exosomes evidence” or "
    "“what after laser?”. /help lists more."
)
RATE_LIMITED = "You are asking faster than I can answer well — please try again in {wait}."
GROUP_BUSY = (
    "Busy here: Telegram lets a bot send only {limit} messages a minute in a group, so my next answers "
    "may arrive a few minutes late. For instant answers, ask me in a private chat{bot}."
)
EXPIRED_BUTTON = "That button has expired — please ask the question again."
RATE_LIMITED_REASON = "rate_limited"


def question_text(message: Message, bot_username: str) -> str | None:
    """The question in ``message``, or None if a group message is not addressed to the bot."""
    text = message.text or ""
    if message.chat.type == ChatType.PRIVATE:
        return text
    mention = f"@{bot_username}".lower()
    replied_to_bot = bool(
        message.reply_to_message
        and message.reply_to_message.from_user
        and message.reply_to_message.from_user.username
        and message.reply_to_message.from_user.username.lower() == bot_username.lower()
    )
    if mention in text.lower():
        return re.sub(re.escape(mention), " ", text, flags=re.IGNORECASE).strip()
    return text if replied_to_bot else None


async def rate_limit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every handler (group -1): refuse users over their per-user budget."""
    user = update.effective_user
    if user is None or update.poll_answer is not None:
        return
    if (
        update.message
        and update.message.chat.type != ChatType.PRIVATE
        and update.message.text
        and question_text(update.message, services(context).bot_username) is None
    ):
        return  # group chatter not addressed to us costs nothing
    svc = services(context)
    allowed, warn = svc.limiter.allow(user.id)
    if allowed:
        return
    if update.message is not None:
        _log_refused_question(update.message, svc)
    notice = RATE_LIMITED.format(wait=_duration(svc.limiter.retry_after(user.id)))
    if warn and update.effective_message and update.callback_query is None:
        await update.effective_message.reply_text(notice)
    elif update.callback_query:
        await update.callback_query.answer(notice)
    raise ApplicationHandlerStop


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _log_refused_question(message: Message, svc: Services) -> None:
    """A refused question still counts: log it (reason rate_limited) so the load shows in the stats."""
    text = message.text or ""
    if text.startswith("/"):
        command, _, rest = text.partition(" ")
        if command.split("@")[0] != "/ask":
            return  # other commands are not questions
        text = rest
    else:
        text = question_text(message, svc.bot_username) or ""
    if not text.strip():
        return
    svc.qlog.record(
        QueryRecord(
            question=text,
            normalised="",
            frontend="telegram",
            chat_type=message.chat.type,
            user=message.from_user.id if message.from_user else None,
            intent=None,
            slots={},
            score=0.0,
            answered=False,
            reason=RATE_LIMITED_REASON,
            suggestions=(),
            latency_ms=0.0,
            kb_version=svc.pipeline.kb.version,
            used_context=False,
        )
    )


async def answer_question(message: Message, text: str, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    user = message.from_user
    reply = svc.pipeline.ask(
        text,
        conversation=message.chat_id,
        frontend="telegram",
        chat_type=message.chat.type,
        user=user.id if user else None,
    )
    if message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP) and svc.pacer.note(
        message.chat_id, len(reply.html())
    ):
        bot = f" (@{svc.bot_username})" if svc.bot_username else ""
        await message.reply_text(GROUP_BUSY.format(limit=svc.pacer.per_minute, bot=bot))
        svc.pacer.note(message.chat_id)
    await send_reply(message, reply, ask_maintainers=expert.offered(svc, message.chat.type, reply.answer.reason))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is None:
        return
    text = question_text(message, services(context).bot_username)
    if text is None:
        return
    await answer_question(message, text, context)


async def on_ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask QUESTION: how to address the bot in a group without a mention."""
    message = update.message
    if message is None:
        return
    text = " ".join(context.args or [])
    if not text:
        await message.reply_text("Usage: /ask your question, e.g. /ask how does PRP work")
        return
    await answer_question(message, text, context)


async def on_non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message:
        await update.message.reply_text(NON_TEXT_HINT)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A "did you mean" suggestion (a:ID) or feedback (f:+:ID / f:-:ID)."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    kind, _, rest = (query.data or "").partition(":")
    message = query.message if isinstance(query.message, Message) else None
    original = message.reply_to_message.text if message and message.reply_to_message else ""
    if kind == "a" and message is not None:
        reply = svc.pipeline.choose_suggestion(
            original or "",
            rest,
            conversation=message.chat_id,
            frontend="telegram",
            chat_type=message.chat.type,
            user=query.from_user.id,
        )
        if reply is None:
            await query.answer(EXPIRED_BUTTON)
            return
        await query.answer()
        await send_reply(message, reply)
        return
    if kind == "q" and message is not None:
        quotes = svc.pipeline.composer.quotes_for(rest)
        if quotes is None:
            await query.answer(EXPIRED_BUTTON)
            return
        await query.answer()
        await send_reply(message, Reply(quotes, original or "", 0.0, False), buttons=False)
        return
    if kind == "f" and rest[:2] in ("+:", "-:") and svc.pipeline.composer.parse_answer_id(rest[2:]):
        helpful = rest[0] == "+"
        svc.qlog.record_feedback(query.from_user.id, rest[2:], original or "", helpful)
        await query.answer("Thanks — noted." if helpful else "Thanks — a maintainer will review this question.")
        if message is not None:
            await message.edit_reply_markup(reply_markup=voted(message.reply_markup, helpful))
        return
    if kind == "f" and rest == VOTED:
        await query.answer("Already noted, thank you.")
        return
    await query.answer(EXPIRED_BUTTON)
