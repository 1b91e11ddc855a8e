"""Candidate answers, family by family: each family is one small function that proposes
the answers of its kind the question could want, and ``FAMILIES`` runs them in order.

A family never decides: it adds candidates to the ``Pool``, which scores each by how much
of the question it explains (``scoring.score``) and keeps the best per answer. The
decision (``decision.py``) reads the pool afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process

from bot.core import tuning
from bot.core.lexicon import Hit
from bot.core.matching import scoring
from bot.core.matching.forms import RANK, RANK_WORDS
from bot.core.matching.question import Question
from bot.core.matching.types import Candidate, Frame, Slots
from bot.core.matching.world import World
from bot.core.sections import MIN_EXPAND_WEIGHT


class Pool:
    """The candidates proposed so far, scored on arrival, best kept per (intent, slots)."""

    def __init__(self, q: Question, world: World) -> None:
        self.q = q
        self.world = world
        self.out: dict[tuple, Candidate] = {}

    def add(
        self,
        intent: str,
        slots: Slots,
        family: str,
        consumed: set[int],
        prior: str,
        numbers: tuple[int, ...] = (),
        section: str | None = None,
    ) -> None:
        q = self.q
        section = section if section is not None else intent
        score, owned = scoring.score(
            self.world.sections, consumed, section, tuning.PRIOR[prior], numbers, q.asked, q.spans, q.words
        )
        # The answer's own text should use the question's words: of two candidates that
        # explain the question equally, the one whose claims say the question's rare word wins.
        text = self.world.sections.match(section, q.question_weights)
        rank = score * (1 - tuning.TEXT_MATCH_WEIGHT + tuning.TEXT_MATCH_WEIGHT * text)
        if prior in ("context", "ranking"):
            rank = score  # what the conversation or the form says, not word overlap
        key = (intent, slots)
        if key not in self.out or self.out[key].rank < rank:
            source = "context" if prior == "context" else "slots"
            self.out[key] = Candidate(
                intent, slots, family, round(score, 1), source, owned, rank=rank,
                consumed=frozenset(consumed), section=section,
            )

    def put(self, cand: Candidate) -> None:
        """A candidate scored elsewhere (a whole-phrase match): kept if it beats its twin."""
        key = (cand.intent, cand.slots)
        if key not in self.out or self.out[key].score < cand.score:
            self.out[key] = cand


@dataclass(frozen=True)
class Comparing:
    """How the question compares: its comparison cues, and the biologics in play."""

    cues: list[Hit]
    talked: frozenset[str]  # one biologic named, another just discussed ("compare w/ exos")
    remembered: tuple[str, ...]  # the biologics of recent turns ("compare them")
    referred: bool = False  # a pronoun points at the biologics just discussed ("combine PRP with them")


def comparing(q: Question, context: Frame | None) -> Comparing:
    # "or", "better", "differ" compare only when not said of one biologic alone.
    talked = frozenset(context.biologics) - set(q.bios) if context and len(q.bios) == 1 else frozenset()
    two = len(q.bios) >= 2 or (not q.bios and bool(q.get("selection"))) or bool(talked)
    cues = q.get("compare") + q.get("full_table") + (q.get("compare_needs_two") if two else [])
    remembered = context.recent if context and len(context.recent) >= 2 else ()
    referred = bool(talked) and any(
        q.ex.tokens[h.start] in _POINTING and q.ex.tokens[h.start - 1 : h.start] in _JOINING for h in q.get("followup")
    )
    return Comparing(cues, talked, remembered, referred)


# Pronouns that point back at what was just discussed.
_POINTING = frozenset({"them", "they", "it", "those", "these", "both", "that", "this"})
# ... as the object of a joining word ("with them", "than those"), not as the subject, which
# may be the biologic just named ("and exos, where do they sit?").
_JOINING = frozenset((w,) for w in ("with", "to", "than", "over", "and", "vs", "versus", "plus", "like", "from"))


Family = Callable[[Question, "Frame | None", Pool, World, Comparing], None]


def references(q: Question, context: Frame | None, pool: Pool, world: World, cmp: Comparing) -> None:
    """"ref 11", "Xiao paper", "references", "which ref is the split-face study"."""
    # In a question about content, "which ref"/"sources" introduce a reference, not a follow-up.
    ref_cues = q.get("reference") + q.get("sources")
    if ref_cues:
        for pos, number in q.ex.numbers:
            if q.ex.tokens[pos - 1 : pos] in (("the",), ("all",)):
                continue  # "which of the 3": a count of biologics, not a reference number
            pool.add("refs.lookup", Slots(ref=number), "reference", q.ids(ref_cues, q.function), "reference", (pos,))
        if not q.ex.numbers and not q.get("author"):  # an author's name names the paper outright
            for number in world.described_references(q.ex, q.overlap_stems):
                # Words of the title describe the paper asked for: the reference uses them.
                section = world.sections.by_key[f"ref.{number}"]
                described = [
                    h
                    for h in q.ex.hits
                    if (h.kind == "aspect" and h.value == "evidence")  # "the split-face trial": a paper
                    or (
                        h.kind in ("bio", "aspect")
                        and all(q.ex.stems[p] in section.stems for p in range(h.start, h.end))
                    )
                ]
                pool.add(
                    "refs.lookup", Slots(ref=number), "reference",
                    q.ids(ref_cues, q.function, described), "reference", section=f"ref.{number}",
                )
    for h in q.get("author"):  # the paper's title words explain the rest of the question
        pool.add(
            "refs.lookup", Slots(ref=int(h.value)), "reference",
            q.ids([h], ref_cues, q.function), "reference", section=f"ref.{h.value}",
        )
    if q.get("references_list") and not q.ex.numbers:
        pool.add("refs.list", Slots(), "reference", q.ids(q.get("references_list"), ref_cues, q.function), "reference")
    if q.get("about"):
        pool.add("review.about", Slots(), "review", q.ids(q.get("about"), ref_cues, q.function), "topic")


def topics(q: Question, context: Frame | None, pool: Pool, world: World, cmp: Comparing) -> None:
    """The review's own topics (skin aging, future directions, how the review was done)."""
    # "the publication", "this article" name the review a topic is part of; "ethics
    # approval", "funding" name one of its declarations, which no topic answers.
    declarations = world.sections.by_key["review.about"].stems
    review_words = [
        h for h in q.get("about") if not all(q.ex.stems[p] in declarations for p in range(h.start, h.end))
    ]
    # A topic question may use aspect words ("mechanisms of photoaging"): without a
    # biologic named, they describe the topic, not a biologic.
    topic_words = q.ids(*q.aspects.values()) if not q.bios else set()
    # Topics named only by their words: the few whose text shares most with the question
    # (a long story touches many topics' words; the rest cannot win and cost time).
    by_words = sorted(
        (-world.sections.overlap(k, q.overlap_stems), k)
        for k in world.sections.sections_with(q.overlap_stems)
        if k in world.kb.topics and k not in q.topics
    )
    unnamed = [k for weight, k in by_words if -weight >= tuning.MIN_SECTION_OVERLAP][: tuning.MAX_UNNAMED_TOPICS]
    for topic in [*q.topics, *unnamed]:
        group = q.topics.get(topic, [])
        # Named by its words only, a topic consumes no cue: they belong to what they name.
        # A weak topic cue said of a biologic names what the biologic acts on, not the topic.
        strong = any(h.concept.weight >= 0.9 for h in group)
        named = q.get("bio") if strong else []
        consumed = q.ids(group, q.function, review_words, named) | topic_words if group else q.ids(q.function)
        pool.add(topic, Slots(topic=topic), "topic", consumed, "topic" if group else "section")


