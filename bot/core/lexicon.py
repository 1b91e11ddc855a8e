"""Slot extraction: what a question names, and what it names that the review does not cover.

Built once from the knowledge base. Per question it (1) corrects misspelt words against
the knowledge base's own vocabulary with rapidfuzz, (2) finds biologic mentions (and terms
that only sound like one, such as PRF) and replaces each biologic by "it", so "how does
PRP work" and "how does it work" share one cue, (3) finds cue phrases by their Snowball
stems, longest first, and (4) finds terms of topics the review does not discuss, matched
as written. Words that match nothing are kept: a word the review uses is evidence the
question is on topic; a word nobody knows is weak evidence either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
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
FUNCTION_KINDS = frozenset({"followup", "selection", "compare_needs_two"})
# Kinds of hit that say something about the conversation or the asker, not the topic:
# they neither help nor hurt a candidate answer.
SOCIAL_KINDS = frozenset(
    {
        "chat_greeting",
        "chat_thanks",
        "chat_identity",
        "chat_bye",
        "more",
        "sources",
        "quotes",
        "personal",
        "clinical",
        "ordinal",
        "qualifier",
    }
)
# Comparative and superlative endings, tried only when the base form is a known word.
_DEGREE_SUFFIXES = (("iest", "y"), ("ier", "y"), ("est", ""), ("est", "e"), ("er", ""), ("er", "e"))
CONTENT_KINDS = frozenset(
    {"bio", "aspect", "overview", "scenario", "topic", "about", "author", "reference", "references_list"}
)


@dataclass(frozen=True)
class Concept:
    kind: str  # bio, near, aspect, overview, scenario, topic, author, or a vocabulary list name
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
    # Copied from the concept: read in every inner loop of scoring, so a field, not a property.
    kind: str = field(init=False, compare=False)
    value: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", self.concept.kind)
        object.__setattr__(self, "value", self.concept.value)


@dataclass(frozen=True)
class Extraction:
    tokens: tuple[str, ...]  # after spelling correction
    hits: tuple[Hit, ...]
    domain: tuple[int, ...]  # positions of known words that no cue phrase matched
    unknown: tuple[int, ...]  # positions of words the knowledge base has never seen
    outside: tuple[int, ...]  # positions of terms naming something not covered ("hair")
    numbers: tuple[tuple[int, int], ...]  # (position, value)
    outside_topics: tuple[int, ...] = ()  # indexes into vocabulary.not_covered, in order found
    weights: tuple[float, ...] = ()  # how much each position counts (background sentences less)
    stems: tuple[str, ...] = ()

    def of(self, kind: str) -> list[Hit]:
        return [h for h in self.hits if h.kind == kind]

    def weight(self, position: int) -> float:
        return self.weights[position] if self.weights else 1.0

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
        vocab = kb.vocabulary
        self.fillers = frozenset(t for w in vocab.fillers for t in phrase_tokens(w))
        self.generic = frozenset(t for w in vocab.generic for t in phrase_tokens(w)) | self.fillers
        self._generic_stems = frozenset(stem(t) for t in self.generic)
        # Matched as written (not stemmed): biologic names, near terms, not-covered terms.
        self.bio_phrases: dict[tuple[str, ...], Concept] = {}
        for bio in kb.biologics.values():
            for name in (bio.id, bio.short, *bio.synonyms):
                self.bio_phrases.setdefault(phrase_tokens(name), Concept("bio", bio.id))
        for n, near in enumerate(vocab.near_terms):
            for term in near.terms:
                self.bio_phrases[phrase_tokens(term)] = Concept("near", str(n))  # a tie goes to the near term
        self.outside_phrases: dict[tuple[str, ...], int] = {}
        for n, topic in enumerate(vocab.not_covered):
            for term in topic.terms:
                self.outside_phrases.setdefault(phrase_tokens(term), n)
        self.bio_phrases = {k: v for k, v in self.bio_phrases.items() if k}
        self.outside_phrases = {k: v for k, v in self.outside_phrases.items() if k}

        self.cue_tokens: set[str] = set()
        self.single_cues: set[str] = set()  # one-word cues as written
        self.phrases: dict[tuple[str, ...], list[Concept]] = {}
        for aspect in kb.aspects.values():
            self._add_cues("aspect", aspect.id, aspect.cues)
        self._add_cues("overview", "", kb.overview.cues)
        for scenario in kb.scenarios.values():
            self._add_cues("scenario", scenario.id, scenario.cues)
        for topic in kb.topics.values():
            self._add_cues("topic", topic.id, topic.cues)
        kinds = ("followup", "compare", "compare_needs_two", "full_table", "selection", "reference", "references_list")
        kinds = (*kinds, "about")
        for kind in (*kinds, "more", "sources", "quotes"):
            self._add_cues(kind, "", tuple(Cue(p) for p in getattr(vocab, kind)))
        for kind, phrases in vocab.chat.items():
            self._add_cues(f"chat_{kind}", "", tuple(Cue(p) for p in phrases))
        self._add_cues("personal", "", tuple(Cue(p) for p in vocab.personal))
        self.refusal = vocab.refusal
        negations, others = (vocab.refusal.negations, vocab.refusal.others) if vocab.refusal else ((), ())
        self._negations = frozenset(t for w in negations for t in phrase_tokens(w))
        self._others: dict[str, list[tuple[str, ...]]] = {}  # by first word
        for words in (phrase_tokens(w) for w in others):
            if words:
                self._others.setdefault(words[0], []).append(words)
        # Known words, so spelling correction leaves them alone ("stranger" is not "stronger").
        self.cue_tokens.update(self._negations, *(w for ws in self._others.values() for w in ws))
        # Qualifiers ("according to the review") and idioms ("on the other hand") neither ask
        # nor name anything; as cues they keep their words from reading as topics ("hand").
        self._add_cues("qualifier", "", tuple(Cue(p) for p in (*vocab.qualifiers, *vocab.idioms)))
        self._add_cues("clinical", "", tuple(Cue(p) for p in vocab.clinical))
        for word, number in vocab.ordinals.items():
            self._add(phrase_tokens(word), Concept("ordinal", str(number)), spelling=False)
        for ref in kb.references.values():
            surname = ref.first_author.casefold()
            if len(surname) >= 4:  # "Li" and "Lee" would collide with ordinary words
                self._add(phrase_tokens(surname), Concept("author", str(ref.id), 0.9))
        self.max_n = max(len(k) for k in (*self.phrases, *self.bio_phrases, *self.outside_phrases))
        # Phrase lengths by first word, longest first: each position tries only the lengths of
        # phrases that can start there, so a long message costs what its words cost.
        self._bio_lengths = _lengths_by_first(self.bio_phrases)
        self._cue_lengths = _lengths_by_first(self.phrases)
        self._outside_lengths = _lengths_by_first(self.outside_phrases)

        outside_words = {t for key in self.outside_phrases for t in key}
        words = set(self.generic) | self.cue_tokens | outside_words
        for key in self.bio_phrases:
            words.update(key)
        words.discard(PLACEHOLDER)
        self.cue_words = frozenset(words - self.generic)
        self.domain = frozenset(content_words(kb)) - words
        self.known = frozenset(words | self.domain)
        # Terms of what the review does not cover are not correction targets: a real word one
        # letter away ("manufacture", "stage") must not become "manufacturer" or "storage",
        # nor another form of a word the review uses ("manufacture" is "manufacturing").
        outside_only = outside_words - self.cue_tokens - self.domain
        self._stem_words: dict[str, str] = {}
        for word in sorted(self.known, key=lambda w: (w in outside_only, len(w), w)):
            self._stem_words.setdefault(stem(word), word)
        # Fuzzy targets grouped by first letter and length: a typo keeps both (see
        # ``_correct_uncached``), so each correction scans a slice of the vocabulary, not all of it.
        self._targets: dict[tuple[str, int], list[str]] = {}
        for word in sorted(
            w for w in (self.cue_words | self.domain) - outside_only if len(w) >= 4 and not w.isdigit()
        ):
            self._targets.setdefault((word[0], len(word)), []).append(word)
        self._correct = lru_cache(maxsize=8192)(self._correct_uncached)
        self.is_generic = lru_cache(maxsize=8192)(self._is_generic)  # type: ignore[method-assign]

    def _add_cues(self, kind: str, value: str, cues: tuple[Cue, ...]) -> None:
        for cue in cues:
            self._add(phrase_tokens(cue.phrase), Concept(kind, value, cue.weight))

    def _add(self, key: tuple[str, ...], concept: Concept, *, spelling: bool = True) -> None:
        if spelling:
            self.cue_tokens.update(key)  # the words as written: the spelling vocabulary
            if len(key) == 1:
                self.single_cues.add(key[0])
        key = tuple(PRONOUNS.get(t) or stem(t) for t in key)  # the match key: every form
        if key:
            bucket = self.phrases.setdefault(key, [])
            if concept not in bucket:
                bucket.append(concept)

    def _is_generic(self, token: str) -> bool:
        """Generic words and their other forms ("wants", "asked"), unless a cue uses that form."""
        return token in self.generic or (stem(token) in self._generic_stems and token not in self.cue_words)

    def clear_cache(self) -> None:
        self._correct.cache_clear()
        self.is_generic.cache_clear()  # type: ignore[attr-defined]

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
        for suffix, replacement in _DEGREE_SUFFIXES:  # Snowball keeps "quickest", "safer"
            base = token[: -len(suffix)] + replacement
            if token.endswith(suffix) and len(base) >= 4 and base in self.known:
                return base, 1.0
        if len(token) < tuning.FUZZY_MIN_LENGTH:
            return token, 0.0
        cutoff = tuning.FUZZY_CUTOFF_SHORT if len(token) <= 6 else tuning.FUZZY_CUTOFF_LONG
        c = cutoff / 100
        # Indel ratio 2*matches/(len1+len2) >= c bounds the other word's length.
        lo, hi = math.ceil(len(token) * c / (2 - c)), math.floor(len(token) * (2 - c) / c)
        # A typo keeps the first letter and about the length ("exosmes", "mechansim"); a word
        # that differs there is another word ("signs" is not "designs").
        slack = 1 if len(token) <= 6 else 2
        lo, hi = max(lo, len(token) - slack), min(hi, len(token) + slack)
        targets = [w for n in range(lo, hi + 1) for w in self._targets.get((token[0], n), ())]
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

        # Pass 1: biologic names (and near terms), folded to one placeholder each.
        folded: list[tuple[str, int, int]] = []  # (token, start, end) in original positions
        i = 0
        while i < len(tokens):
            for n in self._bio_lengths.get(tokens[i], ()):
                concept = self.bio_phrases.get(tokens[i : i + n]) if i + n <= len(tokens) else None
                if concept:
                    hits.append(Hit(concept, i, i + n, min(strength[i : i + n]), False))
                    folded.append((PLACEHOLDER if concept.kind == "bio" else "\0", i, i + n))
                    i += n
                    break
            else:
                if tokens[i] not in self.fillers:
                    folded.append((PRONOUNS.get(tokens[i]) or stem(tokens[i]), i, i + 1))
                i += 1

        # Pass 2: cue phrases over the folded sequence, longest match first.
        named_at = {p for h in hits for p in range(h.start, h.end)}  # pass 1 found only names
        j = 0
        while j < len(folded):
            for n in self._cue_lengths.get(folded[j][0], ()):
                if j + n > len(folded):
                    continue
                window = folded[j : j + n]
                key = tuple(w[0] for w in window)
                concepts = self.phrases.get(key)
                if not concepts:
                    continue
                start, end = window[0][1], window[-1][2]
                words = [tokens[p] for p in range(start, end) if p not in named_at]
                if not words:
                    continue  # a biologic's own placeholder is not a follow-up "it"
                generic_only = all(self.is_generic(w) for w in words)
                s = min(strength[start:end])
                hits.extend(Hit(c, start, end, s, generic_only) for c in concepts)
                j += n
                break
            else:
                j += 1

        hits += self._refusals(tokens, hits)

        # Pass 3: terms of topics the review does not cover, matched as written, with the
        # biologics' names skipped ("how many PRP sessions" is "how many sessions"). Such a
        # term wins over a cue it overlaps unless the cue is longer ("dose response" is a cue
        # of the review's gaps; "dose" alone is not covered).
        # A term written with "it" also matches the biologic in its place ("how long does
        # PRP last" is "how long does it last"), tried when skipping finds nothing.
        bio_spans = sorted((h.start, h.end) for h in hits if h.kind == "bio")
        bio_at = {q for start, end in bio_spans for q in range(start, end)}
        skipped = [q for q in range(len(tokens)) if q not in bio_at]
        views = [(skipped, tuple(tokens[q] for q in skipped), tuple(question.tokens[q] for q in skipped))]
        if bio_spans:
            keep = [q for q in range(len(tokens)) if q not in bio_at or any(q == s for s, _ in bio_spans)]
            said = tuple("it" if q in bio_at else tokens[q] for q in keep)
            views.append((keep, said, tuple("it" if q in bio_at else question.tokens[q] for q in keep)))
        outside: list[int] = []
        topics: list[int] = []
        for keep, seen, written in views:
            hits = self._outside(hits, keep, seen, written, outside, topics)
            if topics:
                break

        covered = {q for h in hits for q in range(h.start, h.end)} | set(outside)
        domain, unknown, numbers = [], [], []
        for q, tok in enumerate(tokens):
            if tok.isdigit():
                numbers.append((q, int(tok[:6])))
            if q in covered or self.is_generic(tok):
                continue
            if unknown_flags[q]:
                unknown.append(q)
            elif tok in self.known:
                domain.append(q)
            else:
                unknown.append(q)
        weights = tuple(1.0 if asks else tuning.BACKGROUND_WEIGHT for asks in question.asking_words())
        return Extraction(
            tokens,
            tuple(hits),
            tuple(domain),
            tuple(unknown),
            tuple(outside),
            tuple(numbers),
            tuple(topics),
            weights,
            tuple(stem(t) for t in tokens),
        )

    def _refusals(self, tokens: tuple[str, ...], hits: list[Hit]) -> list[Hit]:
        """A scenario hit for "no ... donor" / "rather not ... someone else's cells" (see
        vocabulary.yaml, refusal), unless a cue of that scenario already covers it."""
        refusal = self.refusal
        if refusal is None:
            return []
        negated = [i for i, t in enumerate(tokens) if t in self._negations]
        if not negated:  # most questions: nothing to scan
            return []
        concept = Concept("scenario", refusal.scenario, 1.0)
        found: list[Hit] = []
        for i, token in enumerate(tokens):
            for other in self._others.get(token, ()):
                end = i + len(other)
                if tokens[i:end] != other or not any(0 < i - n <= refusal.within for n in negated):
                    continue
                if not any(h.concept == concept and h.start <= i < h.end for h in hits + found):
                    found.append(Hit(concept, i, end, 1.0, False))
        return found

    def _outside(
        self,
        hits: list[Hit],
        keep: list[int],
        seen: tuple[str, ...],
        written: tuple[str, ...],
        outside: list[int],
        topics: list[int],
    ) -> list[Hit]:
        """Not-covered terms over one view of the question (positions ``keep``): fills
        ``outside`` and ``topics``, returns the hits a longer-or-equal term replaced."""
        bio_at = {q for h in hits if h.kind == "bio" for q in range(h.start, h.end)}
        i = 0
        while i < len(keep):
            lengths = self._outside_lengths.get(seen[i], ())
            if seen[i] != written[i] and written[i] in self._outside_lengths:
                lengths = sorted({*lengths, *self._outside_lengths[written[i]]}, reverse=True)
            for n in lengths:  # longest first
                if i + n > len(keep):
                    continue
                topic = self.outside_phrases.get(seen[i : i + n])
                if topic is None:
                    topic = self.outside_phrases.get(written[i : i + n])
                if topic is None:
                    continue
                where = [q for q in keep[i : i + n] if q not in bio_at]
                overlapping = [h for h in hits if h.kind != "bio" and h.start <= where[-1] and where[0] < h.end]
                if any(h.end - h.start > n for h in overlapping):
                    continue
                hits = [h for h in hits if h not in overlapping]
                outside.extend(where)
                if topic not in topics:
                    topics.append(topic)
                i += n
                break
            else:
                i += 1
        return hits


def _lengths_by_first(phrases: dict[tuple[str, ...], object]) -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = {}
    for key in phrases:
        lengths.setdefault(key[0], set()).add(len(key))
    return {first: tuple(sorted(ns, reverse=True)) for first, ns in lengths.items()}


def content_words(kb: Knowledge) -> set[str]:
    """Words the knowledge base uses in its content: a question using them is on topic."""
    from bot.core.sections import knowledge_texts

    return {t for text in knowledge_texts(kb) for t in phrase_tokens(text)}
