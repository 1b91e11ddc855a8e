"""The words each part of the knowledge base uses, so a question can be matched to the
claim that holds a fact even when it names no cue ("do exosomes act on NF-κB?",
"which one scales better in manufacturing?").

Every answerable section (a biologic's aspect, a comparison row, a scenario, a topic, the
review itself) gets the Snowball stems of its claims, their verbatim quotes from the
review and its labels. A question word found in a section's text is evidence for that
section; a rare word (high inverse document frequency over all claims) is strong evidence
and also picks the claims to show first.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Set
from dataclasses import dataclass, replace

from bot.core.knowledge import Claim, Knowledge
from bot.core.normalise import phrase_tokens, stem

# The least inverse document frequency a claim must hold to be shown first (about one
# word used by a handful of claims).
MIN_FOCUS_WEIGHT = 2.0
# The least inverse document frequency of a question word that makes a claim shown in
# its full wording rather than its short form when only the full wording has it
# ("topical", "Q-switched"): a fact asked for by name must be on screen.
# 2.2 (about "microneedling", "resurfacing"; not "laser", 2.0) was chosen over 2.5 on the
# already-scored sets (blind1-6): +3 answers, none lost; blind7 judges it.
MIN_EXPAND_WEIGHT = 2.2
# How much inverse document frequency a claim from another section of the same biologic
# must hold of the question's specific words, none of which the chosen section prints, to
# be shown first ("UC-MSC secretome benefit?": the umbilical-cord claim is a mechanism
# claim). About one rare word; chosen with MIN_EXPAND_WEIGHT (6% of answers pull a claim).
MIN_PULL_WEIGHT = 2.2


def claim_texts(claim: Claim) -> Iterator[str]:
    yield claim.text
    for quote in getattr(claim, "quotes", ()):  # verbatim review excerpts, where present
        yield quote.text


def knowledge_texts(kb: Knowledge) -> Iterator[str]:
    """Every piece of content text in the knowledge base (the words a question may use)."""
    yield kb.comparison.title
    yield from claim_texts(kb.comparison.hierarchy_claim)
    for bio in kb.biologics.values():
        yield bio.name
        yield bio.evidence.label
        for claims in bio.aspects.values():
            for claim in claims:
                yield from claim_texts(claim)
    for aspect in kb.aspects.values():
        yield aspect.label
        yield from (e.replace("{b}", "") for e in aspect.examples)
    for param in kb.comparison.parameters:
        yield param.label
        for cell in param.cells.values():
            yield from claim_texts(cell)
    for scenario in kb.scenarios.values():
        yield scenario.label
        yield from claim_texts(scenario.rationale)
        yield from scenario.examples
    for topic in kb.topics.values():
        yield topic.title
        yield from topic.examples
        for claim in topic.claims:
            yield from claim_texts(claim)
    yield from review_texts(kb)
    for ref in kb.references.values():
        yield ref.title


def review_texts(kb: Knowledge) -> Iterator[str]:
    """What /about shows: the review's own data and statements."""
    review = kb.review
    yield review.reference.title
    yield review.reference.journal
    yield from review.reference.authors
    yield from review.affiliations
    for statement in review.statements:
        yield statement.label
        yield from claim_texts(statement.claim)


def _stems(texts: Iterator[str] | list[str]) -> frozenset[str]:
    """Stems of the words; numbers are left out (quotes carry "[10-12]", "miR-21")."""
    return frozenset(stem(t) for text in texts for t in phrase_tokens(text) if not t.isdigit())


@dataclass(frozen=True)
class Section:
    key: str  # the intent it answers
    claims: tuple[Claim, ...]
    claim_stems: tuple[frozenset[str], ...]
    stems: frozenset[str]  # claims, quotes and labels together
    vocabulary: frozenset[str] = frozenset()  # stems plus the words people use to ask for it (cues)
    shown: frozenset[str] = frozenset()  # stems of the claims' own text (what an answer prints)
    dropped: tuple[frozenset[str], ...] = ()  # per claim: stems its short form leaves out
    printed: tuple[frozenset[str], ...] = ()  # per claim: stems of its own text (not its quotes)
    named: frozenset[str] = frozenset()  # stems of its labels: every claim is about them