def comparison(q: Question, context: Frame | None, pool: Pool, world: World, cmp: Comparing) -> None:
    """Two or more biologics, or one with a comparison word: the table's rows."""
    if not q.bios or not (len(q.bios) >= 2 or cmp.cues or cmp.referred):
        return
    # The biologic just discussed and the one named ("how's that different from secretome?").
    together = set(q.bios) | cmp.talked if len(q.bios) >= 2 or cmp.talked else set(world.all_biologics)
    named = set(q.bios) | (cmp.talked if cmp.referred else set())
    chosen = tuple(b for b in world.all_biologics if b in together)
    base = q.ids(q.get("bio"), cmp.cues, q.function)
    for aspect, group in q.aspects.items():
        pool.add(f"compare.{aspect}", Slots(chosen, aspect), "compare", base | q.ids(group), "compare")
    for key in world.sections.sections_with(q.overlap_stems):
        if key.startswith("compare.") and key.removeprefix("compare.") in world.kb.aspects:
            aspect = key.removeprefix("compare.")
            if aspect not in q.aspects and world.sections.overlap(key, q.overlap_stems) >= tuning.MIN_SECTION_OVERLAP:
                pool.add(key, Slots(chosen, aspect), "compare", base, "section")
    if not q.aspects:
        # Two biologics named, nothing asked of them: a summary, unless a section says more.
        asked_to_compare = bool(q.get("compare") or q.get("compare_needs_two") or q.get("overview"))
        prior = "compare" if asked_to_compare else "compare_unasked"
        pool.add("compare.all", Slots(chosen), "compare", base | q.ids(q.get("overview")), prior)
    if cmp.talked and not q.aspects and context and context.aspect:  # one named, one discussed, nothing asked
        pool.add(f"compare.{context.aspect}", Slots(chosen, context.aspect), "compare", base, "context")
    # A fact said in one biologic's own claims that also name the other ("why is secretome
    # more physiological than exosomes?"), where the table's row does not say it.
    specific = q.specific_stems(q.ids(*q.aspects.values(), cmp.cues))
    for bio in q.bios:
        for aspect in world.kb.aspects:
            key = f"{bio}.{aspect}"
            if world.sections.overlap(key, specific) < tuning.MIN_SECTION_OVERLAP:
                continue
            if world.sections.says(f"compare.{aspect}", specific) >= tuning.MIN_SECTION_OVERLAP:
                continue
            mine = [h for h in q.get("bio") if h.value == bio]
            pool.add(
                key, Slots((bio,), aspect), "biologic", q.ids(mine, q.function, q.aspects.get(aspect, [])), "selected"
            )
    if len(named) >= 2:  # "combine PRP with exosomes", "secretome or exosomes after laser?"
        for scenario, group in q.scenarios.items():
            # A scenario answers which to use, not their regulation or safety: only
            # use-like aspect words are its own.
            use_aspects = [g for a, g in q.aspects.items() if a in ("benefits", "best_use")]
            consumed = base | q.ids(group, *use_aspects)
            pool.add(f"scenario.{scenario}", world.scenario_slots(scenario), "scenario", consumed, "scenario")


