"""Turn whatever a user typed into comparable tokens.

Clinicians type on phones: curly quotes, Greek letters (TGF-β), accents, emoji, stray
punctuation, British or American spelling, and sometimes whole pasted notes with the
question at the end. Everything downstream works on the tokens produced here, so this is
the only place that has to know about unicode and spelling variants.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

# Bounds keep the per-message cost flat. A long message keeps its head (where a terse
# question is) and its tail (where a rambling one puts the question).
MAX_CHARS = 4000
HEAD_TOKENS = 40
TAIL_TOKENS = 80
MAX_TOKENS = HEAD_TOKENS + TAIL_TOKENS

_GREEK = {
    "α": " alpha ",
    "β": " beta ",
    "γ": " gamma ",
    "δ": " delta ",
    "κ": " kappa ",
    "µ": " micro ",
    "μ": " micro ",
}
_GREEK_TABLE = str.maketrans(_GREEK)
_TOKEN = re.compile(r"[a-z0-9]+")
_VOWEL = re.compile(r"[aeiouy]")
_APOSTROPHE_S = re.compile(r"(\w)['’]s\b")
_CONTRACTION = re.compile(r"(\w)['’](\w)")  # I'm -> im, don't -> dont, wasn't -> wasnt
# A sentence ends at . ! ? or a line break; "?" marks the sentence a question.
_SENTENCE = re.compile(r"[^.!?\n]+[.!?\n]*")

# British and American spellings of one word must meet. The Snowball stemmer does not
# fold them ("randomised" -> "randomis", "randomized" -> "random"), so the common
# variant endings are folded first, identically for questions and knowledge-base text.
_SPELLING = (
    (re.compile(r"(?<=\w{3})is(e|ed|es|ing|er|ers|ation|ations)$"), r"iz\1"),  # randomised
    (re.compile(r"(?<=\w{2})(?<=[^aeiou]|i)our(s|ed|ing)?$"), r"or\1"),  # colour, tumour, behaviour
    (re.compile(r"^(h|an|p)ae"), r"\1e"),  # haemorrhage, anaesthesia, paediatric
    (re.compile(r"^oe(?=d|s)"), "e"),  # oedema, oestrogen
    (re.compile(r"(?<=\w{2}[^aeiou])tre$"), "ter"),  # fibre, centre
)
_STEMMER = Stemmer.Stemmer("english")
# Where Snowball merges words this domain must keep apart: "biologics" (the products) and
# "biology" (how they work) share the stem "biolog"; and where it splits words that mean
# the same here: "mechanistically" asks about the mechanism ("mechanist" vs "mechan"),
# "classed as a biologic" is its classification ("class" vs "classif").
_STEM_EXCEPTIONS = {
    "biologic": "biologic",
    "biologics": "biologic",
    "biology": "biology",
    "biological": "biology",
    "mechanistic": "mechan",
    "mechanistically": "mechan",
    "classification": "class",
    "classified": "class",
    "classify": "class",
    # "differences" asks for a comparison; "different" and "differ" compare only with two
    # biologics named ("every exosome product seems different", "why does secretome differ
    # from one product to another"), so they must not share a stem.
    "different": "different",
    "differently": "different",
    "difference": "difference",
    "differences": "difference",
}


@dataclass(frozen=True)
class Normalised:
    """A question reduced to lower-case ASCII tokens, with its sentence structure."""

    original: str
    text: str
    tokens: tuple[str, ...]
    # Sentence number of each token, and the sentences that ask something: in a long
    # message those carry the question, the rest is background.
    sentence: tuple[int, ...] = ()
    asking: frozenset[int] = frozenset()

    def asking_words(self) -> tuple[bool, ...]:
        """Per token: is it part of a sentence that asks something?"""
        if not self.sentence or self.sentence[0] == self.sentence[-1]:  # one sentence (numbers only grow)
            return (True,) * len(self.tokens)
        return tuple(number in self.asking for number in self.sentence)


@lru_cache(maxsize=16384)
def fold_spelling(token: str) -> str:
    if len(token) < 6:
        return token  # your, four, rise, wise: too short to be a variant ending
    for pattern, replacement in _SPELLING:
        token = pattern.sub(replacement, token)
    return token


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_GREEK_TABLE)
    text = _APOSTROPHE_S.sub(r"\1s", text)  # patient's -> patients, what's -> whats
    text = _CONTRACTION.sub(r"\1\2", text)
    text = unicodedata.normalize("NFKD", text.casefold())
    if not text.isascii():
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("+", " plus ").replace("&", " and ").replace("%", " percent ")
    return text


def normalise(raw: str) -> Normalised:
    """Normalise ``raw``; never raises, whatever the input."""
    text = _clean(raw[:MAX_CHARS])
    tokens: list[str] = []
    sentence: list[int] = []
    asking: set[int] = set()
    number = 0
    last_main = None
    for chunk in _SENTENCE.findall(text):
        for clause, background in _clauses(chunk):
            words = [fold_spelling(t) for t in _TOKEN.findall(clause)]
            if not words:
                continue
            if not background:
                last_main = number
                if "?" in chunk:
                    asking.add(number)
            tokens += words
            sentence += [number] * len(words)
            number += 1
    if not asking and last_main is not None:
        asking.add(last_main)  # no question mark: the last sentence is the request
    if len(tokens) > MAX_TOKENS:
        keep = list(range(HEAD_TOKENS)) + list(range(len(tokens) - TAIL_TOKENS, len(tokens)))
        tokens = [tokens[i] for i in keep]
        sentence = [sentence[i] for i in keep]
    return Normalised(raw, " ".join(tokens), tuple(tokens), tuple(sentence), frozenset(asking))


# A concessive clause sets the scene: in "why do exosomes come last if they are the most
# advanced?" or "although PRP is cheap, is it the best?" the question is the main clause.
# "if"/"when"/"while" are concessive only after "why" ("is PRP safe if ..." asks about the
# condition). Indonesian: padahal, walaupun, meskipun, walau.
_CONCESSIVE = re.compile(r"\b(?:although|altho|though|tho|despite|whereas|even if|padahal|walaupun|meskipun|walau)\b")
_WHY_CONTRAST = re.compile(r"\bwhy\b.*?\b(if|when|while)\b")


def _clauses(chunk: str) -> list[tuple[str, bool]]:
    """The chunk split into (clause, sets the scene only): the main clause asks."""
    found = _CONCESSIVE.search(chunk)
    start = found.start() if found else None
    if start is None:
        contrast = _WHY_CONTRAST.search(chunk)
        start = contrast.start(1) if contrast else None
    if start is None:
        return [(chunk, False)]
    if not chunk[:start].strip(" ,;:-"):  # the clause comes first: it runs to the comma
        comma = chunk.find(",", start)
        if comma < 0:
            return [(chunk, False)]
        return [(chunk[:comma], True), (chunk[comma + 1 :], False)]
    return [(chunk[:start], False), (chunk[start:], True)]


def phrase_tokens(phrase: str) -> tuple[str, ...]:
    """Tokens of a knowledge-base phrase, normalised exactly like user input."""
    return normalise(phrase).tokens


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem: "studies"/"studied"/"study" meet, so do
    "regulation"/"regulated". Cue phrases and questions are stemmed the same way, so a
    cue written in one form matches every form."""
    if word.isdigit():
        return word
    if len(word) >= 3 and word.endswith("s") and not _VOWEL.search(word[:-1]):
        word = word[:-1]  # acronyms in the plural: "MMPs", "RCTs", "GFs" (Snowball keeps them)
    return _STEM_EXCEPTIONS.get(word) or _STEMMER.stemWord(word)
