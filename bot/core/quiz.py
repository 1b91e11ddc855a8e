"""Quiz items, items generated from the review's tables, and Leitner scheduling.

Why Leitner boxes rather than SM-2: a quiz poll tells us only right or wrong, not the
0-5 recall grade SM-2 needs, and boxes are easy to explain to a trainee ("wrong answers
go back to box 1 and come back next round"). Box intervals: 1 -> next round, 2 -> 1 day,
3 -> 3 days, 4 -> 7 days, 5 -> 21 days. Pure functions; storage lives elsewhere.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.core.knowledge import Claim, Knowledge, Quote
from bot.core.normalise import normalise

# Telegram's poll limits, which every item must respect.
QUESTION_LIMIT = 300
OPTION_LIMIT = 100
EXPLANATION_LIMIT = 200
EXPLANATION_LINE_BREAKS = 2
MIN_OPTIONS, MAX_OPTIONS = 3, 5

DAY = 86400.0
BOX_INTERVALS = {1: 0.0, 2: 1 * DAY, 3: 3 * DAY, 4: 7 * DAY, 5: 21 * DAY}
TOP_BOX = max(BOX_INTERVALS)
ROUND_SIZE = 5


@dataclass(frozen=True)
class QuizItem:
    id: str
    topic: str
    question: str
    options: tuple[str, ...]
    answer: int
    explanation: str
    refs: tuple[int, ...]
    difficulty: int = 2
    biologic: str | None = None
    generated: bool = False
    # The review's words that make the answer right, checked by `kb check --source`. With
    # no refs the item rests on the review itself and is cited as "[review, Table 1]".
    quotes: tuple[Quote, ...] = ()
    # What the question is about, when that is not one biologic: the biologics or quiz
    # topic whose facts no wrong option may repeat (see bot.core.quizcheck).
    subject: tuple[str, ...] = ()
    # Wrong options built on words the review uses only to say they do not apply
    # ("rather than standalone biologics"), each with that quote.
    contrasts: tuple[tuple[int, Quote], ...] = ()
    # The Table 1 row a generated item asks about: its facts are what a wrong option is
    # checked against ("excellent" preclinical data is not "excellent" safety).
    aspect: str | None = None

    @property
    def correct_option(self) -> str:
        return self.options[self.answer]

    @property
    def claim(self) -> Claim:
        """The explanation as a claim, so its quotes and numbers are checked like any other."""
        return Claim(self.explanation, self.refs, self.quotes)

    @property
    def subjects(self) -> tuple[str, ...]:
        return self.subject or ((self.biologic,) if self.biologic else ())

    def explanation_with_citation(self) -> str:
        return f"{self.explanation} {self.claim.citation()}"

    def shuffled(self, rng: random.Random) -> tuple[tuple[str, ...], int]:
        """Options in a random order and where the correct one landed."""
        order = list(range(len(self.options)))
        rng.shuffle(order)
        return tuple(self.options[i] for i in order), order.index(self.answer)


@dataclass(frozen=True)
class Progress:
    """One trainee's state for one item."""

    box: int = 0  # 0 = never seen
    last_seen: float = 0.0
    seen: int = 0
    correct: int = 0

    def after(self, correct: bool, now: float) -> Progress:
        box = min(TOP_BOX, max(self.box, 1) + 1) if correct else 1
        return Progress(box, now, self.seen + 1, self.correct + int(correct))

    def due(self, now: float) -> bool:
        return self.box > 0 and now - self.last_seen >= BOX_INTERVALS[self.box]