def one_biologic(q: Question, context: Frame | None, pool: Pool, world: World, cmp: Comparing) -> None:
    """One biologic named, no comparison: its aspects, its best use, the scenarios."""
    if len(q.bios) != 1 or cmp.cues:
        return
    bio = q.bios[0]
    if cmp.referred and q.scenarios:
        return  # "combine PRP with them": the biologics discussed are named too (comparison)
    base = q.ids(q.get("bio"), q.function)
    section_aspects = {
        key.split(".", 1)[1]
        for key in world.sections.sections_with(q.overlap_stems)
        if key.startswith(f"{bio}.") and key.split(".", 1)[1] in world.kb.aspects
    }
    # A scenario whose choice is another biologic is not explained by this biologic's
    # best use: the scenario's own answer says which biologic fits instead.
    fitting = {s: g for s, g in q.scenarios.items() if bio in world.kb.scenarios[s].choice}
    for aspect in set(q.aspects) | section_aspects:
        group = q.aspects.get(aspect, [])
        if not group and world.sections.overlap(f"{bio}.{aspect}", q.overlap_stems) < tuning.MIN_SECTION_OVERLAP:
            continue
        extra = q.ids(*fitting.values()) if aspect in ("benefits", "best_use") else set()
        pool.add(
            f"{bio}.{aspect}", Slots((bio,), aspect), "biologic", base | q.ids(group) | extra,
            "biologic" if group else "section",
        )
    scenario = _last_scenario(context, world)
    if q.form.why and scenario and not q.scenarios and set(q.aspects) <= {"standing", "best_use", "benefits"}:
        # "why not PRP then?" after a scenario's answer: the scenario's rationale says why
        # its choice, and not this biologic, suits it.
        consumed = base | q.ids(*q.aspects.values())
        pool.add(f"scenario.{scenario}", world.scenario_slots(scenario), "scenario", consumed, "context")
    if q.aspects and not set(q.aspects) & {"benefits", "best_use"} and _two_clauses(q):
        # "does secretome help after laser, and via what mechanism?": the scenario is a part
        # of its own beside the aspect.
        for scenario, group in fitting.items():
            consumed = base | q.ids(group)
            pool.add(f"scenario.{scenario}", world.scenario_slots(scenario), "scenario", consumed, "scenario")
    use_like = set(q.aspects) <= {"standing", "best_use", "benefits"}
    if q.form.why and fitting and q.aspects and use_like:
        # "Why is PRP preferred for collagen induction?": the scenario's rationale is the reason.
        for scenario, group in fitting.items():
            consumed = base | q.ids(group, *q.aspects.values())
            pool.add(f"scenario.{scenario}", world.scenario_slots(scenario), "scenario", consumed, "scenario")
    if q.aspects:
        return
    if q.scenarios:
        # "Why PRP for collagen induction?": the scenario's rationale is the review's reason,
        # which the biologic's best use only restates.
        prior = "section" if q.form.why and fitting else "biologic"
        pool.add(f"{bio}.best_use", Slots((bio,), "best_use"), "biologic", base | q.ids(*fitting.values()), prior)
        for scenario, group in q.scenarios.items():
            # a shade below the biologic's own answer when it is the scenario's choice
            pool.add(
                f"scenario.{scenario}", world.scenario_slots(scenario), "scenario", base | q.ids(group),
                "scenario_of_named" if scenario in fitting else "scenario",
            )
    if q.get("followup") and context and context.aspect and not q.get("overview"):
        pool.add(f"{bio}.{context.aspect}", Slots((bio,), context.aspect), "biologic", base, "context")
    else:
        pool.add(f"{bio}.overview", Slots((bio,)), "biologic", base | q.ids(q.get("overview")), "biologic")


