"""Is exactly one option of every quiz item supported by the review?

A trainee preparing for an exam learns as much from the wrong options as from the right
one, so a wrong option the review in fact supports teaches something false ("no, that
is not true of secretome" when the review says it is). Two machine checks keep that from
landing, for authored and generated items alike:

* ``fidelity_problems`` (every load, no review text needed): the correct option rests on
  the item's own quotes, and no wrong option repeats what the knowledge base says about
  the question's subject (its biologic's claims, Table 1 cells and Table 2 rows, or the
  topic's claims). For "which biologic?" items it is the other way round: the property
  asked about must not be among the other biologics' facts. Overlap is measured on
  stemmed content words, so "Donor variability" is caught against "varies by donor
  characteristics" but "Donor variability" is not caught against "Preparation
  variability". What words cannot see (redness and erythema are one thing) is declared
  in quiz.yaml under ``shared``, each with the review's words that make the cell true of
  a second biologic; generated items never ask about those cells.
* ``source_problems`` (``kb check --source``): every wrong option is made of the review's
  own words, so distractors come from the review (another biologic's cell, another
  scenario, another growth factor or study design), never from outside it ("botulinum
  toxin diluent").

A wrong option may deliberately use words the review attaches to the subject when the
review says they do *not* apply ("standalone biologics" in "rather than standalone
biologics"); the item then names that option in ``contrasts`` with the quote, and the
check accepts it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from bot.core.knowledge import Knowledge, Quote
from bot.core.normalise import normalise, stem
from bot.core.quiz import QuizBank, QuizItem, display_name


class SourceText(Protocol):
    """The review's text as bot.core.provenance.Source reads it."""

    paragraphs: tuple[Any, ...]

    def find(self, quote: str) -> list[Any]: ...

    def divergence(self, quote: str) -> str: ...


# A wrong option whose content words are this much inside one fact about the subject
# says what the review says about it.
SUPPORTED = 0.75
# The correct option's content words must be at least this much inside its quotes.
ANSWER_COVERED = 0.5
# A wrong option "comes from the review" when all its content words occur in the review
# and this share of them occur together in one paragraph.
FROM_REVIEW = 0.6

_STOP_WORDS = """a an the and or of in on to for with by as at from is are be been being its it their
    them they than that this these those which what who whom whose per into via vs versus
    not no nor only both each all any more most less least so such also but between after
    before over under during when where while than then there here has have had do does did
    can may might must should would will one two three"""
_STOP = frozenset(_STOP_WORDS.split())


_PART = re.compile(r"[a-z]+")
_CHUNK = 60  # words: normalise() keeps only a long message's head and tail


@lru_cache(maxsize=8192)
def content_stems(text: str) -> frozenset[str]:
    """Stemmed content words (no numbers): what two phrasings of one fact share."""
    words = text.split()
    out: set[str] = set()
    for start in range(0, len(words), _CHUNK):
        for token in normalise(" ".join(words[start : start + _CHUNK])).tokens:
            # "²Bethesda" arrives as "2bethesda": a superscript is not part of the word.
            out.update(stem(part) for part in _PART.findall(token) if part not in _STOP)
    return frozenset(out)


def coverage(part: frozenset[str], whole: frozenset[str]) -> float:
    return len(part & whole) / len(part) if part else 0.0


Indexed = tuple[tuple[str, frozenset[str]], ...]


@dataclass(frozen=True)
class Facts:
    """What the knowledge base says, by biologic (and Table 1 row) and by quiz subject."""

    biologics: dict[str, Indexed]
    aspects: dict[tuple[str, str], Indexed]  # (biologic, aspect) -> its claims and its Table 1 cell
    topics: dict[str, Indexed]
    names: dict[str, str]  # normalised option text naming one biologic -> biologic id
    name_stems: frozenset[str]

    def about(self, subjects: Iterable[str], aspect: str | None = None) -> Iterator[tuple[str, frozenset[str]]]:
        for subject in subjects:
            if aspect is not None and subject in self.biologics:
                yield from self.aspects.get((subject, aspect), ())
                continue
            yield from self.biologics.get(subject, ())
            yield from self.topics.get(subject, ())


# Quiz subjects that are the review's own sections rather than one biologic.
TOPIC_SOURCES = {
    "methods": ("review.methods",),
    "gaps": ("review.gaps",),
    "background": ("background.aging", "background.regenerative"),
    "conclusion": ("review.conclusion",),
}
# A quote from a biologic's own Results section is about that biologic only, even where
# a Table 2 rationale shared by two biologics cites it.
_SECTION_OF = {"Exosomes": "exosomes", "Secretome": "secretome", "PRP": "prp"}


