"""Progress a trainee can see (issue 14 point 6) and words the console accepts (point 5)."""

from __future__ import annotations

import io
import re
import sys

import pytest

from bot.cli import build_parser, main
from bot.console import parse_choice
from bot.core.quiz import DAY, Progress, mastery, weakest
from bot.querylog.progress import Trainee
from bot.quizzing import CONSOLE, TELEGRAM, QuizService

NOW = 1_790_000_000.0  # a fixed moment: Leitner intervals are measured from it, not from the wall clock


class MemoryStore:
    """ProgressStore's interface without a database: the service under test is the point."""

    def __init__(self) -> None:
        self.trainees: dict[str, Trainee] = {}

    async def load(self, user: str | int) -> Trainee:
        return self.trainees.setdefault(str(user), Trainee())

    async def record(self, user, item_id, topic, correct, now=None):
        trainee = await self.load(user)
        state = trainee.progress.get(item_id, Progress()).after(correct, now)
        trainee.progress[item_id] = state
        trainee.history.append((item_id, correct))
        return state

    def forget(self, user) -> None:
        self.trainees.pop(str(user), None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3", 2), ("3.", 2), ("3)", 2), (" 3 ", 2), ("c", 2), ("C", 2), ("C)", 2), ("(c)", 2), ("c.", 2), ("a", 0)],
)
def test_console_accepts_numbers_and_letters(text, expected):
    assert parse_choice(text, 4) == expected


@pytest.mark.parametrize("text", ["", "0", "5", "e", "3..", "cc", "abc", "3 c", "-1", "x)"])
def test_console_refuses_what_is_not_an_option(text):
    assert parse_choice(text, 4) is None


def test_console_round_with_letters_and_dotted_numbers(monkeypatch, capsys):
    answers = "\n".join(["b)", "3.", "A", "(c)", "1", "n"]) + "\n"  # every item has 3+ options
    monkeypatch.setattr(sys, "stdin", io.StringIO(answers))
    assert main(["quiz", "gaps"]) == 0
    out = capsys.readouterr().out
    assert "Please answer" not in out and "Round finished:" in out
    assert "Weakest topic: gaps" in out and "regenbot quiz gaps" in out


def test_console_messages_name_only_real_commands(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("1\n1\n1\n1\n1\nn\n"))
    assert main(["quiz", "methods"]) == 0
    out = capsys.readouterr().out
    subcommands = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    named = re.findall(r"\bregenbot (\w+)", out)
    assert named and set(named) <= subcommands
    assert not re.search(r"(?<![\w/])/(quiz|score|remind)\b", out)  # no Telegram commands in a terminal
    assert not re.search(r"\bscore\b for", out)


async def test_score_shows_mastery_per_topic_and_what_is_due_when(kb):
    service = QuizService(kb, MemoryStore(), clock=lambda: NOW)  # type: ignore[arg-type]
    evidence = kb.quiz.select("evidence")[:3]
    methods = kb.quiz.select("methods")[:2]
    await service.record(1, evidence[0], False, NOW - 60)  # box 1: due now
    await service.record(1, evidence[1], True, NOW - 60)  # box 2: due tomorrow
    await service.record(1, evidence[2], True, NOW - 60)
    for item in methods:
        await service.record(1, item, True, NOW - 2 * DAY)  # box 2, seen two days ago: due now
    text = await service.score_text(1)
    assert "Answered 5, correct 4 (80%)" in text
    assert "Due now: 3 items — /quiz." in text and "Next: 2 tomorrow." in text
    assert "• evidence: 3/" in text and "boxes 1·2·0·0·0 · 2/3 right" in text
    assert "• methods: 2/7 seen · boxes 0·2·0·0·0 · 2/2 right" in text
    assert "• gaps: not started" in text
    assert "Weakest topic: evidence (2/3 right) — /quiz evidence" in text
    assert await service.due(1) == 3
    # The same state a week later: everything in box 2 is due, nothing left for later.
    later = await service.score_text(1, now=NOW + 7 * DAY, commands=CONSOLE)
    assert "Due now: 5 items — regenbot quiz." in later and "Next:" not in later


def test_weakest_topic_prefers_low_accuracy_then_low_boxes(kb):
    bank = kb.quiz
    a, b = bank.select("safety")[0], bank.select("gaps")[0]
    progress = {a.id: Progress(1, 0, 2, 0), b.id: Progress(3, 0, 2, 2)}
    history = [(a.id, False), (a.id, False), (b.id, True), (b.id, True)]
    topics = mastery(bank, progress, history)
    assert weakest(topics).topic == "safety"
    assert weakest(mastery(bank, {}, [])) is None


def test_round_summary_names_the_weakest_topic_and_real_commands():
    from bot.core.quiz import TopicMastery

    weak = TopicMastery("best_use", 6, (1, 0, 0, 0, 0), 0, 1)
    telegram = QuizService.summary(3, 5, "evidence", weak, TELEGRAM)
    assert telegram.startswith("Round finished: 3/5 correct on evidence.")
    assert "Weakest topic: best use (0/1 right) — /quiz best_use" in telegram
    assert telegram.endswith("/quiz for another round, /score for your progress.")
    console = QuizService.summary(3, 5, "evidence", weak, CONSOLE)
    assert "regenbot quiz best_use" in console and "score" not in console