def _two_clauses(q: Question) -> bool:
    """Two questions joined by "and" / "plus" / "also" (the joining word between two cues)."""
    cues = [h for h in q.ex.hits if h.kind in ("aspect", "scenario", "topic") and not h.generic_only]
    for p, token in enumerate(q.ex.tokens):
        if token not in ("and", "plus", "also") or any(h.start <= p < h.end for h in q.ex.hits if h.kind != "followup"):
            continue  # "hydration and elasticity" is one phrase
        if any(h.end <= p for h in cues) and any(h.start > p for h in cues):
            return True
    return False


def _last_scenario(context: Frame | None, world: World) -> str | None:
    """The clinical scenario the last answer was about, if it was one."""
    answer = context.answer_id if context else None
    if not answer or not answer.startswith("scn-"):
        return None
    ident = answer.removeprefix("scn-").split(".")[0]
    return ident if ident in world.kb.scenarios else None


def scenarios(q: Question, context: Frame | None, pool: Pool, world: World, cmp: Comparing) -> None:
    """No biologic named: Table 2's clinical scenarios, by cue or by their words."""
    if q.bios:
        return
    use_words = q.ids(q.aspects.get("benefits", []), q.aspects.get("best_use", []))
    scenario_ids = set(q.scenarios) | {
        k.removeprefix("scenario.")
        for k in world.sections.sections_with(q.overlap_stems)
        if k.startswith("scenario.")
    }
    for scenario in scenario_ids:
        group = q.scenarios.get(scenario, [])
        if not group and world.sections.overlap(f"scenario.{scenario}", q.overlap_stems) < tuning.MIN_SECTION_OVERLAP:
            continue
        consumed = q.ids(group, q.function, cmp.cues) | use_words if group else q.ids(q.function)
        pool.add(
            f"scenario.{scenario}", world.scenario_slots(scenario), "scenario", consumed,
            "scenario" if group else "section",
        )


