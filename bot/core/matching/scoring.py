"""How much of a question a candidate answer explains.

Every word of the question carries mass; a candidate earns credit for the cues it
consumes, the words its own section's text uses, and a little for the review's words it
does not use. Unknown and not-covered words weigh against every candidate alike. What the
score needs of the question (spans of hits, the words outside any cue) is computed once
per question (``spans``, ``words``); ``score`` runs once per candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import tuning
from bot.core.lexicon import FUNCTION_KINDS, SOCIAL_KINDS, Extraction, Hit, Lexicon
from bot.core.normalise import stem
from bot.core.sections import Sections

# Kinds whose cue, when a candidate consumes it, means the candidate answers what was asked.
ASKING_KINDS = frozenset(
    {"aspect", "scenario", "topic", "overview", "reference", "references_list", "about", "author", "sources"}
)

# Words that open any question: a cue made only of them ("what is it") says a question
# is being asked, not which.
_OPENERS = frozenset(
    {"what", "whats", "is", "are", "it", "they", "how", "does", "do", "did", "can", "could", "why", "when",
     "who", "which", "exactly", "really", "the", "a", "should", "i", "we", "you", "its", "their", "them"}
)


@dataclass(frozen=True)
class Span:
    """Hits over the same words, with what scoring needs of them precomputed."""

    start: int
    end: int
    items: tuple[tuple[int, Hit], ...]  # (hit index, hit)
    ids: frozenset[int]  # the hit indices of ``items``
    mass_used: float
    mass_unused: float
    describes: bool  # names a thing a section's text may also say (not a kind of answer)
    strong_question: bool  # a strong aspect, scenario or topic cue
    weight: float
    stems: tuple[str, ...]


@dataclass(frozen=True)
class Words:
    """What scoring needs of the words no cue covers, the same for every candidate."""

    domain: tuple[tuple[int, float, str], ...]  # (position, weight, stem) of the review's words
    unknown_mass: float
    unknown_mass_asked: float  # unknown words weigh less when the question names what it asks
    unknown_numbers: frozenset[int]
    outside_mass: float
    quality: tuple[float, ...]  # per hit: how sure the cue is


def asks(ex: Extraction, position: int) -> bool:
    """Is this position in the asking sentence of a message with several sentences?"""
    return ex.weight(position) == 1.0 and any(w < 1.0 for w in ex.weights)


def names_what_it_asks(ex: Extraction) -> bool:
    """Does the question name what it asks (a strong aspect, scenario or topic cue)?"""
    return any(h.kind in ASKING_KINDS and h.concept.weight >= 0.9 and not h.generic_only for h in ex.hits)


def words(ex: Extraction) -> Words:
    """The words outside any cue and the cues' sureness, weighed once per question."""
    unknown = [p for p in ex.unknown if not ex.tokens[p].isdigit()]  # "I'm 47": a number is not a topic
    return Words(
        tuple((p, ex.weight(p), ex.stems[p]) for p in ex.domain),
        sum(tuning.UNKNOWN_WORD_MASS * ex.weight(p) for p in unknown),
        sum(tuning.UNKNOWN_WORD_MASS_WHEN_ASKED * ex.weight(p) for p in unknown),
        frozenset(p for p in ex.unknown if ex.tokens[p].isdigit()),
        sum(max(tuning.OUT_OF_SCOPE_WORD_MASS * ex.weight(p), 1.0) for p in ex.outside),
        tuple(h.strength * (0.8 + 0.2 * h.concept.weight) for h in ex.hits),
    )


