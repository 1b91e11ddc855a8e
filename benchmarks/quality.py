"""Matching quality: regenbot against the baselines, per question set, scored like `regenbot eval`.

Three rules keep the comparison honest:

* Every side is scored by ``bot.evaluation.evaluate``: a case is correct when the reply
  answers, picks the expected intent where the set names one, and its body holds every
  expected phrase group. A baseline's prediction is replayed through regenbot's own
  composer (``answer_for_id``), so it is judged on the reply regenbot would send for
  the part of the review it picked. Blind sets name no intents and can only be scored so.
* Every baseline has the same vocabulary as regenbot (see ``benchmarks.baselines``).
* Thresholds are chosen on the development set only — regenbot's in ``bot.core.tuning``,
  each baseline's by the sweep below — and applied unchanged to every other set.

Sealed sets are never loaded: ``question_sets()`` marks them and they are skipped before
their file is opened.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from benchmarks.baselines import DECLINE, Baseline
from bot.core.answers import Answer
from bot.core.matching import Match, Slots
from bot.evaluation import Case, QuestionSet, Report, evaluate, load_cases, question_sets
from bot.pipeline import Pipeline, Reply

DEVELOPMENT = "development"


@dataclass(frozen=True)
class LoadedSet:
    name: str
    role: str
    cases: list[Case]  # every case, follow-ups included (the speed mix asks them all)

    @property
    def development(self) -> bool:
        return self.role.startswith(DEVELOPMENT)

    @property
    def standalone(self) -> list[Case]:
        """Baselines have no conversation memory, so follow-up cases are left out for everyone."""
        return [c for c in self.cases if not c.after]


def unsealed_sets(sets: Sequence[QuestionSet] | None = None, *, limit: int | None = None) -> list[LoadedSet]:
    """Every set of benchmarks/sets.yaml that is not sealed.

    ``limit`` keeps the first cases of each set (the smoke test uses it). Sealed sets are
    dropped before their file is read."""
    out = []
    for qset in question_sets() if sets is None else sets:
        if qset.sealed:
            continue
        cases = load_cases(qset.file)
        out.append(LoadedSet(qset.file.name, qset.role, cases[:limit] if limit else cases))
    return out


class Replayed:
    """Stands in for a Pipeline in ``bot.evaluation.evaluate``: each question gets the reply
    regenbot's composer gives for the baseline's prediction, or regenbot's "not covered"
    reply when the baseline declines or its score is under ``threshold``."""

    def __init__(self, pipeline: Pipeline, predictions: dict[str, tuple[str, float]], threshold: float) -> None:
        self.composer = pipeline.composer
        self.predictions = predictions
        self.threshold = threshold
        self._answers: dict[str, Answer] = {}

    def ask(self, text: str, *, conversation: Hashable = "", frontend: str = "", **_: object) -> Reply:
        answer_id, score = self.predictions[text]
        if answer_id != DECLINE and score >= self.threshold:
            answer = self._answers.get(answer_id)
            if answer is None:
                answer = self._answers[answer_id] = self._compose(answer_id)
        else:
            answer = self.composer.compose(Match(False, None, Slots(), score, "not_covered"))
        return Reply(answer, text, 0.0, False)

    def _compose(self, answer_id: str) -> Answer:
        answer = self.composer.answer_for_id(answer_id)
        if answer is None:
            raise ValueError(f"baseline predicted an answer id the composer does not know: {answer_id}")
        return answer

    def forget(self, conversation: Hashable) -> None:
        return None


@dataclass
class Score:
    """One matcher on one set."""

    matcher: str
    report: Report
    threshold: float | None = None  # None: regenbot's own (bot.core.tuning)

    def rate(self, kinds: tuple[str, ...]) -> tuple[float, int]:
        items = [o for o in self.report.outcomes if o.case.kind in kinds]
        return (sum(o.correct for o in items) / len(items) if items else float("nan")), len(items)

    @property
    def in_scope_declined(self) -> float:
        items = [o for o in self.report.outcomes if o.case.kind == "in"]
        return sum(not o.answered for o in items) / len(items) if items else float("nan")


@dataclass
class SetResult:
    qset: LoadedSet
    scores: list[Score] = field(default_factory=list)


@dataclass(frozen=True)
class BaselineRun:
    """What the table says about one baseline besides its scores."""

    name: str
    phrasings: int
    threshold: float  # chosen on the development set, applied unchanged to every set
    ms_per_question: float  # its match step over the distinct questions, one batch


def predict_all(baseline: Baseline, sets: list[LoadedSet]) -> dict[str, tuple[str, float]]:
    """The baseline's (answer id, score) for every distinct question, in one batch."""
    questions = sorted({c.q for s in sets for c in s.standalone})
    return dict(zip(questions, baseline.predict_many(questions), strict=True))


def choose_threshold(pipeline: Pipeline, predictions: dict[str, tuple[str, float]], dev: list[Case]) -> float:
    """The threshold that maximises in-scope correct + out-of-scope declined on ``dev``.

    Every distinct score on the development set is a candidate cut (answer when score >= cut),
    plus one above them all (decline everything); ties go to the lowest cut."""
    scores = sorted({predictions[c.q][1] for c in dev})
    candidates = [*scores, (scores[-1] + 1.0) if scores else 1.0]
    best, best_value = candidates[0], -1.0
    for cut in candidates:
        report = evaluate(Replayed(pipeline, predictions, cut), dev)  # type: ignore[arg-type]
        value = report.in_scope + report.out_of_scope
        if value > best_value + 1e-12:
            best, best_value = cut, value
    return best


def compare(
    pipeline: Pipeline, baselines: list[Baseline], sets: list[LoadedSet]
) -> tuple[list[SetResult], list[BaselineRun]]:
    """regenbot and every baseline on every set; baseline thresholds from the development set."""
    dev = next((s for s in sets if s.development), None)
    if dev is None:
        raise ValueError("no development set among the question sets: thresholds cannot be chosen")
    results = [SetResult(s, [Score("regenbot", evaluate(pipeline, s.standalone))]) for s in sets]
    runs = []
    for baseline in baselines:
        started = time.perf_counter()
        predictions = predict_all(baseline, sets)
        elapsed = time.perf_counter() - started
        threshold = choose_threshold(pipeline, predictions, dev.standalone)
        replayed = Replayed(pipeline, predictions, threshold)
        for result in results:
            report = evaluate(replayed, result.qset.standalone)  # type: ignore[arg-type]
            result.scores.append(Score(baseline.name, report, threshold))
        ms = elapsed * 1000 / len(predictions) if predictions else 0.0
        runs.append(BaselineRun(baseline.name, baseline.phrasings, threshold, ms))
    return results, runs


def pooled(results: list[SetResult]) -> list[SetResult]:
    """One result per role that has several sets (the held-out sets, the blind sets once two
    are unsealed): every matcher's outcomes on those sets together."""
    roles: dict[str, list[SetResult]] = {}
    for result in results:
        if not result.qset.development:
            roles.setdefault(result.qset.role, []).append(result)
    out = []
    for role, group in roles.items():
        if len(group) < 2:
            continue
        cases = [c for r in group for c in r.qset.cases]
        qset = LoadedSet(f"{len(group)} sets pooled", role, cases)
        scores = [
            Score(first.matcher, Report([o for r in group for o in r.scores[n].report.outcomes]), first.threshold)
            for n, first in enumerate(group[0].scores)
        ]
        out.append(SetResult(qset, scores))
    return out