def _texts(text: str, quotes: Iterable[Quote], bio: str | None = None) -> list[str]:
    return [text, *(q.text for q in quotes if bio is None or _SECTION_OF.get(q.section, bio) == bio)]


def facts_of(kb: Knowledge) -> Facts:
    by_bio: dict[str, list[str]] = {}
    by_aspect: dict[tuple[str, str], list[str]] = {}
    for bio in kb.biologics.values():
        texts = by_bio.setdefault(bio.id, [])
        texts += _texts(bio.evidence.label, bio.evidence.quotes)
        by_aspect.setdefault((bio.id, "evidence"), []).extend(_texts(bio.evidence.label, bio.evidence.quotes))
        for aspect, claims in bio.aspects.items():
            for claim in claims:
                texts += _texts(claim.text, claim.quotes)
                by_aspect.setdefault((bio.id, aspect), []).extend(_texts(claim.text, claim.quotes))
    for row in kb.comparison.parameters:
        for bio, cell in row.cells.items():
            by_bio.setdefault(bio, []).extend(_texts(cell.text, cell.quotes))
            by_aspect.setdefault((bio, row.aspect), []).extend(_texts(cell.text, cell.quotes))
    for scenario in kb.scenarios.values():
        for bio in scenario.choice:
            rationale = scenario.rationale
            by_bio.setdefault(bio, []).extend([scenario.label, *_texts(rationale.text, rationale.quotes, bio)])
    by_topic: dict[str, list[str]] = {}
    for subject, topic_ids in TOPIC_SOURCES.items():
        for topic_id in topic_ids:
            topic = kb.topics.get(topic_id)
            if topic is not None:
                for claim in topic.claims:
                    by_topic.setdefault(subject, []).extend(_texts(claim.text, claim.quotes))
    for statement in kb.review.statements:  # ethics, funding, conflicts: how the review was made
        by_topic.setdefault("methods", []).extend(_texts(statement.claim.text, statement.claim.quotes))
    for ref in kb.references.values():  # an item about a cited paper is about its entry
        by_topic[f"ref{ref.id}"] = [f"{' '.join(ref.authors)} {ref.title} {ref.journal}"]
    names: dict[str, str] = {}
    name_stems: set[str] = set()
    for bio in kb.biologics.values():
        for label in (bio.id, bio.short, bio.name, *bio.synonyms):
            names[normalise(label).text] = bio.id
        names[normalise(display_name(kb, bio.id)).text] = bio.id
        for label in (bio.id, bio.short, display_name(kb, bio.id)):
            name_stems |= content_stems(label)

    def index(texts: dict) -> dict:
        return {key: tuple((t, content_stems(t) - name_stems) for t in dict.fromkeys(v)) for key, v in texts.items()}

    return Facts(index(by_bio), index(by_aspect), index(by_topic), names, frozenset(name_stems))


def biologic_options(item: QuizItem, facts: Facts) -> list[str] | None:
    """The biologic each option names, when every option names exactly one."""
    named = [facts.names.get(normalise(o).text) for o in item.options]
    return None if None in named else named  # type: ignore[return-value]


def _supported(text: str, subjects: Iterable[str], facts: Facts, aspect: str | None = None) -> str | None:
    """The fact about ``subjects`` (in one Table 1 row, if given) that says ``text``, if any."""
    words = content_stems(text) - facts.name_stems
    if not words:
        return None
    candidates = facts.about(subjects, aspect)
    best = max(((coverage(words, stems), fact) for fact, stems in candidates), default=(0.0, ""))
    return best[1] if best[0] >= SUPPORTED else None


