"""The chosen answer, shaped to the question: a second (or third) part when the question
asks two things, and which claims of each part to show first."""

from __future__ import annotations

from dataclasses import replace

from bot.core import tuning
from bot.core.matching.question import Question
from bot.core.matching.types import Candidate
from bot.core.matching.world import World


def with_parts(q: Question, world: World, best: Candidate, ranked: list[Candidate]) -> Candidate:
    """A question that asks two things ("PRP safety and regulation", "mechanism + evidence
    for exosomes") gets both: the best candidate plus those whose asking cues it leaves
    unexplained, when answering them together explains the question clearly better."""
    if not best.owned:
        return best  # a best answer that asks nothing of its own cannot be a first part
    parts = [best]
    owned = set(best.owned)
    for cand in ranked[1:]:
        if len(parts) >= tuning.MAX_PARTS:
            break
        new = cand.owned - owned
        if not new or cand.source == "phrase" or cand.score < tuning.SUGGESTION_FLOOR:
            continue
        tie = best.score - cand.score <= tuning.TIE
        if not tie and not joined(q, world, owned, new):
            continue  # one thing asked, with context ("is PRP safe for periorbital use")
        if cand.family == "reference" or best.family == "reference":
            continue
        if any(_same_section(cand, p) for p in parts):
            continue
        parts.append(cand)
        owned |= cand.owned
    if len(parts) == 1:
        return best
    gain = explained_gain(q, world, parts)
    if gain < tuning.MULTI_PART_GAIN:
        return best
    score = min(100.0, round(best.score + gain, 1))
    parts.sort(key=lambda p: min(p.owned, default=0))  # in the order they were asked
    return replace(parts[0], score=score, owned=frozenset(owned), parts=tuple(parts))


def focused(q: Question, world: World, best: Candidate, others: frozenset[int] = frozenset()) -> Candidate:
    """The order of claims to show, for the answer chosen (computed for it alone).

    Every content word counts, cues included: "which miRNAs" puts the microRNA claim
    first even though "miRNAs" is also the cue that chose the mechanism section. The
    words another part of a two-part answer owns do not.
    """
    parts = tuple(
        focused(q, world, p, frozenset().union(*(o.owned for o in best.parts if o is not p))) for p in best.parts
    )
    section = best.section or best.intent
    stems = {q.ex.stems[p] for p in q.content if p not in others}
    focus = world.sections.focus(section, stems)
    pulled = world.sections.pull(section, stems)
    if q.form.why:  # the reason first: from the section, or from the biologic's other claims
        focus = world.sections.reasons_first(section, focus)
        pulled = pulled or world.sections.pull_reason(section, stems | set(q.question_stems))
    return replace(
        best,
        focus=focus,
        expand=world.sections.expand(section, stems),
        pulled=pulled,
        parts=parts,
    )


def joined(q: Question, world: World, first: set[int], second: set[int]) -> bool:
    """Is there an "and", "plus", "also" (or "&", "+") between the two parts' cues?"""
    if not first or not second:
        return False
    a_end, b_start = (max(first), min(second)) if min(first) < min(second) else (max(second), min(first))
    return any(q.ex.tokens[p] in world.conjunctions for p in range(a_end + 1, b_start))


def explained_gain(q: Question, world: World, parts: list[Candidate]) -> float:
    """How much more of the question (per cent of its words) the other parts answer."""
    extra = sum(len(p.owned - parts[0].owned) for p in parts[1:])
    total = len([p for p in range(len(q.ex.tokens)) if not world.lexicon.is_generic(q.ex.tokens[p])]) or 1
    return 100.0 * extra / total


def _same_section(a: Candidate, b: Candidate) -> bool:
    return a.intent == b.intent or (a.slots.aspect is not None and a.slots.aspect == b.slots.aspect)
