"""Check the knowledge base's quotes against the review's own text.

Every claim carries short verbatim quotes of the review sentence(s) it rests on. Read
with the review's text (``regenbot kb check --source PATH``), this module proves that
each quote really is the review's wording, in the section the claim names, and that the
claim's reference numbers are the ones the review prints there. Drift — a paraphrase that
grew stronger, numbers borrowed from a neighbouring sentence — then fails CI instead of
reaching a clinician. The review's full text is needed only for this check, never at
run time: the project keeps the short quotes, not the review.

The text is plain text extracted from the PDF, so matching forgives what extraction
does: runs of white space (even inside a token: "TGF- β ,"), curly quotes, the various
dashes, ligatures, soft hyphens, Markdown emphasis, and paragraphs cut in two by a page
break, a table or page furniture.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.core.citations import cite
from bot.core.knowledge import Claim, Knowledge
from bot.core.loader import Problem

FRONT_MATTER = "Front matter"
# Headings of the review (case-insensitive) and the section each one opens.
HEADINGS = {
    "abstract": "Abstract",
    "introduction": "Introduction",
    "materials and methods": "Methods",
    "ethics statement": "Ethics",
    "results": "Results",
    "exosomes in skin rejuvenation": "Exosomes",
    "mesenchymal stem cell secretome/conditioned medium": "Secretome",
    "platelet-rich plasma (prp)": "PRP",
    "comparative synthesis": "Comparative synthesis",
    "discussion": "Discussion",
    "remaining gaps and future directions": "Gaps",
    "conclusion": "Conclusion",
    "acknowledgments": "Acknowledgments",
    "references": "References",
}
# Paragraphs that open a section with their own first words.
INLINE_HEADINGS = {"source of support:": "Statements", "conflict of interest:": "Statements"}
# Page furniture printed in the middle of the text; it never interrupts a section.
FURNITURE = ("how to cite this article:", "submission:", "doi:", "copyright by")

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")
_SINGLE = dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032"), "'")
_DOUBLE = dict.fromkeys(map(ord, "\u201c\u201d\u201e\u201f\u2033"), '"')
_DROP = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff*"), None)
_FOLD = {**_DASHES, **_SINGLE, **_DOUBLE, **_DROP}
_BRACKET = re.compile(r"\[(\d+(?:\s*[-,]\s*\d+)*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\[(\"'])")
_TABLE_TITLE = re.compile(r"^Table (\d+):")
_REFERENCE_ENTRY = re.compile(r"(?:^|\s)(\d{1,3})\.\s+[A-Z]")


def fold(text: str) -> str:
    """The text as matched: typographic variants made plain, white space single."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return " ".join(text.split())


def numbers_in(text: str) -> set[int]:
    """Reference numbers printed in brackets: ``[10-12,14]`` -> {10, 11, 12, 14}."""
    found: set[int] = set()
    for group in _BRACKET.findall(fold(text)):
        for part in group.split(","):
            lo, _, hi = part.strip().partition("-")
            found.update(range(int(lo), int(hi or lo) + 1))
    return found


@dataclass(frozen=True)
class Paragraph:
    section: str
    text: str  # folded
    compact: str  # folded, without white space: what quotes are matched against
    index: tuple[int, ...]  # position in ``compact`` -> position in ``text``
    sentences: tuple[tuple[int, int], ...]  # (start, end) in ``text``

    @classmethod
    def of(cls, section: str, raw: str) -> Paragraph:
        text = fold(raw)
        index = tuple(i for i, ch in enumerate(text) if not ch.isspace())
        starts = [0, *(m.end() for m in _SENTENCE_END.finditer(text))]
        ends = [*(m.start() for m in _SENTENCE_END.finditer(text)), len(text)]
        return cls(section, text, "".join(text[i] for i in index), index, tuple(zip(starts, ends, strict=True)))


@dataclass(frozen=True)
class Hit:
    """Where a quote occurs: a paragraph and the span of ``paragraph.text`` it covers."""

    paragraph: Paragraph
    start: int
    end: int

    def numbers_near(self) -> set[int]:
        """The numbers the review prints in the quoted sentence(s), or failing that in
        the paragraph: what a claim resting on this quote may cite."""
        p = self.paragraph
        if p.section == "References":
            # A quote from the reference list (a cited paper's title) rests on that entry.
            entries = list(_REFERENCE_ENTRY.finditer(p.text, 0, self.start + 1))
            return {int(entries[-1].group(1))} if entries else set()
        found: set[int] = set()
        for start, end in p.sentences:
            if start < self.end and self.start < end:
                found |= numbers_in(p.text[start:end])
        return found or numbers_in(p.text)

    def numbers_at(self) -> set[int]:
        """The numbers printed inside the quote or right after it: the review attaches
        them to exactly these words, so a claim resting on them must carry them all."""
        rest = self.paragraph.text[self.end :]
        following = _BRACKET.match(rest.lstrip())
        inside = numbers_in(self.paragraph.text[self.start : self.end])
        return inside | (numbers_in(following.group(0)) if following else set())