def item_problems(item: QuizItem, known_refs: Iterable[int], topics: Iterable[str]) -> list[tuple[str, str]]:
    """(field, message) for every rule ``item`` breaks, Telegram's poll limits included."""
    out = []
    if not item.question.strip():
        out.append(("question", "empty text"))
    if len(item.question) > QUESTION_LIMIT:
        out.append(("question", f"{len(item.question)} characters; Telegram allows {QUESTION_LIMIT}"))
    if not MIN_OPTIONS <= len(item.options) <= MAX_OPTIONS:
        out.append(("options", f"needs {MIN_OPTIONS}-{MAX_OPTIONS} options, has {len(item.options)}"))
    for i, option in enumerate(item.options):
        if not option.strip():
            out.append((f"options[{i}]", "empty text"))
        if len(option) > OPTION_LIMIT:
            out.append((f"options[{i}]", f"{len(option)} characters; Telegram allows {OPTION_LIMIT}"))
    if len({o.casefold().strip() for o in item.options}) != len(item.options):
        out.append(("options", "options must be distinct"))
    if not 0 <= item.answer < len(item.options):
        out.append(("answer", f"must be an option index 0-{len(item.options) - 1}, got {item.answer}"))
    explanation = item.explanation_with_citation()
    if len(explanation) > EXPLANATION_LIMIT:
        out.append(
            ("explanation", f"{len(explanation)} characters with its citation; Telegram allows {EXPLANATION_LIMIT}")
        )
    if explanation.count("\n") > EXPLANATION_LINE_BREAKS:
        out.append(("explanation", f"more than {EXPLANATION_LINE_BREAKS} line breaks"))
    if not item.refs and not item.quotes:
        out.append(("quote", "no quote: give the review's words that make the answer right"))
    unknown = sorted(set(item.refs) - set(known_refs))
    if unknown:
        out.append(("refs", f"unknown reference(s) {unknown}"))
    if item.topic not in set(topics):
        out.append(("topic", f"unknown topic {item.topic!r}"))
    if item.difficulty not in (1, 2, 3):
        out.append(("difficulty", f"must be 1, 2 or 3, got {item.difficulty}"))
    return out


@dataclass(frozen=True)
class Shared:
    """A Table 1 cell the review also makes true of other biologics, with its words.

    Table 1 gives each biologic one cell per row, but the rest of the review is less
    exclusive: it credits secretome, too, with less erythema after laser. Asking "which
    biologic is 'redness reduction'?" would then have two defensible answers, so such a
    cell is never the subject of a generated item, nor a wrong option for the biologics
    it also fits.
    """

    row: str
    cell: str
    also: tuple[str, ...]
    quotes: tuple[Quote, ...]


def row_source(cells: Iterable[Claim]) -> str:
    """Where a comparison row comes from: "Table 1" only when every cell quotes it (the
    regulatory row summarises the text, and Table 1 has no such row)."""
    return "Table 1" if all(any(q.section == "Table 1" for q in c.quotes) for c in cells) else "Per the review"


def generate_items(kb: Knowledge, topic_of_aspect: Mapping[str, str], shared: Iterable[Shared] = ()) -> list[QuizItem]:
    """Items from Table 1 and Table 2 with exactly one defensible answer each.

    A row whose cells repeat (two biologics described the same way), a cell the review
    also attaches to another biologic (``shared``) or a scenario with more than one
    recommended biologic would give two right answers, so none of them is asked about;
    a shared cell is not a wrong option for the biologics it also fits.
    """
    order = list(kb.comparison.hierarchy)
    names = [display_name(kb, b) for b in order]
    also: dict[tuple[str, str], set[str]] = {}
    for s in shared:
        also.setdefault((s.row, s.cell), set()).update(s.also)
    items: list[QuizItem] = []
    for row in kb.comparison.parameters:
        cells = [row.cells[b] for b in order]
        if len({c.text.casefold() for c in cells}) != len(cells):
            continue
        topic = topic_of_aspect.get(row.aspect)
        if topic is None:
            continue
        where = row_source(cells)
        for i, bio in enumerate(order):
            cell = cells[i]
            if not also.get((row.aspect, bio)):
                items.append(
                    QuizItem(
                        id=f"t1-{row.aspect}-{bio}",
                        topic=topic,
                        question=f"{where}, {row.label.lower()}: which biologic is “{cell.text}”?",
                        options=tuple(names),
                        answer=i,
                        explanation=f"{row.label}: {names[i]} — {cell.text}.",
                        refs=cell.refs,
                        difficulty=2,
                        biologic=bio,
                        generated=True,
                        quotes=cell.quotes,
                        aspect=row.aspect,
                    )
                )
            wrong = [j for j, other in enumerate(order) if j != i and bio not in also.get((row.aspect, other), ())]
            if len(wrong) + 1 < MIN_OPTIONS:
                continue
            keep = sorted([i, *wrong])
            items.append(
                QuizItem(
                    id=f"t1r-{row.aspect}-{bio}",
                    topic=topic,
                    question=f"{where}, {row.label.lower()}: which entry is {names[i]}’s?",
                    options=tuple(cells[j].text for j in keep),
                    answer=keep.index(i),
                    explanation=f"{row.label} of {names[i]}: {cell.text}.",
                    refs=cell.refs,
                    difficulty=2,
                    biologic=bio,
                    generated=True,
                    quotes=cell.quotes,
                    aspect=row.aspect,
                )
            )
    for scenario in kb.scenarios.values():
        if len(scenario.choice) != 1:
            continue
        answer = order.index(scenario.choice[0])
        items.append(
            QuizItem(
                id=f"t2-{scenario.id}",
                topic="scenarios",
                question=f"Table 2: which biologic is most suitable for “{scenario.label.lower()}”?",
                options=tuple(names),
                answer=answer,
                explanation=f"{names[answer]}: {scenario.rationale.text}"[: EXPLANATION_LIMIT - 30].rstrip(),
                refs=scenario.rationale.refs,
                difficulty=1,
                biologic=scenario.choice[0],
                generated=True,
                quotes=scenario.rationale.quotes,
            )
        )
    return items


