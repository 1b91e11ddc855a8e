"""The claims, and so the review quotes, behind an answer.

A clinician who doubts a line wants the review's own sentence next to it: the Telegram
"Source" button, the console's ``/source`` and ``ask --json`` all show these quotes. The
composer attaches each claim to the text that states it, so what is shown as the source
is exactly what the answer said, focused, two-part or summarised.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.answers import Answer
from bot.core.knowledge import Claim, Quote


@dataclass(frozen=True)
class Backing:
    """One claim of an answer with its citation as shown and the quotes it rests on."""

    claim: Claim

    @property
    def citation(self) -> str:
        return self.claim.citation()

    @property
    def quotes(self) -> tuple[Quote, ...]:
        return self.claim.quotes

    def as_json(self) -> dict[str, object]:
        return {
            "claim": self.claim.text,
            "citation": self.citation,
            "refs": list(self.claim.refs),
            "quotes": [{"text": q.text, "section": q.section} for q in self.quotes],
        }


def backing(answer: Answer) -> tuple[Backing, ...]:
    return tuple(Backing(c) for c in answer.claims)


def quotes_behind(answer: Answer) -> list[dict[str, str]]:
    """``[{text, section}]`` for ``ask --json``: each quote once, in answer order."""
    seen: dict[tuple[str, str], None] = {}
    for claim in answer.claims:
        for q in claim.quotes:
            seen.setdefault((q.text, q.section), None)
    return [{"text": text, "section": section} for text, section in seen]
