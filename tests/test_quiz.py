"""Quiz: item validation, generated items, Leitner scheduling, Telegram limits, console."""

from __future__ import annotations

import io
import os
import random
import sys
from dataclasses import replace

import pytest

from bot.cli import main
from bot.core.loader import KnowledgeError, load_knowledge
from bot.core.quiz import (
    BOX_INTERVALS,
    DAY,
    EXPLANATION_LIMIT,
    OPTION_LIMIT,
    QUESTION_LIMIT,
    Progress,
    QuizItem,
    item_problems,
    pick_round,
    resolve_topic,
)
from bot.querylog.schema import connect

ITEM = QuizItem("x1", "evidence", "Which is strongest?", ("PRP", "MSC secretome", "Exosomes"), 0, "PRP.", (10,))


def test_bank_has_enough_items_across_topics(kb):
    authored = [i for i in kb.quiz.items if not i.generated]
    assert len(authored) >= 60
    topics = {i.topic for i in authored}
    assert {
        "mechanism",
        "evidence",
        "limitations",
        "safety",
        "regulation",
        "best_use",
        "scenarios",
        "references",
    } <= topics
    assert any(i.generated for i in kb.quiz.items)


def test_every_item_fits_telegram_poll_limits(kb):
    for item in kb.quiz.items:
        prefix = "5/5 · "
        assert len(item.question) <= QUESTION_LIMIT, item.id
        assert len(prefix + item.question) <= QUESTION_LIMIT or len(item.question) <= QUESTION_LIMIT
        assert 3 <= len(item.options) <= 5, item.id
        assert all(1 <= len(o) <= OPTION_LIMIT for o in item.options), item.id
        explanation = item.explanation_with_citation()
        assert len(explanation) <= EXPLANATION_LIMIT and explanation.count("\n") <= 2, item.id
        assert item_problems(item, kb.references, kb.quiz.topics) == [], item.id


def test_generated_items_have_exactly_one_defensible_answer(kb):
    generated = [i for i in kb.quiz.items if i.generated]
    rows = {p.aspect: p for p in kb.comparison.parameters}
    for item in generated:
        assert len(set(item.options)) == len(item.options), item.id
        if item.id.startswith("t1r-"):
            _, aspect, bio = item.id.split("-", 2)
            cell = rows[aspect].cells[bio].text
            assert [o for o in item.options if o == cell] == [item.correct_option]
        elif item.id.startswith("t1-"):
            _, aspect, bio = item.id.split("-", 2)
            described = [b for b, c in rows[aspect].cells.items() if c.text in item.question]
            assert described == [bio], item.id
        elif item.id.startswith("t2-"):
            scenario = kb.scenarios[item.id[3:]]
            assert len(scenario.choice) == 1
    # Table 2's post-laser row recommends two biologics, so no single-answer item is made from it.
    assert "t2-post_laser" not in kb.quiz.by_id and "t2-synergy" not in kb.quiz.by_id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"question": "x" * 301}, "question"),
        ({"options": ("a", "b")}, "options"),
        ({"options": ("a", "a", "b")}, "options"),
        ({"options": ("a", "b", "c" * 101)}, "options[2]"),
        ({"answer": 3}, "answer"),
        ({"explanation": "y" * 200}, "explanation"),
        ({"explanation": "a\nb\nc\nd"}, "explanation"),
        ({"refs": (99,)}, "refs"),
        ({"refs": ()}, "quote"),  # no numbers and no quote: nothing to cite
        ({"topic": "astrology"}, "topic"),
        ({"difficulty": 7}, "difficulty"),
    ],
)
def test_item_validation_names_the_field(kb, change, field):
    problems = item_problems(replace(ITEM, **change), kb.references, kb.quiz.topics)
    assert field in [f for f, _ in problems]


