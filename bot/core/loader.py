"""Read ``knowledge/*.yaml`` and check it before the bot answers anything from it.

Every problem is collected rather than raised at the first one, so ``regenbot kb check``
(and a refused start-up) shows a maintainer the whole list at once, each line naming the
file, the entry and the field to fix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from bot.core.knowledge import (
    EVIDENCE_LEVELS,
    MAX_QUOTE_WORDS,
    SECTIONS,
    Aspect,
    Biologic,
    Claim,
    Comparison,
    Cue,
    Evidence,
    Knowledge,
    Learnt,
    Overview,
    Parameter,
    Quote,
    Reference,
    Review,
    Scenario,
    Statement,
    Topic,
)
from bot.core.quiz import QuizBank, QuizItem, Shared, generate_items, item_problems
from bot.core.words_loader import read_glossary, read_vocabulary

FILES = (
    "references.yaml",
    "biologics.yaml",
    "aspects.yaml",
    "comparison.yaml",
    "scenarios.yaml",
    "topics.yaml",
    "vocabulary.yaml",
    "messages.yaml",
    "quiz.yaml",
    "indonesian.yaml",
)
# Phrasings maintainers taught (regenbot teach): optional, written by bot/teaching.py.
LEARNT_FILE = "learnt.yaml"
LEARNT_FIELDS = ("phrase", "answer", "by", "date", "from")
# Glossaries of other languages people ask in (see bot/core/translate.py).
LANGUAGE_FILES = ("indonesian.yaml",)
MESSAGE_KEYS = (
    "version",
    "disclaimer",
    "evidence_prefix",
    "sources_prefix",
    "sources_hint",
    "not_covered",
    "did_you_mean",
    "ambiguous",
    "covered_topics",
    "covered_hint",
    "unknown_reference",
    "references_title",
    "review_title",
    "review_current_through",
    "not_covered_topic",
    "unsure",
    "unsure_no_suggestion",
    "near_prefix",
    "outside_note",
    "unreported_note",
    "chat_greeting",
    "chat_thanks",
    "chat_identity",
    "chat_bye",
    "personal_advice",
    "nothing_more",
    "no_previous_answer",
    "sources_title",
    "quotes_title",
    "scenarios_title",
    "review_sources",
)
# `refs: review` marks a claim the review makes without reference numbers.
REVIEW = "review"
QUIZ_FIELDS = (
    "id",
    "topic",
    "biologic",
    "subject",
    "difficulty",
    "answer",
    "refs",
    "quote",
    "question",
    "options",
    "contrasts",
    "explanation",
)


@dataclass(frozen=True)
class Problem:
    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.field}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge base cannot be used; ``problems`` says every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(self.report())

    def report(self) -> str:
        lines = [f"knowledge base has {len(self.problems)} problem(s):"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


class _Reader:
    """Typed access to raw YAML that records a Problem instead of raising."""

    def __init__(self, problems: list[Problem], file: str, valid_refs: set[int] | None = None) -> None:
        self.problems = problems
        self.file = file
        self.valid_refs = valid_refs or set()

    def problem(self, entry: str, field: str, message: str) -> None:
        self.problems.append(Problem(self.file, entry, field, message))

    def mapping(self, value: Any, entry: str, field: str) -> dict:
        if isinstance(value, dict):
            return value
        self.problem(entry, field, f"expected a mapping, got {_kind(value)}")
        return {}

    def seq(self, value: Any, entry: str, field: str, *, required: bool = True) -> list:
        if value is None and not required:
            return []
        if isinstance(value, list):
            return value
        self.problem(entry, field, f"expected a list, got {_kind(value)}")
        return []

    def text(self, value: Any, entry: str, field: str) -> str:
        if isinstance(value, (bool, list, dict)) or value is None:
            hint = " (quote it: YAML reads yes/no/on/off/true as booleans)" if isinstance(value, bool) else ""
            self.problem(entry, field, f"expected text, got {_kind(value)}{hint}")
            return ""
        text = " ".join(str(value).split())
        if not text:
            self.problem(entry, field, "empty text")
        return text

    def texts(self, value: Any, entry: str, field: str, *, required: bool = True) -> tuple[str, ...]:
        items = self.seq(value, entry, field, required=required)
        out = tuple(self.text(v, entry, f"{field}[{i}]") for i, v in enumerate(items))
        return tuple(t for t in out if t)

    def refs(self, value: Any, entry: str, field: str) -> tuple[int, ...]:
        items = self.seq(value, entry, field) if value is not None else []
        if not items:
            self.problem(entry, field, "claim without citation: give at least one reference number")
            return ()
        out = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, int):
                self.problem(entry, field, f"reference numbers must be whole numbers, got {item!r}")
            elif self.valid_refs and item not in self.valid_refs:
                self.problem(entry, field, f"unknown reference {item} (known: 1-{max(self.valid_refs)})")
            else:
                out.append(item)
        return tuple(sorted(set(out)))

    def only(self, raw: dict, allowed: tuple[str, ...], entry: str, field: str) -> None:
        """Unknown keys are mistakes: often a comma in an unquoted flow-style value
        (``{text: a, b}`` makes ``b`` a key), which would silently cut the text short."""
        for key in raw:
            if key not in allowed:
                where = f"{field}.{key}" if field != "-" else str(key)
                self.problem(
                    entry,
                    where,
                    f"unknown field (allowed: {', '.join(allowed)}); quote text that contains a comma or colon",
                )

    def claim_refs(self, value: Any, entry: str, field: str) -> tuple[int, ...]:
        """Reference numbers, or ``review`` (no numbers) for the review's own statements."""
        if value == REVIEW:
            return ()
        if value is None or value == []:
            self.problem(
                entry, field, f"claim without citation: give reference numbers, or {REVIEW!r} if none are printed"
            )
            return ()
        if isinstance(value, str):
            self.problem(entry, field, f"expected reference numbers or {REVIEW!r}, got {value!r}")
            return ()
        return self.refs(value, entry, field)

    def quotes(self, value: Any, entry: str, field: str) -> tuple[Quote, ...]:
        """Verbatim anchors in the review; whether they really occur there is checked by
        ``bot.core.provenance`` when the review's text is at hand."""
        if value is None or value == []:
            self.problem(entry, field, "no quote: give the review sentence(s) this rests on, with their section")
            return ()
        out = []
        for i, item in enumerate(self.seq(value, entry, field, required=False)):
            where = f"{field}[{i}]"
            raw = self.mapping(item, entry, where)
            if not raw:
                continue
            self.only(raw, ("section", "text"), entry, where)
            section = self.text(raw.get("section"), entry, f"{where}.section")
            text = self.text(raw.get("text"), entry, f"{where}.text")
            if section and section not in SECTIONS:
                self.problem(entry, f"{where}.section", f"unknown section {section!r} (known: {', '.join(SECTIONS)})")
            words = len(text.split())
            if words > MAX_QUOTE_WORDS:
                self.problem(entry, f"{where}.text", f"{words} words; a quote may have at most {MAX_QUOTE_WORDS}")
            if text:
                out.append(Quote(text, section))
        return tuple(out)

    def claim(self, value: Any, entry: str, field: str, extra: tuple[str, ...] = ()) -> Claim:
        raw = self.mapping(value, entry, field)
        self.only(raw, ("text", "refs", "quote", "short", "reason", *extra), entry, field)
        reason = raw.get("reason", False)
        if not isinstance(reason, bool):
            self.problem(entry, f"{field}.reason", f"must be true or false, got {reason!r}")
            reason = False
        claim = Claim(
            self.text(raw.get("text"), entry, f"{field}.text"),
            self.claim_refs(raw.get("refs"), entry, f"{field}.refs"),
            self.quotes(raw.get("quote"), entry, f"{field}.quote"),
            self.text(raw["short"], entry, f"{field}.short") if "short" in raw else "",
            reason,
        )
        if claim.short:
            from bot.core.provenance import short_problems  # needs the text normaliser

            for message in short_problems(claim):
                self.problem(entry, f"{field}.short", message)
        return claim

    def claims(self, value: Any, entry: str, field: str) -> tuple[Claim, ...]:
        items = self.seq(value, entry, field)
        if not items and isinstance(value, list):
            self.problem(entry, field, "no claims")
        return tuple(self.claim(v, entry, f"{field}[{i}]") for i, v in enumerate(items))

    def cues(self, value: Any, entry: str, field: str) -> tuple[Cue, ...]:
        out = []
        for i, item in enumerate(self.seq(value, entry, field)):
            where = f"{field}[{i}]"
            if isinstance(item, dict):
                self.only(item, ("phrase", "weight"), entry, where)
                phrase = self.text(item.get("phrase"), entry, f"{where}.phrase")
                weight = item.get("weight", 1.0)
                if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= 1:
                    self.problem(entry, f"{where}.weight", f"weight must be a number in (0, 1], got {weight!r}")
                    weight = 1.0
                if phrase:
                    out.append(Cue(phrase, float(weight)))
            else:
                phrase = self.text(item, entry, where)
                if phrase:
                    out.append(Cue(phrase))
        return tuple(out)

    def entries(self, value: Any, section: str, key: str = "id") -> Iterator[tuple[str, dict]]:
        """Each mapping of a list section with its text id, reporting bad and duplicate ids."""
        seen: set = set()
        for i, raw in enumerate(self.seq(value, section, "-")):
            item = self.mapping(raw, f"{section}[{i}]", "-")
            ident = self.text(item.get(key), f"{section}[{i}]", key)
            self.unique_id(ident, ident or f"{section}[{i}]", seen, key)
            yield ident or f"{section}[{i}]", item

    def unique_id(self, value: Any, entry: str, seen: set, field: str = "id") -> Any:
        if value in seen:
            self.problem(entry, field, f"duplicate id {value!r}")
        seen.add(value)
        return value


