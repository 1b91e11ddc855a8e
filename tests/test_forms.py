"""The form of a question decides what answers it: a reason, a ranking, a figure or the
honest "the review does not report / discuss it"."""

from __future__ import annotations

import pytest

from bot.core.matching.forms import NUMBER, OTHER, RANK, WHY, form_of
from bot.core.matching.question import read
from bot.core.normalise import normalise


def form(pipeline, text):
    return read(pipeline.matcher.world, normalise(text)).form


@pytest.mark.parametrize(
    ("question", "kind", "asked"),
    [
        ("why is PRP considered safe", WHY, ""),
        ("how come exosomes are still experimental", WHY, ""),
        ("what is the rationale for secretome after laser", WHY, ""),
        ("which is best", RANK, ""),
        ("which one wins overall", RANK, ""),
        ("how many sessions of PRP", NUMBER, "how many sessions"),
        ("optimal dose of exosomes", NUMBER, "optimal dose"),
        ("what concentration of platelets", NUMBER, "concentration"),
        ("how does PRP work", OTHER, ""),
        ("what did the studies show", OTHER, ""),
        ("which reference number is the split-face study", OTHER, ""),
    ],
)
def test_form_of_the_asking_sentence(pipeline, question, kind, asked):
    found = form(pipeline, question)
    assert (found.kind, found.asked) == (kind, asked)


def test_a_story_sentence_does_not_set_the_form(pipeline):
    ex = pipeline.matcher.lexicon.extract(normalise("I wonder why patients like it. What does PRP do?"))
    assert form_of(ex).kind == OTHER


def test_a_ranking_gets_the_hierarchy_and_its_grounds(pipeline):
    for text in ("which is best", "which one wins"):
        reply = pipeline.ask(text, conversation=text)
        assert reply.answer.answered and reply.answer.intent == "compare.standing", text
        assert "benchmark" in reply.plain().lower()


def test_a_ranking_after_a_comparison_ranks_the_pair(pipeline):
    pipeline.ask("compare PRP and exosomes", conversation="c")
    reply = pipeline.ask("so which is best?", conversation="c")
    assert reply.answer.intent == "compare.standing"
    assert reply.answer.slots.biologics == ("prp", "exosomes")


def test_a_named_row_still_ranks_by_that_row(pipeline):
    reply = pipeline.ask("which has the best evidence", conversation="e")
    assert reply.answer.intent == "compare.evidence"


def test_an_unreported_figure_is_said_before_what_the_review_says(pipeline):
    reply = pipeline.ask("what concentration of platelets is optimal", conversation="n")
    text = reply.plain()
    assert "does not report" in text.splitlines()[1]
    assert "concentration" in text.lower()  # then what the review does say about it


def test_a_figure_the_review_gives_is_answered(pipeline):
    text = pipeline.ask("what years did the literature search cover", conversation="y").plain()
    assert "2015" in text and "does not report" not in text


def test_a_near_but_different_product_beside_a_biologic_is_said_first(pipeline):
    reply = pipeline.ask("exosomes after a chemical peel?", conversation="p")
    lines = reply.plain().splitlines()
    assert lines[1].startswith("The review does not discuss chemical peels")


def test_a_source_description_is_not_a_near_product(pipeline):
    text = pipeline.ask("exosomes derived from MSCs: mechanism?", conversation="m").plain()
    assert "does not discuss" not in text


def test_why_leads_with_the_reason(pipeline):
    reply = pipeline.ask("why is PRP considered safe", conversation="w")
    body = reply.plain().lower()
    assert "immunogenicity" in body.split("\n\n")[0]


def test_a_bare_why_after_an_answer_gives_its_reasons_not_the_whole_section(pipeline):
    pipeline.ask("compare PRP and exosomes", conversation="b")
    reply = pipeline.ask("why?", conversation="b")
    assert reply.answer.answered and reply.answer.intent == "compare.standing"
    assert len(reply.plain()) < 1000


def test_why_pulls_a_reason_a_topic_gives_about_the_biologic(pipeline):
    reply = pipeline.ask("why do exosomes seem to work mostly as an add-on to microneedling or lasers?")
    head = "\n".join(reply.plain().splitlines()[:4]).lower()
    assert "synergistic role alongside controlled dermal injury" in head
