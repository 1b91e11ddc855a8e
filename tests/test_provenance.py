"""Quotes are checked against the review's text: drift fails, extraction noise does not.

The source here is a made-up miniature with the real review's layout (headings, a
paragraph cut by page furniture and by a table, odd spacing, typographic dashes), so the
tests do not need the review itself; CI runs the real check with ``--source``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.core.knowledge import Claim, Quote
from bot.core.loader import KnowledgeError, load_knowledge
from bot.core.provenance import Source, check_claim, fold, located_claims, numbers_in

MINI = """Title of a miniature review

\u00b9Faculty of Testing, Somewhere

ABSTRACT

Biologics may help aging skin. PRP offers the most favorable balance of evidence.

INTRODUCTION

Skin aging is driven by intrinsic factors\u2014such as collagen fragmentation\u2014and UV. These changes \
trigger chronic inflammation [1\u20133]. Clinically, this manifests as wrinkles.

MATERIALS AND METHODS

The keywords included *exosomes*, *mesenchymal stem cell*

How to cite this article: Someone. A review. 2026.

DOI: 10.0000/x

secretome, and rejuvenation. Findings were synthesized qualitatively.

Platelet-Rich Plasma (PRP)

Biological rationale

PRP contains platelets that release PDGF, TGF- \u03b2 , and VEGF upon activation\u2014promoting tissue \
repair [10-12]. Its autologous nature ensures minimal immunogenicity.

DISCUSSION

Early clinical results show meaningful

Table 1: A comparison

Parameter\tPRP\tExosomes
Safety\tExcellent\tAppears safe

improvements in elasticity. PRP has a well-\ufb01nished safety pro\u00adfile [10-12,14]. The \u201cbenchmark\u201d \
it remains.

Remaining Gaps and Future Directions