def _kind(value: Any) -> str:
    return {bool: "a boolean", list: "a list", dict: "a mapping", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )


class _StrictLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys without a word; a maintainer editing a long
    glossary would lose the first silently. Duplicates are collected as problems instead."""

    duplicates: list[tuple[int, str]]


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (str, int)) and key in seen:
            loader.duplicates.append((key_node.start_mark.line + 1, str(key)))
        if isinstance(key, (str, int)):
            seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def _load_strict(text: str, name: str, problems: list[Problem]) -> Any:
    loader = _StrictLoader(text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    for line, key in loader.duplicates:
        problems.append(Problem(name, f"line {line}", key, "duplicate key: YAML would keep only the last one"))
    return data


def _read_yaml(directory: Path, name: str, problems: list[Problem]) -> dict:
    path = directory / name
    try:
        data = _load_strict(path.read_text(encoding="utf-8"), name, problems)
    except FileNotFoundError:
        problems.append(Problem(name, "-", "-", "file is missing"))
        return {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "-"
        problems.append(Problem(name, where, "-", f"not valid YAML: {getattr(exc, 'problem', exc)}"))
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(name, "-", "-", f"cannot read: {exc}"))
        return {}
    if not isinstance(data, dict):
        problems.append(Problem(name, "-", "-", f"expected a mapping at the top, got {_kind(data)}"))
        return {}
    return data


def load_knowledge(directory: str | Path) -> Knowledge:
    """Load and validate the knowledge base; raise KnowledgeError listing every problem."""
    directory = Path(directory)
    problems: list[Problem] = []
    if not directory.is_dir():
        raise KnowledgeError([Problem(str(directory), "-", "-", "knowledge directory not found")])
    raw = {name: _read_yaml(directory, name, problems) for name in FILES}

    review, references = _references(raw["references.yaml"], problems)
    valid = set(references)
    aspects, overview = _aspects(raw["aspects.yaml"], problems)
    biologics = _biologics(raw["biologics.yaml"], problems, valid, aspects)
    comparison = _comparison(raw["comparison.yaml"], problems, valid, aspects, biologics)
    scenarios = _scenarios(raw["scenarios.yaml"], problems, valid, biologics)
    topics = _topics(raw["topics.yaml"], problems, valid)
    learnt_raw = _read_yaml(directory, LEARNT_FILE, problems) if (directory / LEARNT_FILE).exists() else {}
    learnt = _learnt(learnt_raw, problems, aspects, biologics, scenarios, topics)
    aspects, scenarios, topics = _with_learnt(learnt, aspects, scenarios, topics)
    targets = {*biologics, *(f"{b}.{a}" for b in biologics for a in aspects), *(f"scenario.{x}" for x in scenarios)}
    vocabulary = read_vocabulary(_Reader(problems, "vocabulary.yaml"), raw["vocabulary.yaml"], targets | set(topics))
    languages = tuple(read_glossary(_Reader(problems, name), raw[name]) for name in LANGUAGE_FILES)
    messages = _messages(raw["messages.yaml"], problems)
    authored, quiz_topics, generated_topics, shared = _quiz(raw["quiz.yaml"], problems, valid, biologics)

    kb = Knowledge(
        version=_version(messages.get("version", "unknown"), learnt),
        review=review,
        references=references,
        biologics=biologics,
        aspects=aspects,
        overview=overview,
        comparison=comparison,
        scenarios=scenarios,
        topics=topics,
        vocabulary=vocabulary,
        messages=messages,
        languages=languages,
        learnt=tuple(learnt),
    )
    if not problems:
        problems.extend(_contradictory_vocabulary(kb))
    if not problems:
        generated = generate_items(kb, generated_topics, shared)
        for item in generated:
            problems += [
                Problem("comparison.yaml/scenarios.yaml", f"generated quiz item {item.id}", fld, msg)
                for fld, msg in item_problems(item, valid, quiz_topics)
            ]
        kb.extra["quiz"] = bank = QuizBank.build(authored, generated, quiz_topics, shared)
        # Exactly one option per item that the review supports (bot.core.quizcheck).
        from bot.core.quizcheck import facts_of, fidelity_problems

        problems += [
            Problem("quiz.yaml" if item_id in {i.id for i in authored} else "quiz.yaml (generated)", item_id, f, m)
            for item_id, f, m in fidelity_problems(bank.items, facts_of(kb))
        ]
        # Imported here: the collision check needs the phrase matcher, which needs a Knowledge.
        from bot.core.collisions import example_collisions

        problems.extend(example_collisions(kb))
    if problems:
        raise KnowledgeError(problems)
    return kb


REFERENCE_FIELDS = (
    "id",
    "authors",
    "et_al",
    "title",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "doi",
    "affiliations",
    "literature_through",
    "statements",
)


def _reference(r: _Reader, item: Any, entry: str) -> Reference:
    item = r.mapping(item, entry, "-")
    r.only(item, REFERENCE_FIELDS, entry, "-")
    year = item.get("year")
    if isinstance(year, bool) or not isinstance(year, int):
        r.problem(entry, "year", f"expected a year, got {year!r}")
        year = 0
    return Reference(
        id=item.get("id", 0) if isinstance(item.get("id"), int) else 0,
        authors=r.texts(item.get("authors"), entry, "authors"),
        title=r.text(item.get("title"), entry, "title"),
        journal=r.text(item.get("journal"), entry, "journal"),
        year=year,
        volume=str(item.get("volume", "")),
        issue=str(item.get("issue", "")),
        pages=str(item.get("pages", "")),
        doi=str(item.get("doi", "")),
        et_al=bool(item.get("et_al", False)),
    )


def _references(data: dict, problems: list[Problem]) -> tuple[Review, dict[int, Reference]]:
    r = _Reader(problems, "references.yaml")
    raw_review = r.mapping(data.get("review"), "review", "-")
    statements = []
    for i, raw in enumerate(r.seq(raw_review.get("statements"), "review", "statements", required=False)):
        field = f"statements[{i}]"
        label = r.text(r.mapping(raw, "review", field).get("label"), "review", f"{field}.label")
        statements.append(Statement(label, r.claim(raw, "review", field, extra=("label",))))
    review = Review(
        reference=_reference(r, raw_review, "review"),
        affiliations=r.texts(raw_review.get("affiliations"), "review", "affiliations", required=False),
        literature_through=r.text(raw_review.get("literature_through"), "review", "literature_through"),
        statements=tuple(statements),
    )
    if not review.reference.doi:
        r.problem("review", "doi", "the review needs its DOI")
    refs: dict[int, Reference] = {}
    seen: set = set()
    for i, item in enumerate(r.seq(data.get("references"), "references", "-")):
        ident = item.get("id") if isinstance(item, dict) else None
        entry = f"references[{i}] (id {ident})"
        if isinstance(ident, bool) or not isinstance(ident, int) or ident < 1:
            r.problem(entry, "id", f"reference ids are whole numbers from 1, got {ident!r}")
            continue
        r.unique_id(ident, entry, seen)
        refs[ident] = _reference(r, item, entry)
    if refs and sorted(refs) != list(range(1, max(refs) + 1)):
        missing = sorted(set(range(1, max(refs) + 1)) - set(refs))
        r.problem("references", "id", f"numbering has gaps: missing {missing}")
    return review, refs


def _aspects(data: dict, problems: list[Problem]) -> tuple[dict[str, Aspect], Overview]:
    r = _Reader(problems, "aspects.yaml")
    aspects: dict[str, Aspect] = {}
    for ident, item in r.entries(data.get("aspects"), "aspects"):
        r.only(item, ("id", "label", "cues", "examples"), ident, "-")
        aspects[ident] = Aspect(
            id=ident,
            label=r.text(item.get("label"), ident, "label"),
            cues=r.cues(item.get("cues"), ident, "cues"),
            examples=r.texts(item.get("examples"), ident, "examples"),
        )
    raw = r.mapping(data.get("overview"), "overview", "-")
    compose = r.texts(raw.get("compose_from"), "overview", "compose_from")
    for name in compose:
        if name not in aspects:
            r.problem("overview", "compose_from", f"unknown aspect {name!r}")
    overview = Overview(
        label=r.text(raw.get("label"), "overview", "label"),
        compose_from=compose,
        cues=r.cues(raw.get("cues"), "overview", "cues"),
    )
    return aspects, overview


def _biologics(data: dict, problems: list[Problem], valid: set[int], aspects: dict[str, Aspect]) -> dict[str, Biologic]:
    r = _Reader(problems, "biologics.yaml", valid)
    out: dict[str, Biologic] = {}
    for ident, item in r.entries(data.get("biologics"), "biologics"):
        r.only(item, ("id", "name", "short", "synonyms", "evidence", "aspects"), ident, "-")
        ev = r.mapping(item.get("evidence"), ident, "evidence")
        r.only(ev, ("level", "label", "refs", "quote"), ident, "evidence")
        level = r.text(ev.get("level"), ident, "evidence.level")
        if level and level not in EVIDENCE_LEVELS:
            r.problem(ident, "evidence.level", f"must be one of {', '.join(EVIDENCE_LEVELS)}, got {level!r}")
        raw_aspects = r.mapping(item.get("aspects"), ident, "aspects")
        claims = {}
        for name, value in raw_aspects.items():
            if name not in aspects:
                r.problem(ident, f"aspects.{name}", f"unknown aspect (known: {', '.join(aspects)})")
                continue
            claims[name] = r.claims(value, ident, f"aspects.{name}")
        for name in aspects:
            if name not in raw_aspects:
                r.problem(ident, f"aspects.{name}", "missing: every biologic needs every aspect")
        out[ident] = Biologic(
            id=ident,
            name=r.text(item.get("name"), ident, "name"),
            short=r.text(item.get("short"), ident, "short"),
            synonyms=r.texts(item.get("synonyms"), ident, "synonyms"),
            evidence=Evidence(
                level,
                r.text(ev.get("label"), ident, "evidence.label"),
                r.refs(ev.get("refs"), ident, "evidence.refs"),
                r.quotes(ev.get("quote"), ident, "evidence.quote"),
            ),
            aspects=claims,
        )
    if not out:
        r.problem("biologics", "-", "no biologics defined")
    return out


def _comparison(data: dict, problems: list[Problem], valid: set[int], aspects: dict, biologics: dict) -> Comparison:
    r = _Reader(problems, "comparison.yaml", valid)
    params = []
    for entry, item in r.entries(data.get("parameters"), "parameters", key="aspect"):
        r.only(item, ("aspect", "label", "cells"), entry, "-")
        aspect = entry if entry in aspects else ""
        if entry not in aspects and not entry.startswith("parameters["):
            r.problem(entry, "aspect", f"unknown aspect {entry!r}")
        raw_cells = r.mapping(item.get("cells"), entry, "cells")
        cells = {}
        for bio in biologics:
            if bio not in raw_cells:
                r.problem(entry, f"cells.{bio}", "missing: every row needs a cell for every biologic")
            else:
                cells[bio] = r.claim(raw_cells[bio], entry, f"cells.{bio}")
        for bio in raw_cells:
            if bio not in biologics:
                r.problem(entry, f"cells.{bio}", "unknown biologic")
        params.append(Parameter(aspect, r.text(item.get("label"), entry, "label"), cells))
    hier = r.mapping(data.get("hierarchy"), "hierarchy", "-")
    order = r.texts(hier.get("order"), "hierarchy", "order")
    if sorted(order) != sorted(biologics):
        r.problem("hierarchy", "order", f"must list each biologic once: {', '.join(biologics)}")
    return Comparison(
        title=r.text(data.get("title"), "comparison", "title"),
        parameters=tuple(params),
        hierarchy=order,
        hierarchy_claim=r.claim(hier.get("claim"), "hierarchy", "claim"),
    )


def _scenarios(data: dict, problems: list[Problem], valid: set[int], biologics: dict) -> dict[str, Scenario]:
    r = _Reader(problems, "scenarios.yaml", valid)
    out: dict[str, Scenario] = {}
    for ident, item in r.entries(data.get("scenarios"), "scenarios"):
        r.only(item, ("id", "label", "choice", "choice_label", "rationale", "cues", "examples"), ident, "-")
        choice = r.texts(item.get("choice"), ident, "choice")
        for bio in choice:
            if bio not in biologics:
                r.problem(ident, "choice", f"unknown biologic {bio!r}")
        out[ident] = Scenario(
            id=ident,
            label=r.text(item.get("label"), ident, "label"),
            choice=choice,
            choice_label=r.text(item.get("choice_label"), ident, "choice_label"),
            rationale=r.claim(item.get("rationale"), ident, "rationale"),
            cues=r.cues(item.get("cues"), ident, "cues"),
            examples=r.texts(item.get("examples"), ident, "examples"),
        )
    return out


def _topics(data: dict, problems: list[Problem], valid: set[int]) -> dict[str, Topic]:
    r = _Reader(problems, "topics.yaml", valid)
    out: dict[str, Topic] = {}
    for ident, item in r.entries(data.get("topics"), "topics"):
        r.only(item, ("id", "title", "cues", "examples", "claims"), ident, "-")
        out[ident] = Topic(
            id=ident,
            title=r.text(item.get("title"), ident, "title"),
            cues=r.cues(item.get("cues"), ident, "cues"),
            examples=r.texts(item.get("examples"), ident, "examples"),
            claims=r.claims(item.get("claims"), ident, "claims"),
        )
    return out


def _quiz(
    data: dict, problems: list[Problem], valid: set[int], biologics: dict
) -> tuple[list[QuizItem], tuple[str, ...], dict, list[Shared]]:
    r = _Reader(problems, "quiz.yaml", valid)
    topics = r.texts(data.get("topics"), "topics", "-")
    generated_topics = r.mapping(data.get("generated_topics"), "generated_topics", "-")
    from bot.core.quizcheck import TOPIC_SOURCES

    subjects = {*biologics, *TOPIC_SOURCES}
    items: list[QuizItem] = []
    for entry, raw in r.entries(data.get("items"), "items"):
        r.only(raw, QUIZ_FIELDS, entry, "-")
        answer, difficulty = raw.get("answer"), raw.get("difficulty", 2)
        if isinstance(answer, bool) or not isinstance(answer, int):
            r.problem(entry, "answer", f"expected an option index, got {answer!r}")
            answer = -1
        if isinstance(difficulty, bool) or not isinstance(difficulty, int):
            r.problem(entry, "difficulty", f"expected 1, 2 or 3, got {difficulty!r}")
            difficulty = 2
        biologic = raw.get("biologic")
        if biologic is not None and biologic not in biologics:
            r.problem(entry, "biologic", f"unknown biologic {biologic!r}")
        subject = r.texts(raw.get("subject"), entry, "subject", required=False)
        for name in subject:
            if name not in subjects:
                known = ", ".join([*biologics, *TOPIC_SOURCES])
                r.problem(entry, "subject", f"unknown subject {name!r} (known: {known})")
        contrasts = []
        for i, c in enumerate(r.seq(raw.get("contrasts"), entry, "contrasts", required=False)):
            c = r.mapping(c, entry, f"contrasts[{i}]")
            r.only(c, ("option", "quote"), entry, f"contrasts[{i}]")
            option = c.get("option")
            if isinstance(option, bool) or not isinstance(option, int):
                r.problem(entry, f"contrasts[{i}].option", f"expected an option index, got {option!r}")
                continue
            for quote in r.quotes(c.get("quote"), entry, f"contrasts[{i}].quote"):
                contrasts.append((option, quote))
        item = QuizItem(
            id=entry,
            topic=r.text(raw.get("topic"), entry, "topic"),
            question=r.text(raw.get("question"), entry, "question"),
            options=tuple(
                str(o) if not isinstance(o, bool) else r.text(o, entry, "options")
                for o in r.seq(raw.get("options"), entry, "options")
            ),
            answer=answer,
            explanation=r.text(raw.get("explanation"), entry, "explanation"),
            refs=r.claim_refs(raw.get("refs"), entry, "refs"),
            difficulty=difficulty,
            biologic=biologic,
            quotes=r.quotes(raw.get("quote"), entry, "quote"),
            subject=subject,
            contrasts=tuple(contrasts),
        )
        for fld, msg in item_problems(item, valid, topics):
            # A bad answer index is reported once; a missing quote already by r.quotes.
            if ((msg != "empty text" and answer != -1) or fld != "answer") and fld != "quote":
                r.problem(entry, fld, msg)
        items.append(item)
    shared = []
    for i, raw in enumerate(r.seq(data.get("shared"), "shared", "-", required=False)):
        raw = r.mapping(raw, f"shared[{i}]", "-")
        r.only(raw, ("row", "cell", "also", "quote"), f"shared[{i}]", "-")
        cell, also = r.text(raw.get("cell"), f"shared[{i}]", "cell"), r.texts(raw.get("also"), f"shared[{i}]", "also")
        for bio in (cell, *also):
            if bio and bio not in biologics:
                r.problem(f"shared[{i}]", "cell/also", f"unknown biologic {bio!r}")
        shared.append(
            Shared(
                r.text(raw.get("row"), f"shared[{i}]", "row"),
                cell,
                also,
                r.quotes(raw.get("quote"), f"shared[{i}]", "quote"),
            )
        )
    return items, topics, generated_topics, shared


def _contradictory_vocabulary(kb: Knowledge) -> list[Problem]:
    """A word cannot both be a cue (or a biologic's name) and name something not covered."""
    from bot.core.lexicon import Lexicon  # needs a loaded Knowledge

    lexicon = Lexicon(kb)
    single_cues = lexicon.single_cues | {k[0] for k in lexicon.bio_phrases if len(k) == 1}
    clash = sorted(word for word in lexicon.outside_phrases if len(word) == 1 and word[0] in single_cues)
    return [
        Problem("vocabulary.yaml", "not_covered", "-", f"{word[0]!r} is also a cue or a biologic's name: remove one")
        for word in clash
    ]


def _messages(data: dict, problems: list[Problem]) -> dict[str, str]:
    r = _Reader(problems, "messages.yaml")
    return {key: r.text(data.get(key), key, "-") for key in MESSAGE_KEYS}


def teachable_target(
    answer: str, aspects: dict, biologics: dict, scenarios: dict, topics: dict
) -> tuple[str, str, tuple[str, ...]] | str:
    """(kind, id, biologics) whose examples a phrasing for ``answer`` joins, or why it cannot.

    Only answers that own example phrasings can learn one: a biologic's aspect, a Table 1
    row, a Table 2 scenario, a topic. Ids carry no focus or ".f" suffix: a phrasing picks
    the answer, the question's own words pick the claims shown first.
    """
    head, _, rest = answer.partition("-")
    if head == "cmp" and rest:
        aspect, *bios = rest.split("-")
        if aspect in aspects and bios and all(b in biologics for b in bios) and len(set(bios)) == len(bios) > 1:
            return "aspect", aspect, tuple(bios)
        if aspect in aspects and not bios:
            return "aspect", aspect, ()
    elif head == "scn" and rest in scenarios:
        return "scenario", rest, ()
    elif head == "t" and rest.replace("_", ".", 1) in topics:
        return "topic", rest.replace("_", ".", 1), ()
    elif head in biologics and rest in aspects:
        return "aspect", rest, (head,)
    return (
        f"unknown or unteachable answer id {answer!r}: teach a biologic's aspect (prp-safety), a Table 1 row "
        "(cmp-evidence, cmp-evidence-prp-exosomes), a scenario (scn-post_laser) or a topic (t-review_gaps)"
    )


def _learnt(data: dict, problems: list[Problem], aspects: dict, biologics: dict, scenarios: dict, topics: dict) -> list:
    """Validate knowledge/learnt.yaml: known answer ids, no phrasing twice, no stray fields."""
    from bot.core.normalise import normalise

    r = _Reader(problems, LEARNT_FILE)
    if not data:
        return []
    r.only(data, ("learnt",), "-", "-")
    out: list[Learnt] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(r.seq(data.get("learnt"), "learnt", "-", required=False)):
        item = r.mapping(raw, f"learnt[{i}]", "-")
        r.only(item, LEARNT_FIELDS, f"learnt[{i}]", "-")
        phrase = r.text(item.get("phrase"), f"learnt[{i}]", "phrase")
        answer = r.text(item.get("answer"), f"learnt[{i}]", "answer")
        entry = f"learnt[{i}] ({phrase!r})"
        if not phrase or not answer:
            continue
        target = teachable_target(answer, aspects, biologics, scenarios, topics)
        if isinstance(target, str):
            r.problem(entry, "answer", target)
            continue
        key = normalise(phrase).text
        if key in seen:
            r.problem(entry, "phrase", f"duplicate: already taught at {seen[key]}")
            continue
        seen[key] = f"learnt[{i}]"
        kind, ident, bios = target
        by, day = item.get("by"), item.get("date")
        out.append(Learnt(phrase, answer, kind, ident, bios, str(by or ""), str(day or "")))
    return out


def _with_learnt(learnt: list, aspects: dict, scenarios: dict, topics: dict) -> tuple[dict, dict, dict]:
    """Taught phrasings become examples of their target, so everything that reads examples sees them."""
    if not learnt:
        return aspects, scenarios, topics
    tables = {"aspect": dict(aspects), "scenario": dict(scenarios), "topic": dict(topics)}
    for item in learnt:
        table = tables[item.kind]
        table[item.ident] = replace(table[item.ident], examples=(*table[item.ident].examples, item.phrase))
    return tables["aspect"], tables["scenario"], tables["topic"]


def _version(base: str, learnt: list) -> str:
    """A taught phrasing changes what the bot answers, so it changes the version logged and shown."""
    if not learnt:
        return base
    digest = hashlib.sha1("\n".join(f"{item.phrase}\t{item.answer}" for item in learnt).encode()).hexdigest()
    return f"{base}+learnt{len(learnt)}.{digest[:6]}"
