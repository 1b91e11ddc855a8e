"""The claims, and so the review quotes, behind an answer.

A clinician who doubts a line wants the review's own sentence next to it: the Telegram
"Source" button, the console's ``/source`` and ``ask --json`` all show these quotes. They
are derived from the answer's intent and slots exactly as ``Composer`` picks its lines,
so what is shown as the source is what the answer said (a test holds the two together).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.knowledge import Claim, Knowledge, Quote

if TYPE_CHECKING:  # only the fields are read, so a reworked matcher's Slots works too
    from bot.core.matcher import Slots


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


def claims_behind(kb: Knowledge, intent: str | None, slots: Slots) -> tuple[Claim, ...]:
    """Every claim an answer shows, in the order it shows them."""
    if not intent or intent in ("refs.lookup", "refs.list"):
        return ()
    if intent == "review.about":
        return tuple(s.claim for s in kb.review.statements)
    if intent.startswith("compare."):
        rows = [kb.comparison.row(slots.aspect)] if slots.aspect else list(kb.comparison.parameters)
        claims = [row.cells[b] for row in rows if row is not None for b in slots.biologics]
        if slots.aspect in (None, "evidence"):
            claims.append(kb.comparison.hierarchy_claim)
        return tuple(claims)
    if intent.startswith("scenario."):
        scenario = kb.scenarios[slots.scenario or ""]
        return (scenario.rationale, *(kb.biologics[b].evidence.claim for b in scenario.choice))
    if intent in kb.topics:
        return kb.topics[intent].claims
    bio = kb.biologics[slots.biologics[0]]
    if slots.aspect:
        return (bio.evidence.claim, *bio.aspects[slots.aspect])
    return (bio.evidence.claim, *(bio.aspects[name][0] for name in kb.overview.compose_from))


def backing(kb: Knowledge, intent: str | None, slots: Slots) -> tuple[Backing, ...]:
    return tuple(Backing(c) for c in claims_behind(kb, intent, slots))


def quotes_behind(kb: Knowledge, intent: str | None, slots: Slots) -> list[dict[str, str]]:
    """``[{text, section}]`` for ``ask --json``: each quote once, in answer order."""
    seen: dict[tuple[str, str], None] = {}
    for claim in claims_behind(kb, intent, slots):
        for q in claim.quotes:
            seen.setdefault((q.text, q.section), None)
    return [{"text": text, "section": section} for text, section in seen]
