"""The obvious alternatives to regenbot's matcher, given the same vocabulary.

A comparison of algorithms is only fair when every side knows the same words. So each
baseline is a nearest-phrasing classifier over *every* phrasing the knowledge base gives
regenbot: each aspect, overview, scenario and topic cue phrase and example crossed with
every biologic synonym, the comparison words crossed with the aspect cues, the reference,
reference-list and about phrases, the text of every claim, and — as a "decline" class —
every term of what the review does not cover and every near term (PRF, ...), crossed with
the biologic names too. Each phrasing is labelled with the answer id regenbot's composer
understands (``prp-safety``, ``cmp-evidence-prp-exosomes``, ``scn-collagen``), so a
prediction is turned into exactly the reply regenbot would send for that part of the
review, and scored by ``bot.evaluation`` like regenbot's own replies.

Questions reach a baseline after regenbot's own normalisation and its data-driven
translation of chat shorthand and Indonesian words (``knowledge/``'s glossaries): that is
vocabulary too, and the table is meant to compare the matching step, not the word lists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from bot.core.knowledge import Knowledge
from bot.core.matching import Slots
from bot.core.normalise import Normalised, normalise
from bot.pipeline import Pipeline

DECLINE = ""  # the answer id of the decline class: the baseline says "not covered"


@dataclass(frozen=True)
class Vocabulary:
    """Training phrasings (normalised text, answer id) and where each group came from."""

    phrasings: tuple[tuple[str, str], ...]
    sources: dict[str, int]  # source -> phrasings contributed (after de-duplication)

    def __len__(self) -> int:
        return len(self.phrasings)


def _names(kb: Knowledge) -> dict[str, list[str]]:
    """Every way the knowledge base names each biologic, minus near terms ("prf" is PRF,
    not PRP, for regenbot too: a tie between a synonym and a near term goes to the near term)."""
    near = {normalise(t).text for n in kb.vocabulary.near_terms for t in n.terms}
    out: dict[str, list[str]] = {}
    for bio in kb.biologics.values():
        seen: dict[str, None] = {}
        for name in (bio.short, bio.name, bio.id, *bio.synonyms):
            text = normalise(name).text
            if text and text not in near:
                seen.setdefault(text, None)
        out[bio.id] = list(seen)
    return out


def training_vocabulary(kb: Knowledge, pipeline: Pipeline | None = None) -> Vocabulary:
    """Every phrasing of the knowledge base, labelled with the answer id it should get.

    Built only from ``knowledge/``; a phrasing that two answers share keeps the first label
    (aspects first), as a nearest-neighbour classifier can hold one label per point."""
    pipeline = pipeline or Pipeline(kb)
    composer = pipeline.composer
    names = _names(kb)
    order = [b for b in kb.comparison.hierarchy if b in kb.biologics] or list(kb.biologics)
    seen: dict[str, str] = {}
    sources: Counter[str] = Counter()

    def add(source: str, texts: Iterable[str], answer_id: str) -> None:
        for raw in texts:
            text = normalise(raw).text
            if text and text not in seen:
                seen[text] = answer_id
                sources[source] += 1

    def with_names(phrase: str, bio: str) -> Iterable[str]:
        for name in names[bio]:
            yield phrase.replace("{b}", name) if "{b}" in phrase else f"{name} {phrase}"

    def aid(intent: str, slots: Slots) -> str:
        return composer.answer_id(intent, slots)

    for aspect in kb.aspects.values():
        phrases = [*aspect.examples, *(c.phrase for c in aspect.cues)]
        for bio in kb.biologics:
            answer = aid(f"{bio}.{aspect.id}", Slots((bio,), aspect.id))
            add("aspect cue/example x biologic name", (t for p in phrases for t in with_names(p, bio)), answer)
    for bio in kb.biologics:
        answer = aid(f"{bio}.overview", Slots((bio,)))
        add("biologic name alone", names[bio], answer)
        add("overview cue x biologic name", (t for c in kb.overview.cues for t in with_names(c.phrase, bio)), answer)

    compare_words = [*kb.vocabulary.compare, *kb.vocabulary.compare_needs_two]
    everyone = Slots(tuple(order))
    for aspect in kb.aspects.values():
        answer = aid(f"compare.{aspect.id}", Slots(tuple(order), aspect.id))
        phrases = [*aspect.examples, *(c.phrase for c in aspect.cues)]
        add(
            "compare word x aspect cue/example",
            (f"{w} {p.replace('{b}', '')}" for w in compare_words for p in phrases),
            answer,
        )
        for pair in combinations(order, 2):
            answer = aid(f"compare.{aspect.id}", Slots(pair, aspect.id))
            a, b = (kb.biologics[x].short for x in pair)
            add("two biologics x aspect cue/example", (f"{a} vs {b} {p.replace('{b}', '')}" for p in phrases), answer)
    add("compare word alone", compare_words, aid("compare.all", everyone))
    all_three = " ".join(kb.biologics[b].short for b in order)
    add("compare word x all biologics", (f"{w} {all_three}" for w in compare_words), aid("compare.all", everyone))
    for pair in combinations(order, 2):
        answer = aid("compare.all", Slots(pair))
        add("two biologic names", (f"{x} vs {y}" for x in names[pair[0]] for y in names[pair[1]]), answer)

    for scenario in kb.scenarios.values():
        answer = aid(f"scenario.{scenario.id}", Slots(scenario.choice, scenario=scenario.id))
        phrases = [*scenario.examples, *(c.phrase for c in scenario.cues)]
        add("scenario cue/example", phrases, answer)
        add(
            "scenario cue/example x biologic name",
            (t for p in phrases for b in kb.biologics for t in with_names(p, b)),
            answer,
        )
    for topic in kb.topics.values():
        answer = aid(topic.id, Slots(topic=topic.id))
        phrases = [*topic.examples, *(c.phrase for c in topic.cues)]
        add("topic cue/example", phrases, answer)
        add(
            "topic cue/example x biologic name",
            (t for p in phrases for b in kb.biologics for t in with_names(p, b)),
            answer,
        )

    vocab = kb.vocabulary
    for number, ref in kb.references.items():
        answer = aid("refs.lookup", Slots(ref=number))
        add(
            "reference word x number, reference title", [*(f"{w} {number}" for w in vocab.reference), ref.title], answer
        )
    add("reference-list and about phrases", vocab.references_list, aid("refs.list", Slots()))
    add("reference-list and about phrases", vocab.about, aid("review.about", Slots()))

    for bio in kb.biologics.values():
        for aspect, claims in bio.aspects.items():
            add("claim text", (c.text for c in claims), aid(f"{bio.id}.{aspect}", Slots((bio.id,), aspect)))
    for param in kb.comparison.parameters:
        add(
            "claim text",
            (c.text for c in param.cells.values()),
            aid(f"compare.{param.aspect}", Slots(tuple(order), param.aspect)),
        )
    add("claim text", [kb.comparison.hierarchy_claim.text], aid("compare.all", everyone))
    for scenario in kb.scenarios.values():
        add(
            "claim text",
            [scenario.rationale.text],
            aid(f"scenario.{scenario.id}", Slots(scenario.choice, scenario=scenario.id)),
        )
    for topic in kb.topics.values():
        add("claim text", (c.text for c in topic.claims), aid(topic.id, Slots(topic=topic.id)))

    outside = [t for o in vocab.not_covered for t in o.terms] + [t for n in vocab.near_terms for t in n.terms]
    add("decline: not-covered and near terms", outside, DECLINE)
    add(
        "decline: not-covered and near terms x biologic name",
        (f"{name} {t}" for t in outside for b in kb.biologics for name in names[b]),
        DECLINE,
    )
    return Vocabulary(tuple(seen.items()), dict(sources))


@dataclass
class Baseline:
    """One matcher: ``predict_many`` returns (answer id, score) per question; a higher
    score is more confident, on the baseline's own scale (the threshold is chosen per
    baseline on the development set)."""

    name: str
    predict_many: Callable[[Sequence[str]], list[tuple[str, float]]]
    phrasings: int
    sources: dict[str, int] = field(default_factory=dict)

    def predict(self, question: str) -> tuple[str, float]:
        return self.predict_many([question])[0]


def question_text(pipeline: Pipeline) -> Callable[[str], Normalised]:
    """What a baseline sees of a question: regenbot's normalisation and glossary translation."""
    translator = getattr(pipeline.matcher, "translator", None)

    def prepare(question: str) -> Normalised:
        normalised = normalise(question)
        if translator is None:
            return normalised
        return translator.translate(normalised)[0]

    return prepare


