"""Quiz rounds for any front end: choose items, record answers, summarise scores.

Telegram (bot.telegram.quiz) and the console (`regenbot quiz`) both drive rounds
through QuizService, so scheduling and scoring are the same everywhere.
"""

from __future__ import annotations

import random
import time

from bot.core.knowledge import Knowledge
from bot.core.quiz import QuizBank, Round, pick_round, resolve_topic, score
from bot.querylog.progress import ProgressStore


class UnknownTopic(ValueError):
    """The trainee asked for a topic that does not exist; the message lists the real ones."""


class QuizService:
    def __init__(self, kb: Knowledge, store: ProgressStore, rng: random.Random | None = None) -> None:
        self.kb = kb
        self.bank: QuizBank = kb.quiz
        self.store = store
        self.rng = rng or random.Random()

    def topics_text(self) -> str:
        biologics = ", ".join(b.id for b in self.kb.biologics.values())
        return f"Topics: {', '.join(self.bank.topics)}. Or a biologic: {biologics}."

    async def start(self, user: str | int, topic_text: str = "", now: float | None = None) -> Round:
        resolved = resolve_topic(topic_text, self.bank, self.kb)
        if resolved is None:
            raise UnknownTopic(f"There is no quiz topic “{topic_text.strip()[:40]}”. {self.topics_text()}")
        topic, biologic = resolved
        candidates = self.bank.select(topic, biologic)
        trainee = await self.store.load(user)
        items = pick_round(candidates, trainee.progress, time.time() if now is None else now, self.rng)
        label = topic or (self.kb.biologics[biologic].short if biologic else "all topics")
        return Round(items, label.replace("_", " "))

    async def answer(self, user: str | int, round_: Round, correct: bool, now: float | None = None) -> None:
        item = round_.current
        if item is None:
            return
        await self.store.record(user, item.id, item.topic, correct, now)
        round_.answer(correct)

    async def score_text(self, user: str | int, now: float | None = None) -> str:
        trainee = await self.store.load(user)
        s = score(trainee.history, self.bank, trainee.progress, time.time() if now is None else now)
        if not s.answered:
            return "No quiz answers yet — start with /quiz."
        lines = [
            f"Answered {s.answered}, correct {s.correct} ({s.accuracy:.0%}); current streak {s.streak}.",
            f"Due for review now: {s.due} item(s).",
        ]
        for topic, (c, n) in sorted(s.by_topic.items(), key=lambda kv: kv[1][0] / kv[1][1]):
            lines.append(f"• {topic.replace('_', ' ')}: {c}/{n} ({c / n:.0%})")
        return "\n".join(lines)

    @staticmethod
    def summary(round_: Round) -> str:
        return (
            f"Round finished: {round_.correct}/{len(round_.items)} correct on {round_.label}. "
            "Missed items come back in your next round. /quiz for another, /score for your progress."
        )
