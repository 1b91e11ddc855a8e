"""Compose a cited answer from a match: the one place that decides what a reply says.

An Answer is structured (title, lines of styled spans, citations, suggestions) so the
Telegram HTML renderer and the plain-text renderer show the same content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.core.citations import cite
from bot.core.knowledge import Claim, Knowledge
from bot.core.matching import Candidate, Match, Slots
from bot.core.sections import Sections

# Sources lines longer than this many references read as noise; point to /refs instead.
MAX_LISTED_SOURCES = 6
# ... unless the question asked for the references ("key refs for exosome evidence"): then
# naming them is the answer, up to about a phone screen of short citations.
MAX_ASKED_SOURCES = 10
# The first message answers the question in a few lines (read on a phone between
# patients): claims are added, most relevant first, until they fill this many characters;
# the rest of the section is behind "More". At least one claim is always shown.
FIRST_MESSAGE_CLAIM_CHARS = 300
PARTLY_COVERED = "partly_covered"
# A section whose claims fit in this multiple of the budget is shown whole.
WHOLE_SECTION_FACTOR = 1.3
TOPIC_WHOLE_FACTOR = 1.9
# Each part of a two-part answer gets this share of the room (the message is longer, but
# one claim per part would drop the facts asked for).
PART_SHARE = 0.75
FULL = ".f"  # answer-id suffix: the whole section, as the "More" button shows it
# Answer ids travel in Telegram's callback_data (64 bytes) behind a short prefix such as
# "a:" or "f:+:", so they stay within 56 characters. "." adds focused claims
# ("exosomes-mechanism.1"), "~" joins the parts of a two-part answer.
MAX_ANSWER_ID = 56
_ANSWER_ID = re.compile(r"^[A-Za-z0-9_.~-]{1,64}$")
_FOCUS = re.compile(r"^(?P<base>[A-Za-z0-9_-]+)(?P<focus>(?:\.\d{1,2})*)(?P<full>\.f)?$")


@dataclass(frozen=True)
class Span:
    text: str
    style: str = ""  # "" plain, "b" bold, "i" italic
    # The claim this text states, so the "Source" button and ask --json show the review's
    # sentences behind exactly what the answer said, not a second copy of the composer.
    claim: Claim | None = field(default=None, compare=False)


def said(claim: Claim, before: str = "", after: str = "", brief: bool = False) -> Span:
    """A claim as shown: its text (or, in a first message, its short form) and its
    citation ([10-12] or [review, Section])."""
    text = claim.brief if brief else claim.text
    return Span(f"{before}{text} {claim.citation()}{after}", claim=claim)


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
    more: str | None = None  # id of the longer answer behind "More", if there is one

    @property
    def claims(self) -> tuple[Claim, ...]:
        """Every claim the answer states, in the order shown (each once)."""
        seen: dict[Claim, None] = {}
        for line in self.lines:
            for span in line:
                if span.claim is not None:
                    seen.setdefault(span.claim, None)
        return tuple(seen)


@dataclass(frozen=True)
class Target:
    """What an answer id stands for: a section, the claims to show first, or several parts."""

    intent: str
    slots: Slots
    focus: tuple[int, ...] = ()
    parts: tuple[tuple[str, Slots], ...] = ()
    full: bool = False


class Composer:
    """Turns matches into answers; holds the knowledge base, nothing per conversation."""

    def __init__(self, kb: Knowledge, sections: Sections | None = None) -> None:
        self.kb = kb
        self.sections = sections or Sections(kb)
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

    # -- answer ids (deep links, buttons, follow-ups) -------------------------------------

    def answer_id(
        self, intent: str, slots: Slots, focus: tuple[int, ...] = (), parts: tuple[Candidate, ...] = ()
    ) -> str:
        if len(parts) > 1:
            joined = "~".join(self.answer_id(p.intent, p.slots) for p in parts)
            if len(joined) <= MAX_ANSWER_ID:
                return joined
        base = self._base_id(intent, slots)
        if focus:
            focused = base + "".join(f".{i}" for i in focus)
            if len(focused) <= MAX_ANSWER_ID:
                return focused
        return base

    def _base_id(self, intent: str, slots: Slots) -> str:
        if intent.startswith("compare."):
            tail = "" if set(slots.biologics) == set(self.kb.biologics) else "-" + "-".join(slots.biologics)
            whole = "table" if intent == "compare.table" else "all"
            return f"cmp-{slots.aspect or whole}{tail}"
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

    def parse_answer_id(self, answer_id: str) -> Target | None:
        """What an id stands for, or None for anything stale or forged."""
        if not isinstance(answer_id, str) or not _ANSWER_ID.match(answer_id):
            return None
        if "~" in answer_id:
            parts = [self.parse_answer_id(p) for p in answer_id.split("~")]
            if len(parts) > 3 or any(p is None or p.parts for p in parts):
                return None
            first = parts[0]
            return Target(first.intent, first.slots, (), tuple((p.intent, p.slots) for p in parts))
        found = _FOCUS.match(answer_id)
        if found is None:
            return None
        parsed = self._parse_base(found["base"])
        if parsed is None:
            return None
        intent, slots = parsed
        focus = tuple(int(n) for n in found["focus"].split(".")[1:])
        if focus:
            section = self.sections.by_key.get(self._section_key(intent, slots))
            if section is None or any(i >= len(section.claims) for i in focus):
                return None
        return Target(intent, slots, focus, full=bool(found["full"]))

    def _parse_base(self, answer_id: str) -> tuple[str, Slots] | None:
        kb = self.kb
        head, _, rest = answer_id.partition("-")
        if head == "cmp":
            aspect, *bios = rest.split("-")
            whole = aspect in ("all", "table")
            if (not whole and aspect not in kb.aspects) or any(b not in kb.biologics for b in bios):
                return None
            chosen = tuple(b for b in kb.comparison.hierarchy if b in bios) if bios else kb.comparison.hierarchy
            return f"compare.{aspect}", Slots(chosen, None if whole else aspect)
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

    def _section_key(self, intent: str, slots: Slots) -> str:
        if intent.startswith("compare.") or intent.startswith("scenario.") or intent in self.kb.topics:
            return intent
        if slots.biologics and len(slots.biologics) == 1:
            return f"{slots.biologics[0]}.{slots.aspect or 'overview'}"
        return intent

    def answer_for_id(self, answer_id: str) -> Answer | None:
        target = self.parse_answer_id(answer_id)
        if target is None:
            return None
        parts = tuple(Candidate(i, s, "", 100.0) for i, s in target.parts)
        match = Match(True, target.intent, target.slots, 100.0, "answered", parts=parts, focus=target.focus)
        return self.compose(match, full=target.full)

    def more_for(self, answer_id: str) -> Answer | None:
        """The longer answer behind "More" for ``answer_id``; None when there is nothing more."""
        answer = self.answer_for_id(answer_id)
        if answer is None or answer.more is None:
            return None
        return self.answer_for_id(answer.more)

    def sources_for(self, answer_id: str) -> Answer | None:
        """The full references behind one answer ("sources for that")."""
        answer = self.answer_for_id(answer_id)
        if answer is None:
            return None
        refs = self.kb.references
        lines: list[Line] = [
            (Span(f"[{n}] ", "b"), Span(f"{refs[n].short()}, {refs[n].journal}")) for n in answer.citations
        ]
        if lines:
            lines.append((Span(self.kb.messages["sources_hint"], "i"),))
        if not lines:
            lines = [(Span(self.kb.message("review_sources")),)]
        title = f"{self.kb.messages['sources_title']} {answer.title}"
        return Answer(True, "refs.for", answer.slots, 100.0, title, tuple(lines), answer.citations, (),
                      answer.answer_id, self.kb.messages["disclaimer"])

    def quotes_for(self, answer_id: str) -> Answer | None:
        """The review's own sentences behind one answer (the "Source" button, /source):
        each claim as shown, then the verbatim excerpts it rests on with their section."""
        answer = self.answer_for_id(answer_id)
        if answer is None:
            return None
        lines: list[Line] = []
        for claim in answer.claims:
            lines.append((Span("• "), said(claim, brief=True)))
            lines += [(Span(f"   “{q.text}” ", "i"), Span(f"— {q.section}")) for q in claim.quotes]
        if not lines:
            lines = [(Span(self.kb.message("review_sources")),)]
        title = f"{self.kb.messages['quotes_title']} {answer.title}"
        return Answer(True, "refs.quotes", answer.slots, 100.0, title, tuple(lines), answer.citations, (),
                      answer.answer_id, self.kb.messages["disclaimer"])

    def label(self, intent: str, slots: Slots) -> str:
        """A short human label for a suggestion button or line."""
        kb = self.kb
        if intent.startswith("compare."):
            names = " vs ".join(kb.biologics[b].short for b in slots.biologics)
            what = kb.aspects[slots.aspect].label if slots.aspect else "side by side"
            if intent == "compare.table":
                what = "full comparison (Table 1)"
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

    def compose(self, match: Match, full: bool = False) -> Answer:
        """The reply to a match: the short first message, or with ``full`` the whole
        section (with its named sources) that "More" shows."""
        if not match.answered:
            return self._not_answered(match)
        parts = match.parts or (
            Candidate(
                match.intent or "", match.slots, "", match.score,
                focus=match.focus, expand=match.expand, pulled=match.pulled,
            ),
        )
        if len(parts) == 1:
            part = parts[0]
            title, lines, more = self._section(part.intent, part.slots, part.focus, full, expand=part.expand)
            if part.pulled and not full:
                lines = self._with_pulled(lines, *part.pulled)
        else:
            title, lines, more = self._parts(parts, full)
        intent, slots = parts[0].intent, parts[0].slots
        answer_id = self.answer_id(intent, slots, parts[0].focus, parts)
        abridged = not full and any(
            span.claim is not None and span.claim.short and span.claim.short != span.claim.text
            for line in lines
            for span in line
        )
        if more is True or (more is None and abridged):  # the rest, or the full wording, of this answer
            more = answer_id + FULL if len(answer_id) + len(FULL) <= MAX_ANSWER_ID else None
        # The papers behind what is said, not the evidence badge's (it rates the biologic).
        citations = _citations([ln for ln in lines if not _is_evidence_line(ln, self.kb)]) or _citations(lines)
        asked = _asks_for_references(match)
        if (full or asked) and intent not in ("refs.lookup", "refs.list", "review.about"):
            limit = MAX_ASKED_SOURCES if asked else MAX_LISTED_SOURCES
            lines = [*lines, BLANK, self._sources_line(citations, _cites_review(lines), limit)]
        lines = [*self._notes(match), *lines]
        return Answer(
            answered=True,
            intent="+".join(p.intent for p in parts),
            slots=slots,
            score=match.score,
            title=title,
            lines=tuple(lines),
            citations=citations,
            suggestions=(),
            answer_id=answer_id + FULL if full and more is None and self._has_full(intent) else answer_id,
            footer=self.kb.messages["disclaimer"],
            more=more or None,
            # Said first that the review does not report or discuss what was asked, then the
            # nearest part: answered, but a gap for the maintainers all the same.
            reason=PARTLY_COVERED if match.unreported or match.outside_topic or match.note else "answered",
        )

    def _with_pulled(self, lines: list[Line], section: str, index: int) -> list[Line]:
        """The claim another section of the biologic holds for a word asked, after the
        evidence line, labelled with its section (shown in its full wording)."""
        if section in self.kb.topics:  # a reason the review gives in one of its topics
            topic = self.kb.topics[section]
            claim, label = topic.claims[index], topic.title
        else:
            bio, _, aspect = section.partition(".")
            claim, label = self.kb.biologics[bio].aspects[aspect][index], self.kb.aspects[aspect].label
        pulled = (Span(label + ": ", "b"), said(claim))
        at = 1 if lines and _is_evidence_line(lines[0], self.kb) else 0
        return [*lines[:at], pulled, *lines[at:]]

    def _has_full(self, intent: str) -> bool:
        return not intent.startswith(("compare.", "refs.")) or intent == "compare.all"

    def _notes(self, match: Match) -> list[Line]:
        """Lines before the answer: personal advice, the language of the reply."""
        notes: list[Line] = []
        if match.answered and match.note:  # a near-but-different term beside the biologic asked about
            notes.append((Span(match.note, "i"),))
        if match.answered and match.unreported and not match.outside_topic:  # one "not reported" line
            notes.append((Span(self.kb.message("unreported_note", what=match.unreported)),))
        if match.answered and match.outside_topic:  # a long message that also mentions, say, a fee
            notes.append((Span(self.kb.message("outside_note", topic=match.outside_topic), "i"),))
        if match.personal:
            notes.append((Span(self.kb.messages["personal_advice"], "i"),))
        if match.language:
            glossary = next((g for g in self.kb.languages if g.language == match.language), None)
            if glossary is not None and glossary.reply_note:
                notes.append((Span(glossary.reply_note, "i"),))
        return notes

    def _section(
        self,
        intent: str,
        slots: Slots,
        focus: tuple[int, ...] = (),
        full: bool = False,
        share: int = 1,
        expand: tuple[int, ...] = (),
    ) -> tuple[str, list[Line], str | bool | None]:
        """Title, lines, and what "More" shows: an answer id, True for the rest of this
        answer, or None when the first message said everything. ``expand`` names claims
        whose full wording the first message shows (the question asked for a word only
        it has)."""
        if intent == "compare.all":
            if full:
                return (*self._compare(slots), None)
            title, lines = self._compare_summary(slots)
            return title, lines, self._base_id("compare.table", slots)
        if intent.startswith("compare."):
            title, lines = self._compare(slots)
            return title, lines, None
        if intent.startswith("scenario."):
            title, lines = self._scenario(slots.scenario or "", full)
            return title, lines, None
        if intent == "refs.lookup":
            return (*self._reference(slots.ref or 0), None)
        if intent == "refs.list":
            return (*self._reference_list(), None)
        if intent == "review.about":
            return self._about(focus, full)
        if intent in self.kb.topics:
            topic = self.kb.topics[intent]
            # A topic is a list ("the gaps", "the methods"): shown whole when it fits a screen.
            whole = {id(topic.claims[i]) for i in expand if i < len(topic.claims)}
            shown, cut = _first(list(topic.claims), focus, full, _budget(share), TOPIC_WHOLE_FACTOR)
            return topic.title, [_bullet(c, brief=not full and id(c) not in whole) for c in shown], cut
        return self._biologic(slots.biologics[0], slots.aspect, focus, full, _budget(share), expand)

    def _parts(self, parts: tuple[Candidate, ...], full: bool = False) -> tuple[str, list[Line], str | bool | None]:
        """A two-part question: each part under its own heading, one evidence line if the
        parts are about the same single biologic."""
        bios = {p.slots.biologics for p in parts}  # a topic part has none: then nothing is shared
        shared = next(iter(bios)) if len(bios) == 1 and len(next(iter(bios))) == 1 else None
        lines: list[Line] = []
        if shared:
            lines.append(self._evidence_line(shared[0], compact=not full))
        cut = False
        for part in parts:
            _, body, more = self._section(part.intent, part.slots, part.focus, full, len(parts), part.expand)
            cut = cut or bool(more)
            if shared:
                body = [ln for ln in body if ln and not _is_evidence_line(ln, self.kb)]
            lines.append((Span(self._part_heading(part, shared), "b"),))
            lines += [ln for ln in body if ln]
        title = " · ".join(self.label(p.intent, p.slots) for p in parts)
        if all(p.intent.startswith("scenario.") for p in parts):
            title = self.kb.messages["scenarios_title"]
        if shared:
            bio = self.kb.biologics[shared[0]]
            labels = [
                self.kb.aspects[p.slots.aspect].label if p.slots.aspect else self.label(p.intent, p.slots)
                for p in parts
            ]
            title = f"{bio.short} — " + " and ".join(labels)
        return title, lines, (True if cut else None)

    def _part_heading(self, part: Candidate, shared: tuple[str, ...] | None) -> str:
        if shared and part.slots.aspect:
            return self.kb.aspects[part.slots.aspect].label
        return self.label(part.intent, part.slots)

    def _not_answered(self, match: Match) -> Answer:
        kb = self.kb
        suggestions = tuple(self._suggestion(c) for c in match.suggestions)
        footer = kb.messages["disclaimer"]
        covered = [BLANK, (Span(kb.messages["covered_topics"], "i"),)]
        if match.reason == "unknown_reference":
            text = kb.message("unknown_reference", number=match.slots.ref, last=max(kb.references))
            lines: list[Line] = [(Span(text),)]
            title = "Unknown reference"
        elif match.reason == "ambiguous":
            lines = [(Span(kb.messages["ambiguous"]),)]
            title = "Which did you mean?"
        elif match.reason == "unsure":
            lines = [(Span(kb.messages["unsure" if suggestions else "unsure_no_suggestion"]),)]
            title = "Which part of the review?"
        elif match.reason == "near":
            lines = [(Span(match.note or ""),), (Span(kb.messages["near_prefix"]),)]
            title = "Not covered as asked"
        elif match.reason == "chat":
            lines = [(Span(kb.messages[f"chat_{match.act or 'greeting'}"]),)]
            title, footer = "", ""
        elif match.reason == "no_previous_answer":
            lines = [(Span(kb.messages["no_previous_answer"]),)]
            title, footer = "", ""
        else:  # not covered
            topic = match.outside_topic
            text = kb.message("not_covered_topic", topic=topic) if topic else kb.messages["not_covered"]
            lines = [(Span(text),)]
            if suggestions:
                lines.append((Span(kb.messages["near_prefix"]),))
            title = "Not covered"
        lines += [(Span(f"• {s.label}"),) for s in suggestions]
        if match.reason == "unsure" and not suggestions:
            lines += covered  # nothing to offer: what can be asked
        elif match.reason in ("not_covered", "unsure"):
            lines += [BLANK, (Span(kb.messages["covered_hint"], "i"),)]  # one line; /help has the list
        lines = [*self._notes(match), *lines] if match.reason not in ("chat",) else lines
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
            footer=footer,
            reason=match.reason,
        )

    def nothing_more(self) -> Answer:
        return Answer(False, None, Slots(), 0.0, "", ((Span(self.kb.messages["nothing_more"]),),), (), (), None, "",
                      reason="nothing_more")

    def _suggestion(self, c: Candidate) -> Suggestion:
        return Suggestion(self.label(c.intent, c.slots), self.answer_id(c.intent, c.slots), c.intent)

    def _evidence_line(self, bio_id: str, named: bool = False, compact: bool = False) -> Line:
        """The evidence level; ``named`` adds whose, for answers about several biologics;
        ``compact`` uses Table 1's short wording ("Strong (multiple RCTs)")."""
        bio = self.kb.biologics[bio_id]
        claim = bio.evidence.claim
        row = self.kb.comparison.row("evidence")
        if compact and row is not None and bio_id in row.cells:
            claim = row.cells[bio_id]  # Table 1's "Strong (multiple RCTs)": what a glance needs
        prefix = self.kb.messages["evidence_prefix"]
        if named:
            prefix = f"{prefix[:-1]} ({bio.short}):" if prefix.endswith(":") else f"{prefix} ({bio.short})"
        return (Span(prefix + " ", "b"), said(claim))

    def _biologic(
        self,
        bio_id: str,
        aspect: str | None,
        focus: tuple[int, ...] = (),
        full: bool = False,
        budget: int = FIRST_MESSAGE_CLAIM_CHARS,
        expand: tuple[int, ...] = (),
    ) -> tuple[str, list[Line], bool | None]:
        kb = self.kb
        bio = kb.biologics[bio_id]
        lines: list[Line] = [self._evidence_line(bio_id, compact=not full)]
        if not aspect:
            title = f"{bio.name} — {kb.overview.label}"
            pairs = [(name, bio.aspects[name][0]) for name in kb.overview.compose_from]
            cut = None
            for n, (name, claim) in enumerate(pairs):
                if not full and n and budget - len(claim.brief) < 0:
                    cut = True
                    break
                budget -= len(claim.brief)
                lines.append((Span(kb.aspects[name].label + ": ", "b"), said(claim, brief=not full)))
            return title, lines, cut
        title = f"{bio.short} — {kb.aspects[aspect].label}"
        claims = bio.aspects[aspect]
        section = self.sections.by_key[f"{bio_id}.{aspect}"]
        if focus and focus[0] >= len(claims):  # the biologic's Table 1 cell holds what was asked
            cell = section.claims[focus[0]]
            row = kb.comparison.row(aspect)
            label = row.label if row else kb.aspects[aspect].label
            where = "Table 1" if any(q.section == "Table 1" for q in cell.quotes) else "side by side"
            lines.append((said(cell, f"• {label} ({where}): "),))
        order = tuple(i for i in focus if i < len(claims))
        whole = {id(claims[i]) for i in expand if i < len(claims)}
        shown, cut = _first(list(claims), order, full, budget)
        lines += [_bullet(c, brief=not full and id(c) not in whole) for c in shown]
        return title, lines, cut

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
                    (Span("• "), Span(kb.biologics[bio_id].short + ": ", "b"), said(cell))
                )
        if slots.aspect in (None, "evidence"):
            lines.append((said(kb.comparison.hierarchy_claim),))
        if not slots.aspect and set(slots.biologics) == set(kb.comparison.hierarchy):
            return kb.comparison.title, lines
        what = kb.aspects[slots.aspect].label if slots.aspect else "side by side"
        return f"{names.replace(', ', ' vs ')} — {what}", lines

    def _compare_summary(self, slots: Slots) -> tuple[str, list[Line]]:
        """"PRP vs exosomes?" without a parameter: what each one is and how strong its
        evidence is, one paragraph per biologic; the whole of Table 1 is one tap away."""
        kb = self.kb
        lines: list[Line] = []
        evidence = kb.comparison.row("evidence")
        for bio_id in slots.biologics:
            bio = kb.biologics[bio_id]
            what = bio.aspects["source"][0]
            strength = evidence.cells[bio_id] if evidence else bio.evidence.claim
            lines.append(
                (
                    Span(f"• {bio.short}: ", "b"),
                    said(what, after=" ", brief=True),
                    Span(kb.messages["evidence_prefix"] + " ", "i"),
                    said(strength),
                )
            )
        if set(slots.biologics) == set(kb.comparison.hierarchy) or len(slots.biologics) > 1:
            lines.append((said(kb.comparison.hierarchy_claim, brief=True),))  # where each stands
        names = " vs ".join(kb.biologics[b].short for b in slots.biologics)
        return f"{names} — side by side", lines

    def _scenario(self, scenario_id: str, full: bool = False) -> tuple[str, list[Line]]:
        kb = self.kb
        sc = kb.scenarios[scenario_id]
        lines: list[Line] = [
            (Span("Best suited: ", "b"), Span(sc.choice_label)),
            (Span("Why: ", "b"), said(sc.rationale, brief=not full)),
        ]
        if len(sc.choice) == 1:
            lines.append(self._evidence_line(sc.choice[0], compact=True))
        else:  # "Evidence: Secretome: Moderate (...) [6-9] · Exosomes: Emerging (...) [1-5]", one line
            row = kb.comparison.row("evidence")
            spans: list[Span] = [Span(kb.messages["evidence_prefix"] + " ", "b")]
            for n, bio_id in enumerate(sc.choice):
                bio = kb.biologics[bio_id]
                cell = row.cells[bio_id] if row else bio.evidence.claim
                sep = " · " if n else ""
                spans.append(said(cell, before=f"{sep}{bio.short}: "))
            lines.append(tuple(spans))
        return f"{sc.label}", lines

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

    def _about(self, focus: tuple[int, ...] = (), full: bool = True) -> tuple[str, list[Line], bool | None]:
        """The review: citation and affiliations (always: "who wrote it" is also "where are
        they from"); its ethics, funding and conflict-of-interest statements (what a
        clinician weighs before trusting it) in full, or the one asked for."""
        kb = self.kb
        review = kb.review
        lines: list[Line] = [(Span(review.reference.citation()),)]
        lines += [(Span(where, "i"),) for where in review.affiliations]
        statements = list(review.statements) if full else [review.statements[i] for i in focus]
        lines += [(Span(f"{s.label}: ", "b"), said(s.claim, brief=not full)) for s in statements]
        if full:
            lines += [
                (Span(kb.message("review_current_through", year=review.literature_through)),),
                (Span(f"Knowledge base version {kb.version}; {len(kb.references)} references."),),
            ]
        return kb.messages["review_title"], lines, (None if full else True)

    def _sources_line(
        self, citations: tuple[int, ...], on_review: bool = False, limit: int = MAX_LISTED_SOURCES
    ) -> Line:
        """The papers behind the answer; claims the review makes without numbers are
        credited to the review itself rather than left looking unsourced."""
        kb = self.kb
        prefix = Span(kb.messages["sources_prefix"] + " ", "b")
        review = f"the review itself ({kb.review.reference.short()})"
        if not citations:
            return (prefix, Span(review + "."), Span(" /about for the full citation.", "i"))
        hint = Span(" " + kb.messages["sources_hint"], "i")
        tail = f" · {review}" if on_review else ""
        if len(citations) > limit:
            return (prefix, Span(f"references {cite(citations)[1:-1]}{tail} — /refs lists them all."), hint)
        listed = " · ".join(f"[{n}] {kb.references[n].short()}" for n in citations)
        return (prefix, Span(listed + tail + "."), hint)


