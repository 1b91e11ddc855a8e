"""What matching knows of the knowledge base, built once at start-up: the lexicon, the
sections' texts, the example phrasings (indexed by word), the references' titles.

Everything here is read-only after construction; a question is matched against it
without changing it, so one World serves every chat at once.
"""

from __future__ import annotations

import math
from collections.abc import Set

from bot.core import tuning
from bot.core.knowledge import Knowledge
from bot.core.lexicon import CONTENT_KINDS, PLACEHOLDER, Extraction, Lexicon
from bot.core.matching.types import Slots
from bot.core.normalise import normalise, stem
from bot.core.sections import Sections
from bot.core.translate import Translator


class World:
    def __init__(self, kb: Knowledge) -> None:
        self.kb = kb
        self.lexicon = Lexicon(kb)
        self.sections = Sections(kb)
        self.translator = Translator(kb.vocabulary.shorthand, kb.languages, self.lexicon.known)
        self.all_biologics = tuple(kb.comparison.hierarchy)
        self.phrases: list[str] = []
        self.phrase_targets: list[tuple[str, str]] = []  # (kind, id)
        # Inverted index word -> example numbers, so each question is compared only with
        # the examples that share a content word with it: the cost follows the overlap,
        # not the size of the knowledge base.
        self.postings: dict[str, list[int]] = {}
        # A phrasing taught for one biologic's answer (learnt phrasings) answers that
        # biologic when neither the question nor the conversation names one.
        self._pins = {(t.kind, t.ident, t.phrase): t.biologics for t in kb.learnt if t.biologics}
        self.pinned: dict[int, tuple[str, ...]] = {}
        for aspect in kb.aspects.values():
            self._index_examples("aspect", aspect.id, aspect.examples)
        for scenario in kb.scenarios.values():
            self._index_examples("scenario", scenario.id, scenario.examples)
        for topic in kb.topics.values():
            self._index_examples("topic", topic.id, topic.examples)
        self.conjunctions = frozenset({"and", "plus", "also", "then", "aswell", "both"})
        self._ref_stems = {number: frozenset(self._title_stems(ref.title)) for number, ref in kb.references.items()}
        titles = list(self._ref_stems.values())
        self._title_idf = {
            s: math.log(1 + len(titles) / sum(s in t for t in titles)) for s in frozenset().union(*titles)
        }

    def _title_stems(self, text: str) -> set[str]:
        return {stem(t) for t in normalise(text).tokens if t not in self.lexicon.generic}

    def _index_examples(self, kind: str, ident: str, examples: tuple[str, ...]) -> None:
        for example in examples:
            canonical = self.lexicon.extract(normalise(example.replace("{b}", "PRP"))).canonical()
            number = len(self.phrases)
            if (kind, ident, example) in self._pins:
                self.pinned[number] = self._pins[(kind, ident, example)]
            self.phrases.append(canonical)
            self.phrase_targets.append((kind, ident))
            for word in set(canonical.split()) - self.lexicon.generic - {PLACEHOLDER}:
                self.postings.setdefault(word, []).append(number)

    def scenario_slots(self, scenario: str) -> Slots:
        """A scenario's slots carry its recommended biologics, for follow-ups."""
        return Slots(self.kb.scenarios[scenario].choice, scenario=scenario)

    def described_references(self, ex: Extraction, overlap_stems: Set[str]) -> list[int]:
        """The references whose titles share the most telling words with the question
        ("ref for the adipose-derived secretome study" is Zare's, not any title saying
        "derived"): words are weighed by how few titles use them."""
        asked = {s for t, s in zip(ex.tokens, ex.stems, strict=True) if t not in self.lexicon.generic}
        telling = asked - self.sections.common
        # A biologic named in the question must be the paper's subject too.
        named = [stem(b) for b in dict.fromkeys(h.value for h in ex.of("bio"))]
        weights: dict[int, float] = {}
        for number, stems in self._ref_stems.items():
            if any(b not in self.sections.by_key[f"ref.{number}"].stems for b in named):
                continue
            if sum(self.sections.weight(s) for s in stems & telling) >= tuning.MIN_SECTION_OVERLAP:
                weights[number] = sum(self._title_idf[s] for s in stems & asked)
        best = max(weights.values(), default=0.0)
        chosen = [n for n, w in weights.items() if w >= best - 1e-9]
        return chosen if len(chosen) == 1 else []  # a biologic's name alone names no one paper

    def in_domain(self, ex: Extraction) -> bool:
        """Does the question name anything of the review: a biologic, an aspect, scenario or
        topic cue, a reference, or words the review's own claims use?"""
        if any(h.kind in CONTENT_KINDS and not h.generic_only for h in ex.hits):
            return True
        stems = {ex.stems[p] for p in ex.domain}
        return sum(self.sections.weight(s) for s in stems if self.sections.index.get(s)) >= tuning.MIN_SECTION_OVERLAP
