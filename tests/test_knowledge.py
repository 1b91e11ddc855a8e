"""The knowledge base loads, covers the review, and every kind of mistake is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.core.loader import KnowledgeError, load_knowledge


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {path.name}: {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(directory)
    return [str(p) for p in info.value.problems]


def test_real_knowledge_base_is_valid_and_complete(kb):
    assert set(kb.biologics) == {"prp", "secretome", "exosomes"}
    assert sorted(kb.references) == list(range(1, 17))
    assert kb.review.reference.doi == "10.7241/ourd.20262.21"
    for bio in kb.biologics.values():
        assert set(bio.aspects) == set(kb.aspects), bio.id
        assert bio.evidence.level in ("strong", "moderate", "emerging")
    assert [p.aspect for p in kb.comparison.parameters][:3] == ["source", "mechanism", "evidence"]
    assert kb.comparison.hierarchy == ("prp", "secretome", "exosomes")
    assert set(kb.scenarios) == {"collagen", "post_laser", "downtime", "autologous", "hydration", "synergy"}


@pytest.mark.parametrize(
    ("biologic", "aspect", "facts"),
    [
        ("prp", "mechanism", ["PDGF", "TGF-β", "VEGF", "EGF", "IGF-1"]),
        ("secretome", "mechanism", ["VEGF", "HGF"]),
        ("secretome", "limitations", ["donor"]),
        ("exosomes", "mechanism", ["miR-21", "miR-29", "miR-146a", "MMP"]),
        ("exosomes", "limitations", ["potency", "batch"]),
    ],
)
def test_key_facts_from_the_review_are_present(kb, biologic, aspect, facts):
    text = " ".join(c.text for c in kb.biologics[biologic].aspects[aspect])
    for fact in facts:
        assert fact in text


def test_every_claim_is_cited_with_a_known_reference(kb):
    claims = [c for b in kb.biologics.values() for cs in b.aspects.values() for c in cs]
    claims += [c for t in kb.topics.values() for c in t.claims]
    claims += [s.rationale for s in kb.scenarios.values()]
    claims += [cell for p in kb.comparison.parameters for cell in p.cells.values()]
    assert claims
    for claim in claims:
        assert set(claim.refs) <= set(kb.references), claim
        assert claim.refs or (claim.on_review and claim.quotes), claim


def test_reference_citation_is_full_vancouver(kb):
    assert kb.references[12].citation() == (
        "Xiao H, Zhang X, Liang J, et al. Platelet-rich plasma in photoaged skin: clinical and histologic "
        "improvements in facial rejuvenation. Clin Cosmet Investig Dermatol. 2021;14:521-30."
    )


def test_unknown_reference_is_named_with_file_entry_and_field(kb_copy):
    edit(kb_copy / "biologics.yaml", "refs: [2, 4, 5]", "refs: [2, 4, 17]")
    problems = problems_of(kb_copy)
    assert any(
        p.startswith("biologics.yaml: exosomes: aspects.source[0].refs: unknown reference 17") for p in problems
    )


def test_claim_without_citation(kb_copy):
    edit(kb_copy / "biologics.yaml", "          refs: [2, 4, 5]\n", "")
    problems = problems_of(kb_copy)
    assert any("exosomes: aspects.source[0].refs: claim without citation" in p for p in problems)


def test_duplicate_ids(kb_copy):
    edit(kb_copy / "scenarios.yaml", "  - id: downtime", "  - id: collagen")
    edit(kb_copy / "references.yaml", "  - id: 16", "  - id: 15")
    problems = problems_of(kb_copy)
    assert any("scenarios.yaml: collagen: id: duplicate id 'collagen'" in p for p in problems)
    assert any(p.startswith("references.yaml: references[15] (id 15): id: duplicate id 15") for p in problems)


def test_empty_text(kb_copy):
    edit(
        kb_copy / "topics.yaml", '      - text: "Extrinsic drivers: UV radiation and pollution."', '      - text: "  "'
    )
    problems = problems_of(kb_copy)
    assert "topics.yaml: background.aging: claims[1].text: empty text" in problems


def test_colliding_examples_across_intents(kb_copy):
    edit(
        kb_copy / "topics.yaml",
        "      - what is missing from the evidence\n",
        "      - which biologic improves hydration\n",
    )
    problems = problems_of(kb_copy)
    assert any(
        "collides with" in p and "hydration" in p and p.startswith(("scenarios.yaml", "topics.yaml")) for p in problems
    )


def test_yaml_boolean_trap_is_explained(kb_copy):
    edit(kb_copy / "vocabulary.yaml", '  - "on"', "  - on")
    problems = problems_of(kb_copy)
    assert any("vocabulary.yaml: generic" in p and "quote it" in p for p in problems)


def test_every_problem_is_reported_at_once(kb_copy):
    edit(kb_copy / "biologics.yaml", "refs: [2, 4, 5]", "refs: [99]")
    edit(kb_copy / "scenarios.yaml", "  - id: downtime", "  - id: collagen")
    (kb_copy / "messages.yaml").unlink()
    problems = problems_of(kb_copy)
    assert len(problems) >= 3
    assert any(p.startswith("messages.yaml: -: -: file is missing") for p in problems)


def test_broken_yaml_names_the_line(kb_copy):
    (kb_copy / "aspects.yaml").write_text("aspects:\n  - id: x\n    cues: [a, b\n", encoding="utf-8")
    problems = problems_of(kb_copy)
    assert any(p.startswith("aspects.yaml: line ") and "not valid YAML" in p for p in problems)


def test_kb_check_command_reports_and_exits_nonzero(kb_copy, capsys):
    assert main(["kb", "check"]) == 0
    assert "knowledge base OK" in capsys.readouterr().out
    edit(kb_copy / "biologics.yaml", "refs: [2, 4, 5]", "refs: [2, 4, 17]")
    assert main(["--knowledge", str(kb_copy), "kb", "check"]) == 1
    out = capsys.readouterr().out
    assert "unknown reference 17" in out and "Traceback" not in out


def test_bot_refuses_to_start_on_invalid_knowledge_with_the_same_report(kb_copy, capsys):
    edit(kb_copy / "biologics.yaml", "refs: [2, 4, 5]", "refs: [2, 4, 17]")
    assert main(["--knowledge", str(kb_copy), "ask", "prp"]) == 2
    err = capsys.readouterr().err
    assert (
        "refusing to start" in err and "biologics.yaml: exosomes: aspects.source[0].refs: unknown reference 17" in err
    )


def test_word_both_covered_and_not_covered_is_reported(kb_copy):
    edit(kb_copy / "vocabulary.yaml", "not_covered:\n", "not_covered:\n  - {topic: devices, terms: [microneedling]}\n")
    problems = problems_of(kb_copy)
    assert "vocabulary.yaml: not_covered: -: 'microneedling' is also a cue or a biologic's name: remove one" in problems


def test_unquoted_comma_in_flow_style_text_is_caught(kb_copy):
    edit(
        kb_copy / "comparison.yaml",
        '{section: Table 1, text: "Texture, fine lines, periorbital aging"}',
        "{section: Table 1, text: Texture, fine lines, periorbital aging}",
    )
    problems = problems_of(kb_copy)
    assert any(
        p.startswith("comparison.yaml: benefits: cells.prp.quote[0].fine lines: unknown field") for p in problems
    )


def test_comparison_cells_keep_their_full_text(kb):
    assert kb.comparison.row("benefits").cells["prp"].text == "Texture, fine lines, periorbital aging"


def test_near_term_must_point_at_something_the_knowledge_base_has(kb_copy):
    edit(kb_copy / "vocabulary.yaml", "    nearest: prp\n", "    nearest: prf\n")
    problems = problems_of(kb_copy)
    assert any(p.startswith("vocabulary.yaml: near_terms[0]: nearest: unknown target 'prf'") for p in problems)


def test_duplicate_yaml_keys_are_reported_not_dropped(kb_copy):
    edit(kb_copy / "indonesian.yaml", "  aman: safe\n", "  aman: safe\n  aman: unsafe\n")
    problems = problems_of(kb_copy)
    assert any("indonesian.yaml: line" in p and "aman: duplicate key" in p for p in problems)


def test_a_short_form_may_not_say_more_than_its_claim(kb_copy):
    text = (kb_copy / "biologics.yaml").read_text(encoding="utf-8")
    start = text.index("short:", text.index("mechanism:"))
    end = text.index("\n", start)
    (kb_copy / "biologics.yaml").write_text(
        text[:start] + 'short: "Platelets cure alopecia overnight."' + text[end:], encoding="utf-8"
    )
    problems = problems_of(kb_copy)
    assert any("short form says what the claim does not: alopecia, cure, overnight" in p for p in problems)