def selection(q: Question, context: Frame | None, pool: Pool, world: World, cmp: Comparing) -> None:
    """"Which of these knocks down MMPs": the one biologic whose claims say so."""
    if q.bios or not q.get("selection") or (q.form.kind == RANK and not q.aspects):
        return  # "which is best" asks for the review's ranking, not the biologic whose text says "best"
    # No aspect named ("which is most affordable"): the words themselves point at one.
    asked_aspects = dict(q.aspects) or {
        key.partition(".")[2]: []
        for key in world.sections.sections_with(q.question_stems)
        if key.partition(".")[0] in world.kb.biologics and key.partition(".")[2] in world.kb.aspects
    }
    for aspect, group in asked_aspects.items():
        asked_words = q.specific_stems(q.ids(group)) or q.question_stems
        if world.sections.says(f"compare.{aspect}", asked_words) >= tuning.MIN_SECTION_OVERLAP:
            continue  # the comparison row already says it
        # The one biologic whose claims say the question's words, or say them far more than
        # any other.
        weights = sorted(
            ((world.sections.overlap(f"{b}.{aspect}", q.question_stems), b) for b in world.all_biologics),
            reverse=True,
        )
        (top, bio), (second, _) = weights[0], weights[1]
        if top >= tuning.MIN_SECTION_OVERLAP and (
            second < tuning.MIN_SECTION_OVERLAP or top >= tuning.DOMINANT_OVERLAP * second
        ):
            pool.add(f"{bio}.{aspect}", Slots((bio,), aspect), "biologic", q.ids(group, q.function), "selected")


def named_term(q: Question, context: Frame | None, pool: Pool, world: World, cmp: Comparing) -> None:
    """No biologic named, but a telling word that only one biologic's claims print ("is GMP
    mentioned anywhere?", "what about NF-kB"): the sections of that biologic that print it."""
    if q.bios or q.scenarios or q.topics or (context and context.biologics):
        return
    if q.form.kind == RANK or q.get("selection") or cmp.cues:
        return  # "which has the strongest evidence" compares; the word is not a thing named
    sections = world.sections
    for s in q.overlap_stems - sections.common:
        if sections.weight(s) < MIN_EXPAND_WEIGHT or len(s) < 3:
            continue  # a letter or two ("b" of "NF-κB") names nothing
        holders = [
            key
            for key in sections.index.get(s, ())
            if key.partition(".")[0] in world.kb.biologics
            and key.partition(".")[2] in world.kb.aspects
            and any(s in printed for printed in sections.by_key[key].printed)
        ]
        if len({key.partition(".")[0] for key in holders}) != 1:
            continue
        for key in holders:
            bio, _, aspect = key.partition(".")
            pool.add(
                key, Slots((bio,), aspect), "biologic", q.ids(q.aspects.get(aspect, []), q.function), "selected"
            )


