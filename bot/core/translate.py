"""Map chat shorthand and Indonesian words onto the English words the matcher knows.

Clinicians write "pt w dark circles", "GFs in PRP?", "PRP aman gak?" or "bedanya secretome
sama exosome apa dok". None of that is medical content to translate; it is wording. So
the mapping is word-level and comes from data (``vocabulary.yaml``'s ``shorthand`` and
``indonesian.yaml``), and the answer stays in the review's English. Indonesian words that
are not listed are tried in their root form with PySastrawi's stemmer, the standard
Indonesian stemmer, rather than with hand-written affix rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from bot.core.knowledge import Glossary
from bot.core.normalise import Normalised, phrase_tokens


@lru_cache(maxsize=1)
def _sastrawi():  # built lazily: most questions are English and never need it
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=8192)
def indonesian_root(word: str) -> str:
    return _sastrawi().stem(word)


@dataclass(frozen=True)
class _Table:
    """One glossary with its phrases tokenised exactly like user input."""

    glossary: Glossary
    phrases: dict[tuple[str, ...], tuple[str, ...]]
    words: dict[str, tuple[str, ...]]
    drop: frozenset[str]
    markers: frozenset[str]
    longest: int
    vocabulary: frozenset[str]  # every word the table rewrites or drops, as written

    @classmethod
    def build(cls, glossary: Glossary) -> _Table:
        phrases = {phrase_tokens(k): phrase_tokens(v) for k, v in glossary.phrases.items()}
        words = {}
        for key, value in glossary.words.items():
            tokens = phrase_tokens(key)
            if len(tokens) == 1:
                words[tokens[0]] = phrase_tokens(value)
            else:
                phrases[tokens] = phrase_tokens(value)
        phrases = {k: v for k, v in phrases.items() if k}
        return cls(
            glossary,
            phrases,
            words,
            frozenset(t for w in glossary.drop for t in phrase_tokens(w)),
            frozenset(t for w in glossary.markers for t in phrase_tokens(w)),
            max((len(k) for k in phrases), default=1),
            frozenset(words) | {k[0] for k in phrases} | {t for w in glossary.drop for t in phrase_tokens(w)},
        )

    def touches(self, tokens: tuple[str, ...]) -> bool:
        """Could this table change any of ``tokens``? Most questions: no, and nothing to do."""
        return any(t in self.vocabulary or _clitic_free(self, t) != t for t in tokens)


class Translator:
    """Built once; ``translate`` is pure."""

    def __init__(self, shorthand: Glossary, languages: Iterable[Glossary], english: frozenset[str]) -> None:
        self.shorthand = _Table.build(shorthand)
        self.languages = [_Table.build(g) for g in languages]
        # Words the knowledge base knows in English are never reinterpreted: "data",
        # "laser" and "review" mean the same in both languages.
        self.english = english

    def translate(self, question: Normalised) -> tuple[Normalised, str | None]:
        """The question in the matcher's English, and the language detected (None: English)."""
        current = question
        if self.shorthand.touches(question.tokens):
            tokens, sentence = self._apply(self.shorthand, question, stem=False, drop=True)
            current = Normalised(question.original, " ".join(tokens), tokens, sentence, question.asking)
        for table in self.languages:
            hits = self._hits(table, current.tokens)
            markers = sum(t in table.markers for t in current.tokens)
            if not hits:
                continue
            indonesian = markers >= 1 or hits >= 2
            tokens, sentence = self._apply(table, current, stem=indonesian, drop=indonesian)
            current = Normalised(question.original, " ".join(tokens), tokens, sentence, question.asking)
            if indonesian and (markers + hits) >= 2:
                return current, table.glossary.language
        return current, None

    def _hits(self, table: _Table, tokens: tuple[str, ...]) -> int:
        # Different words: one word said twice ("Dr ... TL;DR") is no more evidence than once.
        count = len(
            {t for t in tokens if t not in self.english and (_clitic_free(table, t) in table.words or t in table.drop)}
        )
        for i, token in enumerate(tokens):
            if token in table.vocabulary:  # phrases start with a word of the table
                count += sum(tokens[i : i + n] in table.phrases for n in range(2, table.longest + 1))
        return count

    def _apply(
        self, table: _Table, question: Normalised, *, stem: bool, drop: bool
    ) -> tuple[tuple[str, ...], tuple[int, ...]]:
        tokens, sentence = question.tokens, question.sentence or (0,) * len(question.tokens)
        out: list[str] = []
        where: list[int] = []
        i = 0
        while i < len(tokens):
            for n in range(min(table.longest, len(tokens) - i), 1, -1):
                english = table.phrases.get(tokens[i : i + n])
                if english is not None:
                    out += english
                    where += [sentence[i]] * len(english)
                    i += n
                    break
            else:
                word = tokens[i]
                english = self._word(table, word, stem=stem, drop=drop)
                out += english
                where += [sentence[i]] * len(english)
                i += 1
        return tuple(out), tuple(where)

    def _word(self, table: _Table, word: str, *, stem: bool, drop: bool) -> tuple[str, ...]:
        if word in table.words:
            return table.words[word]
        if _clitic_free(table, word) in table.words:
            return table.words[_clitic_free(table, word)]
        if drop and word in table.drop:
            return ()
        if word in self.english:
            return (word,)
        if stem and not word.isdigit() and word not in self.english:
            root = indonesian_root(word)
            if root in table.words:
                return table.words[root]
            if root in table.drop and drop:
                return ()
        return (word,)


def _clitic_free(table: _Table, word: str) -> str:
    """"penulisnya" is "penulis" + the clitic "-nya" (its/the), read before the stemmer,
    which would cut it to the root "tulis" (write); short stems ("kenya") are left alone."""
    if word.endswith("nya") and len(word) >= 7 and word[:-3] in table.words:
        return word[:-3]
    return word
