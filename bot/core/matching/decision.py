"""One place decides what kind of reply a question gets: the answer, "did you mean",
"not covered", "not covered as asked" (a near-but-different term), or an unknown
reference number. Everything before this proposes; nothing after it second-guesses."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.core import tuning
from bot.core.lexicon import Hit
from bot.core.matching import shaping
from bot.core.matching.forms import NUMBER
from bot.core.matching.question import Question
from bot.core.matching.types import Candidate, Match, Slots
from bot.core.matching.world import World
from bot.core.normalise import phrase_tokens, stem
from bot.core.sections import MIN_EXPAND_WEIGHT


def near_hit(q: Question, world: World) -> Hit | None:
    """A term that only sounds like the review's ("PRF", "stem cell injections") and is
    what the question is about: not merely said beside a biologic it names."""
    named = set(q.bios)
    for hit in q.ex.hits:
        if hit.kind != "near":
            continue
        # "PRF or PRP?" is about PRF; "exosomes derived from MSCs" is about exosomes; a
        # near term that itself names a biologic ("plant-derived exosomes") is the subject.
        target = world.kb.vocabulary.near_terms[int(hit.value)].nearest.split(".")[0]
        phrases = world.lexicon.bio_phrases
        names_one = any(getattr(phrases.get((w,)), "kind", "") == "bio" for w in q.ex.tokens[hit.start : hit.end])
        if not named or target in named or names_one:
            return hit
    return None


# Words that make a near term describe the biologic named ("exosomes derived from MSCs"),
# not name another product.
_DESCRIBING = frozenset({"from", "derived", "source", "sources", "of"})


def near_beside(q: Question, world: World) -> str | None:
    """The note of a near-but-different term said beside a biologic the question names
    ("exosomes after a chemical peel"): the answer is about the biologic, and says first
    that the review does not discuss the other thing."""
    for hit in q.ex.hits:
        if hit.kind != "near":
            continue
        if any(t in _DESCRIBING for t in q.ex.tokens[max(0, hit.start - 2) : hit.start]):
            continue
        return world.kb.vocabulary.near_terms[int(hit.value)].note
    return None


# A figure in a claim: a number standing alone ("2015", "16"), not part of a name ("IGF-1").
_FIGURE = re.compile(
    r"(?<![\w-])\d+(?:[.,]\d+)?(?![\w-])|\b(?:one|two|three|four|five|six|seven|eight|nine|ten)\b", re.I
)


# Numbers that name a thing, not a figure: "Table 1", "reference 11".
_NAMED_NUMBERS = re.compile(r"\b(?:tables?|refs?|references?)\s*\d+", re.I)


def unreported(q: Question, world: World, best: Candidate) -> str | None:
    """The figure a question asks for ("how many sessions", "optimal concentration") when
    none of the claims the answer leads with gives one: the reply then says the review does
    not report it before what the review does say."""
    if q.form.kind != NUMBER or best.intent.startswith(("refs.", "review.")):
        return None
    for part in best.parts or (best,):
        section = world.sections.by_key.get(part.section or part.intent)
        if section is None:
            continue
        order = part.focus or tuple(range(len(section.claims)))
        shown = [section.claims[i] for i in order[:2]]
        if part.pulled and part.pulled[0] in world.kb.topics:
            shown.append(world.kb.topics[part.pulled[0]].claims[part.pulled[1]])
        elif part.pulled:
            bio, _, aspect = part.pulled[0].partition(".")
            shown.append(world.kb.biologics[bio].aspects[aspect][part.pulled[1]])
        if any(_FIGURE.search(_NAMED_NUMBERS.sub("", c.text)) for c in shown):
            return None
    return q.form.asked or "that figure"


def near(q: Question, world: World, hit: Hit) -> Match:
    term = world.kb.vocabulary.near_terms[int(hit.value)]
    target = term.nearest
    aspects = list(q.aspects)
    if target in world.kb.biologics:
        aspect = aspects[0] if aspects else None
        intent = f"{target}.{aspect}" if aspect else f"{target}.overview"
        cand = Candidate(intent, Slots((target,), aspect), "biologic", 0.0)
    elif target.startswith("scenario."):
        sid = target.removeprefix("scenario.")
        cand = Candidate(target, world.scenario_slots(sid), "scenario", 0.0)
    elif "." in target and target.split(".")[0] in world.kb.biologics:
        bio, aspect = target.split(".", 1)
        cand = Candidate(target, Slots((bio,), aspect), "biologic", 0.0)
    else:
        cand = Candidate(target, Slots(topic=target), "topic", 0.0)
    return Match(
        False, cand.intent, cand.slots, 0.0, "near", (cand,),
        extraction=q.ex, language=q.language, personal=q.personal, note=term.note,
    )


def _printing(q: Question, world: World, ranked: list[Candidate]) -> Candidate | None:
    """Of the leading candidates, the one whose own text prints most of the question's
    telling words (by idf; the better-ranked one on a tie), or None when none prints any."""
    sections = world.sections
    telling = {s for s in q.overlap_stems - sections.common if sections.weight(s) >= MIN_EXPAND_WEIGHT}
    best: tuple[float, Candidate] | None = None
    for cand in ranked[: tuning.MAX_NEAREST_CANDIDATES]:
        section = sections.by_key.get(cand.section or cand.intent)
        if section is None:
            continue
        printed = telling & frozenset().union(*section.printed)
        weight = sum(sections.weight(s) for s in printed)
        if weight > 0 and (best is None or weight > best[0]):
            best = (weight, cand)
    return shaping.focused(q, world, best[1]) if best else None


def decide(q: Question, world: World, ranked: list[Candidate], note: str | None = None) -> Match:
    best = ranked[0] if ranked else None
    if best is not None and best.score < tuning.ANSWER_THRESHOLD:
        # Each part alone explains half the question; together they may explain it well
        # enough to answer.
        first = next((c for c in ranked if c.owned and c.score >= tuning.SUGGESTION_FLOOR), None)
        combined = shaping.with_parts(q, world, first, ranked) if first is not None else None
        if combined is not None and combined.parts and combined.score >= tuning.ANSWER_THRESHOLD:
            best = combined
    ex = q.ex
    outside = world.kb.vocabulary.not_covered[ex.outside_topics[0]].topic if ex.outside_topics else None
    common = {"language": q.language, "personal": q.personal, "extraction": ex}
    # An off-topic thing named, no biologic, and no cue of the answer in the question:
    # whatever words it shares with the review, it is not covered.
    unnamed = (
        outside is not None
        and best is not None
        and not q.bios
        and not any(c.owned and c.score >= tuning.ANSWER_THRESHOLD for c in (best, *ranked))
    )
    if best is None or best.score < tuning.ANSWER_THRESHOLD or unnamed:
        suggestions = tuple(c for c in ranked if c.score >= tuning.SUGGESTION_FLOOR)[: tuning.MAX_SUGGESTIONS]
        score = best.score if best else 0.0
        intent, slots = (best.intent, best.slots) if best else (None, Slots())
        used = bool(best and best.source == "context")
        nearest_topic = world.kb.vocabulary.not_covered[ex.outside_topics[0]].nearest if outside else ""
        # Only of the review's own subjects ("PRP sessions"), not of anything else ("amoxicillin
        # dose"), and when nothing else off-topic is named ("metformin dose").
        of_review = bool(q.bios) or any(
            h.kind in ("aspect", "scenario", "topic", "about") and not h.generic_only for h in ex.hits
        )
        if nearest_topic in world.kb.topics and of_review and len(set(ex.outside_topics)) == 1:
            # Not reported, but the review says something on the matter: say so, then that.
            printing = _printing(q, world, ranked)
            if printing is not None:  # "leukocyte-rich or poor PRP?": PRP's limitations say leukocyte content
                return Match(
                    True, printing.intent, printing.slots, score, "answered", (), used,
                    focus=printing.focus, expand=printing.expand, outside_topic=outside, **common,
                )
            # The claims that speak to what is not reported first (the gaps' dose-response line).
            about = {stem(t) for t in phrase_tokens(outside)} | set(q.question_stems)
            focus = world.sections.focus(nearest_topic, about)
            return Match(
                True, nearest_topic, Slots(topic=nearest_topic), score, "answered", (), used,
                focus=focus, outside_topic=outside, **common,
            )
        if outside or not world.in_domain(ex):
            # Not covered, but a part of the review the question names is the nearest,
            # offered as a button.
            nearest = tuple(c for c in ranked if c.owned and q.bios)[:1] if outside else ()
            return Match(False, intent, slots, score, "not_covered", nearest, used, outside_topic=outside, **common)
        if q.form.kind == NUMBER and suggestions:
            # A figure the review never gives, asked in words it does not use: say so, then
            # the nearest part it does say ("exact diameter of exosomes in nanometres").
            near_part = shaping.focused(q, world, suggestions[0])
            return Match(
                True, near_part.intent, near_part.slots, near_part.score, "answered", (), used,
                focus=near_part.focus, expand=near_part.expand, pulled=near_part.pulled,
                unreported=q.form.asked or "that figure", **common,
            )
        return Match(False, intent, slots, score, "unsure", suggestions, used, **common)

    best = shaping.focused(q, world, shaping.with_parts(q, world, best, ranked))
    rival = next((c for c in ranked[1:] if c.intent != best.intent), None)
    if (
        not best.parts
        and rival is not None
        and best.score - rival.score < tuning.AMBIGUITY_MARGIN
        and rival.owned == best.owned
        and best.owned
        and rival.family == best.family
        and not (best.intent.endswith(".overview") or rival.intent.endswith(".overview"))
    ):
        close = tuple(c for c in ranked if best.score - c.score < tuning.AMBIGUITY_MARGIN and c.owned == best.owned)
        return Match(
            False, best.intent, best.slots, best.score, "ambiguous",
            close[: tuning.MAX_SUGGESTIONS], best.source == "context", **common,
        )
    if best.intent == "refs.lookup" and best.slots.ref not in world.kb.references:
        return Match(False, best.intent, best.slots, best.score, "unknown_reference", (), False, **common)
    missing = unreported(q, world, best)
    if missing and not best.parts:
        # The figure is not reported: the nearest thing is the claim that names what was
        # measured ("what concentration of platelets?": preparations vary in platelet concentration).
        printing = _printing(q, world, ranked)
        if printing is not None:
            best = replace(printing, score=best.score)
    return Match(
        True, best.intent, best.slots, best.score, "answered", (),
        best.source == "context" or any(p.source == "context" for p in best.parts),
        parts=best.parts, focus=best.focus, expand=best.expand, pulled=best.pulled,
        outside_topic=outside, note=note, unreported=missing, **common,
    )
