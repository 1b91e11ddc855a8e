"""/start, /help, /about, /refs, /ref N, /forget — and the list Telegram shows as the menu."""

from __future__ import annotations

import logging
import sqlite3
from html import escape

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.telegram.questions import answer_question
from bot.telegram.replies import send_html, send_reply
from bot.telegram.services import services

log = logging.getLogger(__name__)
FORGET_FAILED = (
    "I could not delete your records just now: the log is busy or unavailable. Nothing is lost — "
    "please send /forget again in a minute."
)

# (command, description) in menu order. Maintainer commands are left out of the menu.
MENU = (
    ("start", "What this bot is and whom it is for"),
    ("help", "Example questions and commands"),
    ("about", "The source review, its DOI and the knowledge-base version"),
    ("refs", "All 16 references of the review"),
    ("ref", "One full reference: /ref 11"),
    ("quiz", "Quiz yourself: /quiz, /quiz exosomes, /quiz evidence"),
    ("score", "Your quiz progress by topic and what is due when"),
    ("remind", "A daily reminder when quiz items are due: /remind 07:30"),
    ("ask", "Ask in a group: /ask how does PRP work"),
    ("forget", "Delete everything logged about you"),
)


def bot_commands() -> list[BotCommand]:
    return [BotCommand(name, description) for name, description in MENU]


def start_text(kb_messages: dict[str, str], bot_name: str) -> str:
    return (
        "<b>regenbot</b> — short, cited answers on <b>PRP</b>, <b>MSC secretome</b> and <b>exosomes</b> "
        "for aging skin, for clinicians and trainees.\n\n"
        "Every answer comes from one peer-reviewed review and shows its reference numbers and the "
        "strength of evidence. Ask in plain words — typos are fine. Trainees: /quiz.\n\n"
        f"<i>{escape(kb_messages['disclaimer'])}</i>"
    )


HELP_TEXT = (
    "<b>Ask things like</b>\n"
    "• how does PRP work\n• exosomes evidence?\n• secretome side effects\n"
    "• PRP vs exosomes\n• compare all three\n• what after laser?\n• reference 11\n\n"
    "Follow-ups work: “and is it safe?”, “what about exosomes?”.\n"
    "In groups, mention me or use /ask.\n\n"
    "<b>Commands</b>\n" + "\n".join(f"/{name} — {escape(desc)}" for name, desc in MENU)
)


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, or a deep link t.me/<bot>?start=<answer id> that opens one answer."""
    message = update.message
    if message is None:
        return
    svc = services(context)
    if context.args:
        reply = svc.pipeline.ask_id(
            context.args[0],
            conversation=message.chat_id,
            frontend="telegram",
            chat_type=message.chat.type,
            user=message.from_user.id if message.from_user else None,
        )
        if reply is not None:
            await send_reply(message, reply)
            return
        await message.reply_text("That link points to an answer that no longer exists. Ask me directly instead.")
        return
    await message.reply_text(start_text(svc.pipeline.kb.messages, svc.bot_username), parse_mode=ParseMode.HTML)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message:
        covered = escape(services(context).pipeline.kb.messages["covered_topics"])
        await update.message.reply_text(f"{covered}\n\n{HELP_TEXT}", parse_mode=ParseMode.HTML)


async def _by_id(update: Update, context: ContextTypes.DEFAULT_TYPE, answer_id: str) -> None:
    message = update.message
    if message is None:
        return
    reply = services(context).pipeline.ask_id(
        answer_id,
        conversation=message.chat_id,
        frontend="telegram",
        chat_type=message.chat.type,
        user=message.from_user.id if message.from_user else None,
    )
    if reply is not None:
        await send_html(message, reply.html())


async def on_about(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _by_id(update, context, "about.f")  # the command asks for all of it


async def on_refs(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _by_id(update, context, "refs")


async def on_ref(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is None:
        return
    if not context.args:
        await message.reply_text("Usage: /ref N, e.g. /ref 11 (or /refs for all of them).")
        return
    await answer_question(message, "reference " + " ".join(context.args), context)


async def on_forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is None or message.from_user is None:
        return
    svc = services(context)
    svc.pipeline.forget(message.chat_id)
    svc.quiz.store.forget(message.from_user.id)
    try:
        removed = await svc.qlog.forget(message.from_user.id)
    except sqlite3.Error as exc:  # never claim rows are gone when the database refused to delete them
        log.warning("/forget could not delete from the query log: %s", exc)
        await message.reply_text(FORGET_FAILED)
        return
    await message.reply_text(f"Done: deleted {removed} logged record(s) about you. Your next question starts fresh.")
