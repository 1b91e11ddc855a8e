"""Quiz rounds for any front end: choose items, record answers, summarise progress.

Telegram (bot.telegram.quiz) and the console (`regenbot quiz`) both drive rounds
through QuizService, so scheduling and scoring are the same everywhere. Every message
names commands through ``Commands``, so a console trainee is never told to type a
Telegram command (or one that exists nowhere). Time comes from an injected clock, so
Leitner intervals and reminders can be tested without waiting.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path

from bot.core.knowledge import Knowledge
from bot.core.quiz import (
    TOP_BOX,
    Progress,
    QuizBank,
    QuizItem,
    Round,
    TopicMastery,
    due_schedule,
    mastery,
    pick_round,
    resolve_topic,
    score,
    weakest,
)
from bot.querylog.progress import ProgressStore

Clock = Callable[[], float]


def clock_from_env(environ: Mapping[str, str] = os.environ) -> Clock:
    """The real clock, or, with REGENBOT_CLOCK_FILE set, the UNIX time written in that file.

    The file exists for end-to-end tests and demonstrations of reminders: a test moves the
    bot's clock to 07:59 and then 08:00 by rewriting one file, instead of waiting for it.
    """
    path = environ.get("REGENBOT_CLOCK_FILE")
    if not path:
        return time.time
    clock_file = Path(path)

    def now() -> float:
        try:
            return float(clock_file.read_text().strip())
        except (OSError, ValueError):
            return time.time()

    return now


@dataclass(frozen=True)
class Commands:
    """How one front end spells its commands; None where it has no such command."""

    quiz: str
    score: str | None = None
    remind: str | None = None

    def quiz_on(self, topic: str) -> str:
        return f"{self.quiz} {topic}"


TELEGRAM = Commands("/quiz", "/score", "/remind")
CONSOLE = Commands("regenbot quiz")


class UnknownTopic(ValueError):
    """The trainee asked for a topic that does not exist; the message lists the real ones."""


class QuizService:
    def __init__(
        self, kb: Knowledge, store: ProgressStore, rng: random.Random | None = None, clock: Clock = time.time
    ) -> None:
        self.kb = kb
        self.bank: QuizBank = kb.quiz
        self.store = store
        self.rng = rng or random.Random()
        self.clock = clock

    def now(self) -> float:
        return self.clock()

    def topics_text(self, commands: Commands = TELEGRAM) -> str:
        biologics = ", ".join(b.id for b in self.kb.biologics.values())
        return (
            f"Topics: {', '.join(self.bank.topics)}. Or a biologic: {biologics}. "
            f"Example: {commands.quiz_on('exosomes')} or {commands.quiz_on('methods')}."
        )

    async def start(
        self, user: str | int, topic_text: str = "", now: float | None = None, *, personal: bool = True
    ) -> Round:
        """A round on ``topic_text``; ``personal=False`` (a group round) ignores the
        starter's own schedule and asks new items, easier first."""
        resolved = resolve_topic(topic_text, self.bank, self.kb)
        if resolved is None:
            raise UnknownTopic(f"There is no quiz topic “{topic_text.strip()[:40]}”. {self.topics_text()}")
        topic, biologic = resolved
        candidates = self.bank.select(topic, biologic)
        progress = (await self.store.load(user)).progress if personal else {}
        items = pick_round(candidates, progress, self.now() if now is None else now, self.rng)
        label = topic or (self.kb.biologics[biologic].short if biologic else "all topics")
        return Round(items, label.replace("_", " "))

    async def record(self, user: str | int, item: QuizItem, correct: bool, now: float | None = None) -> Progress:
        return await self.store.record(user, item.id, item.topic, correct, self.now() if now is None else now)

    async def answer(self, user: str | int, round_: Round, correct: bool, now: float | None = None) -> None:
        item = round_.current
        if item is None:
            return
        await self.record(user, item, correct, now)
        round_.answer(correct)

    async def due(self, user: str | int, now: float | None = None) -> int:
        """How many of the trainee's items are due for review."""
        trainee = await self.store.load(user)
        return due_schedule(self.bank, trainee.progress, self.now() if now is None else now)[0]

    async def weakest_topic(self, user: str | int) -> TopicMastery | None:
        trainee = await self.store.load(user)
        return weakest(mastery(self.bank, trainee.progress, trainee.history))

    async def score_text(
        self,
        user: str | int,
        now: float | None = None,
        commands: Commands = TELEGRAM,
        tz: tzinfo = timezone.utc,
    ) -> str:
        """Totals, what is due when, and mastery per topic as Leitner boxes."""
        now = self.now() if now is None else now
        trainee = await self.store.load(user)
        s = score(trainee.history, self.bank, trainee.progress, now)
        if not s.answered:
            return f"No quiz answers yet — start with {commands.quiz}."
        due_now, later = due_schedule(self.bank, trainee.progress, now)
        lines = [f"Answered {s.answered}, correct {s.correct} ({s.accuracy:.0%}); current streak {s.streak}."]
        due_line = f"Due now: {due_now} item{'s' if due_now != 1 else ''}" + (
            f" — {commands.quiz}." if due_now else "."
        )
        upcoming = _by_day(later, now, tz)
        if upcoming:
            due_line += " Next: " + ", ".join(f"{n} {day}" for day, n in upcoming) + "."
        lines.append(due_line)
        lines.append(f"Mastery by topic — items in Leitner boxes 1-{TOP_BOX} (box {TOP_BOX}: known for weeks):")
        topics = mastery(self.bank, trainee.progress, trainee.history)
        for t in topics:
            name = t.topic.replace("_", " ")
            if not t.seen:
                lines.append(f"• {name}: not started ({t.items} items)")
                continue
            boxes = "·".join(str(n) for n in t.boxes)
            lines.append(f"• {name}: {t.seen}/{t.items} seen · boxes {boxes} · {t.correct}/{t.answered} right")
        weak = weakest(topics)
        if weak is not None:
            lines.append(_weakest_line(weak, commands))
        return "\n".join(lines)

    @staticmethod
    def summary(
        correct: int, total: int, label: str, weak: TopicMastery | None = None, commands: Commands = TELEGRAM
    ) -> str:
        """The closing message of a round: the score, what comes next, real commands only."""
        lines = [f"Round finished: {correct}/{total} correct on {label}. Missed items come back in your next round."]
        if weak is not None:
            lines.append(_weakest_line(weak, commands))
        more = f"{commands.quiz} for another round"
        lines.append(f"{more}, {commands.score} for your progress." if commands.score else f"{more}.")
        return "\n".join(lines)


def _weakest_line(weak: TopicMastery, commands: Commands) -> str:
    return (
        f"Weakest topic: {weak.topic.replace('_', ' ')} ({weak.correct}/{weak.answered} right) — "
        + commands.quiz_on(weak.topic)
    )


def _by_day(moments: list[float], now: float, tz: tzinfo, days: int = 3) -> list[tuple[str, int]]:
    """Upcoming due times counted per local day: [("tomorrow", 3), ("on Mon 8 Dec", 1)]."""
    today = datetime.fromtimestamp(now, tz).date()
    counts: dict[str, int] = {}
    for moment in moments:
        day = datetime.fromtimestamp(moment, tz).date()
        if day == today:
            label = "later today"
        elif day == today + timedelta(days=1):
            label = "tomorrow"
        else:
            label = f"on {day.strftime('%a')} {day.day} {day.strftime('%b')}"
        if label not in counts and len(counts) == days:
            break
        counts[label] = counts.get(label, 0) + 1
    return list(counts.items())
