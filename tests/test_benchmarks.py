"""The benchmark entry point runs and writes its Markdown (figures are not asserted here:
timings depend on the machine; only the machinery and the scoring rules are checked)."""

from __future__ import annotations

import importlib.util

import pytest

from benchmarks import baselines, quality
from benchmarks.__main__ import main
from bot.core.normalise import normalise
from bot.evaluation import Case, QuestionSet, evaluate, question_sets


def test_quality_and_speed_sections_run_on_a_tiny_subset(tmp_path):
    out = tmp_path / "RESULTS.md"
    assert main(["quality", "speed", "--repeat", "1", "--limit", "3", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| regenbot |" in text and "rapidfuzz WRatio" in text
    # The other baselines need the [bench] extra (numpy, scikit-learn), which CI does not install.
    for module, name in (("scipy", "BM25"), ("sklearn", "TF-IDF")):
        if importlib.util.find_spec(module) is not None:
            assert name in text
    assert "thresholds chosen here" in text and "training phrasings" in text
    assert "questions/s" in text and "Core p99 per question" in text and "Knowledge base load" in text


def test_size_section_reports_first_message_figures(tmp_path):
    out = tmp_path / "RESULTS.md"
    assert main(["size", "--limit", "8", "--out", str(out)]) == 0
    text = out.read_text()
    assert "single-biologic answers" in text and "within one phone screen" in text and "Key fact" in text


def test_phone_lines_wrap_long_lines():
    from benchmarks.answer_size import LINE_CHARS, phone_lines

    assert phone_lines("short\n" + "x" * (LINE_CHARS * 2 + 1)) == 4


def test_unknown_section_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["nonsense"])
    assert "unknown section" in capsys.readouterr().err


def test_sealed_sets_are_never_loaded(tmp_path):
    """A sealed set's file is not even opened: here it does not exist, and nothing fails."""
    dev = next(q for q in question_sets() if q.role.startswith("development"))
    sets = [dev, QuestionSet(tmp_path / "no-such-file.yaml", "blind (review only)", True)]
    loaded = quality.unsealed_sets(sets, limit=2)
    assert [s.name for s in loaded] == [dev.file.name]


@pytest.fixture(scope="module")
def pipeline():
    from bot.pipeline import Pipeline

    return Pipeline.from_directory()


def test_every_training_label_is_an_answer_the_composer_gives(pipeline):
    vocabulary = baselines.training_vocabulary(pipeline.kb, pipeline)
    labels = {label for _, label in vocabulary.phrasings} - {baselines.DECLINE}
    assert all(pipeline.composer.answer_for_id(label) is not None for label in labels)
    assert sum(vocabulary.sources.values()) == len(vocabulary)
    # Every synonym of every biologic reaches the baselines, not a handful of name variants.
    near = {normalise(t).text for n in pipeline.kb.vocabulary.near_terms for t in n.terms}
    for bio in pipeline.kb.biologics.values():
        safety = {text for text, label in vocabulary.phrasings if label == f"{bio.id}-safety"}
        for synonym in {normalise(s).text for s in bio.synonyms} - near:
            assert any(text.startswith(synonym + " ") or f" {synonym} " in text for text in safety), synonym


def test_a_replayed_baseline_is_scored_on_the_composed_reply(pipeline):
    """Right answer id and phrase present -> correct; under the threshold -> declined."""
    case = Case("in", "prp.safety", "is prp safe", (("safe",),))
    oos = Case("oos", "oos", "knee injections")
    predictions = {"is prp safe": ("prp-safety", 80.0), "knee injections": ("prp-safety", 20.0)}

    report = evaluate(quality.Replayed(pipeline, predictions, 50.0), [case, oos])
    assert report.in_scope == 1.0 and report.out_of_scope == 1.0
    report = evaluate(quality.Replayed(pipeline, predictions, 90.0), [case, oos])
    assert report.in_scope == 0.0
    wrong = {"is prp safe": ("exosomes-safety", 80.0), "knee injections": (baselines.DECLINE, 99.0)}
    report = evaluate(quality.Replayed(pipeline, wrong, 50.0), [case, oos])
    assert report.in_scope == 0.0 and report.out_of_scope == 1.0


def test_sparse_bm25_scores_equal_rank_bm25():
    pytest.importorskip("scipy", reason="the BM25 baseline needs the [bench] extra")
    pytest.importorskip("rank_bm25", reason="the BM25 baseline needs the [bench] extra")
    import numpy as np
    from rank_bm25 import BM25Okapi

    corpus = [
        ["prp", "safety"],
        ["exosome", "safety", "long", "term"],
        ["secretome", "source"],
        ["prp", "prp", "evidence"],
    ]
    index = BM25Okapi(corpus)
    weights, columns = baselines.bm25_weights(index, corpus)
    query = ["prp", "safety", "safety", "unknown"]
    counts = np.zeros(len(columns))
    for token in query:
        if token in columns:
            counts[columns[token]] += 1
    assert np.allclose(weights @ counts, index.get_scores(query))
