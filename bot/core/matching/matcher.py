"""From a normalised question (and the conversation so far) to one answer, or an honest no.

Read the question once (``question.read``); a turn about the conversation itself is a
dialogue act (``conversation``); a term that only sounds like the review's is answered
as near-but-different; otherwise every candidate family proposes answers, scored by how
much of the question each explains (``families``, ``scoring``), and ``decision`` picks
the reply.
"""

from __future__ import annotations

from bot.core.knowledge import Knowledge
from bot.core.lexicon import Extraction
from bot.core.matching import conversation, decision, families
from bot.core.matching.question import read
from bot.core.matching.types import Frame, Match, Slots
from bot.core.matching.world import World
from bot.core.normalise import Normalised


class Matcher:
    """Built once at start-up from the knowledge base; ``match`` is pure."""

    def __init__(self, kb: Knowledge) -> None:
        self.world = World(kb)
        self.kb = kb
        self.lexicon = self.world.lexicon
        self.sections = self.world.sections
        self.translator = self.world.translator
        self.all_biologics = self.world.all_biologics

    def scenario_slots(self, scenario: str) -> Slots:
        return self.world.scenario_slots(scenario)

    def in_domain(self, ex: Extraction) -> bool:
        return self.world.in_domain(ex)

    def match(self, question: Normalised, context: Frame | None = None) -> Match:
        q = read(self.world, question)
        act = conversation.dialogue(self.world, q.ex, context, q.language, q.form)
        if act is not None:
            return act
        near = decision.near_hit(q, self.world)
        if near is not None:
            return decision.near(q, self.world, near)
        ranked = families.candidates(q, context, self.world)
        return decision.decide(q, self.world, ranked, note=decision.near_beside(q, self.world))
