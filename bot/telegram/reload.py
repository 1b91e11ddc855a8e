"""Load knowledge/ again while the bot keeps answering: /reload (admins) and SIGHUP.

The new knowledge base is read, validated and compiled into a pipeline in a worker
thread, so the event loop keeps answering meanwhile; then one assignment swaps it in.
Updates already running finish on the pipeline they started with; nothing is dropped or
answered twice. An invalid knowledge base is refused and the old one keeps serving.
Conversations keep their follow-up context where its biologics, aspects and answer ids
still exist in the new knowledge base.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, ContextTypes

from bot.core.loader import KnowledgeError, load_knowledge
from bot.core.matching import Frame
from bot.pipeline import Pipeline
from bot.quizzing import QuizService
from bot.telegram.services import Services, services

log = logging.getLogger(__name__)
# A refused reload shows this many problems of the `kb check` report, then a count.
SHOWN_PROBLEMS = 5


@dataclass
class Reloaded:
    ok: bool
    old_version: str
    new_version: str = ""
    problems: list[str] = field(default_factory=list)
    dropped_contexts: int = 0

    def text(self) -> str:
        if self.ok:
            same = " (unchanged)" if self.new_version == self.old_version else f" (was {self.old_version})"
            return f"Knowledge base reloaded: version {self.new_version}{same}."
        shown = "\n".join(f"• {p}" for p in self.problems[:SHOWN_PROBLEMS])
        more = len(self.problems) - SHOWN_PROBLEMS
        return (
            f"Reload refused: the knowledge base has {len(self.problems)} problem(s); "
            f"still serving version {self.old_version}.\n{shown}"
            + (f"\n… and {more} more: run `regenbot kb check`." if more > 0 else "")
        )


def _build(directory: Path, old: Pipeline) -> Pipeline:
    """Everything slow, off the event loop: read, validate, index (about a third of a second)."""
    return Pipeline(load_knowledge(directory), sink=old.sink, contexts=old.contexts)


async def reload_knowledge(svc: Services) -> Reloaded:
    """Build and swap in a new pipeline from ``svc.knowledge_dir``; the old one serves until then."""
    async with svc.reload_lock:  # two reloads at once would race to swap
        old = svc.pipeline
        if svc.knowledge_dir is None:
            return Reloaded(False, old.kb.version, problems=["this bot was started without a knowledge directory"])
        try:
            new = await asyncio.to_thread(_build, svc.knowledge_dir, old)
        except KnowledgeError as exc:
            problems = [str(p) for p in exc.problems]
            log.warning(
                "reload refused: %d problem(s) in the knowledge base; still serving %s", len(problems), old.kb.version
            )
            return Reloaded(False, old.kb.version, problems=problems)
        except OSError as exc:
            log.warning("reload refused: cannot read the knowledge base: %s", exc)
            return Reloaded(False, old.kb.version, problems=[f"cannot read the knowledge base: {exc}"])
        # From here to the swap there is no await: no update sees half of it.
        dropped = new.contexts.prune(lambda frame: _still_valid(frame, new))
        svc.pipeline = new
        svc.quiz = QuizService(new.kb, svc.quiz.store, svc.quiz.rng, svc.quiz.clock)
        log.info("knowledge base reloaded: version %s (was %s)", new.kb.version, old.kb.version)
        return Reloaded(True, old.kb.version, new.kb.version, dropped_contexts=dropped)


def _still_valid(frame: Frame, pipeline: Pipeline) -> Frame | None:
    """The part of a conversation's memory that still means something in the new knowledge base."""
    kb, parse = pipeline.kb, pipeline.composer.parse_answer_id
    biologics = tuple(b for b in frame.biologics if b in kb.biologics)
    suggestions = tuple(s for s in frame.suggestions if parse(s) is not None)
    revised = Frame(
        biologics=biologics,
        aspect=frame.aspect if frame.aspect in kb.aspects and biologics else None,
        recent=tuple(b for b in frame.recent if b in kb.biologics),
        answer_id=frame.answer_id if frame.answer_id and parse(frame.answer_id) is not None else None,
        suggestions=suggestions,
        asked=frame.asked if suggestions else "",
    )
    if revised == frame:
        return frame
    return None if revised == Frame() else replace(revised)


async def on_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload: admins only, private chat (a refused reload lists phrasings users asked)."""
    from bot.telegram.admin import allowed

    message = update.message
    if message is None or not await allowed(update, context, private=True):
        return
    await message.reply_text("Reloading the knowledge base…")
    result = await reload_knowledge(services(context))
    await message.reply_text(result.text())


async def on_hangup(application: Application) -> None:
    """SIGHUP: the same reload, reported in the log only."""
    svc: Services | None = application.bot_data.get("services")
    if svc is None or not svc.opened:
        log.warning("SIGHUP before the bot finished starting: ignored")
        return
    await reload_knowledge(svc)


def chat_is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE
