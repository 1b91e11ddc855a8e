"""How much a clinician reads on a phone before the point, measured on blind sets.

Issue 12's figures: the first message's length (single-biologic answers, comparisons,
two-part answers, the rest), how many first messages fit one phone screen, and whether the
key fact a blind-set writer expected is still in that first message (compared with the
whole section, which "More" shows).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from benchmarks.quality import LoadedSet
from bot.evaluation import evaluate
from bot.pipeline import Pipeline

# A Telegram message bubble on a 6-inch phone shows about 40-45 characters a line and
# about 15 lines a screen (issue 12's "one phone screen").
LINE_CHARS = 44
SCREEN_LINES = 15


def phone_lines(text: str) -> int:
    return sum(max(1, -(-len(line) // LINE_CHARS)) for line in text.split("\n"))


@dataclass
class Sizes:
    sets: str
    single: list[int]
    comparisons: list[int]
    two_part: list[int]
    other: list[int]
    on_one_screen: int
    answered: int
    first_correct: float
    full_correct: float

    @staticmethod
    def median(values: list[int]) -> str:
        return f"{statistics.median(values):.0f}" if values else "-"


def measure(pipeline: Pipeline, sets: list[LoadedSet]) -> Sizes:
    blind = [s for s in sets if s.role.startswith("blind")]
    single, comparisons, two_part, other = [], [], [], []
    screen = answered = 0
    for qset in blind:
        for n, case in enumerate(qset.cases):
            conversation = ("size", qset.name, n)
            for earlier in case.after:
                pipeline.ask(earlier, conversation=conversation, frontend="bench")
            reply = pipeline.ask(case.q, conversation=conversation, frontend="bench")
            pipeline.forget(conversation)
            answer = reply.answer
            if not answer.answered or answer.intent == "compare.table":  # the full table was asked for
                continue
            answered += 1
            text = reply.plain()
            screen += phone_lines(text) <= SCREEN_LINES
            intent = answer.intent or ""
            if "+" in intent:
                two_part.append(len(text))
            elif intent.startswith("compare."):
                comparisons.append(len(text))
            elif len(answer.slots.biologics) == 1:
                single.append(len(text))
            else:
                other.append(len(text))
    cases = [c for s in blind for c in s.cases]
    first = evaluate(pipeline, cases).in_scope
    full = evaluate(_FullAnswers(pipeline), cases).in_scope
    names = ", ".join(s.name for s in blind)
    return Sizes(names, single, comparisons, two_part, other, screen, answered, first, full)


class _FullAnswers:
    """The same pipeline, replying with what "More" shows: the ceiling for the key-fact check."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def ask(self, text: str, **where):
        reply = self.pipeline.ask(text, **where)
        more = reply.answer.more
        full = self.pipeline.composer.answer_for_id(more) if more else None
        if full is None:
            return reply
        return type(reply)(full, reply.question, reply.latency_ms, reply.used_context)

    def forget(self, conversation) -> None:
        self.pipeline.forget(conversation)
