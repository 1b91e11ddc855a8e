"""Turn whatever a user typed into comparable tokens.

Clinicians type on phones: curly quotes, Greek letters (TGF-β), accents, emoji, stray
punctuation and sometimes whole pasted notes. Everything downstream works on the token
tuple produced here, so this is the only place that has to know about unicode.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Matching looks at the start of very long input only; the rest cannot change the topic
# of a question, and bounding it keeps the per-message cost flat.
MAX_CHARS = 600
MAX_TOKENS = 48

_GREEK = {
    "α": " alpha ",
    "β": " beta ",
    "γ": " gamma ",
    "δ": " delta ",
    "κ": " kappa ",
    "µ": " micro ",
    "μ": " micro ",
}
_TOKEN = re.compile(r"[a-z0-9]+")
_APOSTROPHE_S = re.compile(r"(\w)['’]s\b")


@dataclass(frozen=True)
class Normalised:
    """A question reduced to lower-case ASCII-ish tokens."""

    original: str
    text: str
    tokens: tuple[str, ...]


def normalise(raw: str) -> Normalised:
    """Normalise ``raw``; never raises, whatever the input."""
    head = raw[:MAX_CHARS]
    text = unicodedata.normalize("NFKC", head)
    text = "".join(_GREEK.get(ch, ch) for ch in text)
    text = _APOSTROPHE_S.sub(r"\1s", text)  # patient's -> patients, what's -> whats
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("+", " plus ")
    tokens = tuple(_TOKEN.findall(text))[:MAX_TOKENS]
    return Normalised(original=raw, text=" ".join(tokens), tokens=tokens)


def phrase_tokens(phrase: str) -> tuple[str, ...]:
    """Tokens of a knowledge-base phrase, normalised exactly like user input."""
    return normalise(phrase).tokens


_SUFFIXES = (("ies", "y"), ("ied", "y"), ("ing", ""), ("est", ""), ("ed", ""), ("es", ""), ("s", ""))


def stem(word: str) -> str:
    """A deliberately light stemmer for matching cue phrases.

    "studies"/"studied"/"study", "reactions"/"reaction", "combined"/"combine",
    "quickest"/"quick" meet; a stem keeps at least four letters, so short words
    ("use", "safe", "news") are left alone. Cue phrases and questions are stemmed the
    same way, so a cue written in one form matches every form.
    """
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) + len(replacement) >= 4:
            word = word[: len(word) - len(suffix)] + replacement
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word