def fidelity_problems(items: Iterable[QuizItem], facts: Facts) -> list[tuple[str, str, str]]:
    """(item id, field, message) for every item with no, or more than one, supported option."""
    out: list[tuple[str, str, str]] = []
    for item in items:
        contrasted = {i for i, _ in item.contrasts}
        bios = biologic_options(item, facts)
        if bios is not None:
            if len(set(bios)) != len(bios):
                out.append((item.id, "options", "two options name the same biologic"))
                continue
            answer_bio = bios[item.answer]
            quoted = [q.text for q in item.quotes]
            # The property asked about is in the answer's quotes (the table's own words when
            # it comes from a table); another biologic that has it too is a second right answer.
            tables = [q.text for q in item.quotes if q.section in ("Table 1", "Table 2")]
            for i, bio in enumerate(bios):
                if i == item.answer or i in contrasted:
                    continue
                for text in tables or quoted:
                    fact = _supported(text, (bio,), facts, item.aspect)
                    if fact:
                        out.append((item.id, f"options[{i}]", f"{item.options[i]} fits too: the review says {fact!r}"))
                        break
            if not any(_names(text, answer_bio, facts) or _in_facts(text, answer_bio, facts) for text in quoted):
                out.append((item.id, "quote", f"no quote ties the answer to {item.options[item.answer]}"))
            continue
        subjects = subjects_of(item)
        if not subjects and any(
            content_stems(o) - facts.name_stems - _JOINERS for i, o in enumerate(item.options) if i != item.answer
        ):
            message = "say what the question is about (biologic or subject) so its wrong options can be checked"
            out.append((item.id, "subject", message))
        for i, option in enumerate(item.options):
            if i == item.answer or i in contrasted or not subjects:
                continue
            fact = _supported(option, subjects, facts, item.aspect)
            if fact:
                out.append((item.id, f"options[{i}]", f"{option!r} is also true by the review: {fact!r}"))
        answer = content_stems(item.correct_option) - facts.name_stems
        quoted_stems = frozenset().union(*(content_stems(q.text) for q in item.quotes)) if item.quotes else frozenset()
        if answer and coverage(answer, quoted_stems) < ANSWER_COVERED:
            out.append((item.id, "quote", f"the quotes do not say the answer {item.correct_option!r}"))
    return out


# Words that join biologics' names in options such as "PRP plus secretome or exosomes".
_JOINERS = frozenset({"plus"})


def subjects_of(item: QuizItem) -> tuple[str, ...]:
    """What an item is about; an item on the reference list is about the paper it cites."""
    if item.subjects:
        return item.subjects
    if item.topic == "references":
        return tuple(f"ref{n}" for n in item.refs)
    return ()


def _names(text: str, bio: str, facts: Facts) -> bool:
    words = normalise(text).text
    return any(f" {name} " in f" {words} " for name, b in facts.names.items() if b == bio and name)


def _in_facts(text: str, bio: str, facts: Facts) -> bool:
    stems = content_stems(text) - facts.name_stems
    return any(stems and stems <= fact for _, fact in facts.biologics.get(bio, ()))


def from_review(option: str, paragraphs: Iterable[frozenset[str]], everything: frozenset[str]) -> bool:
    """Are ``option``'s words the review's own?"""
    words = content_stems(option)
    if not words:
        return True
    if not words <= everything:
        return False
    return any(coverage(words, p) >= FROM_REVIEW for p in paragraphs)


def source_problems(bank: QuizBank, source: SourceText) -> list[tuple[str, str, str]]:
    """(entry, field, message) for every wrong option not made of the review's words, and
    every ``contrasts`` or ``shared`` quote that is not the review's (with its section)."""
    paragraphs = [content_stems(p.text) for p in source.paragraphs]
    everything = frozenset().union(*paragraphs)
    out: list[tuple[str, str, str]] = []
    for item in bank.items:
        # A generated item's wrong options are other biologics' cells, quoted above.
        for i, option in enumerate(() if item.generated else item.options):
            if i != item.answer and not from_review(option, paragraphs, everything):
                missing = sorted(content_stems(option) - everything)
                why = f"words not in the review: {', '.join(missing)}" if missing else "its words are scattered"
                out.append((item.id, f"options[{i}]", f"{option!r} does not come from the review ({why})"))
        for k, (option, quote) in enumerate(item.contrasts):
            if not 0 <= option < len(item.options) or option == item.answer:
                out.append((item.id, f"contrasts[{k}].option", "must be the index of a wrong option"))
            out += [(item.id, f"contrasts[{k}].quote", m) for m in _quote_problems(quote, source)]
    for k, shared in enumerate(bank.shared):
        for quote in shared.quotes:
            out += [(f"shared[{k}]", "quote", m) for m in _quote_problems(quote, source)]
    return out


def _quote_problems(quote: Quote, source: SourceText) -> list[str]:
    hits = source.find(quote.text)
    if not hits:
        return [f"not in the review: {source.divergence(quote.text)}"]
    if not any(h.paragraph.section == quote.section for h in hits):
        return [f"the quote is in {', '.join(sorted({h.paragraph.section for h in hits}))}, not {quote.section}"]
    return []