def spans(ex: Extraction, lexicon: Lexicon) -> tuple[Span, ...]:
    """What every candidate's score needs from the question, computed once per question."""
    grouped: dict[tuple[int, int], list[tuple[int, Hit]]] = {}
    for i, h in enumerate(ex.hits):
        grouped.setdefault((h.start, h.end), []).append((i, h))
    bio_positions = {p for h in ex.hits if h.kind in ("bio", "near") for p in range(h.start, h.end)}
    # The asking sentence of a story may be all everyday words ("What actually is it?"):
    # then those words are what it asks. Not when it names something itself (a cue of the
    # asking sentence is then what is asked).
    bare = not any(
        not h.generic_only and h.kind not in ("bio", "near", *SOCIAL_KINDS) and ex.weight(h.start) == 1.0
        for h in ex.hits
    )
    # "what is MSC secretome and is it safe?": a clause of everyday words before "and" asks
    # its own question (what it is), as the asking sentence of a story does.
    ends = {h.end for h in ex.hits if h.kind == "bio"}
    starts = {h.start for h in ex.hits if h.kind == "bio"}
    bio_at = {p for p in ends if p + 1 in starts}  # "exosomes and secretome": one subject
    joins = [p for p, t in enumerate(ex.tokens) if t in ("and", "plus", "also") and p not in bio_at]
    named_after = [
        j for j in joins
        if any(h.start > j and not h.generic_only and h.kind in ("aspect", "scenario", "topic") for h in ex.hits)
    ]
    first_clause_bare = bool(named_after) and not any(
        not h.generic_only and h.kind not in ("bio", "near", *SOCIAL_KINDS) and h.end <= named_after[0]
        for h in ex.hits
    )
    out = []
    for (start, end), items in grouped.items():
        group = [h for _, h in items]
        # A biologic named while setting the scene is still what the question is about.
        w = 1.0 if any(h.kind == "bio" for h in group) else max(ex.weight(p) for p in range(start, end))
        # Words are the unit of mass: "no downtime" weighs as much as "bride wedding".
        count = max(1, sum(not lexicon.is_generic(ex.tokens[p]) and p not in bio_positions for p in range(start, end)))
        generic = all(h.generic_only for h in group)
        # A biologic however written ("exos", "MSC-CM") is named by a section that says
        # its name: the section's text uses the name, not the shorthand.
        named = tuple(dict.fromkeys(stem(h.value) for h in group if h.kind == "bio"))
        conversational = any(h.kind == "more" for h in group)  # "explain", "why"
        # "which ref" in a question about content asks for a reference: it counts.
        social = all(h.kind in SOCIAL_KINDS and h.kind != "sources" for h in group)
        idiom = (end - start >= 2 and any(h.kind in ("topic", "scenario") for h in group)) or (
            # "what's in it", "how does it work": everyday words, one question
            end - start >= 2
            and any(h.kind == "aspect" for h in group)
            and any(ex.tokens[p] not in _OPENERS for p in range(start, end) if p not in bio_positions)
        )
        if generic and bare and asks(ex, start) and any(h.kind in ("aspect", "overview") for h in group):
            m = 1.0  # the asking sentence after a story, in everyday words: those words ask
        elif generic and first_clause_bare and end <= named_after[0] and any(h.kind == "aspect" for h in group):
            m = 1.0  # the first of two joined questions, in everyday words
        elif generic and idiom:
            m = 1.0  # "have in common" names a topic though each word is everyday
        elif generic or social:
            m = 0.0
        elif all(h.kind in FUNCTION_KINDS for h in group):
            m = 0.3
        else:
            m = 1.0 * count
        describes = all(
            h.kind in ("scenario", "topic", "overview", "bio") or (h.kind == "aspect" and h.concept.weight < 0.9)
            for h in group
        )
        strong_question = any(h.kind in ("aspect", "scenario", "topic") and h.concept.weight >= 0.9 for h in group)
        out.append(
            Span(
                start, end, tuple(items), frozenset(i for i, _ in items),
                m * w, 0.0 if conversational else m * w, describes, strong_question,
                max(h.concept.weight for h in group), named or tuple(ex.stems[start:end]),
            )
        )
    return tuple(out)


def defines(hit: Hit, section: str) -> bool:
    """Does this cue name the section itself (not just a word it also uses)?"""
    if hit.kind == "aspect":
        return section.endswith(f".{hit.value}")
    if hit.kind == "scenario":
        return section == f"scenario.{hit.value}"
    if hit.kind == "topic":
        return section == hit.value
    if hit.kind == "about":
        return section == "review.about"
    return hit.kind in ASKING_KINDS


def score(
    sections: Sections,
    consumed: set[int],
    section: str,
    prior: float,
    numbers: tuple[int, ...],
    asked: bool,
    spans_: tuple[Span, ...],
    words_: Words,
) -> tuple[float, frozenset[int]]:
    """How much of the question the candidate explains, times how sure each cue is."""
    found = sections.by_key.get(section)
    stems = found.stems if found is not None else frozenset()
    mass = explained = 0.0
    owned: set[int] = set()
    section_words = 0
    for span in spans_:
        m_unused = span.mass_unused
        if span.ids.isdisjoint(consumed):
            if m_unused and (span.describes or section.startswith("ref.")) and all(s in stems for s in span.stems):
                # "collagen" names a scenario, but a mechanism claim that says "collagen"
                # explains it too. An unused *aspect* cue ("evidence") stays unexplained:
                # it says what kind of answer was asked for.
                explained += m_unused * tuning.SECTION_WORD_CREDIT
                section_words += 1
            else:
                explained += m_unused * (1 - span.weight * (1 - tuning.UNUSED_CUE_CREDIT))
            mass += m_unused
            continue
        used = [h for i, h in span.items if i in consumed]
        m = span.mass_used
        if span.strong_question and all(h.kind in ("compare", "compare_needs_two", *FUNCTION_KINDS) for h in used):
            # A word that is both a comparison word and an aspect cue ("evidence hierarchy"):
            # a comparison of another aspect uses the first and leaves the aspect unanswered.
            explained += m * tuning.UNUSED_CUE_CREDIT
        else:
            explained += m * max(h.strength for h in used)
            if m and any(defines(h, section) and h.concept.weight >= 0.9 for h in used):
                owned.update(range(span.start, span.end))
        mass += m
    for pos, w, stem_ in words_.domain:
        mass += w
        if pos in numbers:
            explained += w
        elif stem_ in stems:
            explained += w * tuning.SECTION_WORD_CREDIT
            section_words += 1
        else:
            explained += w * tuning.DOMAIN_WORD_CREDIT
    mass += words_.unknown_mass_asked if asked else words_.unknown_mass
    for pos in numbers:  # a reference's number explains itself ("ref 11")
        if pos in words_.unknown_numbers:
            mass += 1.0
            explained += 1.0
    # A not-covered term weighs less in a sentence that only sets the scene; the answer
    # then says what is not covered.
    mass += words_.outside_mass
    if not consumed and not section_words:
        return 0.0, frozenset()
    coverage = explained / mass if mass else 1.0
    quality = sum(words_.quality[i] for i in consumed) / len(consumed) if consumed else tuning.SECTION_ONLY_QUALITY
    return 100.0 * coverage * quality * prior, frozenset(owned)
