"""The one path every front end takes: normalise -> match -> resolve follow-up -> compose -> log.

Telegram, the console chat, ``regenbot ask`` and the benchmarks all call
``Pipeline.ask``; none of them matches or composes on its own. The pipeline is
synchronous and does no I/O: logging hands a record to a sink that writes elsewhere
(see ``bot.querylog``), so a slow disk never delays an answer.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.core.answers import Answer, Composer
from bot.core.backing import quotes_behind
from bot.core.context import ContextStore, next_frame
from bot.core.knowledge import Knowledge
from bot.core.loader import load_knowledge
from bot.core.matching import Match, Matcher
from bot.core.normalise import normalise
from bot.core.render import to_html, to_plain

DEFAULT_KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"


@dataclass(frozen=True)
class QueryRecord:
    """What the pipeline tells the log about one question (before redaction)."""

    question: str
    normalised: str
    frontend: str
    chat_type: str
    user: str | int | None
    intent: str | None
    slots: dict[str, Any]
    score: float
    answered: bool
    reason: str
    suggestions: tuple[str, ...]
    latency_ms: float
    kb_version: str
    used_context: bool
    created: float = field(default_factory=time.time)


class QuerySink(Protocol):
    """Where the pipeline's records go; every method must return at once."""

    def record(self, entry: QueryRecord) -> None: ...

    def record_phrasing(self, normalised: str, intent: str, example: str, user: str | int | None = None) -> None: ...


class NullSink:
    def record(self, entry: QueryRecord) -> None:
        return None

    def record_phrasing(self, normalised: str, intent: str, example: str, user: str | int | None = None) -> None:
        return None


@dataclass(frozen=True)
class Reply:
    answer: Answer
    question: str
    latency_ms: float
    used_context: bool

    def html(self) -> list[str]:
        return to_html(self.answer)

    def plain(self) -> str:
        return to_plain(self.answer)

    def as_json(self) -> dict[str, Any]:
        a = self.answer
        return {
            "answered": a.answered,
            "intent": a.intent,
            "score": round(a.score, 1),
            "reason": a.reason,
            "slots": a.slots.as_dict(),
            "text": self.plain(),
            "citations": list(a.citations),
            "suggestions": [{"label": s.label, "id": s.answer_id, "intent": s.intent} for s in a.suggestions],
            "answer_id": a.answer_id,
            "more": a.more,
            "quotes": quotes_behind(a),
            "used_context": self.used_context,
        }


class Pipeline:
    def __init__(self, kb: Knowledge, sink: QuerySink | None = None, contexts: ContextStore | None = None) -> None:
        self.kb = kb
        self.matcher = Matcher(kb)
        self.composer = Composer(kb, self.matcher.sections)
        self.sink: QuerySink = sink or NullSink()
        self.contexts = contexts or ContextStore()

    @classmethod
    def from_directory(cls, directory: str | Path | None = None, **kwargs: Any) -> Pipeline:
        return cls(load_knowledge(directory or DEFAULT_KNOWLEDGE_DIR), **kwargs)

    def ask(
        self,
        text: str,
        *,
        conversation: Hashable = "console",
        frontend: str = "console",
        chat_type: str = "private",
        user: str | int | None = None,
    ) -> Reply:
        started = time.perf_counter()
        question = normalise(text)
        previous = self.contexts.get(conversation)
        match = self.matcher.match(question, previous)
        where = {"conversation": conversation, "frontend": frontend, "chat_type": chat_type, "user": user}
        if match.reason == "pick" and previous is not None and match.act:
            picked = self.choose_suggestion(previous.asked, match.act, **where)
            if picked is not None:
                return picked
        if match.reason == "more" and match.act:
            answer = self.composer.more_for(match.act) or self.composer.nothing_more()
        elif match.reason == "sources" and match.act:
            answer = self.composer.sources_for(match.act) or self.composer.nothing_more()
        elif match.reason == "quotes" and match.act:
            answer = self.composer.quotes_for(match.act) or self.composer.nothing_more()
        else:
            answer = self.composer.compose(match)
        self._remember(conversation, previous, match, answer, text)
        return self._finish(text, question.text, match, answer, started, frontend, chat_type, user)

    def _remember(self, conversation: Hashable, previous, match: Match, answer: Answer, text: str) -> None:
        suggestions = tuple(s.answer_id for s in answer.suggestions)
        frame = next_frame(previous, match, answer.answer_id, suggestions, answer.answered, text)
        if frame is not None:
            self.contexts.put(conversation, frame)

    def ask_id(
        self,
        answer_id: str,
        *,
        conversation: Hashable = "console",
        frontend: str = "console",
        chat_type: str = "private",
        user: str | int | None = None,
    ) -> Reply | None:
        """Answer a suggestion button or deep link; None when the id is stale or forged."""
        started = time.perf_counter()
        answer = self.composer.answer_for_id(answer_id)
        if answer is None:
            return None
        match = Match(True, answer.intent, answer.slots, 100.0, "answered")
        self._remember(conversation, self.contexts.get(conversation), match, answer, "")
        return self._finish(f"[{answer_id}]", answer_id, match, answer, started, frontend, chat_type, user)

    def choose_suggestion(self, original: str, answer_id: str, **where: Any) -> Reply | None:
        """A "did you mean" pick: answer it and keep the original wording as a learnt phrasing."""
        reply = self.ask_id(answer_id, **where)
        if reply is not None and reply.answer.intent:
            self.sink.record_phrasing(normalise(original).text, reply.answer.intent, original, user=where.get("user"))
        return reply

    def forget(self, conversation: Hashable) -> None:
        self.contexts.forget(conversation)

    def _finish(
        self,
        text: str,
        normalised: str,
        match: Match,
        answer: Answer,
        started: float,
        frontend: str,
        chat_type: str,
        user: str | int | None,
    ) -> Reply:
        """Time the answer, hand the record to the sink, wrap the reply: the last pipeline step."""
        latency = (time.perf_counter() - started) * 1000
        self.sink.record(
            QueryRecord(
                question=text,
                normalised=normalised,
                frontend=frontend,
                chat_type=chat_type,
                user=user,
                intent=match.intent,
                slots=match.slots.as_dict(),
                score=round(match.score, 1),
                answered=answer.answered,
                reason=answer.reason,
                suggestions=tuple(s.answer_id for s in answer.suggestions),
                latency_ms=latency,
                kb_version=self.kb.version,
                used_context=match.used_context,
            )
        )
        return Reply(answer, text, latency, match.used_context)