def unnamed_aspects(q: Question, context: Frame | None, pool: Pool, world: World, cmp: Comparing) -> None:
    """An aspect asked with no biologic named: of the one(s) discussed, or of all three."""
    if q.bios:
        return
    for aspect, group in q.aspects.items():
        if context and context.biologics:
            mem = context.biologics
            intent = f"{mem[0]}.{aspect}" if len(mem) == 1 else f"compare.{aspect}"
            family = "biologic" if len(mem) == 1 else "compare"
            pool.add(intent, Slots(mem, aspect), family, q.ids(group, q.function, cmp.cues), "context")
            if len(mem) > 1:
                continue  # the remembered comparison replaces the all-three one
        chosen = cmp.remembered if cmp.cues and cmp.remembered else world.all_biologics
        pool.add(
            f"compare.{aspect}", Slots(chosen, aspect), "compare", q.ids(group, q.function, cmp.cues),
            "compare" if not cmp.remembered else "context",
        )
    if q.aspects:
        return
    for key in world.sections.sections_with(q.overlap_stems):
        if key.startswith("compare.") and key.removeprefix("compare.") in world.kb.aspects:
            aspect = key.removeprefix("compare.")
            if world.sections.overlap(key, q.overlap_stems) >= tuning.MIN_SECTION_OVERLAP:
                pool.add(key, Slots(world.all_biologics, aspect), "compare", q.ids(q.function, cmp.cues), "section")
    if cmp.cues and not q.scenarios:
        chosen = cmp.remembered or world.all_biologics
        pool.add(
            "compare.all", Slots(chosen), "compare", q.ids(cmp.cues, q.function, q.get("overview")),
            "compare" if not cmp.remembered else "context",
        )


def ranking(q: Question, context: Frame | None, pool: Pool, world: World, cmp: Comparing) -> None:
    """"Which is best?", "which one wins?": the review ranks the biologics (its hierarchy)
    and says on what grounds; of the ones discussed when the conversation compared two."""
    if q.form.kind != RANK or len(q.bios) == 1 or q.scenarios or q.topics:
        return
    if set(q.aspects) - {"benefits", "standing"}:
        return  # "which is safest", "best evidence", "best use per Table 1": that row ranks them
    if len(q.bios) >= 2:
        chosen = tuple(b for b in world.all_biologics if b in q.bios)
    elif context and len(context.biologics) >= 2:
        chosen = context.biologics
    else:
        chosen = cmp.remembered or world.all_biologics
    consumed = q.ids(q.get("bio"), q.get("selection"), cmp.cues, q.function, *q.aspects.values())
    # "which has the strongest evidence?" ... "and the weakest?": the row just ranked.
    overall = {"sit", "sits", "middle", "position", "placed", "place", "hierarchy", "rank", "ranking", "overall"}
    follows = context and context.aspect and not q.aspects and not q.bios and not overall & set(q.ex.tokens)
    aspect = context.aspect if follows and context else "standing"
    if aspect not in world.kb.aspects:
        aspect = "standing"
    intent = f"compare.{aspect}"
    if q.ex.outside or any(q.ex.tokens[p] not in RANK_WORDS for p in (*q.ex.unknown, *q.ex.domain)):
        pool.add(intent, Slots(chosen, aspect), "compare", consumed, "ranking")
        return
    # Every word is a ranking word ("which one wins?"): the ranking is what was asked.
    score = 100.0 * tuning.PRIOR["ranking"] * tuning.SECTION_ONLY_QUALITY
    pool.put(Candidate(intent, Slots(chosen, aspect), "compare", score, "slots", rank=score))


def reasons_asked(q: Question, context: Frame | None, pool: Pool, world: World, cmp: Comparing) -> None:
    """A bare "why?" after an answer asks for the reasons behind that answer."""
    if not q.form.why or not q.names_nothing or context is None or not context.biologics:
        return
    if q.ex.outside or q.ex.domain:
        return  # it says something of its own
    mem = context.biologics
    aspect = (context.aspect or "standing") if len(mem) == 1 else "standing"
    intent = f"{mem[0]}.{aspect}" if len(mem) == 1 else "compare.standing"
    # Nothing of the question is left to explain: the conversation says what it is about.
    score = 100.0 * tuning.PRIOR["reasons"] * tuning.SECTION_ONLY_QUALITY
    pool.put(Candidate(intent, Slots(mem, aspect), "biologic" if len(mem) == 1 else "compare", score, "context"))


