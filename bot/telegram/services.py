"""Shared services of a running bot, opened in post_init and closed in post_shutdown.

``pipeline`` is replaced whole when the knowledge base is reloaded: handlers read it once
per update, so an update in flight finishes on the pipeline it started with.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
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
    knowledge_dir: Path | None = None  # where /reload and SIGHUP read knowledge/ again
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The maintainers' jobs ask this for the time, so tests can move it.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.admin_ids


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]