def _budget(parts: int) -> int:
    return FIRST_MESSAGE_CLAIM_CHARS if parts <= 1 else int(FIRST_MESSAGE_CLAIM_CHARS * PART_SHARE)


def _first(
    claims: list[Claim],
    order: tuple[int, ...],
    full: bool,
    budget: int = FIRST_MESSAGE_CLAIM_CHARS,
    whole: float = WHOLE_SECTION_FACTOR,
) -> tuple[list[Claim], bool | None]:
    """The claims of the first message (most relevant first, within the character budget)
    and whether some were left for "More"; ``full`` shows all, in the section's order.
    Sizes are the short forms: a claim shown in full for a word asked takes no other's place."""
    if full:
        return claims, None
    ranked = [claims[i] for i in order if i < len(claims)] + [c for i, c in enumerate(claims) if i not in order]
    if budget >= FIRST_MESSAGE_CLAIM_CHARS and sum(len(c.brief) for c in claims) <= budget * whole:
        return ranked, None  # a short section is shown whole (not in a two-part answer): cutting saves little
    shown: list[Claim] = []
    used = 0
    for claim in ranked:
        if shown and used + len(claim.brief) > budget:
            return shown, True
        shown.append(claim)
        used += len(claim.brief)
    return shown, None


def _asks_for_references(match: Match) -> bool:
    """"Which refs back the PRP RCT claims?": the answer names its references at once (not
    "sources of exosomes", where the same word asks where they come from)."""
    ex = match.extraction
    if ex is None:
        return False
    aspect_spans = {(h.start, h.end) for h in ex.hits if h.kind == "aspect"}
    return any(h.kind in ("reference", "sources") and (h.start, h.end) not in aspect_spans for h in ex.hits)


def _is_evidence_line(line: Line, kb: Knowledge) -> bool:
    return bool(line) and line[0].style == "b" and line[0].text.startswith(kb.messages["evidence_prefix"])


def _bullet(claim: Claim, brief: bool = False) -> Line:
    return (said(claim, "• ", brief=brief),)


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
