"""Quiz fidelity (issue 11 section 5, issue 14 point 4): one option per item the review
supports, quoted; wrong options from the review, none of them also right."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.core.knowledge import Quote
from bot.core.loader import KnowledgeError, load_knowledge
from bot.core.provenance import Source
from bot.core.quiz import QuizBank
from bot.core.quizcheck import biologic_options, facts_of, fidelity_problems, source_problems


@pytest.fixture(scope="module")
def facts(kb):
    return facts_of(kb)


def test_every_item_quotes_the_review_and_cites_it_honestly(kb):
    for item in kb.quiz.items:
        assert item.quotes, item.id
        citation = item.explanation_with_citation()
        assert citation.endswith("]"), item.id
        if not item.refs:
            assert "[review, " in citation, item.id


def test_every_item_has_exactly_one_supported_option(kb, facts):
    """The check the loader runs, run here on its own so a failure names the item."""
    assert fidelity_problems(kb.quiz.items, facts) == []
    for item in kb.quiz.items:
        assert 0 <= item.answer < len(item.options), item.id
        assert len({o.casefold() for o in item.options}) == len(item.options), item.id


def test_the_checker_catches_a_second_right_answer(kb, facts):
    bank = kb.quiz.by_id
    # A wrong option that is what the review says about the subject.
    m01 = bank["m01"]
    planted = replace(m01, options=(*m01.options[:2], "Fibroblast proliferation, angiogenesis, ECM synthesis"))
    assert [(p[0], p[1]) for p in fidelity_problems([planted], facts)] == [("m01", "options[2]")]
    # "Which biologic?" about a property another biologic has too (issue 11: secretome also
    # reduces post-laser erythema; exosomes and secretome both appear safe).
    t1 = bank["t1-safety-prp"]
    shared = replace(t1, answer=2, quotes=(Quote("Appears safe; long-term data limited", "Table 1"),))
    assert ("t1-safety-prp", "options[1]") in [(p[0], p[1]) for p in fidelity_problems([shared], facts)]
    # An answer its quotes do not say.
    wrong_quote = replace(m01, quotes=(Quote("Its autologous nature ensures minimal immunogenicity.", "PRP"),))
    assert ("m01", "quote") in [(p[0], p[1]) for p in fidelity_problems([wrong_quote], facts)]


def test_a_declared_contrast_is_the_only_way_past_the_checker(kb, facts):
    b04 = kb.quiz.by_id["b04"]  # "Standalone biologics": the review says "rather than standalone biologics"
    assert fidelity_problems([b04], facts) == []
    assert [p[1] for p in fidelity_problems([replace(b04, contrasts=())], facts)] == ["options[0]"]


def test_issue_11_findings_are_fixed(kb):
    bank = kb.quiz.by_id
    # Table 1 has no regulatory row: generated regulatory items do not claim it does.
    regulatory = [i for i in kb.quiz.items if i.generated and i.id.split("-")[1] == "regulatory"]
    assert regulatory and all("Table 1" not in i.question for i in regulatory)
    assert all(i.question.startswith("Table 1") for i in kb.quiz.items if i.id.startswith("t1-source"))
    # Cells with a second defensible answer are not asked about.
    for gone in ("t1-limitations-prp", "t1-limitations-exosomes", "t1-benefits-exosomes"):
        assert gone not in bank
    # Nor are they wrong options for the biologic they also fit.
    for item in kb.quiz.items:
        if item.id.startswith("t1r-") and item.biologic == "secretome":
            assert "Less redness, post-procedure healing" not in item.options
            assert "Lack of standardisation; regulatory constraints" not in item.options
    # What the review cannot settle is not asked; no causal link the review does not draw.
    assert not [i.id for i in kb.quiz.items if re.search(r"\bNOT\b", i.question)]
    assert "so" not in bank["s05"].explanation.split()
    assert all("blood" not in f"{i.question} {i.explanation} {i.options}".lower() for i in kb.quiz.items)
    assert all("return to work" not in i.question for i in kb.quiz.items)
    # Methods and the PRP regulatory sentence print no numbers: cited as the review.
    for item_id in ("n01", "n02", "r01"):
        assert bank[item_id].refs == () and "[review, " in bank[item_id].explanation_with_citation()


def test_no_absurd_options(kb):
    absurd = ("botulinum", "diluent", "neutraliser", "oral", "sunscreen", "liver", "synthetic", "banned", "toxic")
    for item in kb.quiz.items:
        text = " ".join(item.options).lower()
        assert not [w for w in absurd if re.search(rf"\b{w}\b", text)], item.id


def test_which_biologic_items_name_each_biologic_once(kb, facts):
    for item in kb.quiz.items:
        bios = biologic_options(item, facts)
        if bios is not None:
            assert sorted(bios) == sorted(kb.biologics), item.id


def test_bank_figures(kb):
    authored = [i for i in kb.quiz.items if not i.generated]
    generated = [i for i in kb.quiz.items if i.generated]
    assert len(authored) >= 70 and len(generated) >= 20
    assert {"methods", "gaps"} <= {i.topic for i in authored}
    assert set(kb.quiz.topics) == {i.topic for i in kb.quiz.items}


MINI_REVIEW = """A review

