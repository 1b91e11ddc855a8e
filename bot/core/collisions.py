"""Catch example phrasings that say the same thing for two different intents.

Two intents sharing an example would make the phrase matcher's choice between them
arbitrary; `regenbot kb check` reports such pairs so a maintainer rewrites one.
"""

from __future__ import annotations

from rapidfuzz import fuzz, process

from bot.core.knowledge import Knowledge
from bot.core.lexicon import Lexicon
from bot.core.normalise import normalise

# token_sort_ratio at or above which two examples of different intents collide.
COLLISION_RATIO = 95.0


def example_collisions(kb: Knowledge) -> list:
    from bot.core.loader import Problem  # the loader imports this module lazily

    lexicon = Lexicon(kb)
    owners: list[tuple[str, str, str, str]] = []  # (file, entry, field, canonical)
    for aspect in kb.aspects.values():
        for i, ex in enumerate(aspect.examples):
            owners.append(("aspects.yaml", aspect.id, f"examples[{i}]", ex.replace("{b}", "PRP")))
    for scenario in kb.scenarios.values():
        for i, ex in enumerate(scenario.examples):
            owners.append(("scenarios.yaml", scenario.id, f"examples[{i}]", ex))
    for topic in kb.topics.values():
        for i, ex in enumerate(topic.examples):
            owners.append(("topics.yaml", topic.id, f"examples[{i}]", ex))
    canon = [lexicon.extract(normalise(text)).canonical() for *_, text in owners]
    problems = []
    for i, text_i in enumerate(canon):
        close = process.extract(text_i, canon, scorer=fuzz.token_sort_ratio, score_cutoff=COLLISION_RATIO, limit=None)
        for _, _, j in sorted(close, key=lambda c: c[2]):
            if j > i and (owners[i][0], owners[i][1]) != (owners[j][0], owners[j][1]):
                f, entry, fld, text = owners[i]
                other = owners[j]
                problems.append(
                    Problem(
                        f, entry, fld, f"example {text!r} collides with {other[0]} {other[1]} {other[2]} {other[3]!r}"
                    )
                )
    return problems