class Sections:
    """Built once from the knowledge base; every method is pure."""

    def __init__(self, kb: Knowledge) -> None:
        self.kb = kb
        # Stems too common to say which section a question is about: the biologics' names
        # (every section names them) and the vocabulary's generic words.
        names = [n for bio in kb.biologics.values() for n in (bio.id, bio.short, *bio.synonyms) if " " not in n]
        self.common = _stems([*names, *kb.vocabulary.generic, "it"])
        self.by_key: dict[str, Section] = {}
        for bio in kb.biologics.values():
            overview = []
            for aspect in kb.aspects.values():
                claims = list(bio.aspects.get(aspect.id, ()))
                row = kb.comparison.row(aspect.id)
                labels = [aspect.label]
                if row is not None:
                    claims.append(row.cells[bio.id])
                    labels.append(row.label)
                self._add(f"{bio.id}.{aspect.id}", claims, labels, aspect.cues)
            for name in kb.overview.compose_from:
                overview += bio.aspects[name][:1]
            self._add(f"{bio.id}.overview", overview, [bio.name, kb.overview.label], kb.overview.cues)
        for param in kb.comparison.parameters:
            claims = [param.cells[b] for b in kb.comparison.hierarchy]
            if param.aspect == "evidence":
                claims.append(kb.comparison.hierarchy_claim)
            cues = kb.aspects[param.aspect].cues if param.aspect in kb.aspects else ()
            self._add(f"compare.{param.aspect}", claims, [param.label], cues)
        everything = [c for p in kb.comparison.parameters for c in p.cells.values()]
        self._add("compare.all", [*everything, kb.comparison.hierarchy_claim], [kb.comparison.title])
        self.by_key["compare.table"] = replace(self.by_key["compare.all"], key="compare.table")
        for sc in kb.scenarios.values():
            self._add(f"scenario.{sc.id}", [sc.rationale], [sc.label, sc.choice_label], sc.cues)
        for topic in kb.topics.values():
            self._add(topic.id, list(topic.claims), [topic.title], topic.cues)
        self._add("review.about", [s.claim for s in kb.review.statements], list(review_texts(kb)))
        for number, ref in kb.references.items():
            # "the PRP periorbital study": a title that says "platelet-rich plasma" is about PRP.
            title = " " + " ".join(phrase_tokens(ref.title)) + " "
            named = [
                name
                for bio in kb.biologics.values()
                if any(f" {' '.join(phrase_tokens(s))} " in title for s in (bio.name, *bio.synonyms) if s)
                for name in (bio.id, bio.short)
            ]
            self._add(f"ref.{number}", [], [ref.title, *named])

        # Inverse document frequency over claims: how telling a word is.
        units = [s for section in self.by_key.values() for s in section.claim_stems]
        df: dict[str, int] = {}
        for unit in units:
            for s in unit:
                df[s] = df.get(s, 0) + 1
        n = max(len(units), 1)
        self.idf = {s: math.log(1 + n / count) for s, count in df.items()}
        self.default_idf = math.log(1 + n)
        self.index: dict[str, list[str]] = {}
        for key, section in self.by_key.items():
            for s in section.stems:
                self.index.setdefault(s, []).append(key)

    def _add(self, key: str, claims: list[Claim], labels: list[str], cues: tuple = ()) -> None:
        claim_stems = tuple(_stems(list(claim_texts(c))) for c in claims)
        stems = frozenset().union(*claim_stems, _stems(labels))
        asked = stems | _stems([c.phrase for c in cues])
        shown = _stems([c.text for c in claims])
        printed = tuple(_stems([c.text]) for c in claims)
        dropped = tuple(p - _stems([c.short]) if c.short else frozenset() for p, c in zip(printed, claims, strict=True))
        # An aspect's label ("Strength of evidence") is what every claim of it is about; a
        # topic's title or the review's data are not (they name what the claims say).
        aspect = key.partition(".")[2]
        named = _stems(labels) if aspect in self.kb.aspects else frozenset()
        if key == "review.about":  # words naming the review itself pick none of its declarations
            named = _stems(["author", "authors", "review", "paper", "article"])
        self.by_key[key] = Section(key, tuple(claims), claim_stems, stems, asked, shown, dropped, printed, named)

    def weight(self, stem_: str) -> float:
        return self.idf.get(stem_, self.default_idf)

    def has(self, key: str, stem_: str) -> bool:
        section = self.by_key.get(key)
        return section is not None and stem_ in section.stems

    def overlap(self, key: str, stems: Set[str]) -> float:
        """How strongly the question's words point at this section (sum of idf)."""
        section = self.by_key.get(key)
        if section is None:
            return 0.0
        return sum(self.weight(s) for s in (stems & section.stems) - self.common)

    def says(self, key: str, stems: Set[str]) -> float:
        """Like ``overlap``, counting only words the answer itself prints (not its quotes)."""
        section = self.by_key.get(key)
        if section is None:
            return 0.0
        return sum(self.weight(s) for s in (stems & section.shown) - self.common)

    def weighed(self, stems: Set[str]) -> dict[str, float]:
        """The question's telling words with their idf: weighed once, matched against many sections."""
        return {s: self.weight(s) for s in stems - self.common}

    def match(self, key: str, weighed: dict[str, float]) -> float:
        """The share (by idf) of the question's words (``weighed``) that the section's text or cues use."""
        section = self.by_key.get(key)
        total = sum(weighed.values())
        if section is None or not total:
            return 0.0
        vocabulary = section.vocabulary
        return sum(w for s, w in weighed.items() if s in vocabulary) / total

    def sections_with(self, stems: Set[str]) -> set[str]:
        return {key for s in stems - self.common for key in self.index.get(s, ())}

    def focus(self, key: str, stems: Set[str]) -> tuple[int, ...]:
        """The order in which to show a section's claims: those holding the question's
        specific words first, then the rest of the section in its own order.

        Empty when no claim stands out: the section is shown as written. The composer
        decides how many fit in the first message; nothing is dropped, only ordered, so a
        word that happens to occur in one claim ("field") cannot hide the others.
        """
        section = self.by_key.get(key)
        if section is None or len(section.claims) < 2:
            return ()
        stems = stems - self.common - section.named  # "evidence" says nothing within "Strength of evidence"
        scores = [sum(self.weight(s) for s in stems & unit) for unit in section.claim_stems]
        best = max(scores)
        if key == "review.about":  # declarations are shown only when asked: each one asked
            return tuple(i for i, score in enumerate(scores) if score >= MIN_FOCUS_WEIGHT)
        if best < MIN_FOCUS_WEIGHT or all(s >= best * 0.5 for s in scores):
            return ()
        rest = sorted(range(len(scores)), key=lambda i: (-scores[i] if scores[i] >= best * 0.5 else 0, i))
        # Every word accounted for: after the best claim, the claim that adds most of the
        # question's words not yet shown ("which miRNAs, and what do they do to MMPs" needs
        # the miRNA claim beside an MMP one, not two MMP claims).
        chosen: list[int] = []
        shown: set[str] = set()
        while True:
            gains = [
                (sum(self.weight(s) for s in (stems & section.claim_stems[i]) - shown), -i)
                for i in rest
                if i not in chosen
            ]
            gain, i = max(gains, default=(0.0, 0))
            if gain < MIN_FOCUS_WEIGHT * 0.5:
                break
            chosen.append(-i)
            shown |= stems & section.claim_stems[-i]
        return tuple(chosen) + tuple(i for i in rest if i not in chosen)

    def expand(self, key: str, stems: Set[str]) -> tuple[int, ...]:
        """Claims to show in full in the first message: those whose short form leaves out
        a specific word of the question that their full wording has."""
        section = self.by_key.get(key)
        if section is None:
            return ()
        stems = {s for s in stems - self.common if self.weight(s) >= MIN_EXPAND_WEIGHT}
        order = self.focus(key, stems) or range(len(section.claims))
        return next(((i,) for i in order if stems & section.dropped[i]), ())

    def reasons_first(self, key: str, order: tuple[int, ...]) -> tuple[int, ...]:
        """``order`` (or the section's own) with the claims that give a reason moved first:
        a why-question is answered by the review's reason, not by what is so."""
        section = self.by_key.get(key)
        if section is None or not any(c.reason for c in section.claims):
            return order
        order = order or tuple(range(len(section.claims)))
        return tuple(sorted(order, key=lambda i: not section.claims[i].reason))

    def pull_reason(self, key: str, stems: Set[str]) -> tuple[str, int] | None:
        """For a why-question whose section states no reason: the same biologic's claim that
        gives one and shares most of the question's words ("why is PRP safe": its
        autologous nature, which the review gives as the ground of minimal immunogenicity)."""
        bio, _, aspect = key.partition(".")
        section = self.by_key.get(key)
        if section is None or bio not in self.kb.biologics or any(c.reason for c in section.claims):
            return None
        asked = stems - self.common - section.named  # "evidence" chose the section; the reason is the rest
        found: tuple[float, str, int] | None = None
        for other in self.kb.aspects:
            if other == aspect:
                continue
            claims = self.kb.biologics[bio].aspects.get(other, ())
            units = self.by_key[f"{bio}.{other}"].claim_stems
            for i, claim in enumerate(claims):
                if not claim.reason:
                    continue
                weight = sum(self.weight(s) for s in asked & units[i])
                if weight > 0 and (found is None or weight > found[0]):
                    found = (weight, f"{bio}.{other}", i)
        # A topic that shares more of the question may hold the reason ("why mostly as an
        # add-on to microneedling or lasers?": the topic on procedure-integrated use).
        topical = self._topic_reason(bio, asked)
        if topical is not None and (found is None or topical[0] > found[0]):
            found = topical
        return found[1:] if found else None

    def _topic_reason(self, bio: str, asked: Set[str]) -> tuple[float, str, int] | None:
        """A reason a topic gives about the biologic ("exosomes' synergistic role alongside
        controlled dermal injury", in the topic on procedure-integrated use), when the topic's
        text shares the question's words: the review's reason sits outside the biologic."""
        names = {stem(n) for n in (bio, self.kb.biologics[bio].short) if " " not in n}
        asked = asked - names
        found: tuple[float, str, int] | None = None
        for topic in self.kb.topics.values():
            overlap = self.overlap(topic.id, set(asked))
            if overlap < MIN_PULL_WEIGHT:
                continue
            units = self.by_key[topic.id].claim_stems
            for i, claim in enumerate(topic.claims):
                weight = sum(self.weight(s) for s in asked & units[i])
                if claim.reason and names & units[i] and (found is None or weight > found[0]):
                    found = (weight, topic.id, i)
        return found

    def pull(self, key: str, stems: Set[str]) -> tuple[str, int] | None:
        """A claim of the same biologic's other sections that prints the question's specific
        words which no claim of the chosen section prints: shown first, under its own label,
        so a fact asked for by name is on screen whichever aspect word the question used."""
        bio, _, aspect = key.partition(".")
        section = self.by_key.get(key)
        if section is None or bio not in self.kb.biologics or aspect not in self.kb.aspects:
            return None
        specific = {s for s in stems - self.common if self.weight(s) >= MIN_EXPAND_WEIGHT}
        specific -= frozenset().union(*section.printed)  # what the chosen section never prints
        if not specific:
            return None
        found: tuple[float, str, int] | None = None
        for other in self.kb.aspects:
            if other == aspect:
                continue
            own = len(self.kb.biologics[bio].aspects.get(other, ()))  # not the Table 1 cell
            for i, printed in enumerate(self.by_key[f"{bio}.{other}"].printed[:own]):
                weight = sum(self.weight(s) for s in specific & printed)
                if weight >= MIN_PULL_WEIGHT and (found is None or weight > found[0]):
                    found = (weight, f"{bio}.{other}", i)
        return found[1:] if found else None
