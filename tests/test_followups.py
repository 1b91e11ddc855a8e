"""Follow-ups that lean on the conversation: pronouns as objects, "the other two",
"which refs support that", a bare "why?" and figures asked in words the review never uses."""

from __future__ import annotations


def turns(pipeline, *questions):
    conversation = questions
    reply = None
    for q in questions:
        reply = pipeline.ask(q, conversation=conversation)
    return reply


def test_a_pronoun_after_a_joining_word_brings_in_the_biologics_discussed(pipeline):
    reply = turns(pipeline, "exosomes after laser", "can I combine PRP with them?")
    assert reply.answer.intent == "scenario.synergy"


def test_a_pronoun_as_subject_is_the_biologic_just_named(pipeline):
    reply = turns(pipeline, "how strong is the evidence for PRP", "and exos, where do they sit?")
    assert reply.answer.slots.biologics == ("exosomes",)


def test_the_other_two_are_the_biologics_not_discussed(pipeline):
    reply = turns(pipeline, "is PRP safe", "and the other two?")
    assert reply.answer.intent == "compare.safety"
    assert reply.answer.slots.biologics == ("secretome", "exosomes")


def test_which_refs_support_that_gives_the_sources_of_the_last_answer(pipeline):
    reply = turns(pipeline, "how strong is the evidence for exosomes", "which refs support that?")
    assert reply.answer.answered and reply.answer.intent == "refs.for"


def test_a_figure_in_words_the_review_never_uses_is_unreported_not_unclear(pipeline):
    text = pipeline.ask("what's the exact diameter of exosomes in nanometres?").plain()
    assert "does not report" in text.splitlines()[1]
    assert "nanoscale" in text.lower()


def test_other_routes_are_not_covered(pipeline):
    for q in ("can exosomes be given IV for systemic anti-aging?", "oral collagen vs PRP"):
        reply = pipeline.ask(q, conversation=q)
        assert not reply.answer.answered and "does not discuss" in reply.plain(), q


def test_a_term_only_one_biologic_prints_names_its_section(pipeline):
    reply = pipeline.ask("is GMP mentioned anywhere in the paper?")
    assert reply.answer.intent == "exosomes.regulatory" and "GMP" in reply.plain()


def test_why_for_a_scenario_gives_its_rationale(pipeline):
    reply = pipeline.ask("why is PRP preferred for collagen induction?")
    assert reply.answer.intent == "scenario.collagen"
    assert "fibroblast" in reply.plain()


def test_an_unreported_setting_of_a_biologic_says_so_then_what_the_review_asks_for(pipeline):
    text = pipeline.ask("how many PRP sessions are needed").plain()
    lines = text.splitlines()
    assert "does not discuss doses" in lines[1]
    assert "dose-response" in lines[2].lower()  # the review's gap: dose-response parameters


def test_an_unreported_figure_of_anything_else_is_plainly_not_covered(pipeline):
    reply = pipeline.ask("amoxicillin dose for otitis media in a 15kg child")
    assert not reply.answer.answered


def test_no_pooled_effect_sizes_points_to_how_the_review_synthesised(pipeline):
    text = pipeline.ask("is there a meta-analysis or effect sizes?").plain().lower()
    assert "does not discuss effect sizes" in text and "qualitatively" in text


def test_a_not_covered_follow_up_is_not_small_talk(pipeline):
    reply = turns(pipeline, "is PRP safe", "and does it help acne scars?")
    assert reply.answer.reason == "not_covered" and "scars" in reply.plain()


def test_how_the_review_was_conducted_is_its_methods(pipeline):
    assert pipeline.ask("How was this review actually conducted?").answer.intent == "review.methods"