def display_name(kb: Knowledge, bio: str) -> str:
    """How options name a biologic: "PRP", "MSC secretome", "Exosomes"."""
    b = kb.biologics[bio]
    return b.name if bio == "secretome" else b.short


@dataclass(frozen=True)
class QuizBank:
    items: tuple[QuizItem, ...]
    topics: tuple[str, ...]
    by_id: dict[str, QuizItem] = field(default_factory=dict)
    shared: tuple[Shared, ...] = ()

    @classmethod
    def build(
        cls,
        authored: Iterable[QuizItem],
        generated: Iterable[QuizItem],
        topics: Iterable[str],
        shared: Iterable[Shared] = (),
    ) -> QuizBank:
        items = list(authored)
        seen = {normalise(i.question).text for i in items}
        for item in generated:
            key = normalise(item.question).text
            if key not in seen:
                seen.add(key)
                items.append(item)
        return cls(tuple(items), tuple(topics), {i.id: i for i in items}, tuple(shared))

    def select(self, topic: str | None = None, biologic: str | None = None) -> list[QuizItem]:
        return [
            i
            for i in self.items
            if (topic is None or i.topic == topic) and (biologic is None or i.biologic == biologic)
        ]


def pick_round(
    candidates: list[QuizItem],
    progress: Mapping[str, Progress],
    now: float,
    rng: random.Random,
    size: int = ROUND_SIZE,
) -> list[QuizItem]:
    """Due items first (wrong ones first), then new ones (easier first), then the rest."""

    def state(item: QuizItem) -> Progress:
        return progress.get(item.id, Progress())

    due = sorted((i for i in candidates if state(i).due(now)), key=lambda i: (state(i).box, state(i).last_seen))
    new = [i for i in candidates if state(i).box == 0]
    rng.shuffle(new)
    new.sort(key=lambda i: i.difficulty)
    rest = sorted(
        (i for i in candidates if state(i).box > 0 and not state(i).due(now)), key=lambda i: state(i).last_seen
    )
    chosen: list[QuizItem] = []
    for item in [*due, *new, *rest]:
        if item not in chosen:
            chosen.append(item)
        if len(chosen) == size:
            break
    return chosen


@dataclass(frozen=True)
class Score:
    answered: int
    correct: int
    streak: int
    by_topic: dict[str, tuple[int, int]]  # topic -> (correct, answered)
    due: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


def score(history: list[tuple[str, bool]], bank: QuizBank, progress: Mapping[str, Progress], now: float) -> Score:
    """``history``: (item id, correct) oldest first."""
    by_topic: dict[str, tuple[int, int]] = {}
    for item_id, correct in history:
        item = bank.by_id.get(item_id)
        topic = item.topic if item else "other"
        c, n = by_topic.get(topic, (0, 0))
        by_topic[topic] = (c + int(correct), n + 1)
    streak = 0
    for _, correct in reversed(history):
        if not correct:
            break
        streak += 1
    due = sum(1 for item_id, p in progress.items() if item_id in bank.by_id and p.due(now))
    return Score(len(history), sum(c for _, c in history), streak, by_topic, due)


