"""Compose a cited answer from a match: the one place that decides what a reply says.

An Answer is structured (title, lines of styled spans, citations, suggestions) so the
Telegram HTML renderer and the plain-text renderer show the same content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.citations import cite
from bot.core.knowledge import Claim, Knowledge
from bot.core.matcher import Candidate, Match, Slots

# Sources lines longer than this many references read as noise; point to /refs instead.
MAX_LISTED_SOURCES = 6
_ANSWER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Span:
    text: str
    style: str = ""  # "" plain, "b" bold, "i" italic


Line = tuple[Span, ...]
BLANK: Line = ()


@dataclass(frozen=True)
class Suggestion:
    label: str
    answer_id: str
    intent: str


@dataclass(frozen=True)
class Answer:
    answered: bool
    intent: str | None
    slots: Slots
    score: float
    title: str
    lines: tuple[Line, ...]
    citations: tuple[int, ...]
    suggestions: tuple[Suggestion, ...]
    answer_id: str | None
    footer: str
    reason: str = "answered"


class Composer:
    """Turns matches into answers; holds the knowledge base, nothing per conversation."""

    def __init__(self, kb: Knowledge) -> None:
        self.kb = kb
        self._cited_for = self._index_citations()

    def _index_citations(self) -> dict[int, list[str]]:
        """Reference number -> where the knowledge base cites it, computed once at load."""
        kb = self.kb
        places: dict[int, list[str]] = {}
        for bio in kb.biologics.values():
            for aspect, claims in bio.aspects.items():
                for number in sorted({r for c in claims for r in c.refs}):
                    places.setdefault(number, []).append(f"{bio.short} {kb.aspects[aspect].label.lower()}")
        for topic in kb.topics.values():
            cited = {r for c in topic.claims for r in c.refs}
            if len(cited) < 10:  # a claim citing the whole literature says nothing about one paper
                for number in sorted(cited):
                    places.setdefault(number, []).append(topic.title.lower())
        return places

    # -- answer ids (deep links, suggestion buttons) --------------------------------------

    def answer_id(self, intent: str, slots: Slots) -> str:
        if intent.startswith("compare."):
            tail = "" if set(slots.biologics) == set(self.kb.biologics) else "-" + "-".join(slots.biologics)
            return f"cmp-{slots.aspect or 'all'}{tail}"
        if intent.startswith("scenario."):
            return f"scn-{slots.scenario}"
        if intent == "refs.lookup":
            return f"ref-{slots.ref}"
        if intent == "refs.list":
            return "refs"
        if intent == "review.about":
            return "about"
        if slots.biologics and len(slots.biologics) == 1 and not slots.topic:
            return f"{slots.biologics[0]}-{slots.aspect or 'overview'}"
        return "t-" + intent.replace(".", "_")

    def parse_answer_id(self, answer_id: str) -> tuple[str, Slots] | None:
        """The (intent, slots) an id stands for, or None for anything stale or forged."""
        if not isinstance(answer_id, str) or not _ANSWER_ID.match(answer_id):
            return None
        kb = self.kb
        head, _, rest = answer_id.partition("-")
        if head == "cmp":
            aspect, *bios = rest.split("-")
            if (aspect != "all" and aspect not in kb.aspects) or any(b not in kb.biologics for b in bios):
                return None
            chosen = tuple(b for b in kb.comparison.hierarchy if b in bios) if bios else kb.comparison.hierarchy
            return f"compare.{aspect}", Slots(chosen, None if aspect == "all" else aspect)
        if head == "scn" and rest in kb.scenarios:
            return f"scenario.{rest}", Slots(kb.scenarios[rest].choice, scenario=rest)
        if head == "ref" and rest.isdigit() and int(rest) in kb.references:
            return "refs.lookup", Slots(ref=int(rest))
        if answer_id == "refs":
            return "refs.list", Slots()
        if answer_id == "about":
            return "review.about", Slots()
        if head == "t":
            topic = rest.replace("_", ".", 1)
            return (topic, Slots(topic=topic)) if topic in kb.topics else None
        if head in kb.biologics and (rest == "overview" or rest in kb.aspects):
            return f"{head}.{rest}", Slots((head,), None if rest == "overview" else rest)
        return None

    def answer_for_id(self, answer_id: str) -> Answer | None:
        parsed = self.parse_answer_id(answer_id)
        if parsed is None:
            return None
        intent, slots = parsed
        return self.compose(Match(True, intent, slots, 100.0, "answered"))

    def label(self, intent: str, slots: Slots) -> str:
        """A short human label for a suggestion button or line."""
        kb = self.kb
        if intent.startswith("compare."):
            names = " vs ".join(kb.biologics[b].short for b in slots.biologics)
            what = kb.aspects[slots.aspect].label if slots.aspect else "side by side"
            return f"{names}: {what.lower()}"
        if intent.startswith("scenario."):
            return f"Scenario: {kb.scenarios[slots.scenario].label.lower()}"
        if intent == "refs.lookup":
            return f"Reference {slots.ref}"
        if intent == "refs.list":
            return "All references"
        if intent == "review.about":
            return "About the review"
        if intent in kb.topics:
            return kb.topics[intent].title
        bio = kb.biologics[slots.biologics[0]]
        aspect = kb.aspects[slots.aspect].label if slots.aspect else kb.overview.label
        return f"{bio.short}: {aspect.lower()}"

    # -- composing ----------------------------------------------------------------------

    def compose(self, match: Match) -> Answer:
        if not match.answered:
            return self._not_answered(match)
        intent, slots = match.intent or "", match.slots
        if intent.startswith("compare."):
            title, lines = self._compare(slots)
        elif intent.startswith("scenario."):
            title, lines = self._scenario(slots.scenario or "")
        elif intent == "refs.lookup":
            title, lines = self._reference(slots.ref or 0)
        elif intent == "refs.list":
            title, lines = self._reference_list()
        elif intent == "review.about":
            title, lines = self._about()
        elif intent in self.kb.topics:
            title, lines = self._topic(intent)
        else:
            title, lines = self._biologic(slots.biologics[0], slots.aspect)
        citations = _citations(lines)
        if intent not in ("refs.lookup", "refs.list", "review.about"):
            lines = (*lines, BLANK, self._sources_line(citations, _cites_review(lines)))
        return Answer(
            answered=True,
            intent=intent,
            slots=slots,
            score=match.score,
            title=title,
            lines=tuple(lines),
            citations=citations,
            suggestions=(),
            answer_id=self.answer_id(intent, slots),
            footer=self.kb.messages["disclaimer"],
        )

    def _not_answered(self, match: Match) -> Answer:
        kb = self.kb
        suggestions = tuple(self._suggestion(c) for c in match.suggestions)
        if match.reason == "unknown_reference":
            text = kb.message("unknown_reference", number=match.slots.ref, last=max(kb.references))
            lines: list[Line] = [(Span(text),)]
            title = "Unknown reference"
        elif match.reason == "ambiguous":
            lines = [(Span(kb.messages["ambiguous"]),)]
            title = "Which did you mean?"
        else:
            lines = [(Span(kb.messages["not_covered"]),)]
            if suggestions:
                lines.append((Span(kb.messages["did_you_mean"]),))
            title = "Not covered"
        lines += [(Span(f"• {s.label}"),) for s in suggestions]
        if match.reason != "ambiguous":
            lines += [BLANK, (Span(kb.messages["covered_topics"], "i"),)]
        return Answer(
            answered=False,
            intent=None,
            slots=match.slots,
            score=match.score,
            title=title,
            lines=tuple(lines),
            citations=(),
            suggestions=suggestions,
            answer_id=None,
            footer=kb.messages["disclaimer"],
            reason=match.reason,
        )

    def _suggestion(self, c: Candidate) -> Suggestion:
        return Suggestion(self.label(c.intent, c.slots), self.answer_id(c.intent, c.slots), c.intent)

    def _evidence_line(self, bio_id: str, named: bool = False) -> Line:
        """The evidence level; ``named`` adds whose, for answers about several biologics."""
        bio = self.kb.biologics[bio_id]
        ev = bio.evidence
        prefix = self.kb.messages["evidence_prefix"]
        if named:
            prefix = f"{prefix[:-1]} ({bio.short}):" if prefix.endswith(":") else f"{prefix} ({bio.short})"
        return (Span(prefix + " ", "b"), Span(f"{ev.label} {ev.claim.citation()}"))

    def _biologic(self, bio_id: str, aspect: str | None) -> tuple[str, list[Line]]:
        kb = self.kb
        bio = kb.biologics[bio_id]
        lines: list[Line] = [self._evidence_line(bio_id), BLANK]
        if aspect:
            title = f"{bio.short} — {kb.aspects[aspect].label}"
            lines += [_bullet(c) for c in bio.aspects[aspect]]
        else:
            title = f"{bio.name} — {kb.overview.label}"
            for name in kb.overview.compose_from:
                claim = bio.aspects[name][0]
                lines.append((Span(kb.aspects[name].label + ": ", "b"), Span(f"{claim.text} {claim.citation()}")))
        return title, lines

    def _compare(self, slots: Slots) -> tuple[str, list[Line]]:
        kb = self.kb
        names = ", ".join(kb.biologics[b].short for b in slots.biologics)
        rows = [kb.comparison.row(slots.aspect)] if slots.aspect else list(kb.comparison.parameters)
        lines: list[Line] = []
        for row in rows:
            if row is None:
                continue
            if len(rows) > 1:
                lines.append((Span(row.label, "b"),))
            for bio_id in slots.biologics:
                cell = row.cells[bio_id]
                lines.append(
                    (Span("• "), Span(kb.biologics[bio_id].short + ": ", "b"), Span(f"{cell.text} {cell.citation()}"))
                )
        if slots.aspect in (None, "evidence"):
            claim = kb.comparison.hierarchy_claim
            lines += [BLANK, (Span(f"{claim.text} {claim.citation()}"),)]
        if not slots.aspect and set(slots.biologics) == set(kb.comparison.hierarchy):
            return kb.comparison.title, lines
        what = kb.aspects[slots.aspect].label if slots.aspect else "side by side"
        return f"{names.replace(', ', ' vs ')} — {what}", lines

    def _scenario(self, scenario_id: str) -> tuple[str, list[Line]]:
        kb = self.kb
        sc = kb.scenarios[scenario_id]
        lines: list[Line] = [
            (Span("Best suited: ", "b"), Span(sc.choice_label)),
            (Span("Why: ", "b"), Span(f"{sc.rationale.text} {sc.rationale.citation()}")),
            BLANK,
        ]
        lines += [self._evidence_line(b, named=len(sc.choice) > 1) for b in sc.choice]
        return f"{sc.label}", lines

    def _topic(self, topic_id: str) -> tuple[str, list[Line]]:
        topic = self.kb.topics[topic_id]
        return topic.title, [_bullet(c) for c in topic.claims]

    def _reference(self, number: int) -> tuple[str, list[Line]]:
        ref = self.kb.references[number]
        lines: list[Line] = [(Span(f"[{number}] ", "b"), Span(ref.citation()))]
        used = self._cited_for.get(number, [])
        if used:
            lines += [BLANK, (Span("Cited here for: ", "b"), Span(", ".join(used)))]
        return f"Reference {number}", lines

    def _reference_list(self) -> tuple[str, list[Line]]:
        lines: list[Line] = [(Span(f"[{n}] ", "b"), Span(r.citation())) for n, r in sorted(self.kb.references.items())]
        return self.kb.messages["references_title"], lines

    def _about(self) -> tuple[str, list[Line]]:
        kb = self.kb
        review = kb.review
        lines: list[Line] = [(Span(review.reference.citation()),)]
        lines += [(Span(where, "i"),) for where in review.affiliations]
        lines.append(BLANK)
        # Ethics, funding and conflicts of interest: what a clinician weighs before trusting it.
        lines += [(Span(f"{s.label}: ", "b"), Span(f"{s.claim.text} {s.claim.citation()}")) for s in review.statements]
        if review.statements:
            lines.append(BLANK)
        lines += [
            (Span(kb.message("review_current_through", year=review.literature_through)),),
            (Span(f"Knowledge base version {kb.version}; {len(kb.references)} references."),),
        ]
        return kb.messages["review_title"], lines

    def _sources_line(self, citations: tuple[int, ...], on_review: bool = False) -> Line:
        """The papers behind the answer; claims the review makes without numbers are
        credited to the review itself rather than left looking unsourced."""
        kb = self.kb
        prefix = Span(kb.messages["sources_prefix"] + " ", "b")
        review = f"the review itself ({kb.review.reference.short()})"
        if not citations:
            return (prefix, Span(review + "."), Span(" /about for the full citation.", "i"))
        hint = Span(" " + kb.messages["sources_hint"], "i")
        tail = f" · {review}" if on_review else ""
        if len(citations) > MAX_LISTED_SOURCES:
            return (prefix, Span(f"references {cite(citations)[1:-1]}{tail} — /refs lists them all."), hint)
        listed = " · ".join(f"[{n}] {kb.references[n].short()}" for n in citations)
        return (prefix, Span(listed + tail + "."), hint)


def _bullet(claim: Claim) -> Line:
    return (Span(f"• {claim.text} {claim.citation()}"),)


_CITE = re.compile(r"\[(\d+(?:[-,]\d+)*)\]")
_REVIEW_CITE = re.compile(r"\[review\b")


def _cites_review(lines: list[Line]) -> bool:
    return any(_REVIEW_CITE.search(span.text) for line in lines for span in line)


def _citations(lines: list[Line]) -> tuple[int, ...]:
    """Every reference number cited in the lines, recovered from the rendered brackets."""
    found: set[int] = set()
    for line in lines:
        for span in line:
            for group in _CITE.findall(span.text):
                for part in group.split(","):
                    lo, _, hi = part.partition("-")
                    found.update(range(int(lo), int(hi or lo) + 1))
    return tuple(sorted(found))
