"""Slot extraction: which biologics, aspects, scenarios, topics and references a question names.

Built once from the knowledge base. Per question it (1) corrects misspelt words against
the knowledge base's own vocabulary with rapidfuzz, (2) finds biologic mentions and
replaces each by "it", so "how does PRP work" and "how does it work" share one cue, and
(3) finds cue phrases, longest first. Words that match nothing are kept as evidence
that the question may be about something the knowledge base does not cover.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.core import tuning
from bot.core.knowledge import Cue, Knowledge
from bot.core.normalise import Normalised, phrase_tokens, stem

PLACEHOLDER = "it"
# Pronouns read as the placeholder: "do they work" and "does PRP work" share cues.
PRONOUNS = {"they": PLACEHOLDER, "them": PLACEHOLDER, "these": PLACEHOLDER, "those": PLACEHOLDER}
# Kinds of hit that only shape a question ("which", "what about"): leaving one unused
# costs little.
FUNCTION_KINDS = frozenset({"followup", "selection"})


@dataclass(frozen=True)
class Concept:
    kind: str  # bio, aspect, overview, scenario, topic, author, or a vocabulary list name
    value: str
    weight: float = 1.0


@dataclass(frozen=True)
class Hit:
    """A concept found in the question, over token positions [start, end)."""

    concept: Concept
    start: int
    end: int
    strength: float  # 1.0 for an exact match, lower when spelling was corrected
    generic_only: bool  # every word of the phrase is a generic word ("what is")

    @property
    def kind(self) -> str:
        return self.concept.kind

    @property
    def value(self) -> str:
        return self.concept.value


@dataclass(frozen=True)
class Extraction:
    tokens: tuple[str, ...]  # after spelling correction
    hits: tuple[Hit, ...]
    domain: tuple[int, ...]  # positions of known words that no cue phrase matched
    unknown: tuple[int, ...]  # positions of words the knowledge base has never seen
    outside: tuple[int, ...]  # positions of words naming something not covered ("hair")
    numbers: tuple[tuple[int, int], ...]  # (position, value)

    def of(self, kind: str) -> list[Hit]:
        return [h for h in self.hits if h.kind == kind]

    def canonical(self) -> str:
        """The question with biologic mentions folded to "it", for phrase matching."""
        out: list[str] = []
        bio_spans = {(h.start, h.end) for h in self.hits if h.kind == "bio"}
        i = 0
        while i < len(self.tokens):
            span = next((s for s in bio_spans if s[0] == i), None)
            if span:
                out.append(PLACEHOLDER)
                i = span[1]
            else:
                out.append(self.tokens[i])
                i += 1
        return " ".join(out)


class Lexicon:
    """Every cue phrase of the knowledge base, indexed for longest-match lookup."""

    def __init__(self, kb: Knowledge) -> None:
        self.kb = kb
        self.not_covered = frozenset(t for w in kb.vocabulary.not_covered for t in phrase_tokens(w))
        self.fillers = frozenset(t for w in kb.vocabulary.fillers for t in phrase_tokens(w))
        self.generic = frozenset(t for w in kb.vocabulary.generic for t in phrase_tokens(w)) | self.fillers
        self.bio_phrases: dict[tuple[str, ...], Concept] = {}
        self.cue_tokens: set[str] = set()
        self.phrases: dict[tuple[str, ...], list[Concept]] = {}
        for bio in kb.biologics.values():
            for name in (bio.id, bio.short, *bio.synonyms):
                self.bio_phrases.setdefault(phrase_tokens(name), Concept("bio", bio.id))
        for aspect in kb.aspects.values():
            self._add_cues("aspect", aspect.id, aspect.cues)
        self._add_cues("overview", "", kb.overview.cues)
        for scenario in kb.scenarios.values():
            self._add_cues("scenario", scenario.id, scenario.cues)
        for topic in kb.topics.values():
            self._add_cues("topic", topic.id, topic.cues)
        vocab = kb.vocabulary
        for kind in ("followup", "compare", "selection", "reference", "references_list", "about"):
            self._add_cues(kind, "", tuple(Cue(p) for p in getattr(vocab, kind)))
        for ref in kb.references.values():
            surname = ref.first_author.casefold()
            if len(surname) >= 4:  # "Li" and "Lee" would collide with ordinary words
                self._add(phrase_tokens(surname), Concept("author", str(ref.id), 0.9))
        self.max_n = max(len(k) for k in (*self.phrases, *self.bio_phrases))

        words = set(self.generic) | set(self.not_covered) | self.cue_tokens
        for key in self.bio_phrases:
            words.update(key)
        words.discard(PLACEHOLDER)
        self.cue_words = frozenset(words - self.generic)
        self.domain = frozenset(content_words(kb)) - words
        self.known = frozenset(words | self.domain)
        self._stem_words: dict[str, str] = {}
        for word in sorted(self.known, key=lambda w: (len(w), w)):
            self._stem_words.setdefault(stem(word), word)
        # Fuzzy targets grouped by length: a word can only reach the cutoff against words of
        # similar length, so each correction scans a slice of the vocabulary, not all of it.
        self._targets_by_length: dict[int, list[str]] = {}
        for word in sorted(w for w in (self.cue_words | self.domain) if len(w) >= 4 and not w.isdigit()):
            self._targets_by_length.setdefault(len(word), []).append(word)
        self._correct = lru_cache(maxsize=4096)(self._correct_uncached)

    def _add_cues(self, kind: str, value: str, cues: tuple[Cue, ...]) -> None:
        for cue in cues:
            self._add(phrase_tokens(cue.phrase), Concept(kind, value, cue.weight))

    def _add(self, key: tuple[str, ...], concept: Concept) -> None:
        self.cue_tokens.update(key)  # the words as written: the spelling vocabulary
        key = tuple(PRONOUNS.get(t) or stem(t) for t in key)  # the match key: every form
        if key:
            bucket = self.phrases.setdefault(key, [])
            if concept not in bucket:
                bucket.append(concept)

    def clear_cache(self) -> None:
        self._correct.cache_clear()

    def correct(self, token: str) -> tuple[str, float]:
        """The known word ``token`` most likely means, and how sure (1.0 exact; 0 unknown)."""
        return self._correct(token)

    def _correct_uncached(self, token: str) -> tuple[str, float]:
        if token in self.known or token.isdigit():
            return token, 1.0
        if token.endswith("s") and token[:-1] in self.known:
            return token[:-1], 1.0
        if stem(token) in self._stem_words:
            return self._stem_words[stem(token)], 1.0  # another form of a known word
        if len(token) < tuning.FUZZY_MIN_LENGTH:
            return token, 0.0
        cutoff = tuning.FUZZY_CUTOFF_SHORT if len(token) <= 6 else tuning.FUZZY_CUTOFF_LONG
        c = cutoff / 100
        # Indel ratio 2*matches/(len1+len2) >= c bounds the other word's length.
        lo, hi = math.ceil(len(token) * c / (2 - c)), math.floor(len(token) * (2 - c) / c)
        targets = [w for n in range(lo, hi + 1) for w in self._targets_by_length.get(n, ())]
        found = process.extractOne(token, targets, scorer=fuzz.ratio, score_cutoff=cutoff)
        if found is None:
            return token, 0.0
        return found[0], found[1] / 100.0

    def extract(self, question: Normalised) -> Extraction:
        corrected = [self.correct(t) for t in question.tokens]
        tokens = tuple(t for t, _ in corrected)
        strength = [s if s > 0 else 1.0 for _, s in corrected]
        unknown_flags = [s == 0.0 for _, s in corrected]
        hits: list[Hit] = []

        # Pass 1: biologic names, folded to one placeholder each.
        folded: list[tuple[str, int, int]] = []  # (token, start, end) in original positions
        i = 0
        while i < len(tokens):
            for n in range(min(self.max_n, len(tokens) - i), 0, -1):
                concept = self.bio_phrases.get(tokens[i : i + n])
                if concept:
                    hits.append(Hit(concept, i, i + n, min(strength[i : i + n]), False))
                    folded.append((PLACEHOLDER, i, i + n))
                    i += n
                    break
            else:
                if tokens[i] not in self.fillers:
                    folded.append((PRONOUNS.get(tokens[i]) or stem(tokens[i]), i, i + 1))
                i += 1

        # Pass 2: cue phrases over the folded sequence, longest match first.
        j = 0
        while j < len(folded):
            for n in range(min(self.max_n, len(folded) - j), 0, -1):
                window = folded[j : j + n]
                key = tuple(w[0] for w in window)
                concepts = self.phrases.get(key)
                if not concepts:
                    continue
                start, end = window[0][1], window[-1][2]
                words = [tokens[p] for p in range(start, end) if not _is_bio(hits, p)]
                if not words:
                    continue  # a biologic's own placeholder is not a follow-up "it"
                generic_only = all(w in self.generic for w in words)
                s = min(strength[start:end])
                hits.extend(Hit(c, start, end, s, generic_only) for c in concepts)
                j += n
                break
            else:
                j += 1

        covered = {p for h in hits for p in range(h.start, h.end)}
        domain, unknown, outside, numbers = [], [], [], []
        for p, tok in enumerate(tokens):
            if tok.isdigit():
                numbers.append((p, int(tok[:6])))
            if p in covered or tok in self.generic:
                continue
            if question.tokens[p] in self.not_covered or tok in self.not_covered:
                outside.append(p)
                continue
            if unknown_flags[p]:
                unknown.append(p)
            elif tok in self.known:
                domain.append(p)
            else:
                unknown.append(p)
        return Extraction(tokens, tuple(hits), tuple(domain), tuple(unknown), tuple(outside), tuple(numbers))


def _is_bio(hits: list[Hit], position: int) -> bool:
    return any(h.kind == "bio" and h.start <= position < h.end for h in hits)


def content_words(kb: Knowledge) -> set[str]:
    """Words the knowledge base uses in its content: a question using them is on topic."""
    texts: list[str] = [kb.comparison.title, kb.comparison.hierarchy_claim.text]
    for bio in kb.biologics.values():
        texts += [bio.name, bio.evidence.label]
        texts += [c.text for claims in bio.aspects.values() for c in claims]
    for aspect in kb.aspects.values():
        texts += [aspect.label, *(e.replace("{b}", "") for e in aspect.examples)]
    for param in kb.comparison.parameters:
        texts += [param.label, *(c.text for c in param.cells.values())]
    for scenario in kb.scenarios.values():
        texts += [scenario.label, scenario.rationale.text, *scenario.examples]
    for topic in kb.topics.values():
        texts += [topic.title, *topic.examples, *(c.text for c in topic.claims)]
    return {t for text in texts for t in phrase_tokens(text)}
