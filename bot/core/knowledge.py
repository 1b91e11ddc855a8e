"""The knowledge base as typed, immutable objects.

The YAML under ``knowledge/`` is the only place medical content lives; these classes are
what the rest of the code sees after ``bot.core.loader`` has read and validated it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.citations import cite, cite_review

EVIDENCE_LEVELS = ("strong", "moderate", "emerging")

# Where in the review a quote comes from. The Results section's three subsections are
# named after their biologic; "Table 1"/"Table 2" are the review's two tables (which print
# no reference numbers); "Gaps" is "Remaining Gaps and Future Directions"; "Statements"
# are the funding and conflict-of-interest notes at the end; "References" is the review's
# reference list (quiz items about a cited paper quote its title there); "Front matter" is
# what is printed around the text (authors, dates, corresponding author, licence).
SECTIONS = (
    "Front matter",
    "Abstract",
    "Introduction",
    "Methods",
    "Ethics",
    "Exosomes",
    "Secretome",
    "PRP",
    "Comparative synthesis",
    "Discussion",
    "Table 1",
    "Table 2",
    "Gaps",
    "Conclusion",
    "Acknowledgments",
    "Statements",
    "References",
)
# A quote is an anchor a clinician can find and read at a glance, not a paragraph.
MAX_QUOTE_WORDS = 30


@dataclass(frozen=True)
class Quote:
    """A verbatim excerpt of the review, so any claim can be checked against its source."""

    text: str
    section: str


@dataclass(frozen=True)
class Claim:
    """One statement in the project's words, the review's reference numbers behind it and
    the review sentence(s) it rests on."""

    text: str
    refs: tuple[int, ...]  # empty only when the claim rests on the review itself
    quotes: tuple[Quote, ...] = ()
    # The same statement in a phone's few words, for the first message ("More" shows
    # ``text``); it may leave words out but never adds one the text and quotes lack.
    short: str = ""
    # The claim gives one of the review's reasons (why something is so): a "why" question
    # leads with it.
    reason: bool = False

    @property
    def brief(self) -> str:
        return self.short or self.text

    @property
    def on_review(self) -> bool:
        """The review states this without a reference number (its own synthesis)."""
        return not self.refs

    @property
    def sections(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.section for q in self.quotes))

    def citation(self) -> str:
        """``[10-12]``, or ``[review, Discussion]`` when the review prints no numbers, so a
        reader never sees numbers the review did not attach to the statement."""
        return cite(self.refs) if self.refs else cite_review(self.sections)


@dataclass(frozen=True)
class Cue:
    """A word or phrase that hints at a concept, with how strongly it does."""

    phrase: str
    weight: float = 1.0


@dataclass(frozen=True)
class Reference:
    id: int
    authors: tuple[str, ...]
    title: str
    journal: str
    year: int
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    et_al: bool = False

    @property
    def first_author(self) -> str:
        return self.authors[0].split()[0].rstrip(",")

    def short(self) -> str:
        """``Xiao 2021`` — enough to recognise a paper in a one-line source list."""
        return f"{self.first_author} {self.year}"

    def citation(self) -> str:
        """Vancouver style, as the review prints it."""
        authors = ", ".join(self.authors) + (", et al" if self.et_al else "")
        where = f"{self.year}"
        if self.volume:
            where += f";{self.volume}"
        if self.issue:
            where += f"({self.issue})"
        if self.pages:
            where += f":{self.pages}"
        text = f"{authors}. {self.title.rstrip('.')}. {self.journal}. {where}."
        if self.doi:
            text += f" DOI {self.doi}"
        return text


@dataclass(frozen=True)
class Statement:
    """A declaration printed with the review (ethics, funding, conflicts of interest)."""

    label: str
    claim: Claim


@dataclass(frozen=True)
class Review:
    """The review itself: cited by /about and at the top of the reference list."""

    reference: Reference
    affiliations: tuple[str, ...]
    literature_through: str
    statements: tuple[Statement, ...] = ()


@dataclass(frozen=True)
class Evidence:
    level: str
    label: str
    refs: tuple[int, ...]
    quotes: tuple[Quote, ...] = ()

    @property
    def claim(self) -> Claim:
        """The evidence label is shown on every answer, so it is checked like a claim."""
        return Claim(self.label, self.refs, self.quotes)


@dataclass(frozen=True)
class Biologic:
    id: str
    name: str
    short: str
    synonyms: tuple[str, ...]
    evidence: Evidence
    aspects: dict[str, tuple[Claim, ...]]


@dataclass(frozen=True)
class Aspect:
    id: str
    label: str
    cues: tuple[Cue, ...]
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Overview:
    label: str
    compose_from: tuple[str, ...]
    cues: tuple[Cue, ...]


@dataclass(frozen=True)
class Parameter:
    """One row of Table 1."""

    aspect: str
    label: str
    cells: dict[str, Claim]


@dataclass(frozen=True)
class Comparison:
    title: str
    parameters: tuple[Parameter, ...]
    hierarchy: tuple[str, ...]
    hierarchy_claim: Claim

    def row(self, aspect: str) -> Parameter | None:
        return next((p for p in self.parameters if p.aspect == aspect), None)


@dataclass(frozen=True)
class Scenario:
    """One row of Table 2."""

    id: str
    label: str
    choice: tuple[str, ...]
    choice_label: str
    rationale: Claim
    cues: tuple[Cue, ...]
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    cues: tuple[Cue, ...]
    examples: tuple[str, ...]
    claims: tuple[Claim, ...]


@dataclass(frozen=True)
class OutsideTopic:
    """Something the review does not discuss, and the words that name it."""

    topic: str
    terms: tuple[str, ...]
    # The part of the review that says what it does on the matter (a topic id): "how many
    # sessions?" is not reported, but the review's gaps ask for dose-response parameters.
    nearest: str = ""


@dataclass(frozen=True)
class NearTerm:
    """A term that sounds like a review concept but is not the same thing."""

    terms: tuple[str, ...]
    nearest: str  # a biologic id, biologic.aspect, scenario.ID or a topic id
    note: str


@dataclass(frozen=True)
class Glossary:
    """Word-level mapping of another way of writing (chat shorthand, Indonesian) to English."""

    language: str
    reply_note: str
    phrases: dict[str, str]
    words: dict[str, str]
    drop: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Vocabulary:
    followup: tuple[str, ...]
    compare: tuple[str, ...]
    selection: tuple[str, ...]
    reference: tuple[str, ...]
    references_list: tuple[str, ...]
    about: tuple[str, ...]
    fillers: tuple[str, ...]
    generic: tuple[str, ...]
    compare_needs_two: tuple[str, ...] = ()
    full_table: tuple[str, ...] = ()
    not_covered: tuple[OutsideTopic, ...] = ()
    near_terms: tuple[NearTerm, ...] = ()
    chat: dict[str, tuple[str, ...]] = field(default_factory=dict)
    more: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    quotes: tuple[str, ...] = ()
    ordinals: dict[str, int] = field(default_factory=dict)
    personal: tuple[str, ...] = ()
    qualifiers: tuple[str, ...] = ()
    idioms: tuple[str, ...] = ()  # everyday phrases whose words are not topics ("on the other hand")
    clinical: tuple[str, ...] = ()
    shorthand: Glossary = field(default_factory=lambda: Glossary("", "", {}, {}))
    refusal: Refusal | None = None


@dataclass(frozen=True)
class Refusal:
    """Turning down material from another person ("doesn't want anything from a donor",
    "rather not have someone else's cells") names a scenario however it is phrased: a
    negation followed closely by a word for another person."""

    scenario: str
    negations: tuple[str, ...]
    others: tuple[str, ...]
    within: int = 6  # tokens from the negation to the other person


@dataclass(frozen=True)
class Learnt:
    """A phrasing a maintainer taught for one answer (knowledge/learnt.yaml).

    It joins the examples of the aspect, scenario or topic behind that answer, so it is
    matched, checked for collisions and counted as known words like any authored example;
    ``biologics`` keeps a one-biologic answer's subject for a phrasing that names none.
    """

    phrase: str
    answer: str
    kind: str  # aspect | scenario | topic
    ident: str
    biologics: tuple[str, ...] = ()
    by: str = ""
    on: str = ""


@dataclass(frozen=True)
class Knowledge:
    version: str
    review: Review
    references: dict[int, Reference]
    biologics: dict[str, Biologic]
    aspects: dict[str, Aspect]
    overview: Overview
    comparison: Comparison
    scenarios: dict[str, Scenario]
    topics: dict[str, Topic]
    vocabulary: Vocabulary
    messages: dict[str, str]
    languages: tuple[Glossary, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)
    learnt: tuple[Learnt, ...] = ()

    @property
    def quiz(self):
        return self.extra["quiz"]

    def message(self, key: str, **values: object) -> str:
        return self.messages[key].format(**values)
