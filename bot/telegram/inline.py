"""Inline mode: "@bot prp evidence" in any chat offers answer cards to send there."""

from __future__ import annotations

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.core.render import to_plain
from bot.pipeline import Reply
from bot.telegram.services import services

MAX_RESULTS = 10  # Telegram allows 50; a phone shows a handful
DEFAULT_CARDS = ("prp-overview", "secretome-overview", "exosomes-overview", "cmp-all", "scn-post_laser", "about")


def _card(reply: Reply) -> InlineQueryResultArticle:
    answer = reply.answer
    body = to_plain(answer).split("\n")
    description = next((line for line in body[1:] if line.strip()), "")[:120]
    return InlineQueryResultArticle(
        id=(answer.answer_id or "none").split(".")[0],  # one card per section, whatever claim led
        title=answer.title[:100],
        description=description,
        input_message_content=InputTextMessageContent(reply.html()[0], parse_mode=ParseMode.HTML),
    )


async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    if query is None:
        return
    pipeline = services(context).pipeline
    text = query.query.strip()
    replies: list[Reply] = []
    if not text:
        replies = [
            r
            for r in (
                pipeline.ask_id(i, conversation=("inline", query.from_user.id), frontend="inline")
                for i in DEFAULT_CARDS
            )
            if r is not None
        ]
    else:
        reply = pipeline.ask(
            text,
            conversation=("inline", query.from_user.id),
            frontend="inline",
            chat_type="inline",
            user=query.from_user.id,
        )
        pipeline.forget(("inline", query.from_user.id))
        if reply.answer.answered:
            replies.append(reply)
        for suggestion in reply.answer.suggestions:
            picked = pipeline.composer.answer_for_id(suggestion.answer_id)
            if picked is not None:
                replies.append(Reply(picked, text, 0.0, False))
    seen: set[str] = set()
    cards = []
    for reply in replies:
        card = _card(reply)
        if card.id not in seen:
            seen.add(card.id)
            cards.append(card)
    await query.answer(cards[:MAX_RESULTS], cache_time=300, is_personal=False)