def the_others(q: Question, context: Frame | None, pool: Pool, world: World, cmp: Comparing) -> None:
    """"And the other two?": the biologics not just discussed, asked the same thing."""
    if q.bios or not context or not context.biologics or not ({"other", "others"} & set(q.ex.tokens)):
        return
    rest = tuple(b for b in world.all_biologics if b not in context.biologics)
    if not rest:
        return
    aspect = context.aspect
    if len(rest) == 1:
        intent, slots, family = f"{rest[0]}.{aspect or 'overview'}", Slots(rest, aspect), "biologic"
    else:
        intent, slots, family = (f"compare.{aspect}" if aspect else "compare.all"), Slots(rest, aspect), "compare"
    score = 100.0 * tuning.PRIOR["context"] * tuning.SECTION_ONLY_QUALITY
    pool.put(Candidate(intent, slots, family, score, "context", rank=score))


def phrases(q: Question, context: Frame | None, pool: Pool, world: World, cmp: Comparing) -> None:
    """The whole question against the example phrasings.

    token_sort_ratio, not WRatio or partial_ratio: those rate a short example highly
    against any long question that contains it, the trap that would make "PRP for hair
    loss" look like a PRP question.
    """
    ex = q.ex
    if len(ex.tokens) > tuning.MAX_PHRASE_TOKENS:
        return  # a whole-question ratio says nothing about a long message
    canonical = ex.canonical()
    if not canonical:
        return
    # Words the knowledge base has never seen count against a phrase match too.
    known = len({p for h in ex.hits for p in range(h.start, h.end)}) + len(ex.domain)
    unknown_mass = tuning.UNKNOWN_WORD_MASS_WHEN_ASKED if q.asked else tuning.UNKNOWN_WORD_MASS
    unknown = unknown_mass * len(ex.unknown) + tuning.OUT_OF_SCOPE_WORD_MASS * len(ex.outside)
    familiarity = known / (known + unknown) if known + unknown else 0.0
    numbers = sorted({n for word in set(canonical.split()) for n in world.postings.get(word, ())})
    if not numbers:
        return
    subset = [world.phrases[n] for n in numbers]
    for _, ratio, j in process.extract(canonical, subset, scorer=fuzz.token_sort_ratio, limit=3):
        kind, ident = world.phrase_targets[numbers[j]]
        score = round(ratio * tuning.PRIOR["phrase"] * familiarity, 1)
        if kind == "aspect":
            chosen = q.bios or (context.biologics if context else ()) or world.pinned.get(numbers[j], ())
            if len(chosen) == 1:
                cand = Candidate(f"{chosen[0]}.{ident}", Slots(tuple(chosen), ident), "biologic", score, "phrase")
            else:
                chosen = chosen or world.all_biologics
                cand = Candidate(f"compare.{ident}", Slots(tuple(chosen), ident), "compare", score, "phrase")
        elif kind == "scenario":
            cand = Candidate(f"scenario.{ident}", world.scenario_slots(ident), "scenario", score, "phrase")
        else:
            cand = Candidate(ident, Slots(topic=ident), "topic", score, "phrase")
        pool.put(cand)


def whole_table(q: Question, context: Frame | None, pool: Pool, world: World, cmp: Comparing) -> None:
    """"Table 1", "full comparison": the whole table, not the summary."""
    if not q.get("full_table"):
        return
    for key, cand in list(pool.out.items()):
        if cand.intent == "compare.all":
            del pool.out[key]
            table = replace(cand, intent="compare.table")
            pool.out[(table.intent, table.slots)] = table


# In this order: a later family may read what the earlier ones proposed (whole_table does).
FAMILIES: tuple[Family, ...] = (
    references,
    topics,
    comparison,
    one_biologic,
    scenarios,
    selection,
    named_term,
    unnamed_aspects,
    ranking,
    reasons_asked,
    the_others,
    phrases,
    whole_table,
)


def candidates(q: Question, context: Frame | None, world: World) -> list[Candidate]:
    """Every family's candidates, best first; ties broken by name, never by set order."""
    pool = Pool(q, world)
    cmp = comparing(q, context)
    for family in FAMILIES:
        family(q, context, pool, world, cmp)
    return sorted(pool.out.values(), key=lambda c: (-c.order, -c.score, c.intent, c.slots.biologics))
