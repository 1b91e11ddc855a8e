"""Matching quality: regenbot against the baselines on the same questions."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.baselines import Baseline
from bot.evaluation import Case
from bot.pipeline import Pipeline


@dataclass
class Quality:
    name: str
    in_scope: float
    out_of_scope: float
    macro_f1: float
    threshold: float | None = None


def _metrics(
    name: str, cases: list[Case], predictions: list[tuple[bool, str | None]], threshold: float | None = None
) -> Quality:
    ins = [(c, p) for c, p in zip(cases, predictions, strict=True) if c.kind == "in"]
    oos = [(c, p) for c, p in zip(cases, predictions, strict=True) if c.kind != "in"]
    in_acc = sum(answered and intent == c.topic for c, (answered, intent) in ins) / len(ins)
    oos_rej = sum(not answered for _, (answered, _) in oos) / len(oos)
    labels = sorted({c.topic for c, _ in ins})
    f1s = []
    pairs = [
        (c.topic if c.kind == "in" else None, intent if answered else None)
        for c, (answered, intent) in zip(cases, predictions, strict=True)
    ]
    for label in labels:
        tp = sum(t == label and p == label for t, p in pairs)
        fp = sum(t != label and p == label for t, p in pairs)
        fn = sum(t == label and p != label for t, p in pairs)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return Quality(name, in_acc, oos_rej, sum(f1s) / len(f1s), threshold)


def standalone(cases: list[Case]) -> list[Case]:
    """Baselines have no conversation memory, so follow-up cases are left out for everyone."""
    return [c for c in cases if not c.after]


def regenbot_quality(pipeline: Pipeline, cases: list[Case]) -> Quality:
    predictions = []
    for n, case in enumerate(cases):
        reply = pipeline.ask(case.q, conversation=("bench", n))
        pipeline.forget(("bench", n))
        predictions.append((reply.answer.answered, reply.answer.intent))
    return _metrics("regenbot matcher", cases, predictions)


def baseline_quality(baseline: Baseline, cases: list[Case]) -> Quality:
    raw = [baseline.predict(c.q) for c in cases]
    best: Quality | None = None
    for threshold in range(0, 101):
        q = _metrics(baseline.name, cases, [(score >= threshold, intent) for intent, score in raw], float(threshold))
        if best is None or q.in_scope + q.out_of_scope > best.in_scope + best.out_of_scope:
            best = q
    assert best is not None
    return best