class Source:
    """The review's text as sectioned paragraphs, ready to find quotes in."""

    def __init__(self, paragraphs: Iterable[Paragraph]) -> None:
        self.paragraphs = tuple(paragraphs)

    @classmethod
    def read(cls, path: str | Path) -> Source:
        return cls.parse(Path(path).read_text(encoding="utf-8"))

    @classmethod
    def parse(cls, text: str) -> Source:
        return cls(Paragraph.of(section, raw) for section, raw in _paragraphs(text))

    @property
    def sections(self) -> set[str]:
        return {p.section for p in self.paragraphs}

    def find(self, quote: str) -> list[Hit]:
        needle = "".join(fold(quote).split())
        hits = []
        if not needle:
            return hits
        for p in self.paragraphs:
            at = p.compact.find(needle)
            while at != -1:
                hits.append(Hit(p, p.index[at], p.index[at + len(needle) - 1] + 1))
                at = p.compact.find(needle, at + 1)
        return hits

    def divergence(self, quote: str) -> str:
        """Where a quote stops matching: what a maintainer needs to fix a typo."""
        words = quote.split()
        matched, hit = 0, None
        for k in range(1, len(words) + 1):
            hits = self.find(" ".join(words[:k]))
            if not hits:
                break
            matched, hit = k, hits[0]
        if hit is None:
            return "no part of it matches"
        following = " ".join(hit.paragraph.text[hit.end :].split()[:8])
        return f"the first {matched} word(s) match; the review goes on: {following!r}"


def _blocks(text: str) -> Iterator[str]:
    for block in re.split(r"\n\s*\n", text):
        if block.strip():
            yield block.strip()


def _kind(block: str) -> str:
    low = fold(block).casefold()
    if low in HEADINGS:
        return "heading"
    if low.startswith(FURNITURE):
        return "furniture"
    if _TABLE_TITLE.match(fold(block)):
        return "table title"
    if "\t" in block:
        return "table rows"
    return "body"


def _paragraphs(text: str) -> list[tuple[str, str]]:
    """(section, paragraph) in reading order, a paragraph split by a page break, a table
    or page furniture joined up again.

    A body paragraph that stops mid-sentence continues at the next body paragraph when
    that starts in lower case and only tables or furniture lie between: a heading or a
    capitalised paragraph means the first one really ended there.
    """
    out: list[tuple[str, str]] = []
    section, table, open_at = FRONT_MATTER, "", None
    for block in _blocks(text):
        kind = _kind(block)
        low = fold(block).casefold()
        if kind == "heading":
            section, table, open_at = HEADINGS[low], "", None
            out.append((section, block))
        elif kind == "furniture":
            out.append((FRONT_MATTER, block))
        elif kind == "table title":
            table = "Table " + _TABLE_TITLE.match(fold(block)).group(1)  # type: ignore[union-attr]
            out.append((table, block))
        elif kind == "table rows" and table:
            out += [(table, line) for line in block.splitlines() if line.strip()]
        else:
            table = ""
            inline = next((s for h, s in INLINE_HEADINGS.items() if low.startswith(h)), None)
            if inline:
                section, open_at = inline, None
            first = next((ch for ch in block if ch.isalpha()), "")
            if open_at is not None and first.islower():
                joined_section, head = out[open_at]
                out[open_at] = (joined_section, f"{head} {block}")
            else:
                out.append((section, block))
                open_at = len(out) - 1
            if fold(out[open_at][1]).endswith((".", "!", "?", ":")):
                open_at = None
    return out


# -- checking the knowledge base -------------------------------------------------------


def located_claims(kb: Knowledge) -> Iterator[tuple[str, str, str, Claim]]:
    """Every claim with the file, entry and field a maintainer would edit."""
    for bio in kb.biologics.values():
        yield "biologics.yaml", bio.id, "evidence", bio.evidence.claim
        for aspect, claims in bio.aspects.items():
            for i, claim in enumerate(claims):
                yield "biologics.yaml", bio.id, f"aspects.{aspect}[{i}]", claim
    for row in kb.comparison.parameters:
        for bio, cell in row.cells.items():
            yield "comparison.yaml", row.aspect, f"cells.{bio}", cell
    yield "comparison.yaml", "hierarchy", "claim", kb.comparison.hierarchy_claim
    for scenario in kb.scenarios.values():
        yield "scenarios.yaml", scenario.id, "rationale", scenario.rationale
    for topic in kb.topics.values():
        for i, claim in enumerate(topic.claims):
            yield "topics.yaml", topic.id, f"claims[{i}]", claim
    for i, statement in enumerate(kb.review.statements):
        yield "references.yaml", "review", f"statements[{i}]", statement.claim
    # Authored quiz items: the explanation and the quote that makes the answer right.
    # (Generated items reuse the cells and rationales above.)
    for item in kb.quiz.items:
        if not item.generated:
            yield "quiz.yaml", item.id, "", item.claim


