"""A question, read once: what it names, where it asks, and every word accounted for.

Built once per message (``read``) and handed to every candidate family, the decision and
the answer's shaping, so none of them re-reads the words. Positions index the
extraction's tokens; hits are referred to by their index in ``ex.hits``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.lexicon import SOCIAL_KINDS, Extraction, Hit
from bot.core.matching import scoring
from bot.core.matching.forms import Form, form_of
from bot.core.matching.world import World
from bot.core.normalise import Normalised


def _group(hits: list[Hit]) -> dict[str, list[Hit]]:
    out: dict[str, list[Hit]] = {}
    for h in hits:
        out.setdefault(h.value, []).append(h)
    return out


@dataclass(frozen=True)
class Question:
    ex: Extraction
    language: str | None
    personal: bool  # about the asker ("my skin"), not a patient
    asked: bool  # names what it asks: a strong aspect, scenario or topic cue
    form: Form  # what kind of reply answers it: a reason, a ranking, a figure
    spans: tuple[scoring.Span, ...]
    words: scoring.Words
    content: frozenset[int]  # positions of the words that say what the question is about
    by_kind: dict[str, list[Hit]] = field(repr=False)
    bios: tuple[str, ...]  # biologics named, in order
    aspects: dict[str, list[Hit]] = field(repr=False)
    scenarios: dict[str, list[Hit]] = field(repr=False)
    topics: dict[str, list[Hit]] = field(repr=False)
    overlap_stems: frozenset[str]  # stems of the content words
    question_stems: frozenset[str]  # the content words and every cue's words
    question_weights: dict[str, float] = field(repr=False)
    _index: dict[int, int] = field(repr=False)

    def get(self, kind: str) -> list[Hit]:
        return self.by_kind.get(kind, [])

    @property
    def names_nothing(self) -> bool:
        """No biologic, aspect, scenario or topic named: all it says comes from the conversation."""
        return not (self.bios or self.aspects or self.scenarios or self.topics or self.get("reference"))

    @property
    def function(self) -> list[Hit]:
        """Words that only shape a question: "what about", "which"."""
        return self.get("followup") + self.get("selection")

    def ids(self, *groups: list[Hit]) -> set[int]:
        """The hit indexes of these hits (what a candidate consumes)."""
        return {self._index[id(h)] for g in groups for h in g}

    def specific_stems(self, consumed: set[int]) -> set[str]:
        """Question words beyond the cues a candidate consumed: they pick the claims to show."""
        used = {p for i in consumed for p in range(self.ex.hits[i].start, self.ex.hits[i].end)}
        return {self.ex.stems[p] for p in self.content if p not in used}


def content_positions(ex: Extraction, generic: frozenset[str] | set[str]) -> frozenset[int]:
    positions = set(ex.domain)
    for h in ex.hits:
        if h.kind in ("aspect", "scenario", "topic", "overview", "compare", "about") and not h.generic_only:
            positions.update(range(h.start, h.end))
    return frozenset(p for p in positions if ex.tokens[p] not in generic)


def read(world: World, question: Normalised) -> Question:
    """Translate, extract and weigh a question once."""
    translated, language = world.translator.translate(question)
    ex = world.lexicon.extract(translated)
    hits = list(ex.hits)
    by_kind: dict[str, list[Hit]] = {}
    for h in hits:
        by_kind.setdefault(h.kind, []).append(h)
    content = content_positions(ex, world.lexicon.generic)
    overlap = frozenset(ex.stems[p] for p in content)
    stems = overlap | {ex.stems[p] for h in hits if h.kind not in SOCIAL_KINDS for p in range(h.start, h.end)}
    return Question(
        ex=ex,
        language=language,
        personal=bool(ex.of("personal")) and not ex.of("clinical"),
        asked=scoring.names_what_it_asks(ex),
        form=form_of(ex),
        spans=scoring.spans(ex, world.lexicon),
        words=scoring.words(ex),
        content=content,
        by_kind=by_kind,
        bios=tuple(dict.fromkeys(h.value for h in by_kind.get("bio", []))),
        aspects=_group(by_kind.get("aspect", [])),
        scenarios=_group(by_kind.get("scenario", [])),
        topics=_group(by_kind.get("topic", [])),
        overlap_stems=overlap,
        question_stems=stems,
        question_weights=world.sections.weighed(stems),
        _index={id(h): i for i, h in enumerate(hits)},
    )