def rapidfuzz_wratio(pipeline: Pipeline, vocabulary: Vocabulary | None = None) -> Baseline:
    """rapidfuzz WRatio against every phrasing; the best phrasing's label wins."""
    from rapidfuzz import fuzz, process

    vocabulary = vocabulary or training_vocabulary(pipeline.kb, pipeline)
    choices = [text for text, _ in vocabulary.phrasings]
    labels = [label for _, label in vocabulary.phrasings]
    prepare = question_text(pipeline)

    def predict_many(questions: Sequence[str]) -> list[tuple[str, float]]:
        out = []
        texts = [prepare(q).text for q in questions]
        for start in range(0, len(texts), 64):  # bounded memory: 64 x phrasings float32
            scores = process.cdist(texts[start : start + 64], choices, scorer=fuzz.WRatio, workers=-1)
            for row in scores:
                best = int(row.argmax())
                out.append((labels[best], float(row[best])))
        return out

    return Baseline("rapidfuzz WRatio, nearest phrasing", predict_many, len(choices), vocabulary.sources)


def tfidf_char(pipeline: Pipeline, vocabulary: Vocabulary | None = None) -> Baseline:
    """TF-IDF over character 2-4-grams, cosine similarity to the nearest phrasing."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vocabulary = vocabulary or training_vocabulary(pipeline.kb, pipeline)
    labels = [label for _, label in vocabulary.phrasings]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    matrix = vectorizer.fit_transform([text for text, _ in vocabulary.phrasings])  # rows are L2-normalised
    prepare = question_text(pipeline)

    def predict_many(questions: Sequence[str]) -> list[tuple[str, float]]:
        sims = (vectorizer.transform([prepare(q).text for q in questions]) @ matrix.T).toarray()
        return [(labels[int(row.argmax())], float(row.max()) * 100) for row in sims]

    return Baseline("TF-IDF char 2-4-grams, cosine", predict_many, matrix.shape[0], vocabulary.sources)


def bm25(pipeline: Pipeline, vocabulary: Vocabulary | None = None) -> Baseline:
    """Okapi BM25 with rank-bm25's parameters and idf, scored as one sparse product.

    rank-bm25's ``get_scores`` walks every phrasing in Python for every query word, which
    is slow over tens of thousands of phrasings; the weights below are its formula
    precomputed per (phrasing, word), so the scores are the same (tests check this)."""
    import numpy as np
    from rank_bm25 import BM25Okapi
    from scipy.sparse import csr_matrix

    vocabulary = vocabulary or training_vocabulary(pipeline.kb, pipeline)
    labels = [label for _, label in vocabulary.phrasings]
    corpus = [list(normalise(text).tokens) or [""] for text, _ in vocabulary.phrasings]
    weights, columns = bm25_weights(BM25Okapi(corpus), corpus)
    prepare = question_text(pipeline)

    def predict_many(questions: Sequence[str]) -> list[tuple[str, float]]:
        rows, cols = [], []
        for n, q in enumerate(questions):
            for token in prepare(q).tokens:
                if token in columns:
                    rows.append(n)
                    cols.append(columns[token])
        counts = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(questions), len(columns)))
        scores = (counts @ weights.T).toarray()
        out = []
        for row in scores:
            best = int(row.argmax())
            out.append((labels[best], float(row[best])) if row[best] > 0 else (DECLINE, 0.0))
        return out

    return Baseline("BM25 (rank-bm25 idf), nearest phrasing", predict_many, len(corpus), vocabulary.sources)


def bm25_weights(index: object, corpus: list[list[str]]) -> tuple[object, dict[str, int]]:
    """(phrasings x words sparse matrix of BM25 term weights, word -> column)."""
    import numpy as np
    from scipy.sparse import csr_matrix

    columns = {word: n for n, word in enumerate(sorted(index.idf))}
    k1, b, avgdl = index.k1, index.b, index.avgdl
    rows, cols, data = [], [], []
    for d, (freqs, length) in enumerate(zip(index.doc_freqs, index.doc_len, strict=True)):
        norm = k1 * (1 - b + b * length / avgdl)
        for word, tf in freqs.items():
            rows.append(d)
            cols.append(columns[word])
            data.append(index.idf[word] * tf * (k1 + 1) / (tf + norm))
    matrix = csr_matrix((np.array(data), (rows, cols)), shape=(len(corpus), len(columns)))
    return matrix, columns


BASELINES: tuple[Callable[[Pipeline, Vocabulary | None], Baseline], ...] = (rapidfuzz_wratio, tfidf_char, bm25)
