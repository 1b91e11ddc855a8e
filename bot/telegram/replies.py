"""Send a pipeline Reply to Telegram: HTML messages plus the right buttons.

Buttons carry short callback data, always within Telegram's 64-byte limit (an answer id
that would not fit gets no button rather than a broken one):
``a:<answer id>`` answers that id ("did you mean", "More", "Compare"), ``q:<answer id>``
shows the review's sentences behind an answer ("Source"), ``f:+:<answer id>`` /
``f:-:<answer id>`` record feedback, ``x:<reason>`` asks the maintainers (see
bot/telegram/expert.py).
"""

from __future__ import annotations

import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import MessageLimit, ParseMode

from bot.pipeline import Reply
from bot.telegram import delivery

CALLBACK_LIMIT = 64
BUTTON_TEXT_LIMIT = 60


def callback(kind: str, answer_id: str) -> str | None:
    data = f"{kind}:{answer_id}"
    return data if len(data.encode()) <= CALLBACK_LIMIT else None


ASK_MAINTAINERS = "Ask the maintainers"


def keyboard(reply: Reply, *, ask_maintainers: bool = False) -> InlineKeyboardMarkup | None:
    answer = reply.answer
    rows: list[list[InlineKeyboardButton]] = []
    if answer.suggestions:
        for s in answer.suggestions:
            data = callback("a", s.answer_id)
            if data:
                rows.append([InlineKeyboardButton(s.label[:BUTTON_TEXT_LIMIT], callback_data=data)])
    elif answer.answered and answer.answer_id:
        actions = []
        if answer.more and (data := callback("a", answer.more)):
            actions.append(InlineKeyboardButton("More ▸", callback_data=data))
        if answer.claims and (data := callback("q", answer.answer_id)):
            actions.append(InlineKeyboardButton("Source", callback_data=data))
        if compare_id := _compare_id(answer):
            actions.append(InlineKeyboardButton("Compare", callback_data=compare_id))
        if actions:
            rows.append(actions)
        up, down = callback("f:+", answer.answer_id), callback("f:-", answer.answer_id)
        if up and down:
            rows.append(
                [
                    InlineKeyboardButton("👍 Helpful", callback_data=up),
                    InlineKeyboardButton("👎 Not helpful", callback_data=down),
                ]
            )
    if ask_maintainers and not answer.answered:
        rows.append([InlineKeyboardButton(ASK_MAINTAINERS, callback_data=f"x:{answer.reason}")])
    return InlineKeyboardMarkup(rows) if rows else None


VOTED = "voted"


def voted(markup: InlineKeyboardMarkup | None, helpful: bool) -> InlineKeyboardMarkup | None:
    """The same buttons after a vote: More, Source and Compare stay; the vote row says which
    vote was noted (a button that only answers "already noted")."""
    if markup is None:
        return None
    mark = InlineKeyboardButton("✓ Marked helpful" if helpful else "✓ Marked not helpful", callback_data=f"f:{VOTED}")
    rows = []
    for row in markup.inline_keyboard:
        if any(str(b.callback_data or "").startswith("f:") for b in row):
            rows.append([mark])
        else:
            rows.append(list(row))
    return InlineKeyboardMarkup(rows)


def _compare_id(answer) -> str | None:
    """A single-biologic answer on one aspect offers the same aspect for all three."""
    slots = answer.slots
    if len(slots.biologics) != 1 or not slots.aspect or "+" in (answer.intent or ""):
        return None
    return callback("a", f"cmp-{slots.aspect}")


def late_note() -> str | None:
    """For the first reply to an old question (asked while we were down or busy): say it is late."""
    current = delivery.current()
    if current is None or not current.late or current.late_noted:
        return None
    current.late_noted = True
    if current.asked_at is None:
        return "⏳ <i>Late answer — sorry, I could not reply at the time.</i>"
    when = time.strftime(
        "%H:%M UTC" if time.time() - current.asked_at < 86400 else "%d %b %H:%M UTC", time.gmtime(current.asked_at)
    )
    return f"⏳ <i>Late answer to your question of {when} — sorry, I could not reply at the time.</i>"


async def send_reply(
    message: Message, reply: Reply, *, buttons: bool = True, ask_maintainers: bool = False
) -> list[Message]:
    """Answer ``message`` (quoted, so a later button press can find the question)."""
    texts = reply.html()
    note = late_note()
    if note is not None:
        # HTML is never shorter than the text Telegram counts, so this keeps under the limit.
        if len(note) + 2 + len(texts[0]) <= MessageLimit.MAX_TEXT_LENGTH:
            texts = [f"{note}\n\n{texts[0]}", *texts[1:]]
        else:
            texts = [note, *texts]
    markup = keyboard(reply, ask_maintainers=ask_maintainers) if buttons else None
    sent = []
    for i, text in enumerate(texts):
        last = i == len(texts) - 1
        sent.append(
            await message.get_bot().send_message(
                chat_id=message.chat_id,
                text=text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup if last else None,
                reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True)
                if i == 0
                else None,
                message_thread_id=message.message_thread_id if message.is_topic_message else None,
            )
        )
    return sent


async def send_html(message: Message, texts: list[str]) -> None:
    for text in texts:
        await message.get_bot().send_message(chat_id=message.chat_id, text=text, parse_mode=ParseMode.HTML)
