"""Shared services of a running bot, opened in post_init and closed in post_shutdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telegram.ext import ContextTypes

from bot.config import Settings
from bot.pipeline import Pipeline
from bot.querylog.writer import QueryLog
from bot.quizzing import QuizService
from bot.telegram.inbox import Inbox
from bot.telegram.ratelimit import GroupPacer, UserRateLimiter

if TYPE_CHECKING:
    from bot.telegram.quiz import QuizState


@dataclass
class Services:
    settings: Settings
    pipeline: Pipeline
    qlog: QueryLog
    inbox: Inbox
    limiter: UserRateLimiter
    quiz: QuizService
    quiz_state: QuizState
    pacer: GroupPacer = field(default_factory=GroupPacer)
    bot_username: str = ""
    opened: bool = False  # post_init got as far as opening the query log

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.admin_ids


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]
