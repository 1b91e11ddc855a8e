"""Build the Telegram Application: configuration, services, and every handler in order.

Read HANDLERS top to bottom to know what the bot does with an update. Shared services
(the pipeline and the query log) are opened in post_init and closed in post_shutdown,
so a SIGINT/SIGTERM flushes the log before the process exits.
"""

from __future__ import annotations

import logging
import os

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    PollAnswerHandler,
    TypeHandler,
    filters,
)

from bot.config import Settings
from bot.core.context import ContextStore
from bot.core.knowledge import Knowledge
from bot.pipeline import Pipeline
from bot.querylog.progress import ProgressStore
from bot.querylog.rounds import QuizDB
from bot.querylog.writer import QueryLog
from bot.quizzing import QuizService, clock_from_env
from bot.telegram import admin, commands, errors, inline, questions, quiz, reminders
from bot.telegram.ratelimit import UserRateLimiter
from bot.telegram.request import RetryingRequest
from bot.telegram.services import Services

log = logging.getLogger(__name__)

# Telegram's own limits for one bot; a self-hosted Bot API server or a test stand-in may
# allow more (REGENBOT_SEND_RATE), which is how the benchmark measures the bot itself.
DEFAULT_SEND_RATE = 30.0
CONCURRENT_UPDATES = 64


def handlers() -> list[tuple[BaseHandler, int]]:
    """Every handler with its group, in the order python-telegram-bot tries them."""
    private = filters.ChatType.PRIVATE
    new_message = filters.UpdateType.MESSAGE  # edited messages are never answered twice
    return [
        # Group -1 runs first for every update: per-user rate limit.
        (TypeHandler(Update, questions.rate_limit), -1),
        # Commands, including deep links (/start <answer id>).
        (CommandHandler("start", commands.on_start), 0),
        (CommandHandler("help", commands.on_help), 0),
        (CommandHandler("about", commands.on_about), 0),
        (CommandHandler("refs", commands.on_refs), 0),
        (CommandHandler("ref", commands.on_ref), 0),
        (CommandHandler("ask", questions.on_ask_command), 0),
        (CommandHandler("forget", commands.on_forget), 0),
        # Quiz: /quiz [topic] sends native quiz polls; answers arrive as PollAnswer updates.
        # The "/quiz TOPIC" button under a summary comes before the other buttons' handler.
        (CommandHandler("quiz", quiz.on_quiz), 0),
        (CommandHandler("score", quiz.on_score), 0),
        (CommandHandler("remind", reminders.on_remind), 0),
        (PollAnswerHandler(quiz.on_poll_answer), 0),
        (CallbackQueryHandler(quiz.on_button, pattern=f"^{quiz.BUTTON_PREFIX}"), 0),
        # Maintainers only (REGENBOT_ADMIN_IDS); others get a polite refusal.
        (CommandHandler("gaps", admin.on_gaps), 0),
        (CommandHandler("stats", admin.on_stats), 0),
        # Any other text is a question (in groups only when addressed to the bot).
        (MessageHandler(filters.TEXT & ~filters.COMMAND & new_message, questions.on_text), 0),
        # Stickers, photos, voice... in private chats get a hint instead of silence.
        (MessageHandler(private & new_message & ~filters.TEXT & ~filters.COMMAND, questions.on_non_text), 0),
        # Buttons under answers: "did you mean" and helpful / not helpful.
        (CallbackQueryHandler(questions.on_button), 0),
        # @bot prp evidence, from any chat.
        (InlineQueryHandler(inline.on_inline), 0),
    ]


def build_application(settings: Settings, kb: Knowledge, *, webhook: bool = False) -> Application:
    token = settings.require_token()
    send_rate = float(os.environ.get("REGENBOT_SEND_RATE") or DEFAULT_SEND_RATE)
    builder = ApplicationBuilder()
    if webhook:
        builder = builder.updater(None)  # updates arrive through bot.telegram.webhook
    application = (
        builder.token(token)
        .base_url(f"{settings.api_url}/bot")
        .base_file_url(f"{settings.api_url}/file/bot")
        .request(RetryingRequest(connection_pool_size=CONCURRENT_UPDATES, connect_timeout=10, read_timeout=20))
        .get_updates_request(RetryingRequest(connect_timeout=10, read_timeout=40))
        .rate_limiter(AIORateLimiter(overall_max_rate=send_rate, max_retries=3))
        .concurrent_updates(CONCURRENT_UPDATES)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    qlog = QueryLog.from_settings(settings)
    application.bot_data["services"] = Services(
        settings=settings,
        pipeline=Pipeline(kb, sink=qlog, contexts=ContextStore()),
        qlog=qlog,
        limiter=UserRateLimiter(),
        quiz=QuizService(kb, ProgressStore(qlog), clock=clock_from_env()),
        quiz_state=quiz.QuizState(db=QuizDB(qlog.path)),
    )
    for handler, group in handlers():
        application.add_handler(handler, group=group)
    application.add_error_handler(errors.on_error)
    return application


async def _post_init(application: Application) -> None:
    svc: Services = application.bot_data["services"]
    await svc.qlog.open()
    await svc.quiz_state.store.open()  # open rounds and reminders, as the last run left them
    reminders.schedule_sweep(application)
    me = await application.bot.get_me()
    svc.bot_username = me.username or ""
    await application.bot.set_my_commands(commands.bot_commands())
    log.info("regenbot started as @%s; knowledge base %s", svc.bot_username, svc.pipeline.kb.version)


async def _post_shutdown(application: Application) -> None:
    svc: Services = application.bot_data["services"]
    await svc.quiz_state.store.close()
    await svc.qlog.close()
    log.info("regenbot stopped; query log flushed (%d written, %d pending)", svc.qlog.written, svc.qlog.pending)


class TokenFilter(logging.Filter):
    """Keeps the bot token out of every log line (httpx logs request URLs)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg = message.replace(self.token, "<token>")
                record.args = ()
        return True


def configure_logging(token: str, level: int = logging.INFO) -> None:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    token_filter = TokenFilter(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(token_filter)


def run_polling(settings: Settings, kb: Knowledge) -> None:
    """Long polling until SIGINT/SIGTERM; python-telegram-bot then runs post_shutdown."""
    configure_logging(settings.require_token())
    application = build_application(settings, kb)
    application.run_polling(allowed_updates=Update.ALL_TYPES)


def run_webhook(settings: Settings, kb: Knowledge, *, url: str, listen: str, port: int, secret: str) -> None:
    import asyncio
    from urllib.parse import urlparse

    from bot.telegram import webhook

    configure_logging(settings.require_token())
    application = build_application(settings, kb, webhook=True)
    path = urlparse(url).path or "/telegram"
    asyncio.run(webhook.serve(application, url=url, listen=listen, port=port, secret=secret, path=path))