def test_invalid_quiz_item_in_yaml_is_reported_with_file_entry_field(kb_copy):
    path = kb_copy / "quiz.yaml"
    path.write_text(
        path.read_text().replace(
            "    answer: 2\n    explanation: Exosomes' microRNA cargo",
            "    answer: 9\n    explanation: Exosomes' microRNA cargo",
        )
    )
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    assert any(str(p).startswith("quiz.yaml: m02: answer: must be an option index") for p in info.value.problems)


def test_leitner_boxes():
    p = Progress()
    p = p.after(True, 0)
    assert p.box == 2 and p.seen == 1 and p.correct == 1
    p = p.after(True, 10).after(True, 20).after(True, 30).after(True, 40)
    assert p.box == 5  # capped at the top box
    p = p.after(False, 50)
    assert p.box == 1 and p.seen == 6 and p.correct == 5
    assert p.due(50)  # box 1 comes back the next round
    q = Progress().after(True, 0)
    assert not q.due(0.5 * DAY) and q.due(BOX_INTERVALS[2])


def test_round_prefers_wrong_then_due_then_new(kb):
    items = kb.quiz.select("evidence")
    now = 100 * DAY
    wrong, due, fresh_known = items[0], items[1], items[2]
    progress = {
        wrong.id: Progress(1, now - 10, 1, 0),
        due.id: Progress(3, now - 4 * DAY, 2, 2),
        fresh_known.id: Progress(5, now - DAY, 4, 4),  # known well, not due
    }
    chosen = pick_round(items, progress, now, random.Random(1))
    assert chosen[0] == wrong and chosen[1] == due
    assert fresh_known not in chosen and len(chosen) == 5


def test_resolve_topic(kb):
    bank = kb.quiz
    assert resolve_topic("exosomes", bank, kb) == (None, "exosomes")
    assert resolve_topic("EVs", bank, kb) == (None, "exosomes")
    assert resolve_topic("evidence", bank, kb) == ("evidence", None)
    assert resolve_topic("best use", bank, kb) == ("best_use", None)
    assert resolve_topic("", bank, kb) == (None, None)
    assert resolve_topic("astrology", bank, kb) is None


def test_console_quiz_round_with_bad_input(monkeypatch, capsys):
    answers = "\n".join(["abc", "0", "1", "2", "1", "3", "1", "n"]) + "\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(answers))
    assert main(["quiz", "safety"]) == 0
    out = capsys.readouterr().out
    assert out.count("Please answer with a number") == 2
    assert "Round finished:" in out and "/5 correct on safety" in out
    assert "Answered 5" in out


def test_console_quiz_unknown_topic_lists_topics(capsys):
    assert main(["quiz", "astrology"]) == 2
    assert "Topics: mechanism" in capsys.readouterr().out


def test_console_quiz_progress_persists_and_wrong_items_come_back_first(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("1\n1\n1\n1\n1\nn\n"))
    assert main(["quiz", "regulation"]) == 0
    first = capsys.readouterr().out
    conn = connect(os.environ["REGENBOT_DB"])
    rows = conn.execute("SELECT item_id, box FROM quiz_progress").fetchall()
    assert len(rows) == 5 and conn.execute("SELECT COUNT(*) FROM quiz_answers").fetchone()[0] == 5
    wrong = {r["item_id"] for r in rows if r["box"] == 1}
    monkeypatch.setattr(sys, "stdin", io.StringIO("q\n"))
    assert main(["quiz", "regulation"]) == 0
    second = capsys.readouterr().out
    asked = second.split("Q1/5. ", 1)[1].split("\n", 1)[0]
    if wrong:
        wrong_questions = {load_knowledge_default().quiz.by_id[i].question for i in wrong}
        assert asked in wrong_questions
    assert "Round finished" in first and "Stopped; your answers so far are saved." in second


def load_knowledge_default():
    from bot.pipeline import DEFAULT_KNOWLEDGE_DIR

    return load_knowledge(DEFAULT_KNOWLEDGE_DIR)
