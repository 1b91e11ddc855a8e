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
    # Taught phrasings (knowledge/learnt.yaml) sit among their target's examples; they are
    # reported under learnt.yaml, and one that keeps its answer's biologics (it names none)
    # answers something else than the same words taught for another biologic.
    taught = {(item.kind, item.ident, item.phrase): item for item in kb.learnt}
    owners: list[tuple[str, str, str, str]] = []  # (file, entry, field, canonical)
    targets: list[tuple[str, str, tuple[str, ...]]] = []  # what each phrasing answers

    def add(kind: str, ident: str, file: str, i: int, example: str) -> None:
        item = taught.get((kind, ident, example))
        text = example.replace("{b}", "PRP") if kind == "aspect" else example
        if item is None:
            owners.append((file, ident, f"examples[{i}]", text))
            targets.append((kind, ident, ()))
            return
        owners.append(("learnt.yaml", f"{item.answer} ({item.phrase!r})", "phrase", text))
        names_one = bool(lexicon.extract(normalise(text)).of("bio"))
        targets.append((kind, ident, () if names_one else item.biologics))

    for aspect in kb.aspects.values():
        for i, ex in enumerate(aspect.examples):
            add("aspect", aspect.id, "aspects.yaml", i, ex)
    for scenario in kb.scenarios.values():
        for i, ex in enumerate(scenario.examples):
            add("scenario", scenario.id, "scenarios.yaml", i, ex)
    for topic in kb.topics.values():
        for i, ex in enumerate(topic.examples):
            add("topic", topic.id, "topics.yaml", i, ex)
    canon = [lexicon.extract(normalise(text)).canonical() for *_, text in owners]
    problems = []
    for i, text_i in enumerate(canon):
        close = process.extract(text_i, canon, scorer=fuzz.token_sort_ratio, score_cutoff=COLLISION_RATIO, limit=None)
        for _, _, j in sorted(close, key=lambda c: c[2]):
            if j > i and targets[i] != targets[j]:
                first, second = (j, i) if owners[j][0] == "learnt.yaml" else (i, j)  # blame the taught one
                f, entry, fld, text = owners[first]
                other = owners[second]
                problems.append(
                    Problem(
                        f, entry, fld, f"example {text!r} collides with {other[0]} {other[1]} {other[2]} {other[3]!r}"
                    )
                )
    return problems