@dataclass(frozen=True)
class TopicMastery:
    """How far a trainee has got with one topic: Leitner boxes and answers."""

    topic: str
    items: int  # in the bank
    boxes: tuple[int, ...]  # items in box 1, 2, ... TOP_BOX
    correct: int
    answered: int

    @property
    def seen(self) -> int:
        return sum(self.boxes)

    @property
    def weakness(self) -> tuple[float, float]:
        """Lower is weaker: smoothed accuracy, then how high the topic's items sit."""
        mean_box = sum(b * n for b, n in enumerate(self.boxes, 1)) / self.seen if self.seen else 0.0
        return (self.correct + 1) / (self.answered + 2), mean_box


def mastery(
    bank: QuizBank, progress: Mapping[str, Progress], history: Iterable[tuple[str, bool]]
) -> list[TopicMastery]:
    """Every topic of the bank, in the bank's order, with the trainee's boxes and answers."""
    boxes: dict[str, list[int]] = {t: [0] * TOP_BOX for t in bank.topics}
    for item_id, state in progress.items():
        item = bank.by_id.get(item_id)
        if item is not None and state.box > 0 and item.topic in boxes:
            boxes[item.topic][state.box - 1] += 1
    answers: dict[str, list[int]] = {t: [0, 0] for t in bank.topics}
    for item_id, correct in history:
        item = bank.by_id.get(item_id)
        if item is not None and item.topic in answers:
            answers[item.topic][0] += int(correct)
            answers[item.topic][1] += 1
    sizes: dict[str, int] = {}
    for item in bank.items:
        sizes[item.topic] = sizes.get(item.topic, 0) + 1
    return [TopicMastery(t, sizes.get(t, 0), tuple(boxes[t]), *answers[t]) for t in bank.topics]


def weakest(topics: Iterable[TopicMastery]) -> TopicMastery | None:
    """The answered topic a trainee should practise next."""
    answered = [t for t in topics if t.answered]
    return min(answered, key=lambda t: t.weakness) if answered else None


def due_schedule(bank: QuizBank, progress: Mapping[str, Progress], now: float) -> tuple[int, list[float]]:
    """How many items are due now, and when each of the others falls due (soonest first)."""
    due_now, later = 0, []
    for item_id, state in progress.items():
        if item_id not in bank.by_id or state.box == 0:
            continue
        if state.due(now):
            due_now += 1
        else:
            later.append(state.last_seen + BOX_INTERVALS[state.box])
    return due_now, sorted(later)


def resolve_topic(text: str, bank: QuizBank, kb: Knowledge) -> tuple[str | None, str | None] | None:
    """'/quiz exosomes' -> (None, 'exosomes'); '/quiz evidence' -> ('evidence', None);
    '' -> (None, None); anything unknown -> None."""
    words = normalise(text).text
    if not words:
        return None, None
    aliases = {
        "regulatory": "regulation",
        "legal": "regulation",
        "best use": "best_use",
        "use": "best_use",
        "scenario": "scenarios",
        "refs": "references",
        "ref": "references",
        "aging": "background",
        "ageing": "background",
        "limits": "limitations",
        "mechanisms": "mechanism",
        "moa": "mechanism",
        "method": "methods",
        "search": "methods",
        "gap": "gaps",
        "future": "gaps",
        "future directions": "gaps",
    }
    topic = aliases.get(words, words.replace(" ", "_"))
    if topic in bank.topics:
        return topic, None
    for bio in kb.biologics.values():
        if words in {normalise(s).text for s in (bio.id, bio.short, bio.name, *bio.synonyms)}:
            return None, bio.id
    return None


@dataclass
class Round:
    """One round of up to ROUND_SIZE items for one trainee."""

    items: list[QuizItem]
    label: str
    position: int = 0
    correct: int = 0

    @property
    def current(self) -> QuizItem | None:
        return self.items[self.position] if self.position < len(self.items) else None

    @property
    def finished(self) -> bool:
        return self.position >= len(self.items)

    def answer(self, correct: bool) -> None:
        self.correct += int(correct)
        self.position += 1
