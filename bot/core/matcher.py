"""From a normalised question (and the conversation so far) to one intent, or an honest no.

Candidates come from two sources: the slots the lexicon found (biologic x aspect,
comparison, scenario, topic, reference) and rapidfuzz over the knowledge base's example
phrasings. Each candidate is scored by how much of the question it explains: a word the
answer would ignore ("hair" in "PRP for hair loss") lowers the confidence, which is what
keeps out-of-scope questions from being answered with biologic content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import fmean

from rapidfuzz import fuzz, process

from bot.core import tuning
from bot.core.knowledge import Knowledge
from bot.core.lexicon import FUNCTION_KINDS, PLACEHOLDER, Extraction, Hit, Lexicon
from bot.core.normalise import Normalised, normalise


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
    """What a conversation remembers for follow-ups: the last biologic(s) and aspect."""

    biologics: tuple[str, ...] = ()
    aspect: str | None = None


@dataclass(frozen=True)
class Candidate:
    intent: str
    slots: Slots
    family: str
    score: float
    source: str = "slots"


@dataclass(frozen=True)
class Match:
    answered: bool
    intent: str | None
    slots: Slots
    score: float
    reason: str  # answered | low_confidence | ambiguous | no_match | unknown_reference
    suggestions: tuple[Candidate, ...] = ()
    used_context: bool = False
    extraction: Extraction | None = field(default=None, compare=False, repr=False)

    def frame(self, previous: Frame | None) -> Frame | None:
        """The frame to remember after this answer (the previous one if nothing new)."""
        if not self.answered or not self.slots.biologics:
            return previous
        return Frame(self.slots.biologics, self.slots.aspect)


class Matcher:
    """Built once at start-up from the knowledge base; ``match`` is pure."""

    def __init__(self, kb: Knowledge) -> None:
        self.kb = kb
        self.lexicon = Lexicon(kb)
        self.all_biologics = tuple(kb.comparison.hierarchy)
        self._phrases: list[str] = []
        self._phrase_targets: list[tuple[str, str]] = []  # (kind, id)
        # Inverted index word -> example numbers, so each question is compared only with
        # the examples that share a content word with it: the cost follows the overlap,
        # not the size of the knowledge base.
        self._postings: dict[str, list[int]] = {}
        for aspect in kb.aspects.values():
            self._index_examples("aspect", aspect.id, aspect.examples)
        for scenario in kb.scenarios.values():
            self._index_examples("scenario", scenario.id, scenario.examples)
        for topic in kb.topics.values():
            self._index_examples("topic", topic.id, topic.examples)

    def _index_examples(self, kind: str, ident: str, examples: tuple[str, ...]) -> None:
        for example in examples:
            canonical = self.lexicon.extract(normalise(example.replace("{b}", "PRP"))).canonical()
            number = len(self._phrases)
            self._phrases.append(canonical)
            self._phrase_targets.append((kind, ident))
            for word in set(canonical.split()) - self.lexicon.generic - {PLACEHOLDER}:
                self._postings.setdefault(word, []).append(number)

    def scenario_slots(self, scenario: str) -> Slots:
        """A scenario's slots carry its recommended biologics, for follow-ups."""
        return Slots(self.kb.scenarios[scenario].choice, scenario=scenario)

    # -- public -------------------------------------------------------------------------

    def match(self, question: Normalised, context: Frame | None = None) -> Match:
        ex = self.lexicon.extract(question)
        candidates = self._candidates(ex, context)
        if not candidates:
            return Match(False, None, Slots(), 0.0, "no_match", extraction=ex)
        ranked = sorted(candidates.values(), key=lambda c: -c.score)
        best = ranked[0]
        suggestions = tuple(c for c in ranked if c.score >= tuning.SUGGESTION_FLOOR)[: tuning.MAX_SUGGESTIONS]
        used_context = best.source == "context"
        if best.score < tuning.ANSWER_THRESHOLD:
            return Match(False, best.intent, best.slots, best.score, "low_confidence", suggestions, used_context, ex)
        rival = next((c for c in ranked[1:] if c.family == best.family), None)
        if rival and best.score - rival.score < tuning.AMBIGUITY_MARGIN:
            close = tuple(
                c for c in ranked if c.family == best.family and best.score - c.score < tuning.AMBIGUITY_MARGIN
            )
            return Match(
                False,
                best.intent,
                best.slots,
                best.score,
                "ambiguous",
                close[: tuning.MAX_SUGGESTIONS],
                used_context,
                ex,
            )
        if best.intent == "refs.lookup" and best.slots.ref not in self.kb.references:
            return Match(False, best.intent, best.slots, best.score, "unknown_reference", (), False, ex)
        return Match(True, best.intent, best.slots, best.score, "answered", (), used_context, ex)

    # -- candidates ---------------------------------------------------------------------

    def _candidates(self, ex: Extraction, context: Frame | None) -> dict[tuple, Candidate]:
        out: dict[tuple, Candidate] = {}
        hits = list(ex.hits)
        idx = {id(h): i for i, h in enumerate(hits)}

        def ids(*groups: list[Hit]) -> set[int]:
            return {idx[id(h)] for g in groups for h in g}

        def add(
            intent: str, slots: Slots, family: str, consumed: set[int], prior: str, numbers: tuple[int, ...] = ()
        ) -> None:
            score = self._score(ex, consumed, tuning.PRIOR[prior], numbers)
            key = (intent, slots)
            if key not in out or out[key].score < score:
                out[key] = Candidate(
                    intent, slots, family, round(score, 1), "context" if prior == "context" else "slots"
                )

        by_kind: dict[str, list[Hit]] = {}
        for h in hits:
            by_kind.setdefault(h.kind, []).append(h)
        get = lambda kind: by_kind.get(kind, [])  # noqa: E731
        bios = list(dict.fromkeys(h.value for h in get("bio")))
        aspects = _group(get("aspect"))
        scenarios = _group(get("scenario"))
        topics = _group(get("topic"))
        function = get("followup") + get("selection")

        # References: "ref 11", "reference 12", "Xiao paper", "references".
        ref_cues = get("reference")
        if ref_cues:
            for pos, number in ex.numbers:
                add("refs.lookup", Slots(ref=number), "reference", ids(ref_cues, function), "reference", (pos,))
        for h in get("author"):
            add("refs.lookup", Slots(ref=int(h.value)), "reference", ids([h], ref_cues, function), "reference")
        if get("references_list") and not ex.numbers:
            add("refs.list", Slots(), "reference", ids(get("references_list"), ref_cues, function), "reference")
        if get("about"):
            add("review.about", Slots(), "review", ids(get("about"), ref_cues, function), "topic")

        # A topic question may use aspect words ("mechanisms of photoaging", "what studies are
        # needed"): without a biologic named, they describe the topic, not a biologic.
        topic_words = ids(*aspects.values()) if not bios else set()
        for topic, group in topics.items():
            add(topic, Slots(topic=topic), "topic", ids(group, function, get("about")) | topic_words, "topic")

        compare = get("compare")
        if bios and (len(bios) >= 2 or compare):
            chosen = tuple(b for b in self.all_biologics if b in bios) if len(bios) >= 2 else self.all_biologics
            base = ids(get("bio"), compare, function)
            for aspect, group in aspects.items():
                add(f"compare.{aspect}", Slots(chosen, aspect), "compare", base | ids(group), "compare")
            if not aspects:
                add("compare.all", Slots(chosen), "compare", base | ids(get("overview")), "compare")
            if len(bios) >= 2:  # "combine PRP with exosomes", "secretome or exosomes after laser?"
                for scenario, group in scenarios.items():
                    consumed = base | ids(group, *aspects.values())
                    add(f"scenario.{scenario}", self.scenario_slots(scenario), "scenario", consumed, "scenario")
        elif bios:
            bio = bios[0]
            base = ids(get("bio"), function)
            for aspect, group in aspects.items():
                extra = ids(*scenarios.values()) if aspect in ("benefits", "best_use") else set()
                add(f"{bio}.{aspect}", Slots((bio,), aspect), "biologic", base | ids(group) | extra, "biologic")
            if not aspects:
                if scenarios:
                    add(
                        f"{bio}.best_use",
                        Slots((bio,), "best_use"),
                        "biologic",
                        base | ids(*scenarios.values()),
                        "biologic",
                    )
                elif get("followup") and context and context.aspect:
                    aspect = context.aspect
                    add(f"{bio}.{aspect}", Slots((bio,), aspect), "biologic", base, "context")
                else:
                    add(f"{bio}.overview", Slots((bio,)), "biologic", base | ids(get("overview")), "biologic")
        else:
            use_words = ids(aspects.get("benefits", []), aspects.get("best_use", []))
            for scenario, group in scenarios.items():
                add(
                    f"scenario.{scenario}",
                    self.scenario_slots(scenario),
                    "scenario",
                    ids(group, function, compare) | use_words,
                    "scenario",
                )
            for aspect, group in aspects.items():
                if context and context.biologics:
                    remembered = context.biologics
                    intent = f"{remembered[0]}.{aspect}" if len(remembered) == 1 else f"compare.{aspect}"
                    family = "biologic" if len(remembered) == 1 else "compare"
                    add(intent, Slots(remembered, aspect), family, ids(group, function, compare), "context")
                    if len(remembered) > 1:
                        continue  # the remembered comparison replaces the all-three one
                add(
                    f"compare.{aspect}",
                    Slots(self.all_biologics, aspect),
                    "compare",
                    ids(group, function, compare),
                    "compare",
                )
            if compare and not aspects and not scenarios:
                add(
                    "compare.all",
                    Slots(self.all_biologics),
                    "compare",
                    ids(compare, function, get("overview")),
                    "compare",
                )

        self._phrase_candidates(ex, bios, context, out)
        return out

    def _phrase_candidates(
        self, ex: Extraction, bios: list[str], context: Frame | None, out: dict[tuple, Candidate]
    ) -> None:
        """Fuzzy match the whole question against example phrasings.

        token_sort_ratio, not WRatio or partial_ratio: those rate a short example highly
        against any long question that contains it, the trap that would make "PRP for
        hair loss" look like a PRP question.
        """
        canonical = ex.canonical()
        if not canonical:
            return
        # Words the knowledge base has never seen count against a phrase match too.
        known = len({p for h in ex.hits for p in range(h.start, h.end)}) + len(ex.domain)
        unknown = tuning.UNKNOWN_WORD_MASS * len(ex.unknown) + tuning.OUT_OF_SCOPE_WORD_MASS * len(ex.outside)
        familiarity = known / (known + unknown) if known + unknown else 0.0
        numbers = sorted({n for word in set(canonical.split()) for n in self._postings.get(word, ())})
        if not numbers:
            return
        subset = [self._phrases[n] for n in numbers]
        for _, ratio, j in process.extract(canonical, subset, scorer=fuzz.token_sort_ratio, limit=3):
            kind, ident = self._phrase_targets[numbers[j]]
            score = round(ratio * tuning.PRIOR["phrase"] * familiarity, 1)
            if kind == "aspect":
                chosen = tuple(bios) or (context.biologics if context else ())
                if len(chosen) == 1:
                    cand = Candidate(f"{chosen[0]}.{ident}", Slots(chosen, ident), "biologic", score, "phrase")
                else:
                    chosen = chosen or self.all_biologics
                    cand = Candidate(f"compare.{ident}", Slots(chosen, ident), "compare", score, "phrase")
            elif kind == "scenario":
                cand = Candidate(f"scenario.{ident}", self.scenario_slots(ident), "scenario", score, "phrase")
            else:
                cand = Candidate(ident, Slots(topic=ident), "topic", score, "phrase")
            key = (cand.intent, cand.slots)
            if key not in out or out[key].score < cand.score:
                out[key] = cand

    # -- scoring ------------------------------------------------------------------------

    def _score(self, ex: Extraction, consumed: set[int], prior: float, numbers: tuple[int, ...] = ()) -> float:
        """How much of the question the candidate explains, times how sure each cue is."""
        if not consumed:
            return 0.0
        spans: dict[tuple[int, int], list[tuple[int, Hit]]] = {}
        for i, h in enumerate(ex.hits):
            spans.setdefault((h.start, h.end), []).append((i, h))
        mass = explained = 0.0
        for items in spans.values():
            group = [h for _, h in items]
            used = [h for i, h in items if i in consumed]
            if all(h.generic_only for h in group):
                m = 0.0
            elif all(h.kind in FUNCTION_KINDS for h in group):
                m = 0.3
            else:
                m = 1.0
            if used:
                explained += m * max(h.strength for h in used)
            else:
                weight = max(h.concept.weight for h in group)
                explained += m * (1 - weight * (1 - tuning.UNUSED_CUE_CREDIT))
            mass += m
        for pos in ex.domain:
            mass += 1.0
            explained += 1.0 if pos in numbers else tuning.DOMAIN_WORD_CREDIT
        for pos in ex.unknown:
            if pos in numbers:
                mass += 1.0
                explained += 1.0
            else:
                mass += tuning.UNKNOWN_WORD_MASS
        mass += tuning.OUT_OF_SCOPE_WORD_MASS * len(ex.outside)
        coverage = explained / mass if mass else 1.0
        quality = fmean(ex.hits[i].strength * (0.8 + 0.2 * ex.hits[i].concept.weight) for i in consumed)
        return 100.0 * coverage * quality * prior


def _group(hits: list[Hit]) -> dict[str, list[Hit]]:
    out: dict[str, list[Hit]] = {}
    for h in hits:
        out.setdefault(h.value, []).append(h)
    return out
