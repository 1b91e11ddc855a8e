"""A question that asks two things gets both, whichever words each half uses."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        ("what is MSC secretome and is it safe?", "secretome.source+secretome.safety"),
        ("what exactly is PRP and what's its main drawback?", "prp.source+prp.limitations"),
        ("does secretome help after laser, and via what mechanism?", "scenario.post_laser+secretome.mechanism"),
    ],
)
def test_both_halves_are_answered(pipeline, question, parts):
    assert pipeline.ask(question, conversation=question).answer.intent == parts


@pytest.mark.parametrize(
    "question",
    [
        "why do exosomes and secretome face stricter regulation than PRP?",  # "and" joins two subjects
        "secretome for skin hydration & elasticity - real data?",  # one phrase, one question
    ],
)
def test_and_inside_one_question_does_not_split_it(pipeline, question):
    assert "+" not in (pipeline.ask(question, conversation=question).answer.intent or "")
