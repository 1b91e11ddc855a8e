"""Measure the matcher on a question set: the numbers that justify the thresholds.

Two kinds of set share one format. The project's own sets name the expected intent
(``topic``); blind sets, written from the review alone by someone who never saw the
knowledge base, cannot, so they name the key facts a correct reply must contain
(``expect``) and who asks (``persona``, ``tags``). A case is answered correctly when the
bot answers, picks the expected intent where one is given, and the reply's body (the
disclaimer footer excluded: it would satisfy "evidence" for free) contains every
expected phrase group. The threshold sweep re-scores the same matches at other
thresholds, so the trade-off behind ``tuning.ANSWER_THRESHOLD`` is visible in one table.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core import tuning
from bot.core.answers import PARTLY_COVERED
from bot.pipeline import Pipeline

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
DEFAULT_QUESTIONS = BENCHMARKS / "questions.yaml"
SETS = BENCHMARKS / "sets.yaml"
NONE = "(not answered)"
KINDS = ("in", "oos", "oos_hard", "chat", "unreported", "near")
# "unreported": asks for a figure the review never gives (a dose, a count, a setting);
# "near": names a product, route, indication or body site near the review's but not in it.
# Both are right when the first message says so, whether or not it goes on to say what the
# review does say; an answer that does not say so pretends the review covers it.
# Replies that tell the user the review does not cover the question (as opposed to
# "did you mean", an unknown reference number, or small talk).
NOT_COVERED_REASONS = frozenset({"no_match", "low_confidence", "not_covered", "out_of_scope"})
CLARIFY_REASONS = frozenset({"ambiguous", "unsure"})


@dataclass(frozen=True)
class Case:
    kind: str  # in | oos | oos_hard | chat
    topic: str  # the expected intent, or "" when the set names only key facts
    q: str
    expect: tuple[tuple[str, ...], ...] = ()
    after: tuple[str, ...] = ()  # earlier questions in the same conversation
    persona: str = ""
    tags: tuple[str, ...] = ()
    ident: str = ""


@dataclass
class Outcome:
    case: Case
    answered: bool
    intent: str | None
    score: float
    reason: str
    text: str
    cited: bool
    best_intent: str | None

    @property
    def correct(self) -> bool:
        if self.case.kind == "chat":
            return self.reason == "chat"
        if self.case.kind in ("unreported", "near"):
            return self.says_not_in_review
        if self.case.kind != "in":
            # Declined, or answered only after saying first that the review does not
            # discuss it ("...; what it does say:" and the nearest part).
            return not self.answered or self.says_not_in_review
        if not self.answered or (self.case.topic and self.intent != self.case.topic):
            return False
        low = self.text.lower()
        return all(any(alt.lower() in low for alt in group) for group in self.case.expect)

    @property
    def says_not_in_review(self) -> bool:
        """Told "not covered" (or "not covered as asked"), or answered only after saying first
        that the review does not report or discuss it (the composer's partly_covered)."""
        if self.answered:
            return self.reason == PARTLY_COVERED
        return self.reason in NOT_COVERED_REASONS or self.reason == "near"

    @property
    def told_not_covered(self) -> bool:
        return not self.answered and self.reason in NOT_COVERED_REASONS

    @property
    def clarified(self) -> bool:
        return not self.answered and self.reason in CLARIFY_REASONS


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def _of(self, kind: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.case.kind == kind]

    @staticmethod
    def _rate(items: list[Outcome]) -> float:
        return sum(o.correct for o in items) / len(items) if items else 0.0

    @property
    def in_scope(self) -> float:
        return self._rate(self._of("in"))

    @property
    def out_of_scope(self) -> float:
        return self._rate(self._of("oos") + self._of("oos_hard"))

    @property
    def in_scope_not_covered(self) -> float:
        items = self._of("in")
        return sum(o.told_not_covered for o in items) / len(items) if items else 0.0

    @property
    def in_scope_clarified(self) -> float:
        items = self._of("in")
        return sum(o.clarified for o in items) / len(items) if items else 0.0

    def groups(self) -> dict[str, list[Outcome]]:
        """Outcomes by persona and by tag (a case with two tags counts in both)."""
        out: dict[str, list[Outcome]] = {}
        for o in self.outcomes:
            if o.case.persona:
                out.setdefault(f"persona {o.case.persona}", []).append(o)
            for tag in o.case.tags:
                out.setdefault(f"tag {tag}", []).append(o)
        return dict(sorted(out.items()))

    @property
    def citation_coverage(self) -> float:
        items = [o for o in self._of("in") if not o.case.topic.startswith("refs.")]
        return sum(o.answered and o.cited for o in items) / len(items) if items else 0.0

    def per_intent(self) -> dict[str, tuple[float, float, float, int]]:
        """precision, recall, F1 and support for every expected in-scope intent."""
        pairs = [(o.case.topic, o.intent if o.answered else NONE) for o in self._of("in") if o.case.topic]
        pairs += [(NONE, o.intent if o.answered else NONE) for o in self._of("oos") + self._of("oos_hard")]
        out = {}
        for label in sorted({t for t, _ in pairs if t != NONE}):
            tp = sum(t == label and p == label for t, p in pairs)
            fp = sum(t != label and p == label for t, p in pairs)
            fn = sum(t == label and p != label for t, p in pairs)
            precision = tp / (tp + fp) if tp + fp else 0.0
            recall = tp / (tp + fn) if tp + fn else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            out[label] = (precision, recall, f1, tp + fn)
        return out

    def macro_f1(self) -> float:
        scores = [f for _, _, f, _ in self.per_intent().values()]
        return sum(scores) / len(scores) if scores else 0.0

    def confusion(self) -> Counter:
        pairs: Counter = Counter()
        for o in self.outcomes:
            expected = o.case.topic if o.case.kind == "in" else NONE
            got = o.intent if o.answered else NONE
            if expected and expected != got:
                pairs[(expected, got)] += 1
        return pairs

    def sweep(self, thresholds: list[float]) -> list[tuple[float, float, float]]:
        """(threshold, in-scope intent accuracy, out-of-scope rejection) at each threshold."""
        rows = []
        for t in thresholds:
            ins = self._of("in")
            oos = self._of("oos") + self._of("oos_hard")
            ok_in = sum(
                (o.best_intent == o.case.topic if o.case.topic else o.correct)
                and o.score >= t
                and o.reason not in CLARIFY_REASONS
                for o in ins
            )
            ok_oos = sum(not (o.score >= t and o.reason not in ("ambiguous", "unknown_reference")) for o in oos)
            rows.append((t, ok_in / len(ins) if ins else 0.0, ok_oos / len(oos) if oos else 0.0))
        return rows


def load_cases(path: str | Path) -> list[Case]:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    cases = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or "q" not in item or item.get("kind") not in KINDS:
            raise ValueError(f"{path}: case {i}: needs kind ({'|'.join(KINDS)}) and q")
        expect = tuple(tuple(str(a) for a in group) for group in item.get("expect") or ())
        kind = item["kind"]
        topic = str(item.get("topic") or ("" if kind in ("in", "chat") else kind))
        if kind == "in" and not topic and not expect:
            raise ValueError(f"{path}: case {i}: an in-scope case needs a topic or expect")
        cases.append(
            Case(
                kind,
                topic,
                str(item["q"]),
                expect,
                tuple(str(a) for a in item.get("after") or ()),
                str(item.get("persona") or ""),
                tuple(str(t) for t in item.get("tags") or ()),
                str(item.get("id") or ""),
            )
        )
    return cases


# A numbered citation, or "[review, Section]" for what the review states without numbers.
_CITED = re.compile(r"\[(?:\d+(?:[\s,–-]+\d+)*|review\b[^\]]*)\]")


def evaluate(pipeline: Pipeline, cases: list[Case]) -> Report:
    report = Report()
    for n, case in enumerate(cases):
        conversation = ("eval", n)
        for earlier in case.after:
            pipeline.ask(earlier, conversation=conversation, frontend="eval")
        reply = pipeline.ask(case.q, conversation=conversation, frontend="eval")
        pipeline.forget(conversation)
        a = reply.answer
        text = _body(reply.plain(), a.footer)
        best = a.intent if a.answered else _best_intent(a)
        report.outcomes.append(
            Outcome(case, a.answered, a.intent, a.score, a.reason, text, bool(_CITED.search(text)), best)
        )
    return report


@dataclass(frozen=True)
class QuestionSet:
    file: Path
    role: str
    sealed: bool


def question_sets(manifest: Path = SETS) -> list[QuestionSet]:
    """The sets listed in benchmarks/sets.yaml; sealed ones have not been scored yet."""
    raw = yaml.safe_load(manifest.read_text(encoding="utf-8")) or []
    return [QuestionSet(manifest.parent / str(r["file"]), str(r.get("role", "")), bool(r.get("sealed"))) for r in raw]


def summary_row(name: str, report: Report) -> str:
    """One line of the per-set table: the figures issue 9 asks for."""

    def rate(items: list[Outcome], value: float) -> str:
        return f"{value:6.1%}" if items else "     -"

    ins, hard, oos, chat = report._of("in"), report._of("oos_hard"), report._of("oos"), report._of("chat")
    unrep, near = report._of("unreported"), report._of("near")
    return (
        f"{name:16} {len(report.outcomes):4d} {rate(ins, report.in_scope):>8} "
        f"{rate(ins, report.in_scope_not_covered):>8} {rate(ins, report.in_scope_clarified):>8} "
        f"{rate(oos, report._rate(oos)):>8} {rate(hard, report._rate(hard)):>8} {rate(chat, report._rate(chat)):>8}"
        f"{rate(unrep, report._rate(unrep)):>9} {rate(near, report._rate(near)):>8}"
    )


SUMMARY_HEADER = (
    f"{'set':16} {'n':>4} {'in ok':>8} {'not cov':>8} {'clarify':>8} {'oos ok':>8} {'hard ok':>8} {'chat ok':>8}"
    f"{'unrep ok':>9} {'near ok':>8}"
)


def _body(text: str, footer: str) -> str:
    return text[: -len(footer)] if footer and text.endswith(footer) else text


def _best_intent(answer: Any) -> str | None:
    return answer.suggestions[0].intent if answer.suggestions else None


def format_report(report: Report, *, verbose: bool = False, sweep: bool = False) -> str:
    lines = []
    n_in = len(report._of("in"))
    n_oos = len(report._of("oos")) + len(report._of("oos_hard"))
    n_chat = len(report._of("chat"))
    chat = f", {n_chat} small talk" if n_chat else ""
    lines.append(f"questions: {len(report.outcomes)} ({n_in} in scope, {n_oos} out of scope{chat})")
    lines.append(f"in-scope answered correctly: {report.in_scope:.1%}")
    lines.append(f"in-scope told not covered:   {report.in_scope_not_covered:.1%}")
    lines.append(f"in-scope asked to clarify:   {report.in_scope_clarified:.1%}")
    lines.append(f"out-of-scope rejected:       {report.out_of_scope:.1%}")
    for kind, label in (("unreported", "figure not reported, said"), ("near", "near-but-different, said")):
        if report._of(kind):
            lines.append(f"{label + ':':29}{report._rate(report._of(kind)):.1%}")
    hard = report._of("oos_hard")
    if hard:
        lines.append(f"  of which hard (name a biologic): {report._rate(hard):.1%}")
    if n_chat:
        lines.append(f"small talk answered as such: {report._rate(report._of('chat')):.1%}")
    lines.append(f"citation coverage:           {report.citation_coverage:.1%}")
    per_intent = report.per_intent()
    if per_intent:
        lines.append(f"macro F1 over intents:       {report.macro_f1():.3f}")
        lines.append("")
        lines.append(f"{'intent':28} {'prec':>6} {'recall':>6} {'F1':>6} {'n':>4}")
        for label, (p, r, f, n) in per_intent.items():
            lines.append(f"{label:28} {p:6.2f} {r:6.2f} {f:6.2f} {n:4d}")
    groups = report.groups()
    if groups:
        lines.append("")
        lines.append(f"{'group':28} {'n':>4} {'in ok':>7} {'not cov':>8} {'clarify':>8} {'oos ok':>7} {'hard ok':>8}")
        for name, items in groups.items():
            sub = Report(items)
            cells = []
            for kind_items, value in (
                (sub._of("in"), sub.in_scope),
                (sub._of("in"), sub.in_scope_not_covered),
                (sub._of("in"), sub.in_scope_clarified),
                (sub._of("oos"), sub._rate(sub._of("oos"))),
                (sub._of("oos_hard"), sub._rate(sub._of("oos_hard"))),
            ):
                cells.append(f"{value:6.0%}" if kind_items else "     -")
            lines.append(
                f"{name:28} {len(items):4d} {cells[0]:>7} {cells[1]:>8} {cells[2]:>8} {cells[3]:>7} {cells[4]:>8}"
            )
    confusion = report.confusion()
    lines.append("")
    lines.append("confusions (expected -> got: count):" if confusion else "confusions: none")
    for (expected, got), count in confusion.most_common():
        lines.append(f"  {expected} -> {got}: {count}")
    if sweep:
        lines.append("")
        lines.append(f"threshold sweep (current {tuning.ANSWER_THRESHOLD:g}):")
        lines.append(f"{'threshold':>9} {'in-scope':>9} {'oos-rejected':>13}")
        thresholds = sorted({float(x) for x in range(40, 96, 5)} | {tuning.ANSWER_THRESHOLD})
        for t, a, b in report.sweep(thresholds):
            mark = "  <- chosen" if t == tuning.ANSWER_THRESHOLD else ""
            lines.append(f"{t:9.0f} {a:9.1%} {b:13.1%}{mark}")
    if verbose:
        lines.append("")
        for o in report.outcomes:
            if not o.correct:
                label = o.case.ident or o.case.topic
                lines.append(
                    f"MISS [{o.case.kind} {label}] {o.case.q!r} -> answered={o.answered} "
                    f"intent={o.intent} best={o.best_intent} score={o.score:.1f} reason={o.reason}"
                )
    return "\n".join(lines)
