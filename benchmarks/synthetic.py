"""Grow the knowledge base synthetically (clearly marked) to see how matching cost scales.

Extra intents come half from synthetic biologics (each adds one intent per aspect plus an
overview) and half from synthetic topics (one intent each, with their own cue words and
example phrasings). Names are pronounceable pseudo-words so that spelling correction and
phrase matching do realistic work. Nothing here is medical content; every id starts with
"syn".
"""

from __future__ import annotations

import random
from dataclasses import replace

from bot.core.knowledge import Biologic, Claim, Cue, Knowledge, Parameter, Topic

SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "su",
    "ta",
    "vo",
    "ri",
    "de",
    "ba",
    "zu",
    "ro",
    "pe",
    "li",
    "go",
    "fa",
    "xe",
    "qui",
    "dra",
    "ston",
    "vel",
    "mar",
    "tor",
    "lin",
    "sep",
    "cor",
    "dan",
    "bel",
]


def base_intents(kb: Knowledge) -> int:
    return len(kb.biologics) * (len(kb.aspects) + 1) + len(kb.aspects) + 1 + len(kb.scenarios) + len(kb.topics) + 3


def _word(rng: random.Random, used: set[str]) -> str:
    while True:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(3, 4)))
        if word not in used:
            used.add(word)
            return word


def grow(kb: Knowledge, factor: int, seed: int = 7) -> Knowledge:
    if factor <= 1:
        return kb
    rng = random.Random(seed)
    used: set[str] = set()
    extra = (factor - 1) * base_intents(kb)
    n_bios = extra // 2 // (len(kb.aspects) + 1)
    n_topics = extra - n_bios * (len(kb.aspects) + 1)
    template = kb.biologics["prp"]
    biologics = dict(kb.biologics)
    for i in range(n_bios):
        name = _word(rng, used)
        claims = {
            a: tuple(Claim(f"Synthetic {name} statement about {a}.", c.refs) for c in cs)
            for a, cs in template.aspects.items()
        }
        biologics[f"syn{i}"] = Biologic(
            f"syn{i}",
            f"Synthetic {name}",
            name.capitalize(),
            (name, f"{name}ine", f"{name} {_word(rng, used)}"),
            template.evidence,
            claims,
        )
    parameters = tuple(
        Parameter(p.aspect, p.label, {**p.cells, **{b: p.cells["prp"] for b in biologics if b.startswith("syn")}})
        for p in kb.comparison.parameters
    )
    # "Compare all three" stays the three real biologics: a 3,000-column table is no answer.
    comparison = replace(kb.comparison, parameters=parameters)
    topics = dict(kb.topics)
    for i in range(n_topics):
        words = [_word(rng, used) for _ in range(3)]
        topics[f"syn.topic{i}"] = Topic(
            id=f"syn.topic{i}",
            title=f"Synthetic topic {words[0]}",
            cues=(Cue(words[0]), Cue(f"{words[1]} {words[2]}")),
            examples=(f"what about {words[0]} {words[1]}", f"explain {words[2]}"),
            claims=(Claim(f"Synthetic claim on {words[0]}.", (1,)),),
        )
    return replace(kb, biologics=biologics, comparison=comparison, topics=topics, extra=dict(kb.extra))
