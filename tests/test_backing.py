"""The quotes behind an answer are exactly the claims the answer shows."""

from __future__ import annotations

import re

from bot.core.backing import backing, quotes_behind
from bot.core.knowledge import SECTIONS

_CITATION = re.compile(r"\[(?:\d+(?:[-,]\d+)*|review[^\]]*)\]")


def all_answer_ids(kb) -> list[str]:
    ids = [f"{b}-{a}" for b in kb.biologics for a in ("overview", *kb.aspects)]
    ids += ["cmp-all", "cmp-table", *(f"cmp-{a}" for a in kb.aspects), "cmp-safety-prp-exosomes"]
    ids += ["exosomes-mechanism.2.0.1", "prp-safety~prp-regulatory"]
    ids += [f"scn-{s}" for s in kb.scenarios]
    ids += ["t-" + t.replace(".", "_", 1) for t in kb.topics]
    return [*ids, "about"]


def test_every_answer_shows_exactly_the_claims_behind_it(pipeline, kb):
    for answer_id in all_answer_ids(kb):
        answer = pipeline.ask_id(answer_id).answer
        claims = answer.claims
        body = [
            "".join(s.text for s in line)
            for line in answer.lines
            if line and not line[0].text.startswith(kb.messages["sources_prefix"])
        ]
        shown = [c for line in body for c in _CITATION.findall(line)]
        assert len(shown) == len(claims), answer_id
        for claim in claims:
            shown_as = (f"{claim.text} {claim.citation()}", f"{claim.brief} {claim.citation()}")
            assert any(s in line for line in body for s in shown_as), (answer_id, claim.text)


def test_backing_carries_citation_and_quotes(pipeline, kb):
    answer = pipeline.ask_id("prp-regulatory").answer
    items = backing(answer)
    assert items[0].claim == kb.comparison.row("evidence").cells["prp"]  # the compact evidence line
    first = items[1].as_json()
    assert first["citation"] == "[review, Comparative synthesis, Discussion]" and first["refs"] == []
    assert {q["section"] for q in first["quotes"]} == {"Comparative synthesis", "Discussion"}


def test_ask_json_quotes_are_unique_and_sectioned(pipeline, kb):
    answer = pipeline.ask("compare safety").answer
    quotes = quotes_behind(answer)
    assert quotes and len({(q["text"], q["section"]) for q in quotes}) == len(quotes)
    assert all(q["section"] in SECTIONS for q in quotes)
    assert {"text": "Excellent", "section": "Table 1"} in quotes


def test_reference_answers_rest_on_no_claims(pipeline, kb):
    for answer_id in ("refs", "ref-11"):
        answer = pipeline.ask_id(answer_id).answer
        assert answer.claims == ()
