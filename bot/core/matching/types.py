"""What matching hands on: the slots of an answer, the conversation's frame, a candidate
answer and the decision. Plain data, shared by every matching module and by the composer."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.lexicon import Extraction


@dataclass(frozen=True)
class Slots:
    biologics: tuple[str, ...] = ()
    aspect: str | None = None
    scenario: str | None = None
    topic: str | None = None
    ref: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, ())}


@dataclass(frozen=True)
class Frame:
    """What a conversation remembers: the last biologic(s) and aspect for follow-ups, the
    biologics of recent turns ("compare them"), the last answer ("more", "sources for
    that") and the suggestions last offered ("2", "the second")."""

    biologics: tuple[str, ...] = ()
    aspect: str | None = None
    recent: tuple[str, ...] = ()
    answer_id: str | None = None
    suggestions: tuple[str, ...] = ()
    asked: str = ""


@dataclass(frozen=True)
class Candidate:
    intent: str
    slots: Slots
    family: str
    score: float
    source: str = "slots"
    owned: frozenset[int] = frozenset()  # positions of the asking cues it consumes
    focus: tuple[int, ...] = ()  # claims of the section that hold the question's specific words
    expand: tuple[int, ...] = ()  # claims shown in full: their short form drops a word asked for
    pulled: tuple[str, int] | None = None  # (section, claim) of the same biologic holding what was asked
    parts: tuple[Candidate, ...] = ()  # a question that asks two things: both answered
    rank: float = -1.0  # orders candidates: the score, nudged by how much of the question its text uses
    consumed: frozenset[int] = field(default=frozenset(), compare=False)  # hit indexes it explains
    section: str = field(default="", compare=False)  # the Sections key its text comes from

    @property
    def order(self) -> float:
        return self.rank if self.rank >= 0 else self.score


@dataclass(frozen=True)
class Match:
    answered: bool
    intent: str | None
    slots: Slots
    score: float
    # answered | unsure | not_covered | near | ambiguous | unknown_reference | chat
    # | more | sources | pick | no_previous_answer
    reason: str
    suggestions: tuple[Candidate, ...] = ()
    used_context: bool = False
    extraction: Extraction | None = field(default=None, compare=False, repr=False)
    parts: tuple[Candidate, ...] = ()
    focus: tuple[int, ...] = ()
    expand: tuple[int, ...] = ()
    pulled: tuple[str, int] | None = None
    language: str | None = None
    personal: bool = False
    outside_topic: str | None = None
    note: str | None = None  # a near-but-different term: what the review covers instead
    unreported: str | None = None  # a figure asked for that the review does not report
    act: str | None = None  # chat kind, or the dialogue act's target (an answer id)
