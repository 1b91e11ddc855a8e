"""The form of a question: what kind of reply answers it, whatever it is about.

A why-question is answered by a reason, a ranking by the review's order and its grounds,
a request for a figure by the figure, or by "the review does not report it". These are
patterns of English question language (read after Indonesian and shorthand are
translated), not facts of the review, so they live here rather than in knowledge/.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.lexicon import Extraction
from bot.core.normalise import stem

WHY = "why"
RANK = "rank"
NUMBER = "number"
OTHER = ""

# "why", "how come", "what makes", "reason(s)", "rationale", "on what grounds"
_WHY_WORDS = frozenset({"why", "reason", "reasons", "rationale", "grounds", "justification", "justify", "explains"})
_WHY_PHRASES = (("how", "come"), ("what", "makes"), ("what", "made"), ("what", "basis"))
# Superlatives and ranking verbs that ask for an order, not a description.
RANK_WORDS = frozenset(
    {"best", "better", "top", "wins", "win", "winner", "ranking", "rank", "ranked", "rankings", "favourite",
     "favorite", "strongest", "superior", "first", "go", "ideal", "overall", "preferred", "choose", "pick",
     "recommend", "cheapest", "cheaper", "affordable", "accessible", "safest", "weakest", "worst", "least",
     "most", "leading", "mature", "sit", "sits", "middle", "position", "placed", "place",
     "hierarchy"}
)
_RANK_ASK = frozenset(
    {"which", "what", "whats", "who", "where", "overall", "rank", "ranking", "ranked", "wins", "winner"}
)
_SUPERLATIVES = frozenset(
    {"best", "worst", "strongest", "weakest", "cheapest", "safest", "least", "most", "top", "bottom", "last", "first"}
)
_BARE_FRAME = frozenset({"and", "the", "so", "then", "which", "one", "is", "whats", "what", "about", "it", "of"})
# A figure asked for: a measure, a count of something done or studied, a setting.
_MEASURES = frozenset(
    {"dose", "doses", "dosage", "dosing", "concentration", "concentrations", "volume", "ml", "cc", "mg", "mcg",
     "units", "unit", "session", "sessions", "interval", "intervals", "frequency", "percentage",
     "percent", "depth", "gauge", "setting", "settings", "energy", "fluence", "joules", "wavelength", "duration",
     "enrolled", "fold", "titre", "titer", "diameter", "nanometres", "nanometers", "nm", "microns",
     # not units of time: "back at work in 2 days" sets a scene; "how long" asks a time
     "ratio", "amount",
     "numeric", "quantify", "quantified", "statistics", "stats",
     "price", "cost", "costs", "centrifuge", "rpm"}
)
_HOW_MUCH = (("how", "many"), ("how", "much"), ("how", "often"), ("how", "long"), ("what", "percent"),
             ("what", "percentage"), ("what", "dose"), ("what", "concentration"), ("exact", "number"),
             ("by", "how"))
_QUANTITY_HEADS = frozenset({"many", "much", "often", "long", "dose", "dosage", "concentration", "percentage",
                            "percent", "number", "figure", "exact", "optimal", "ideal", "recommended", "typical"})


# Compared by stem: spelling correction may turn "concentration" into "concentrate".
_MEASURE_STEMS = frozenset(stem(w) for w in _MEASURES)
# How a figure is named in the reply: the word as the measure list spells it.
_MEASURE_NAMES = {stem(w): w for w in sorted(_MEASURES, key=len, reverse=True)}
# Words that do not name the figure asked for ("how many sessions of it should I do").
_NOT_NAMING = frozenset({"it", "is", "are", "do", "does", "of", "the", "a", "an", "for", "should", "i", "we", "you",
                         "be", "to", "on", "in", "with", "per", "did", "can", "will", "would", "there", "they"})


@dataclass(frozen=True)
class Form:
    kind: str = OTHER
    asked: str = ""  # for NUMBER: the words naming the figure ("how many sessions")

    @property
    def why(self) -> bool:
        return self.kind == WHY


def _has(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> int:
    n = len(phrase)
    return next((i for i in range(len(tokens) - n + 1) if tokens[i : i + n] == phrase), -1)


def form_of(ex: Extraction) -> Form:
    """The form of the asking sentence (a story's background sentences do not count)."""
    asking = [p for p in range(len(ex.tokens)) if ex.weight(p) == 1.0]
    tokens = tuple(ex.tokens[p] for p in asking)
    stems = tuple(ex.stems[p] for p in asking)
    words = set(tokens)
    named_things = {ex.tokens[p] for h in ex.hits if h.kind in ("bio", "near") for p in range(h.start, h.end)}
    if words & _WHY_WORDS or any(_has(tokens, p) >= 0 for p in _WHY_PHRASES):
        return Form(WHY)
    for phrase in _HOW_MUCH:
        at = _has(tokens, phrase)
        if at >= 0:
            after = tokens[at + len(phrase) : at + len(phrase) + 2]
            named = [t for t in after if t not in _NOT_NAMING and t not in named_things and t.isalpha()][:1]
            return Form(NUMBER, " ".join([*phrase, *named]))
    measured = [i for i, s in enumerate(stems) if s in _MEASURE_STEMS]
    if measured and words & (_QUANTITY_HEADS | {"what", "which", "how", "any"}):
        i = measured[0]
        head = [t for t in tokens[max(0, i - 1) : i] if t in _QUANTITY_HEADS]
        return Form(NUMBER, " ".join([*head, _MEASURE_NAMES[stems[i]]]))
    if words & RANK_WORDS and words & _RANK_ASK:
        return Form(RANK)
    if words & _SUPERLATIVES and words <= _SUPERLATIVES | _BARE_FRAME:
        return Form(RANK)  # "and the weakest?": a ranking, its subject from the conversation
    return Form(OTHER)