RESULTS

Platelet-Rich Plasma (PRP)

PRP contains concentrated platelets that release PDGF, TGF-β, VEGF, EGF, and IGF-1 upon activation [10-12]. \
Its autologous nature ensures minimal immunogenicity.

Mesenchymal Stem Cell Secretome/Conditioned Medium

MSC secretome includes cytokines (e.g., VEGF, HGF), matrix-modulating proteins, antioxidants [6-9].

Exosomes in Skin Rejuvenation

Their microRNA cargo (such as miR-21, miR-29, and miR-146a) modulates pathways central to skin aging [2,3].
"""


def test_wrong_options_must_be_the_reviews_words(kb):
    source = Source.parse(MINI_REVIEW)
    m01 = kb.quiz.by_id["m01"]
    assert source_problems(QuizBank((m01,), kb.quiz.topics), source) == []
    absurd = replace(m01, options=(*m01.options[:2], "Botulinum toxin diluent"))
    problems = source_problems(QuizBank((absurd,), kb.quiz.topics), source)
    assert [(p[0], p[1]) for p in problems] == [("m01", "options[2]")]
    assert "botulinum" in problems[0][2]


def test_contrast_quotes_are_checked_against_the_review(kb):
    source = Source.parse(MINI_REVIEW)
    m01 = kb.quiz.by_id["m01"]
    made_up = replace(m01, contrasts=((1, Quote("exosomes carry no microRNA", "Exosomes")),))
    assert [p[1] for p in source_problems(QuizBank((made_up,), kb.quiz.topics), source)] == ["contrasts[0].quote"]


def test_a_quiz_item_without_a_quote_is_refused(kb_copy):
    path = kb_copy / "quiz.yaml"
    text = path.read_text()
    block = text[text.index("  - id: m03\n") : text.index("  - id: m04\n")]
    without = re.sub(r"    quote:\n(      - .*\n)+", "", block)
    path.write_text(text.replace(block, without))
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    assert any(p.entry == "m03" and p.field == "quote" for p in info.value.problems)


def test_a_planted_second_right_answer_in_yaml_fails_the_load(kb_copy):
    path = kb_copy / "quiz.yaml"
    text = path.read_text()
    path.write_text(text.replace("      - EGF and TGF-β\n", "      - Matrix-modulating proteins and antioxidants\n", 1))
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    assert [(p.entry, p.field) for p in info.value.problems] == [("m03", "options[2]")]


def test_a_quote_from_the_reference_list_rests_on_that_entry():
    from bot.core.knowledge import Claim
    from bot.core.provenance import check_claim

    source = Source.parse(
        "REFERENCES\n\n1. Domaszewska A. Extracellular vesicles. Stem Cell Res Ther. 2025;16:112.\n\n"
        "2. Sreeraj H. Exosomes in dermatology. Dermatol Ther. 2024;14:345-60.\n"
        "3. Liang C. Exosome-mediated regulation of oxidative stress. Stem Cell Res Ther. 2025;16:210.\n"
    )
    quote = (Quote("Exosome-mediated regulation of oxidative stress.", "References"),)
    assert check_claim(source, Claim("Liang 2025 studied oxidative stress.", (3,), quote), "quiz.yaml", "f", "") == []
    wrong = check_claim(source, Claim("Liang 2025 studied oxidative stress.", (2,), quote), "quiz.yaml", "f", "")
    assert [p.field for p in wrong] == ["refs"]


def test_kb_check_reports_the_quiz_figures(capsys):
    from bot.cli import main

    assert main(["kb", "check"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("quiz: "))
    assert "authored" in line and "generated" in line and "none also right" in line
    assert "words not checked (no --source)" in line
