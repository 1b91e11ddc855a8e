"""The obvious alternatives to regenbot's matcher, given the same knowledge base.

Each baseline sees the same example phrasings (the knowledge base's examples, expanded
over every biologic name) and predicts the intent of the closest example, answering when
its score clears one threshold. The threshold is the best one for that baseline on the
evaluation set itself — a generous handicap in the baselines' favour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.knowledge import Knowledge
from bot.core.normalise import normalise


def training_examples(kb: Knowledge) -> list[tuple[str, str]]:
    """(phrase, intent) pairs built only from the knowledge base."""
    pairs: list[tuple[str, str]] = []
    names = {b.id: [b.short, b.name, *b.synonyms[:3]] for b in kb.biologics.values()}
    for aspect in kb.aspects.values():
        for template in aspect.examples:
            for bio, variants in names.items():
                for name in variants:
                    pairs.append((template.replace("{b}", name), f"{bio}.{aspect.id}"))
        label = aspect.label.lower()
        pairs += [
            (f"compare {label} of PRP, secretome and exosomes", f"compare.{aspect.id}"),
            (f"which biologic has the best {label}", f"compare.{aspect.id}"),
        ]
    for bio, variants in names.items():
        for name in variants:
            pairs += [(name, f"{bio}.overview"), (f"tell me about {name}", f"{bio}.overview")]
    pairs += [("compare PRP, secretome and exosomes", "compare.all"), ("PRP vs secretome vs exosomes", "compare.all")]
    for scenario in kb.scenarios.values():
        pairs += [(e, f"scenario.{scenario.id}") for e in scenario.examples]
    for topic in kb.topics.values():
        pairs += [(e, topic.id) for e in topic.examples]
    pairs += [(f"reference {n}", "refs.lookup") for n in kb.references]
    pairs += [("list of references", "refs.list"), ("who wrote the review", "review.about")]
    return pairs


@dataclass
class Baseline:
    name: str
    predict: Callable[[str], tuple[str, float]]  # question -> (intent, score 0-100)


def rapidfuzz_wratio(kb: Knowledge) -> Baseline:
    pairs = training_examples(kb)
    choices = [normalise(p).text for p, _ in pairs]

    def predict(question: str) -> tuple[str, float]:
        found = process.extractOne(normalise(question).text, choices, scorer=fuzz.WRatio)
        return (pairs[found[2]][1], found[1]) if found else ("", 0.0)

    return Baseline("rapidfuzz extractOne (WRatio)", predict)


def tfidf_char(kb: Knowledge) -> Baseline:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    pairs = training_examples(kb)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    matrix = vectorizer.fit_transform([normalise(p).text for p, _ in pairs])

    def predict(question: str) -> tuple[str, float]:
        sims = cosine_similarity(vectorizer.transform([normalise(question).text]), matrix)[0]
        best = int(sims.argmax())
        return pairs[best][1], float(sims[best]) * 100

    return Baseline("TF-IDF char 2-4-grams, cosine", predict)


def bm25(kb: Knowledge) -> Baseline:
    from rank_bm25 import BM25Okapi

    pairs = training_examples(kb)
    corpus = [list(normalise(p).tokens) for p, _ in pairs]
    index = BM25Okapi(corpus)
    top = max(max(index.get_scores(doc)) for doc in corpus[:50]) or 1.0

    def predict(question: str) -> tuple[str, float]:
        tokens = list(normalise(question).tokens)
        if not tokens:
            return "", 0.0
        scores = index.get_scores(tokens)
        best = int(scores.argmax())
        return pairs[best][1], min(100.0, float(scores[best]) / top * 100)

    return Baseline("BM25 (rank-bm25) over tokens", predict)
