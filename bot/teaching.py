"""Close a content gap in one step: teach the bot a phrasing for an answer it already has.

A taught phrasing goes into ``knowledge/learnt.yaml``, a file people review like the rest
of ``knowledge/``: entries are appended as text, so its comments and order stay as they
were, and each says who taught it (a pseudonym) and when. Nothing is kept unless it works:
the knowledge base must still pass the same checks as ``regenbot kb check`` (answer ids,
duplicates, phrasings that collide with another answer's), and each phrasing must then
really be answered with the answer it was taught for. A phrasing that names a topic the
review does not cover stays not covered: teaching cannot make the review say more.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bot.core.knowledge import Knowledge
from bot.core.loader import LEARNT_FILE, KnowledgeError, load_knowledge, teachable_target
from bot.core.normalise import normalise
from bot.pipeline import Pipeline
from bot.querylog.reports import outcome, quiet_answer

HEADER = """\
# Phrasings maintainers taught the bot: each is matched like an example phrasing of its
# answer (see README, "Closing a gap"). Written by `regenbot teach`, `regenbot gaps teach`,
# `regenbot suggestions accept` and the Telegram "Teach…" buttons; review it like any other
# change to knowledge/. `by` is the teacher's pseudonym, never a name or a Telegram id.
learnt:
"""
RELOAD_HINT = (
    "A running bot picks this up with /reload (as an admin, in Telegram) or `kill -HUP <pid>` "
    "(`systemctl reload regenbot`, `docker compose kill -s HUP regenbot`); no restart needed."
)


class TeachError(Exception):
    """The request cannot be taught as asked; the message says why and what would work."""


@dataclass
class Lesson:
    """What one teaching did: what was taught, what was not and why, the new knowledge base."""

    answer: str
    taught: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (phrasing, why)
    problems: list[str] = field(default_factory=list)  # kb check problems: nothing was written
    before: Knowledge | None = None
    after: Knowledge | None = None

    @property
    def changed(self) -> bool:
        return bool(self.taught) and self.after is not None


def intent_answer_id(intent: str | None, kb: Knowledge) -> str | None:
    """The teachable answer id for an intent logged with a question (None for two-part and others)."""
    if not intent or "+" in intent:
        return None
    head, _, rest = intent.partition(".")
    if head == "compare" and rest in kb.aspects:
        return f"cmp-{rest}"
    if head == "scenario" and rest in kb.scenarios:
        return f"scn-{rest}"
    if intent in kb.topics:
        return "t-" + intent.replace(".", "_", 1)
    if head in kb.biologics and rest in kb.aspects:
        return f"{head}-{rest}"
    return None


def teachable(answer: str, kb: Knowledge) -> bool:
    return not isinstance(teachable_target(answer, kb.aspects, kb.biologics, kb.scenarios, kb.topics), str)


def teach(
    directory: str | Path,
    phrasings: list[str],
    answer: str,
    *,
    by: str | None,
    source: str = "",
    today: str | None = None,
) -> Lesson:
    """Teach ``phrasings`` for ``answer`` in ``directory``/learnt.yaml; keep only what works.

    Raises KnowledgeError when the knowledge base is already invalid (fix that first) and
    TeachError when the answer id cannot be taught.
    """
    directory = Path(directory)
    before = load_knowledge(directory)
    target = teachable_target(answer, before.aspects, before.biologics, before.scenarios, before.topics)
    if isinstance(target, str):
        raise TeachError(target)
    lesson = Lesson(answer, before=before)
    old = Pipeline(before)
    taught = {normalise(item.phrase).text: item.answer for item in before.learnt}
    fresh: list[str] = []
    now: dict[str, str] = {}
    for phrase in dict.fromkeys(" ".join(p.split()) for p in phrasings):
        key = normalise(phrase).text
        if not phrase or not key:
            continue
        if key in now:
            lesson.skipped.append((phrase, f"reads the same as {now[key]!r}, taught with it"))
        elif key in taught:
            lesson.skipped.append((phrase, f"already taught for {taught[key]}"))
        elif _reaches(old, phrase, answer):
            lesson.skipped.append((phrase, f"already answered with {answer}"))
        else:
            now[key] = phrase
            fresh.append(phrase)
    if not fresh:
        return lesson
    day = today or datetime.now(timezone.utc).date().isoformat()
    path = directory / LEARNT_FILE
    with _locked(path), tempfile.TemporaryDirectory(prefix="regenbot-teach-") as scratch:
        # Checked on a copy first: learnt.yaml itself only ever holds a checked file, replaced
        # atomically, so a crash mid-way cannot leave an entry that stops the bot starting.
        trial = Path(scratch) / "knowledge"
        shutil.copytree(directory, trial, ignore=shutil.ignore_patterns(".*"))
        original = path.read_text(encoding="utf-8") if path.exists() else None
        keep = fresh
        for _ in range(3):  # drop what does not work, then check again without it
            text = _content(original, [_entry(p, answer, by, day, source) for p in keep])
            (trial / LEARNT_FILE).write_text(text, encoding="utf-8")
            try:
                checked = load_knowledge(trial)
            except KnowledgeError as exc:
                lesson.problems = [str(p).replace(str(trial), str(directory)) for p in exc.problems]
                return lesson
            new = Pipeline(checked)
            failing = {p: _why_not(new, p, answer) for p in keep if not _reaches(new, p, answer)}
            if not failing:
                _replace(path, text)
                lesson.taught, lesson.after = keep, load_knowledge(directory)
                return lesson
            lesson.skipped += list(failing.items())
            keep = [p for p in keep if p not in failing]
            if not keep:
                break
    return lesson


def _reaches(pipeline: Pipeline, phrase: str, answer: str) -> bool:
    """Is ``phrase``, asked alone, answered with ``answer`` (same section, same biologics)?"""
    want = pipeline.composer.parse_answer_id(answer)
    got = quiet_answer(pipeline, phrase)
    if want is None or not got.answered:
        return False
    return got.intent == want.intent and set(got.slots.biologics) == set(want.slots.biologics)


def _why_not(pipeline: Pipeline, phrase: str, answer: str) -> str:
    match = pipeline.matcher.match(normalise(phrase))
    if match.outside_topic:
        return (
            f"it names {match.outside_topic!r}, which vocabulary.yaml lists as not covered by the review; "
            "it stays 'not covered'"
        )
    if match.reason == "near":
        return "it names a near-but-different term (vocabulary.yaml near_terms); it stays a near-miss"
    got = outcome(quiet_answer(pipeline, phrase))
    return f"it is still answered as {got}: a cue or example of that answer weighs more"


def _entry(phrase: str, answer: str, by: str | None, day: str, source: str) -> str:
    lines = [
        f"  - phrase: {json.dumps(phrase, ensure_ascii=False)}",
        f"    answer: {answer}",
        f"    by: {json.dumps(by or 'unknown')}",
        f"    date: {json.dumps(day)}",
    ]
    if source:
        lines.append(f"    from: {json.dumps(source, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def _content(original: str | None, entries: list[str]) -> str:
    base = HEADER if original is None else original
    if base and not base.endswith("\n"):
        base += "\n"
    return base + "".join(entries)


def _replace(path: Path, text: str) -> None:
    """Write beside ``path``, fsync, rename over it, fsync the folder: old or new, never half."""
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One teacher at a time (the CLI and a running bot may both write learnt.yaml)."""
    lock = path.with_name("." + path.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