def check_claim(source: Source, claim: Claim, file: str, entry: str, field: str) -> list[Problem]:
    """Problems with one claim's quotes and reference numbers, each naming where to fix it."""
    problems: list[Problem] = []
    allowed: set[int] = set()
    required: set[int] = set()
    quote_field = f"{field}.quote" if field else "quote"
    for i, quote in enumerate(claim.quotes):
        where = f"{quote_field}[{i}]"
        hits = source.find(quote.text)
        if not hits:
            problems.append(Problem(file, entry, where, f"not in the review: {source.divergence(quote.text)}"))
            continue
        in_section = [h for h in hits if h.paragraph.section == quote.section]
        if not in_section:
            found = ", ".join(sorted({h.paragraph.section for h in hits}))
            problems.append(Problem(file, entry, f"{where}.section", f"the quote is in {found}, not {quote.section}"))
            in_section = hits
        for hit in in_section:
            allowed |= hit.numbers_near()
            required |= hit.numbers_at()
    if len(problems) or not claim.quotes:
        return problems  # numbers cannot be judged against quotes that are not there
    refs_field = f"{field}.refs" if field else "refs"
    if claim.on_review and required:
        problems.append(
            Problem(file, entry, refs_field, f"says review, but the review cites {cite(required)} at the quote")
        )
    elif not claim.on_review:
        borrowed = set(claim.refs) - allowed
        missing = required - set(claim.refs)
        if borrowed:
            printed = f"it prints {cite(allowed)} there" if allowed else "it prints none there: use `refs: review`"
            problems.append(
                Problem(file, entry, refs_field, f"{cite(borrowed)} not printed by the review at the quotes; {printed}")
            )
        if missing:
            message = f"the review cites {cite(required)} for the quoted words; add {cite(missing)}"
            problems.append(Problem(file, entry, refs_field, message))
    return problems


def check_knowledge(kb: Knowledge, source: Source) -> list[Problem]:
    """Every quote, reference number and affiliation of the knowledge base against the review."""
    problems = [
        p for file, entry, field, claim in located_claims(kb) for p in check_claim(source, claim, file, entry, field)
    ]
    for i, affiliation in enumerate(kb.review.affiliations):
        if not any(h.paragraph.section == FRONT_MATTER for h in source.find(affiliation)):
            problems.append(
                Problem("references.yaml", "review", f"affiliations[{i}]", "not among the review's affiliations")
            )
    from bot.core.quizcheck import source_problems

    problems += [Problem("quiz.yaml", entry, fld, message) for entry, fld, message in source_problems(kb.quiz, source)]
    return problems


# Words a short form may use without finding them in the claim: they carry no fact.
_JOINERS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "in",
        "on",
        "for",
        "to",
        "with",
        "by",
        "as",
        "at",
        "is",
        "are",
        "be",
        "its",
        "it",
        "their",
        "than",
        "vs",
        "but",
        "not",
        "no",
        "from",
        "after",
        "into",
        "via",
        "also",
        "more",
        "less",
        "most",
        "least",
        # Grammar, so a short form reads as a sentence; none adds a fact, a cause or a hedge.
        "has",
        "have",
        "was",
        "were",
        "this",
        "that",
        "which",
        "they",
        "them",
        "these",
        "there",
        "while",
        "both",
        "each",
        "who",
        "does",
        "do",
    ]
)
# A fluent sentence of the first message: a phone's two lines.
MAX_SHORT = 110


def short_problems(claim: Claim) -> list[str]:
    """A claim's short form must be short and must not say anything the claim does not:
    every word of it (by stem) occurs in the claim's text or its quotes."""
    from bot.core.normalise import phrase_tokens, stem

    problems = []
    if len(claim.short) > MAX_SHORT:
        problems.append(f"short form is {len(claim.short)} characters (at most {MAX_SHORT})")
    said = {stem(t) for text in (claim.text, *(q.text for q in claim.quotes)) for t in phrase_tokens(text)}
    extra = sorted(
        {t for t in phrase_tokens(claim.short) if t not in _JOINERS and not t.isdigit() and stem(t) not in said}
    )
    if extra:
        problems.append(f"short form says what the claim does not: {', '.join(extra)}")
    return problems