Future studies must incorporate histologic endpoints.
"""


@pytest.fixture(scope="module")
def source() -> Source:
    return Source.parse(MINI)


def problems(source: Source, claim: Claim) -> list[str]:
    return [str(p) for p in check_claim(source, claim, "f.yaml", "entry", "field")]


def test_folding_forgives_what_pdf_extraction_does():
    assert fold("TGF- \u03b2 ,  \u201cx\u201d \u2013 \ufb01ne so\u00adft *em*") == 'TGF- \u03b2 , "x" - fine soft em'
    assert numbers_in("as shown [10\u201312,14] and [2, 4]") == {10, 11, 12, 14, 2, 4}


def test_sections_follow_the_headings(source):
    sections = {p.section for p in source.paragraphs}
    assert {"Abstract", "Introduction", "Methods", "PRP", "Discussion", "Table 1", "Gaps"} <= sections
    assert [h.paragraph.section for h in source.find("Excellent")] == ["Table 1"]


@pytest.mark.parametrize(
    ("section", "quote"),
    [
        ("PRP", "release PDGF, TGF-β, and VEGF upon activation—promoting tissue repair [10-12]"),
        ("Introduction", "trigger chronic inflammation [1-3]"),
        ("Introduction", "intrinsic factors – such as collagen fragmentation"),
        ("Methods", "The keywords included exosomes, mesenchymal stem cell secretome, and rejuvenation."),
        ("Discussion", "Early clinical results show meaningful improvements in elasticity."),
        ("Discussion", "PRP has a well-finished safety profile"),
        ("Discussion", 'The "benchmark" it remains.'),
    ],
)
def test_verbatim_quotes_pass_despite_layout_and_typography(source, section, quote):
    hits = source.find(quote)
    assert hits and {h.paragraph.section for h in hits} == {section}


def test_a_quote_not_in_the_review_fails_and_says_where_it_diverges(source):
    claim = Claim("x", (), (Quote("Future studies should incorporate histologic endpoints.", "Gaps"),))
    (problem,) = problems(source, claim)
    assert problem.startswith("f.yaml: entry: field.quote[0]: not in the review")
    assert "the first 2 word(s) match" in problem and "must incorporate" in problem


def test_a_quote_from_another_section_fails(source):
    claim = Claim("x", (), (Quote("Future studies must incorporate histologic endpoints.", "Discussion"),))
    assert problems(source, claim) == ["f.yaml: entry: field.quote[0].section: the quote is in Gaps, not Discussion"]


def test_reference_numbers_must_be_printed_at_the_quoted_sentence(source):
    quote = Quote("PRP contains platelets that release PDGF", "PRP")
    assert problems(source, Claim("x", (10, 11, 12), (quote,))) == []
    (problem,) = problems(source, Claim("x", (10, 14), (quote,)))
    assert problem == "f.yaml: entry: field.refs: [14] not printed by the review at the quotes; it prints [10-12] there"


def test_the_paragraph_counts_when_the_sentence_prints_no_number(source):
    quote = Quote("Its autologous nature ensures minimal immunogenicity.", "PRP")
    assert problems(source, Claim("x", (10, 11, 12), (quote,))) == []
    assert problems(source, Claim("x", (), (quote,))) == []


def test_a_table_cell_prints_no_numbers_so_the_claim_rests_on_the_review(source):
    quote = Quote("Excellent", "Table 1")
    (problem,) = problems(source, Claim("x", (10,), (quote,)))
    assert problem.endswith("it prints none there: use `refs: review`")
    assert problems(source, Claim("x", (), (quote,))) == []
    numbered = Quote("PRP has a well-finished safety profile [10-12,14]", "Discussion")
    assert problems(source, Claim("x", (10, 11, 12, 14), (quote, numbered))) == []


def test_numbers_printed_right_at_the_quote_must_be_cited_in_full(source):
    quote = Quote("PRP has a well-finished safety profile", "Discussion")
    (problem,) = problems(source, Claim("x", (10, 11), (quote,)))
    assert problem == "f.yaml: entry: field.refs: the review cites [10-12,14] for the quoted words; add [12,14]"
    (problem,) = problems(source, Claim("x", (), (quote,)))
    assert problem == "f.yaml: entry: field.refs: says review, but the review cites [10-12,14] at the quote"


def test_review_based_claims_render_without_borrowed_numbers():
    claim = Claim("Future work needs endpoints.", (), (Quote("Future studies must", "Gaps"),))
    assert claim.on_review and claim.citation() == "[review, Gaps]"
    two = Claim("x", (), (Quote("a", "Table 1"), Quote("b", "Discussion"), Quote("c", "Table 1")))
    assert two.citation() == "[review, Table 1, Discussion]"
    assert Claim("x", (10, 11, 12), (Quote("a", "PRP"),)).citation() == "[10-12]"


def test_every_claim_of_the_knowledge_base_has_a_short_quote(kb):
    located = list(located_claims(kb))
    assert len(located) > 100
    for file, entry, field, claim in located:
        assert claim.quotes, f"{file}: {entry}: {field}"
        for quote in claim.quotes:
            assert len(quote.text.split()) <= 30, f"{file}: {entry}: {field}"


def test_a_claim_without_a_quote_is_reported(kb_copy):
    text = (kb_copy / "topics.yaml").read_text(encoding="utf-8")
    old = '        quote:\n          - {section: Introduction, text: "and extrinsic insults, such as UV'
    old = text[text.index(old) : text.index("\n", text.index(old) + len("        quote:\n")) + 1]
    assert old in text
    (kb_copy / "topics.yaml").write_text(text.replace(old, ""), encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    assert [str(p) for p in info.value.problems] == [
        "topics.yaml: background.aging: claims[1].quote: no quote: give the review sentence(s) this rests on, "
        "with their section"
    ]


def test_a_too_long_quote_is_reported(kb_copy):
    text = (kb_copy / "biologics.yaml").read_text(encoding="utf-8")
    old = '"Its autologous nature ensures minimal immunogenicity."'
    (kb_copy / "biologics.yaml").write_text(text.replace(old, '"' + "word " * 31 + '"', 1), encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    assert "biologics.yaml: prp: aspects.source[1].quote[0].text: 31 words; a quote may have at most 30" in [
        str(p) for p in info.value.problems
    ]


def test_unknown_section_and_bad_refs_word_are_reported(kb_copy):
    text = (kb_copy / "topics.yaml").read_text(encoding="utf-8")
    text = text.replace('{section: Gaps, text: "Clear dose', '{section: Future, text: "Clear dose', 1)
    text = text.replace(
        "refs: review\n        short:",
        "refs: reveiw\n        short:",
        1,
    )
    (kb_copy / "topics.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    problems = [str(p) for p in info.value.problems]
    assert any(
        p.startswith("topics.yaml: review.gaps: claims[2].quote[0].section: unknown section 'Future'") for p in problems
    )
    assert (
        "topics.yaml: background.aging: claims[0].refs: expected reference numbers or 'review', got 'reveiw'"
        in problems
    )


REVIEW = Path(__file__).resolve().parents[2] / "shared" / "seed" / "review.txt"


@pytest.mark.skipif(not REVIEW.exists(), reason="the review's text is not next to this checkout")
def test_kb_check_with_the_review_is_clean(capsys):
    assert main(["kb", "check", "--source", str(REVIEW)]) == 0
    assert "all verified against" in capsys.readouterr().out


def test_kb_check_source_reports_every_problem_and_exits_1(kb_copy, tmp_path, capsys):
    source = tmp_path / "review.txt"
    source.write_text(MINI, encoding="utf-8")
    assert main(["--knowledge", str(kb_copy), "kb", "check", "--source", str(source)]) == 1
    out = capsys.readouterr().out
    assert "biologics.yaml: prp: evidence.quote[0]: not in the review" in out
    assert "topics.yaml: review.gaps: claims[3].quote[0]: not in the review" in out
    assert out.count("\n  ") > 100 and "Traceback" not in out


def test_kb_check_source_that_cannot_be_read_is_a_usage_error(tmp_path, capsys):
    assert main(["kb", "check", "--source", str(tmp_path / "missing.txt")]) == 2
    assert "cannot read the review's text" in capsys.readouterr().err
