"""Log every handler error with enough context to debug it, tell the user, keep going."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError
from telegram.ext import ContextTypes

log = logging.getLogger(__name__)
APOLOGY = "Sorry — something went wrong on my side. Please try again in a moment."


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    kind = type(update).__name__
    if isinstance(update, Update):
        kind = (
            ", ".join(
                k
                for k in ("message", "callback_query", "inline_query", "poll_answer", "edited_message")
                if getattr(update, k, None) is not None
            )
            or "update"
        )
    if isinstance(error, (NetworkError, Forbidden)):
        log.warning("Telegram error while handling %s: %s", kind, error)
        return
    if isinstance(error, InvalidToken):
        return  # the token was revoked: the update loop ends the process with one line
    if isinstance(error, BadRequest) and "too old" in str(error).lower():
        # A button press or inline query answered late (after a restart): Telegram has expired it.
        log.warning("Telegram expired a %s before it was answered: %s", kind, error)
        return
    log.error("unhandled error while handling %s", kind, exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, APOLOGY)
        except Exception:
            log.warning("could not send the apology for the error above")
