"""Build the Telegram Application: configuration, services, and every handler in order.

Read HANDLERS top to bottom to know what the bot does with an update. Shared services
(the pipeline, the query log and the inbox) are opened in post_init and closed in
post_shutdown, so a SIGINT/SIGTERM flushes the log before the process exits. Starting,
fetching updates and stopping are bot.telegram.lifecycle's job.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from pathlib import Path

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
from bot.querylog.schema import check_shared_memory
from bot.querylog.writer import QueryLog
from bot.quizzing import QuizService, clock_from_env
from bot.telegram import (
    admin,
    commands,
    delivery,
    errors,
    expert,
    inline,
    jobs,
    lifecycle,
    questions,
    quiz,
    reload,
    reminders,
)
from bot.telegram.delivery import InboxProcessor
from bot.telegram.inbox import Inbox, inbox_path
from bot.telegram.logs import configure_logging
from bot.telegram.ratelimit import GROUP_MESSAGES_PER_MINUTE, UserRateLimiter
from bot.telegram.request import RetryingRequest
from bot.telegram.services import Services

log = logging.getLogger(__name__)

# Telegram's own limits for one bot; a self-hosted Bot API server or a test stand-in may
# allow more (REGENBOT_SEND_RATE, validated in bot/config.py), which is how the benchmark
# measures the bot itself.
CONCURRENT_UPDATES = 64
QUERYLOG_CLOSE_SECONDS = 3.0  # after the in-flight grace: exit stays well under a supervisor's 10 s


def handlers(expert_chat_id: int | None = None) -> list[tuple[BaseHandler, int]]:
    """Every handler with its group, in the order python-telegram-bot tries them."""
    private = filters.ChatType.PRIVATE
    new_message = filters.UpdateType.MESSAGE  # edited messages are never answered twice
    # A maintainer's reply, in the maintainers' chat, to a question relayed there.
    maintainers = (
        [
            (
                MessageHandler(
                    filters.Chat(expert_chat_id) & filters.REPLY & filters.TEXT & ~filters.COMMAND & new_message,
                    expert.on_maintainer_reply,
                ),
                0,
            )
        ]
        if expert_chat_id is not None
        else []
    )
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
        (CommandHandler("reload", reload.on_reload), 0),
        (CommandHandler("digest", admin.on_digest), 0),
        *maintainers,
        # Any other text is a question (in groups only when addressed to the bot).
        (MessageHandler(filters.TEXT & ~filters.COMMAND & new_message, questions.on_text), 0),
        # Stickers, photos, voice... in private chats get a hint instead of silence.
        (MessageHandler(private & new_message & ~filters.TEXT & ~filters.COMMAND, questions.on_non_text), 0),
        # Admins' "Teach…" buttons under /gaps; a user's "Ask the maintainers".
        (CallbackQueryHandler(admin.on_gap_button, pattern=r"^g:"), 0),
        (CallbackQueryHandler(expert.on_ask_button, pattern=r"^x:"), 0),
        # Buttons under answers: "did you mean" and helpful / not helpful.
        (CallbackQueryHandler(questions.on_button), 0),
        # @bot prp evidence, from any chat.
        (InlineQueryHandler(inline.on_inline), 0),
    ]


def build_application(settings: Settings, kb: Knowledge, knowledge: Path | None = None) -> Application:
    token = settings.require_token()
    send_rate = settings.send_rate
    inbox = Inbox(inbox_path(settings.db_path))
    hooks = {"event_hooks": {"request": [delivery.on_request], "response": [delivery.on_response]}}
    application = (
        ApplicationBuilder()
        .updater(None)  # updates come from bot.telegram.lifecycle (polling) or bot.telegram.webhook
        .token(token)
        .base_url(f"{settings.api_url}/bot")
        .base_file_url(f"{settings.api_url}/file/bot")
        .request(
            RetryingRequest(
                connection_pool_size=CONCURRENT_UPDATES, connect_timeout=10, read_timeout=20, httpx_kwargs=hooks
            )
        )
        .get_updates_request(RetryingRequest(connect_timeout=10, read_timeout=40))
        .rate_limiter(
            AIORateLimiter(
                overall_max_rate=send_rate,
                group_max_rate=GROUP_MESSAGES_PER_MINUTE,
                group_time_period=60,
                max_retries=3,
            )
        )
        .concurrent_updates(InboxProcessor(CONCURRENT_UPDATES, inbox))
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    # The services (and the pseudonym key, created on first use) wait for post_init, after
    # getMe: a token Telegram rejects must end the process with nothing but its one line.
    application.bot_data["setup"] = (settings, kb, inbox, knowledge)
    for handler, group in handlers(settings.expert_chat_id):
        application.add_handler(handler, group=group)
    application.add_error_handler(errors.on_error)
    return application


async def _post_init(application: Application) -> None:
    settings, kb, inbox, knowledge = application.bot_data["setup"]
    qlog = QueryLog.from_settings(settings)
    clock = clock_from_env()
    svc = application.bot_data["services"] = Services(
        settings=settings,
        pipeline=Pipeline(kb, sink=qlog, contexts=ContextStore()),
        qlog=qlog,
        inbox=inbox,
        limiter=UserRateLimiter(),
        quiz=QuizService(kb, ProgressStore(qlog), clock=clock),
        quiz_state=quiz.QuizState(db=QuizDB(qlog.path)),
        knowledge_dir=knowledge,
        # One clock for every job: REGENBOT_CLOCK_FILE moves reminders and digests alike.
        clock=lambda: datetime.fromtimestamp(clock(), timezone.utc),
    )
    await svc.qlog.open()  # creates, checks (moves a damaged file aside) and migrates the database
    await svc.quiz_state.store.open()  # open rounds and reminders, as the last run left them
    reminders.schedule_sweep(application)
    svc.opened = True
    svc.inbox.open()
    svc.bot_username = application.bot.username or ""
    await application.bot.set_my_commands(commands.bot_commands())
    jobs.schedule(application)
    log.info("regenbot started as @%s; knowledge base %s", svc.bot_username, svc.pipeline.kb.version)


async def _post_shutdown(application: Application) -> None:
    svc: Services | None = application.bot_data.get("services")
    if svc is None or not svc.opened:
        return
    svc.inbox.close()
    await svc.quiz_state.store.close()
    await svc.qlog.close(timeout=QUERYLOG_CLOSE_SECONDS)
    log.info("regenbot stopped; query log flushed (%d written, %d pending)", svc.qlog.written, svc.qlog.pending)


def check_files(settings: Settings) -> None:
    """Refuse at once, before anything is logged, files SQLite could crash on (see check_shared_memory)."""
    check_shared_memory(settings.db_path)
    check_shared_memory(inbox_path(settings.db_path))


def run_polling(settings: Settings, kb: Knowledge, knowledge: Path | None = None) -> int:
    """Long polling until SIGINT/SIGTERM (or a rejected token); SIGHUP reloads knowledge/."""
    check_files(settings)
    configure_logging(settings.require_token())
    application = build_application(settings, kb, knowledge)
    processor = application.update_processor
    assert isinstance(processor, InboxProcessor)
    source = lifecycle.Polling(application, processor)
    return asyncio.run(lifecycle.serve(application, source, on_hangup=reload.on_hangup))


def run_webhook(
    settings: Settings,
    kb: Knowledge,
    *,
    url: str,
    listen: str,
    port: int,
    secret: str,
    knowledge: Path | None = None,
) -> int:
    from urllib.parse import urlparse

    from bot.telegram import webhook

    check_files(settings)
    configure_logging(settings.require_token())
    application = build_application(settings, kb, knowledge)
    path = urlparse(url).path or "/telegram"
    source = webhook.Webhook(application, url=url, listen=listen, port=port, secret=secret, path=path)
    return asyncio.run(lifecycle.serve(application, source, on_hangup=reload.on_hangup))
